/**
 * Starts the named origin, a squid whose hosts file maps the origin's names to it, and Proxy
 * Hopper whose targets use pool `p` of that squid (default: one catch-all target `all`), trusting
 * the test CA.
 */
import { startHopper, type TestHopper } from '../../helpers/proxy-hopper.js';
import { makeTempDir, registerCleanup } from '../../helpers/processes.js';
import { startSquid, type SquidPeer } from '../../helpers/squid.js';
import { testTls } from '../../helpers/tls.js';
import { pool, provider, target } from '../proxy/fixture.js';
import { startNamedOrigin, type NamedOrigin } from './named-origin.js';

export interface NamedSetup {
  origin: NamedOrigin;
  squid: SquidPeer;
  hopper: TestHopper;
}

export async function startNamedSetup(
  targets: Record<string, unknown>[] = [target('all', 'p')],
): Promise<NamedSetup> {
  const origin = await startNamedOrigin();
  registerCleanup(() => origin.close());
  const hosts = origin.hostsFile(makeTempDir('named-hosts', true));
  const squid = await startSquid({ extraConfig: [`hosts_file ${hosts}`] });
  const squids = provider('s', [squid.address()]);
  const hopper = await startHopper({
    server: { caFile: testTls().caPath },
    proxyProviders: [squids],
    ipPools: [pool('p', [squids])],
    targets,
  });
  return { origin, squid, hopper };
}
