/** The limit: wrk straight through squid to the target, no system under test in between. */
import type { BenchCase } from './types.js';

export const baselineCase: BenchCase = {
  id: 'baseline',
  label: 'baseline (squid only)',
  description:
    'wrk sends absolute-form requests with Proxy-Authorization straight to one squid port.',
  async start(env) {
    const squidPort = env.squid.ports[0] as number;
    return {
      pid: null,
      request: (size) => ({
        port: squidPort,
        path: `${env.target.origin}/${size}`,
        headers: {
          Host: `127.0.0.1:${env.target.port}`,
          'Proxy-Authorization': env.squid.proxyAuthorization,
        },
      }),
      stop: async () => {},
    };
  },
};
