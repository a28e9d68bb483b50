// The proxy-chain peer as its own process, so that its CPU time and peak RSS can be read from
// /proc. Plain JavaScript, so that no TypeScript loader adds memory or start-up work.
// Usage: node proxy-chain-child.mjs PORT UPSTREAM_URL [UPSTREAM_URL...]
// Each request goes to the next upstream in round-robin order.
import { Server } from 'proxy-chain';

const [portText, ...upstreams] = process.argv.slice(2);
if (!portText || upstreams.length === 0) {
  console.error('usage: proxy-chain-child.mjs PORT UPSTREAM_URL [UPSTREAM_URL...]');
  process.exit(2);
}

let next = 0;
const server = new Server({
  host: '127.0.0.1',
  port: Number(portText),
  verbose: false,
  prepareRequestFunction: () => {
    const upstreamProxyUrl = upstreams[next];
    next = (next + 1) % upstreams.length;
    return { upstreamProxyUrl };
  },
});
await server.listen();
console.log(`READY ${server.port}`);

const stop = async () => {
  await server.close(true);
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
