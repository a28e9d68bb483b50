/**
 * Parses `server.redisUrl` into ioredis options. Accepted forms:
 *
 * - `redis://[[user]:password@]host[:port][/db]`, or `rediss://` for TLS: one server.
 * - `redis+sentinel://[[user]:password@]host:port[,host:port...]/<master name>[/db]`, or
 *   `rediss+sentinel://` for TLS to the primary and the sentinels: the primary that the
 *   sentinels name. `?sentinelPassword=...` sets the sentinels' own password.
 * - `redis+cluster://[[user]:password@]host:port[,host:port...]`, or `rediss+cluster://`:
 *   a Redis Cluster found through the listed seed nodes.
 *
 * The password is used for the data nodes and never appears in `display`.
 */

export interface RedisEndpoint {
  host: string;
  port: number;
}

export interface RedisConnectionPlan {
  mode: 'standalone' | 'sentinel' | 'cluster';
  endpoints: RedisEndpoint[];
  tls: boolean;
  username: string | undefined;
  password: string | undefined;
  db: number;
  /** Sentinel mode only: the monitored primary's name. */
  masterName: string | undefined;
  sentinelPassword: string | undefined;
  /** `host:port[,host:port]`, safe to log and to show to clients. */
  display: string;
}

const URL_PATTERN = /^([a-z][a-z0-9+.-]*):\/\/(?:([^@/]*)@)?([^/?#]*)(\/[^?#]*)?(?:\?([^#]*))?$/i;

const SCHEMES: Record<string, { mode: RedisConnectionPlan['mode']; tls: boolean }> = {
  redis: { mode: 'standalone', tls: false },
  rediss: { mode: 'standalone', tls: true },
  'redis+sentinel': { mode: 'sentinel', tls: false },
  'rediss+sentinel': { mode: 'sentinel', tls: true },
  'redis+cluster': { mode: 'cluster', tls: false },
  'rediss+cluster': { mode: 'cluster', tls: true },
};

export function parseRedisUrl(url: string): RedisConnectionPlan {
  const match = URL_PATTERN.exec(url.trim());
  const scheme = SCHEMES[match?.[1]?.toLowerCase() ?? ''];
  if (!match || !scheme) {
    throw new Error(
      `Invalid Redis URL '${redactUrl(url)}': expected redis://host:port/db, rediss://..., ` +
        'redis+sentinel://host:port,.../<master name> or redis+cluster://host:port,...',
    );
  }

  const [, , userInfo, hostList = '', path = '', query = ''] = match;
  const defaultPort = scheme.mode === 'sentinel' ? 26379 : 6379;
  const endpoints = hostList.split(',').map((entry) => parseEndpoint(entry, defaultPort, url));
  const { username, password } = parseUserInfo(userInfo);

  const segments = path.split('/').filter((segment) => segment !== '');
  const masterName = scheme.mode === 'sentinel' ? parseMasterName(segments, url) : undefined;
  const sentinelPassword = new URLSearchParams(query).get('sentinelPassword') ?? undefined;
  return {
    ...scheme,
    endpoints,
    username,
    password,
    db: parseDb(segments, scheme.mode, url),
    masterName,
    sentinelPassword,
    display: endpoints.map(formatEndpoint).join(','),
  };
}

/** Takes the master name off the front of a sentinel URL's path segments. */
function parseMasterName(segments: string[], url: string): string {
  const name = segments.shift();
  if (name) return decodeURIComponent(name);
  throw new Error(
    `Invalid Redis URL '${redactUrl(url)}': a sentinel URL needs the master name as its ` +
      'path, as in redis+sentinel://127.0.0.1:26379/mymaster',
  );
}

/** Replaces the password in a Redis URL with `***` so the URL can be logged. */
export function redactUrl(url: string): string {
  return url.replace(/^([^:/]+:\/\/[^:@/]*:)[^@/]*@/, '$1***@');
}

function parseEndpoint(entry: string, defaultPort: number, url: string): RedisEndpoint {
  const match = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d+))?$/i.exec(entry);
  const port = match?.[2] === undefined ? defaultPort : Number(match[2]);
  if (!match?.[1] || port < 1 || port > 65535) {
    throw new Error(`Invalid Redis URL '${redactUrl(url)}': '${entry}' is not a host or host:port`);
  }
  return { host: match[1].replace(/^\[(.*)\]$/, '$1'), port };
}

function parseUserInfo(userInfo: string | undefined) {
  if (userInfo === undefined || userInfo === '')
    return { username: undefined, password: undefined };
  const colon = userInfo.indexOf(':');
  if (colon < 0) return { username: decodeURIComponent(userInfo), password: undefined };
  const username = decodeURIComponent(userInfo.slice(0, colon));
  return {
    username: username || undefined,
    password: decodeURIComponent(userInfo.slice(colon + 1)),
  };
}

function parseDb(segments: string[], mode: RedisConnectionPlan['mode'], url: string): number {
  if (segments.length === 0) return 0;
  const db = Number(segments[0]);
  if (segments.length > 1 || !Number.isInteger(db) || db < 0 || mode === 'cluster') {
    const hint =
      mode === 'cluster' ? 'a Redis Cluster has only database 0' : 'expected /<db number>';
    throw new Error(`Invalid Redis URL '${redactUrl(url)}': ${hint}`);
  }
  return db;
}

function formatEndpoint(endpoint: RedisEndpoint): string {
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  return `${host}:${endpoint.port}`;
}
