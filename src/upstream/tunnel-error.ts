/** A CONNECT tunnel through an upstream proxy could not be opened. */
export class TunnelError extends Error {
  readonly code: 'tunnel_auth_failed' | 'tunnel_refused' | 'tunnel_failed' | 'tunnel_timeout';
  /** Status of the proxy's CONNECT response, when it sent one. */
  readonly statusCode: number | null;

  constructor(code: TunnelError['code'], message: string, statusCode: number | null = null) {
    super(message);
    this.name = 'TunnelError';
    this.code = code;
    this.statusCode = statusCode;
  }

  static forStatus(status: number, statusLine: string): TunnelError {
    // tinyproxy rejects wrong credentials with 401 instead of 407; both mean our credentials.
    if (status === 407 || status === 401) {
      return new TunnelError(
        'tunnel_auth_failed',
        `upstream proxy rejected the credentials (${status})`,
        status,
      );
    }
    if (status === 0) {
      return new TunnelError(
        'tunnel_failed',
        `upstream proxy sent an invalid CONNECT answer: ${statusLine.slice(0, 80)}`,
      );
    }
    return new TunnelError(
      'tunnel_refused',
      `upstream proxy refused CONNECT with ${status}`,
      status,
    );
  }
}
