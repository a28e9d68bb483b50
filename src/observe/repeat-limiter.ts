/**
 * Rate limiting for log lines that can repeat once per request (backend down, queue full):
 * the first occurrence of a key is written, then at most one per interval carrying the count
 * of occurrences that were held back in between.
 */

export interface RepeatLimiterOptions {
  intervalMs: number;
  /** Distinct keys remembered; the oldest is forgotten beyond this. Default 1000. */
  maxKeys?: number;
  nowMs?: () => number;
}

export interface RepeatLimiter {
  /**
   * Calls `write(repeated)` when a line for `key` is due: on its first occurrence (repeated 0)
   * and then once per interval, where `repeated` counts the occurrences suppressed since the
   * last line. Occurrences after the last line are only reported when the key occurs again.
   */
  run(key: string, write: (repeated: number) => void): void;
}

interface KeyState {
  lastWrittenMs: number;
  suppressed: number;
}

export function createRepeatLimiter(options: RepeatLimiterOptions): RepeatLimiter {
  const maxKeys = options.maxKeys ?? 1000;
  const nowMs = options.nowMs ?? Date.now;
  const states = new Map<string, KeyState>();

  return {
    run(key, write) {
      const now = nowMs();
      const state = states.get(key);
      if (state !== undefined && now - state.lastWrittenMs < options.intervalMs) {
        state.suppressed += 1;
        return;
      }

      const repeated = state?.suppressed ?? 0;
      states.delete(key);
      states.set(key, { lastWrittenMs: now, suppressed: 0 });
      if (states.size > maxKeys) {
        const oldest = states.keys().next().value;
        if (oldest !== undefined) states.delete(oldest);
      }
      write(repeated);
    },
  };
}
