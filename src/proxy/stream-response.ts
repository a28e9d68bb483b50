/**
 * Streams a target's response to the client as it arrives, keeping the upstream framing:
 * Content-Length when the target sent one, chunked otherwise. Tells the caller how the body
 * ended, so an upstream failure mid-body counts against the IP and a client abort does not.
 */
import type { ServerResponse } from 'node:http';
import type { BodyEnd } from '../dispatch/dispatcher.js';
import type { UpstreamResponse } from '../upstream/send-attempt.js';
import { responseHeaders } from './header-hygiene.js';

export function streamResponse(
  res: ServerResponse,
  response: UpstreamResponse,
  requestId: string,
  /** Maximum time a client may leave the response unread before it is cut and the IP freed. */
  clientStallTimeoutMs: number,
  onEnd: (end: BodyEnd, error?: unknown) => void,
): void {
  const headers = responseHeaders(response.headers);
  if (response.headers['transfer-encoding'] !== undefined) {
    // A response with both framings is ambiguous (RFC 9112 section 6.3); chunked wins and the
    // Content-Length goes, so the client never sees both.
    removeHeader(headers, 'content-length');
  }
  removeHeader(headers, 'x-request-id');
  headers.push('x-request-id', requestId);
  res.writeHead(response.statusCode, headers);

  // Plain event wiring instead of stream.pipeline, which allocates an AbortController and a
  // DOMException per call; that showed up as several percent of CPU in profiles.
  const body = response.body;
  let ended = false;
  let stallTimer: NodeJS.Timeout | null = null;
  const finish = (end: BodyEnd, error?: unknown): void => {
    if (ended) return;
    ended = true;
    if (stallTimer !== null) clearTimeout(stallTimer);
    body.removeListener('data', onData);
    res.removeListener('drain', onDrain);
    res.removeListener('close', onClose);
    onEnd(end, error);
  };
  const onData = (chunk: Buffer): void => {
    if (res.write(chunk)) return;
    body.pause();
    // A client that stops reading would otherwise hold the lease, and so the IP, forever.
    stallTimer ??= setTimeout(() => {
      res.destroy();
      body.destroy();
      finish('client_aborted');
    }, clientStallTimeoutMs);
  };
  const onDrain = (): void => {
    if (stallTimer !== null) {
      clearTimeout(stallTimer);
      stallTimer = null;
    }
    body.resume();
  };
  const onClose = (): void => {
    body.destroy();
    finish('client_aborted');
  };
  body.on('data', onData);
  body.once('end', () => {
    res.end();
    finish('complete');
  });
  body.once('error', (err: Error) => {
    if (ended) return;
    // Destroying the response makes the client see a broken body, never a short one that
    // looks complete.
    res.destroy(err);
    finish('upstream_failed', err);
  });
  res.on('drain', onDrain);
  res.once('close', onClose);
}

function removeHeader(headers: string[], lowerName: string): void {
  for (let i = headers.length - 2; i >= 0; i -= 2) {
    if (headers[i] === lowerName) headers.splice(i, 2);
  }
}
