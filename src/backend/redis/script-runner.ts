/**
 * Runs the pool's Lua scripts with EVALSHA. When Redis replies NOSCRIPT (script cache
 * flushed, server restarted, failover to a replica) the runner sends the script once with
 * EVAL, which also caches it again, counts the reload and logs one warning per reload.
 * Scripts are preloaded on each (re)connect, so a NOSCRIPT means the cache was lost while
 * connected: SCRIPT FLUSH, or a failover to a replica that never ran them.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { Cluster } from 'ioredis';
import type { RedisClient } from './connection.js';

export interface LuaScript {
  name: string;
  source: string;
  sha1: string;
}

export function defineScript(name: string, source: string): LuaScript {
  return { name, source, sha1: createHash('sha1').update(source).digest('hex') };
}

export class ScriptRunner {
  /** Number of NOSCRIPT errors recovered by sending the script again. */
  reloads = 0;

  constructor(
    private readonly client: RedisClient,
    private readonly logger: Logger | undefined,
    private readonly onReload: (script: string) => void = () => {},
  ) {}

  /** Loads scripts into the cache of every primary, so their first EVALSHA finds them. */
  async preload(scripts: LuaScript[]): Promise<void> {
    const nodes = this.client instanceof Cluster ? this.client.nodes('master') : [this.client];
    for (const node of nodes) {
      for (const script of scripts) await node.script('LOAD', script.source);
    }
  }

  async run(script: LuaScript, keys: string[], args: (string | number)[]): Promise<string> {
    try {
      return String(await this.client.evalsha(script.sha1, keys.length, ...keys, ...args));
    } catch (err) {
      if (!isNoScript(err)) throw err;
      this.reloads += 1;
      this.logger?.warn(
        { script: script.name, reloads: this.reloads },
        'redis script cache lost the script; sending it again',
      );
      this.onReload(script.name);
      return String(await this.client.eval(script.source, keys.length, ...keys, ...args));
    }
  }
}

function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOSCRIPT');
}
