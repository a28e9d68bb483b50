/**
 * The client's request body, prepared for the attempt loop. Bodies up to the retry limit are
 * read into memory so every attempt sends the same bytes. Larger ones stream through once, so
 * a request with such a body is not retried after its first attempt started.
 */
import type { IncomingMessage } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import { ProxyHopperError } from '../errors/index.js';

export interface RequestBody {
  /** Body for the next attempt: a Buffer, a one-shot stream, or null for no body. */
  forAttempt(): Buffer | Readable | null;
  /** Byte length when known in advance (sent as Content-Length), else null (chunked). */
  readonly lengthBytes: number | null;
  /** True while another attempt can still send the whole body. */
  readonly replayable: boolean;
}

class BufferedBody implements RequestBody {
  readonly replayable = true;
  constructor(private readonly buffer: Buffer | null) {}
  get lengthBytes(): number | null {
    return this.buffer === null ? null : this.buffer.length;
  }
  forAttempt(): Buffer | null {
    return this.buffer;
  }
}

class StreamedBody implements RequestBody {
  private used = false;
  constructor(
    private readonly stream: Readable,
    readonly lengthBytes: number | null,
  ) {}
  get replayable(): boolean {
    return !this.used;
  }
  forAttempt(): Readable {
    if (this.used) throw new Error('a streamed request body can be sent only once');
    this.used = true;
    return this.stream;
  }
}

/**
 * Reads the body of `req` up to `retryLimitBytes` into memory. A declared or actual size above
 * the limit switches to streaming: the bytes read so far are sent first, then the rest.
 */
export async function readRequestBody(
  req: IncomingMessage,
  retryLimitBytes: number,
): Promise<RequestBody> {
  const declared = req.headers['content-length'];
  const declaredBytes = declared === undefined ? null : Number(declared);
  const chunked = req.headers['transfer-encoding'] !== undefined;

  if (!chunked && (declaredBytes === null || declaredBytes === 0)) return new BufferedBody(null);
  if (declaredBytes !== null && declaredBytes > retryLimitBytes)
    return new StreamedBody(req, declaredBytes);

  return collectUpTo(req, retryLimitBytes);
}

function collectUpTo(req: IncomingMessage, limitBytes: number): Promise<RequestBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const cleanup = (): void => {
      req.removeListener('data', onData);
      req.removeListener('end', onEnd);
      req.removeListener('error', onError);
      req.removeListener('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      total += chunk.length;
      if (total <= limitBytes) return;
      // Too large to keep for retries: hand the rest over as a stream, without losing bytes.
      req.pause();
      cleanup();
      resolve(new StreamedBody(prefixStream(chunks, req), null));
    };
    const onEnd = (): void => {
      cleanup();
      resolve(new BufferedBody(Buffer.concat(chunks, total)));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onClose = (): void => {
      // The client went away before the body ended; no IP has been leased yet.
      cleanup();
      reject(
        new ProxyHopperError(
          'bad_request',
          'Client closed the connection before the request body ended',
        ),
      );
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onError);
    req.once('close', onClose);
  });
}

/** Builds a stream of the already read `head` chunks followed by the rest of `rest`. */
function prefixStream(head: Buffer[], rest: Readable): Readable {
  const out = new PassThrough();
  // The stream may sit unconsumed while the request waits for an IP. The consumer (undici)
  // adds its own error listener; until then a client abort must not become an uncaught error.
  out.on('error', () => {});
  for (const chunk of head) out.write(chunk);
  rest.pipe(out);
  rest.once('error', (err) => out.destroy(err));
  return out;
}
