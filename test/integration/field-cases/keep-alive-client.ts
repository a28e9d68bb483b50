/**
 * Sends requests one after another on a single client TCP connection and reads each response
 * (Content-Length framing only, and no body after a HEAD) before writing the next. So every
 * request of one call uses the same kept-alive connection. Rejects when the server closes the connection early.
 */
import net from 'node:net';

export interface SequentialResponse {
  status: number;
  headers: [string, string][];
  body: Buffer;
}

export function sendSequentially(
  port: number,
  requestTexts: string[],
  timeoutMs = 10_000,
): Promise<SequentialResponse[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const responses: SequentialResponse[] = [];
    let buffered = Buffer.alloc(0);
    const timer = setTimeout(
      () => finish(new Error(`no answers within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const finish = (err: Error | null): void => {
      clearTimeout(timer);
      socket.destroy();
      if (err === null) resolve(responses);
      else reject(err);
    };
    const writeNext = (): void => {
      const next = requestTexts[responses.length];
      if (next === undefined) finish(null);
      else socket.write(next);
    };
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const isHead = (requestTexts[responses.length] ?? '').startsWith('HEAD ');
      const parsed = parseOne(buffered, isHead);
      if (parsed === null) return;
      responses.push(parsed.response);
      buffered = buffered.subarray(parsed.usedBytes);
      writeNext();
    });
    socket.on('close', () => {
      if (responses.length < requestTexts.length)
        finish(new Error(`connection closed after ${responses.length} responses`));
    });
    socket.on('error', (err) => finish(err));
    socket.once('connect', writeNext);
  });
}

function parseOne(
  data: Buffer,
  isHead: boolean,
): { response: SequentialResponse; usedBytes: number } | null {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const lines = data.subarray(0, end).toString('latin1').split('\r\n');
  const headers: [string, string][] = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  const declared = headers.find(([name]) => name.toLowerCase() === 'content-length')?.[1];
  const length = isHead ? 0 : Number(declared ?? '0');
  if (data.length < end + 4 + length) return null;
  const status = Number((lines[0] ?? '').split(' ')[1]);
  const body = data.subarray(end + 4, end + 4 + length);
  return { response: { status, headers, body }, usedBytes: end + 4 + length };
}
