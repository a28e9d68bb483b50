/**
 * Streams a target's response to the client as it arrives, keeping the upstream framing:
 * Content-Length when the target sent one, chunked otherwise. Tells the caller how the body
 * ended, so an upstream failure mid-body counts against the IP and a client abort does not.
 */
import type { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import type { BodyEnd } from '../dispatch/dispatcher.js';
import type { UpstreamResponse } from '../upstream/send-attempt.js';
import { responseHeaders } from './header-hygiene.js';

export function streamResponse(
  res: ServerResponse,
  response: UpstreamResponse,
  requestId: string,
  onEnd: (end: BodyEnd, error?: unknown) => void,
): void {
  const headers = responseHeaders(response.headers);
  const chunked = response.headers['transfer-encoding'] !== undefined;
  if (chunked) {
    // A response with both framings is ambiguous (RFC 9112 section 6.3); chunked wins and the
    // Content-Length goes, so the client never sees both.
    removeHeader(headers, 'content-length');
  }
  removeHeader(headers, 'x-request-id');
  headers.push('x-request-id', requestId);
  res.writeHead(response.statusCode, headers);

  let upstreamError: unknown = null;
  response.body.once('error', (err) => {
    upstreamError = err;
  });
  pipeline(response.body, res, (err) => {
    if (!err) {
      onEnd('complete');
      return;
    }
    if (upstreamError !== null) {
      // Destroying the response makes the client see a broken body, never a short one that
      // looks complete.
      res.destroy(upstreamError instanceof Error ? upstreamError : undefined);
      onEnd('upstream_failed', upstreamError);
      return;
    }
    onEnd('client_aborted', err);
  });
}

function removeHeader(headers: string[], lowerName: string): void {
  for (let i = headers.length - 2; i >= 0; i -= 2) {
    if (headers[i] === lowerName) headers.splice(i, 2);
  }
}
