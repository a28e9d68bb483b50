/**
 * A minimal OIDC issuer for the auth case: node:http serving the discovery document and a JWKS
 * with one RS256 key, plus one access token signed with that key. Proxy Hopper fetches the
 * JWKS once and caches it, so this server gets almost no requests during a run.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';

export const OIDC_AUDIENCE = 'proxy-hopper';

export interface JwksIssuer {
  /** Issuer URL with a trailing slash, as the config and the token's `iss` carry it. */
  issuer: string;
  /** An RS256 access token with role `admin`, valid for two hours. */
  token: string;
  close(): Promise<void>;
}

export async function startJwksIssuer(): Promise<JwksIssuer> {
  const kid = 'bench-key-1';
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }] };

  let issuer = '';
  const server = http.createServer((req, res) => {
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/.well-known/openid-configuration') {
      send(200, {
        issuer,
        jwks_uri: `${issuer}jwks`,
        id_token_signing_alg_values_supported: ['RS256'],
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
      });
    } else if (req.url === '/jwks') {
      send(200, jwks);
    } else {
      send(404, { error: 'not_found' });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

  const token = await new SignJWT({ proxy_hopper_role: 'admin' })
    .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
    .setIssuer(issuer)
    .setAudience(OIDC_AUDIENCE)
    .setSubject('bench-client')
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(privateKey);

  return {
    issuer,
    token,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
