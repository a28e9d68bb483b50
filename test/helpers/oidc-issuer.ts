/**
 * Starts the real OIDC issuer of oidc-issuer-process.mjs in a child process and talks to it:
 * client-credentials tokens (via fetch or curl), signing key rotation, and stop by PID.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('./oidc-issuer-process.mjs', import.meta.url));
const START_TIMEOUT_MS = 15_000;

export type IssuerShape = 'authentik' | 'azure' | 'keycloak';

export interface TokenRequest {
  clientId: string;
  /** Defaults to `<clientId>-secret`, the secret every test client has. */
  clientSecret?: string;
  scope?: string;
  /** RFC 8707 resource indicator; the issuer makes it the token's audience. */
  resource?: string;
}

export interface OidcIssuer {
  issuer: string;
  origin: string;
  tokenEndpoint: string;
  pid: number;
  fetchToken(request: TokenRequest): Promise<string>;
  fetchTokenWithCurl(request: TokenRequest): Promise<string>;
  /** Adds a new signing key that signs from now on; old keys stay published. Returns its kid. */
  rotateKey(): Promise<string>;
  stop(): Promise<void>;
}

export async function startOidcIssuer(shape: IssuerShape): Promise<OidcIssuer> {
  const child = spawn(process.execPath, [SCRIPT, shape], { stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid;
  if (pid === undefined) throw new Error('OIDC issuer process did not start');

  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ready = await readReadyLine(child.stdout, () => stderr);
  const exited = once(child, 'exit');
  const tokenEndpoint = `${ready.issuer.replace(/\/$/, '')}/token`;

  const formFor = (request: TokenRequest): URLSearchParams => {
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (request.scope !== undefined) form.set('scope', request.scope);
    if (request.resource !== undefined) form.set('resource', request.resource);
    return form;
  };
  const secretOf = (request: TokenRequest): string =>
    request.clientSecret ?? `${request.clientId}-secret`;

  return {
    ...ready,
    tokenEndpoint,
    pid,
    async fetchToken(request) {
      const basic = Buffer.from(`${request.clientId}:${secretOf(request)}`).toString('base64');
      const response = await fetch(tokenEndpoint, {
        method: 'POST',
        headers: { authorization: `Basic ${basic}` },
        body: formFor(request),
      });
      return accessTokenOf(response.status, await response.text());
    },
    async fetchTokenWithCurl(request) {
      const args = ['-s', '-w', '\n%{http_code}', '-u', `${request.clientId}:${secretOf(request)}`];
      for (const [name, value] of formFor(request))
        args.push('--data-urlencode', `${name}=${value}`);
      const { stdout } = await execFileAsync('curl', [...args, tokenEndpoint]);
      const lines = stdout.trimEnd().split('\n');
      const status = Number(lines.pop());
      return accessTokenOf(status, lines.join('\n'));
    },
    async rotateKey() {
      const response = await fetch(`${ready.origin}/__control/rotate`, { method: 'POST' });
      const { kid } = (await response.json()) as { kid: string };
      return kid;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      process.kill(pid, 'SIGTERM');
      await exited;
    },
  };
}

function accessTokenOf(status: number, body: string): string {
  if (status !== 200) throw new Error(`token endpoint returned HTTP ${status}: ${body}`);
  const token = (JSON.parse(body) as { access_token?: unknown }).access_token;
  if (typeof token !== 'string') throw new Error(`token response has no access_token: ${body}`);
  return token;
}

function readReadyLine(
  stdout: NodeJS.ReadableStream,
  stderr: () => string,
): Promise<{ issuer: string; origin: string }> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => {
      reject(
        new Error(`OIDC issuer did not print READY within ${START_TIMEOUT_MS} ms: ${stderr()}`),
      );
    }, START_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString();
      const line = buffered.split('\n').find((text) => text.startsWith('READY '));
      if (line === undefined) return;
      clearTimeout(timer);
      stdout.off('data', onData);
      resolve(JSON.parse(line.slice('READY '.length)) as { issuer: string; origin: string });
    };
    stdout.on('data', onData);
    stdout.once('end', () => {
      clearTimeout(timer);
      reject(new Error(`OIDC issuer exited before READY: ${stderr()}`));
    });
  });
}
