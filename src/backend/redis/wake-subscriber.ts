/**
 * The dedicated pub/sub connection that hears wake-ups from every instance sharing a key
 * prefix. A subscribed connection cannot run other commands, so it is separate from the
 * command connection; ioredis subscribes again after each reconnect.
 */
import type { Logger } from 'pino';
import type { RedisClient } from './connection.js';

export class WakeSubscriber {
  constructor(
    private readonly client: RedisClient,
    private readonly channel: string,
    private readonly onWake: (target: string) => void,
    private readonly logger: Logger | undefined,
  ) {
    client.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.onWake(message);
    });
    client.on('error', (err: unknown) => {
      this.logger?.debug({ err }, 'redis wake subscriber connection error');
    });
  }

  /** Subscribes once connected; retries run in the background like the command connection. */
  start(): void {
    this.client.connect().catch((err: unknown) => {
      this.logger?.debug({ err }, 'redis wake subscriber could not connect yet; retrying');
    });
    this.client.once('ready', () => {
      this.client.subscribe(this.channel).catch((err: unknown) => {
        this.logger?.warn({ err, channel: this.channel }, 'redis wake subscribe failed');
      });
    });
  }

  stop(): void {
    this.client.disconnect();
  }
}
