/**
 * Free loopback ports for test peers. A port found free can be taken by another process before
 * the peer binds it, so peers that bind by themselves (squid, tinyproxy) start through
 * `withFreePort`, which picks a new port and starts again when the bind fails.
 */
import net from 'node:net';

/** Returns a port that was free on `host` a moment ago (listen on port 0, then close). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`listening on ${host}:0 returned no port`));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

/** Returns `count` distinct free ports. */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort(host));
  return [...ports];
}

/** True when `err` reports a port taken by someone else. */
export function isAddressInUse(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  if ((err as { code?: unknown }).code === 'EADDRINUSE') return true;
  const message = (err as { message?: unknown }).message;
  return typeof message === 'string' && /EADDRINUSE|address already in use/i.test(message);
}

/**
 * Starts a peer on freshly found ports, and starts it again on new ports while the start fails
 * with "address in use" (up to `attempts` tries). Other errors are thrown at once.
 */
export async function withFreePorts<T>(
  count: number,
  start: (ports: number[]) => Promise<T>,
  attempts = 5,
): Promise<T> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const ports = await freePorts(count);
    try {
      return await start(ports);
    } catch (err) {
      if (!isAddressInUse(err)) throw err;
      lastError = err;
    }
  }
  throw new Error(`no free port after ${attempts} attempts`, { cause: lastError });
}

/** Single-port form of `withFreePorts`. */
export function withFreePort<T>(start: (port: number) => Promise<T>, attempts = 5): Promise<T> {
  return withFreePorts(1, ([port]) => start(port as number), attempts);
}

/** Resolves once `host:port` accepts a TCP connection, false if it refuses. */
export function portAccepts(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
