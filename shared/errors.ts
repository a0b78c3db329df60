/**
 * The project's error hierarchy. Every error carries a stable `code` that
 * scripts and the HTTP layer can branch on, the underlying `cause` when there
 * is one, and `permanent`: true when retrying the same operation cannot help
 * (bad configuration, invalid input), false for transient faults (a broker
 * that is down, a busy file).
 */
export class CloudSenseError extends Error {
  readonly code: string;
  readonly permanent: boolean;

  constructor(code: string, message: string, options: { cause?: unknown; permanent?: boolean } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.permanent = options.permanent ?? false;
  }
}

/** One configuration problem, located by its dotted path. */
export interface ConfigProblem {
  path: string;
  message: string;
  /** Where the offending value came from: a file, an environment variable or a flag. */
  source?: string;
}

/** Invalid configuration: start-up stops and every problem is listed. */
export class ConfigError extends CloudSenseError {
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[], options: { cause?: unknown } = {}) {
    super('CONFIG_INVALID', formatProblems(problems), { ...options, permanent: true });
    this.problems = problems;
  }
}

function formatProblems(problems: ConfigProblem[]): string {
  const lines = problems.map(
    (p) => `  - ${p.path || '(root)'}: ${p.message}${p.source ? ` (from ${p.source})` : ''}`,
  );
  return `invalid configuration, ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${lines.join('\n')}`;
}

/** Input from the network or a file that does not match its schema or limits. */
export class ValidationError extends CloudSenseError {
  /** Dotted path of the offending field, when known. */
  readonly path: string | undefined;

  constructor(message: string, options: { path?: string; cause?: unknown } = {}) {
    super('INVALID_INPUT', message, { cause: options.cause, permanent: true });
    this.path = options.path;
  }
}

/** A requested thing does not exist (a host, a model). */
export class NotFoundError extends CloudSenseError {
  constructor(message: string) {
    super('NOT_FOUND', message, { permanent: true });
  }
}

/** A resource is held by another process, e.g. a DuckDB file opened for writing. */
export class BusyError extends CloudSenseError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('BUSY', message, { cause: options.cause, permanent: false });
  }
}

/** The message of an unknown thrown value, for logs. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
