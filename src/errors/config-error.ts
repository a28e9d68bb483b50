/** One problem found in the configuration, with the path of the offending key. */
export interface ConfigIssue {
  /** Dotted path with list indexes, such as `targets[1].regex`; empty for the whole file. */
  path: string;
  message: string;
}

/** Raised when a config cannot be loaded; lists every problem found, not only the first. */
export class ConfigError extends Error {
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[]) {
    super(
      issues
        .map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message))
        .join('\n'),
    );
    this.name = 'ConfigError';
    this.issues = issues;
  }
}
