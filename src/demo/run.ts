/**
 * `proxy-hopper demo`: the main job on an embedded default, needing nothing outside the
 * package. It starts three upstream proxies on loopback (sending from 127.0.0.2, .3 and .4), a
 * target that reports who called it, and Proxy Hopper in front of them. Then it sends a
 * bounded burst, forces one upstream failure, and prints what happened per IP.
 */
import net from 'node:net';
import { Agent, request } from 'undici';
import { parseConfig } from '../config/index.js';
import { startProxyHopper } from '../server/index.js';
import { DemoTarget } from './demo-target.js';
import { DemoUpstream } from './demo-upstream.js';
import { renderTable, type IpRow } from './report.js';

export interface DemoOptions {
  requests?: number;
  concurrency?: number;
  minRequestIntervalMs?: number;
  out?: NodeJS.WritableStream;
  progress?: NodeJS.WriteStream;
}

const SOURCES = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];

/** Runs the demo and resolves with the exit code: 0 when every request got the target's 200. */
export async function runDemo(options: DemoOptions = {}): Promise<number> {
  const total = options.requests ?? 30;
  const concurrency = options.concurrency ?? 6;
  const intervalMs = options.minRequestIntervalMs ?? 250;
  const out = options.out ?? process.stdout;
  const progress = options.progress ?? process.stderr;

  const sources = (await loopbackAliasesWork()) ? SOURCES : SOURCES.map(() => '127.0.0.1');
  const target = new DemoTarget();
  await target.listen();
  const upstreams = sources.map(
    (sourceAddress) =>
      new DemoUpstream({ sourceAddress, username: 'demo', password: 'demo-secret' }),
  );
  for (const upstream of upstreams) await upstream.listen();

  const config = parseConfig(demoYaml(upstreams, intervalMs), {
    env: {},
    source: 'embedded demo config',
  });
  const hopper = await startProxyHopper(config);
  const client = new Agent({ connections: concurrency });
  const rows = new Map<string, IpRow>(
    upstreams.map((upstream, i) => [
      `127.0.0.1:${upstream.port}`,
      {
        label: `127.0.0.1:${upstream.port}`,
        sourceAddress: sources[i]!,
        failures: 0,
        quarantines: 0,
        attemptStartsMs: [],
      },
    ]),
  );
  let retries = 0;
  hopper.events.on('attempt_end', (event) => {
    const row = rows.get(event.address)!;
    row.attemptStartsMs.push(event.startedAtMs);
    if (event.outcome !== 'success') row.failures += 1;
  });
  hopper.events.on('quarantine', (event) => {
    rows.get(event.address)!.quarantines += 1;
  });
  hopper.events.on('retry', () => {
    retries += 1;
  });

  out.write(
    `Proxy Hopper demo: ${total} requests, ${concurrency} at a time, through 3 upstream proxies, minRequestInterval ${intervalMs} ms.\n` +
      `Upstream ${upstreams[2]!.port} is told to fail its next request, so one attempt is retried on another IP and that IP is quarantined.\n\n`,
  );
  if (sources[0] === '127.0.0.1')
    out.write(
      'Note: 127.0.0.2-4 are not usable on this system, so every upstream sends from 127.0.0.1.\n',
    );
  // Open each upstream's connection to the target first, so the first timed request does not
  // pay for it and the arrival gaps show the spacing rather than connection setup.
  await Promise.all(upstreams.map((upstream) => upstream.warmUp(target.port)));
  target.arrivals.length = 0;
  upstreams[2]!.failNext(1);

  const statuses = new Map<number, number>();
  let done = 0;
  let next = 0;
  const startedMs = performance.now();
  const worker = async (): Promise<void> => {
    while (next < total) {
      next += 1;
      const answer = await request(`http://127.0.0.1:${hopper.proxyPort}/demo/${next}`, {
        dispatcher: client,
        headers: { 'x-proxy-hopper-target': `http://127.0.0.1:${target.port}` },
      });
      await answer.body.dump();
      statuses.set(answer.statusCode, (statuses.get(answer.statusCode) ?? 0) + 1);
      done += 1;
      drawProgress(progress, done, total, retries);
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    progress.write('\n');
    await client.close();
    await hopper.stop();
    await Promise.all(upstreams.map((upstream) => upstream.close()));
    await target.close();
  }

  const seconds = (performance.now() - startedMs) / 1000;
  const statusText = [...statuses].map(([status, count]) => `${count} x ${status}`).join(', ');
  out.write(
    `\n${renderTable({ rows: [...rows.values()], arrivals: target.arrivals, minRequestIntervalMs: intervalMs })}\n\n`,
  );
  out.write(
    `Answers: ${statusText} in ${seconds.toFixed(1)} s; ${retries} attempt(s) retried on another IP.\n`,
  );
  out.write(
    'Start gap: time between two attempts Proxy Hopper started through one IP (the guarantee).\n' +
      'Arrival gap: the same seen at the target; it can be a few ms shorter when an earlier request\n' +
      'spent time opening connections inside the upstream proxy.\n',
  );
  return statuses.get(200) === total ? 0 : 1;
}

function demoYaml(upstreams: DemoUpstream[], intervalMs: number): string {
  const ips = upstreams.map((upstream) => `"127.0.0.1:${upstream.port}"`).join(', ');
  return `
server:
  host: 127.0.0.1
  port: 0
  logLevel: ERROR
proxyProviders:
  - name: demo-provider
    auth: { type: basic, username: demo, password: demo-secret }
    ipList: [${ips}]
ipPools:
  - name: demo-pool
    ipRequests: [{ provider: demo-provider, count: 3 }]
targets:
  - name: demo-target
    regex: '^http://127\\.0\\.0\\.1:'
    ipPool: demo-pool
    minRequestInterval: ${intervalMs}ms
    maxQueueWait: 20s
    numRetries: 2
    ipFailuresUntilQuarantine: 1
    quarantineTime: 1s
`;
}

function drawProgress(
  stream: NodeJS.WriteStream,
  done: number,
  total: number,
  retries: number,
): void {
  const width = 30;
  const filled = Math.round((done / total) * width);
  const bar = `[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${total} answered, ${retries} retried`;
  if (stream.isTTY) stream.write(`\r${bar}`);
  else if (done === total || done % Math.max(1, Math.floor(total / 5)) === 0)
    stream.write(`${bar}\n`);
}

/** True when this system routes 127.0.0.2-4 to loopback (Linux does; macOS needs aliases). */
async function loopbackAliasesWork(): Promise<boolean> {
  for (const address of SOURCES) {
    const ok = await new Promise<boolean>((resolve) => {
      const probe = net.createServer();
      probe.once('error', () => resolve(false));
      probe.listen(0, address, () => probe.close(() => resolve(true)));
    });
    if (!ok) return false;
  }
  return true;
}
