/**
 * A throwaway test CA and a server certificate signed by it, made with the openssl CLI in a
 * temp dir once per test process. The server certificate covers 127.0.0.1, ::1, localhost and
 * a few `.test` names that squid's hosts_file can map to loopback.
 */
import fs from 'node:fs';
import path from 'node:path';
import { makeTempDir, requireBinary, runChecked } from './processes.js';

export interface TestTls {
  dir: string;
  caPath: string;
  certPath: string;
  keyPath: string;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

/** DNS names in the server certificate besides localhost. */
export const TEST_TLS_NAMES = ['api.example.test', 'echo.test', 'tls.test', 'x.test', 'y.test'];

let cached: TestTls | null = null;

/** Returns the process-wide test CA and server certificate, making them on first use. */
export function testTls(): TestTls {
  if (cached !== null) return cached;
  const openssl = requireBinary('openssl', 'openssl');
  const dir = makeTempDir('tls');
  fs.chmodSync(dir, 0o755);
  const run = (args: string[]): void => void runChecked(openssl, args, dir);
  run(
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt'].concat(
      ['-days', '2', '-subj', '/CN=Proxy Hopper Test CA'],
    ),
  );
  run(
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr'].concat([
      '-subj',
      '/CN=localhost',
    ]),
  );
  const names = ['localhost', ...TEST_TLS_NAMES].map((name) => `DNS:${name}`);
  const san = ['IP:127.0.0.1', 'IP:::1', ...names].join(',');
  fs.writeFileSync(
    path.join(dir, 'san.ext'),
    `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`,
  );
  run(
    ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key'].concat([
      '-CAcreateserial',
      '-out',
      'server.crt',
      '-days',
      '2',
      '-extfile',
      'san.ext',
    ]),
  );
  const caPath = path.join(dir, 'ca.crt');
  const certPath = path.join(dir, 'server.crt');
  const keyPath = path.join(dir, 'server.key');
  cached = {
    dir,
    caPath,
    certPath,
    keyPath,
    ca: fs.readFileSync(caPath),
    cert: fs.readFileSync(certPath),
    key: fs.readFileSync(keyPath),
  };
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return cached;
}
