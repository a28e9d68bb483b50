/** A pino logger whose JSON lines are kept in memory, for asserting on log records. */
import { Writable } from 'node:stream';

import { pino, type Logger } from 'pino';

export interface LogRecord {
  level: number;
  msg: string;
  [field: string]: unknown;
}

export interface CapturedLogger {
  logger: Logger;
  records: LogRecord[];
  /** Every line exactly as pino wrote it, for checking that a secret never appears. */
  text(): string;
}

export function captureLogger(level: pino.LevelWithSilent = 'debug'): CapturedLogger {
  const records: LogRecord[] = [];
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line === '') continue;
        lines.push(line);
        records.push(JSON.parse(line) as LogRecord);
      }
      done();
    },
  });
  return { logger: pino({ level }, stream), records, text: () => lines.join('\n') };
}
