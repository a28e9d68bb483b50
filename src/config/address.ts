/**
 * Upstream proxy address syntax: `host:port`, a bare `host` (the caller supplies the default
 * port), `scheme://host[:port]` (the scheme is dropped, every upstream is an HTTP proxy), and
 * IPv6 literals in brackets, `[::1]:3128`.
 */

export interface ParsedAddress {
  host: string;
  port: number;
  /** `host:port` with IPv6 literals in brackets; the IP's identity everywhere. */
  address: string;
}

const HOST_PATTERN = /^[A-Za-z0-9._~-]+$/;

/** Parses one `ipList` entry, or returns an error message naming the entry. */
export function parseAddress(
  entry: string,
  defaultPort: number,
): ParsedAddress | { error: string } {
  const text = entry.trim();
  if (text === '') return { error: 'Invalid proxy address: the entry is empty' };
  const withoutScheme = stripScheme(text);
  if (withoutScheme.includes('@')) {
    return {
      error: `Invalid proxy address '${entry}': put credentials in the provider's 'auth' block, not in the address`,
    };
  }
  const split = splitHostPort(withoutScheme);
  if ('error' in split) return { error: `Invalid proxy address '${entry}': ${split.error}` };
  const port = split.port === null ? defaultPort : Number(split.port);
  if (!/^\d+$/.test(split.port ?? String(defaultPort)) || port < 1 || port > 65535) {
    return { error: `Invalid proxy address '${entry}': port must be a number from 1 to 65535` };
  }
  const host = split.host;
  const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return { host, port, address };
}

function stripScheme(text: string): string {
  const match = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)(?:[/?#].*)?$/.exec(text);
  return match ? (match[1] ?? '') : text;
}

function splitHostPort(text: string): { host: string; port: string | null } | { error: string } {
  if (text.startsWith('[')) return splitBracketed(text);
  const colons = text.split(':').length - 1;
  if (colons > 1) return { error: "write IPv6 addresses in brackets, such as '[::1]:3128'" };
  const [host = '', port] = text.split(':');
  if (!HOST_PATTERN.test(host)) return { error: `'${host}' is not a valid host name or address` };
  return { host, port: port ?? null };
}

function splitBracketed(text: string): { host: string; port: string | null } | { error: string } {
  const match = /^\[([0-9A-Fa-f:.]+(?:%[A-Za-z0-9._-]+)?)\](?::(.*))?$/.exec(text);
  if (!match || !(match[1] ?? '').includes(':')) {
    return { error: "expected an IPv6 literal in brackets, such as '[::1]:3128'" };
  }
  return { host: (match[1] ?? '').toLowerCase(), port: match[2] ?? null };
}
