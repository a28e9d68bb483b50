import type { TargetRuntime } from '../dispatch/target-runtime.js';

/**
 * Finds the target for an outbound URL: the first configured target whose regex matches
 * anywhere in the full URL (scheme, host, raw path and query), in config order.
 */
export class Router {
  constructor(private readonly targets: readonly TargetRuntime[]) {}

  match(url: string): TargetRuntime | null {
    for (const target of this.targets) {
      const regex = target.config.regex;
      // A global or sticky regex keeps lastIndex between calls; reset so every match is fresh.
      regex.lastIndex = 0;
      if (regex.test(url)) return target;
    }
    return null;
  }

  all(): readonly TargetRuntime[] {
    return this.targets;
  }
}
