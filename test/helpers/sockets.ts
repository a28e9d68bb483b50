/**
 * Open TCP connections on this machine, read from /proc/net/tcp (Linux), for tests that check
 * that no socket is left behind. Both ends of a loopback connection are listed.
 */
import fs from 'node:fs';

export interface TcpEntry {
  localPort: number;
  remotePort: number;
  /** Kernel state code: `01` is ESTABLISHED. */
  state: string;
}

/** Lists every IPv4 and IPv6 TCP socket in the kernel tables. */
export function tcpEntries(): TcpEntry[] {
  const entries: TcpEntry[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 4) continue;
      const localPort = parseInt((fields[1] as string).split(':')[1] ?? '', 16);
      const remotePort = parseInt((fields[2] as string).split(':')[1] ?? '', 16);
      entries.push({ localPort, remotePort, state: fields[3] as string });
    }
  }
  return entries;
}

/** Established connections whose server side is `port` (counted once, from the client end). */
export function establishedTo(port: number): number {
  return tcpEntries().filter((entry) => entry.state === '01' && entry.remotePort === port).length;
}
