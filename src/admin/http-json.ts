/** JSON responses and bounded request bodies for the admin server. */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Largest request body the admin server reads (login forms are a few hundred bytes). */
export const MAX_BODY_BYTES = 64 * 1024;

export class BodyTooLargeError extends Error {}

export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  response.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  response.end(text);
}

/** Sends the admin API's error shape, `{"detail": "<message>"}`. */
export function sendDetail(
  response: ServerResponse,
  status: number,
  detail: string,
  headers: Record<string, string> = {},
): void {
  sendJson(response, status, { detail }, headers);
}

/** Reads the whole body; rejects with BodyTooLargeError past `limitBytes`. */
export async function readBody(
  request: IncomingMessage,
  limitBytes = MAX_BODY_BYTES,
): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limitBytes) throw new BodyTooLargeError(`body of ${declared} bytes`);

  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    total += buffer.length;
    if (total > limitBytes) throw new BodyTooLargeError(`body over ${limitBytes} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}
