import { pino, type Logger, type LevelWithSilent } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * Structured logs: one JSON object per line when stdout is not a terminal
 * (journald, log shippers), colourised single lines on a terminal. The pretty
 * stream runs in-process (no worker thread) to keep the agent small.
 */
export function createLogger(options: { level: LogLevel; format: LogFormat; name?: string }): Logger {
  const level: LevelWithSilent = options.level;
  const usePretty =
    options.format === 'pretty' || (options.format === 'auto' && process.stdout.isTTY === true);
  const base = { level, name: options.name, base: { pid: process.pid } };
  if (!usePretty) return pino(base);
  return pino(base, pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
}

/**
 * Logs a recurring problem at most once per interval, with the number of
 * occurrences suppressed since the last line, so a flood of bad input cannot
 * flood the log.
 */
export class RateLimitedLog {
  private suppressed = 0;
  private lastLoggedAt = -Infinity;

  constructor(
    private readonly log: Logger,
    /** Minimum time between two log lines, in milliseconds. */
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  warn(fields: Record<string, unknown>, message: string): void {
    const t = this.now();
    if (t - this.lastLoggedAt < this.intervalMs) {
      this.suppressed++;
      return;
    }
    this.log.warn({ ...fields, suppressed: this.suppressed }, message);
    this.suppressed = 0;
    this.lastLoggedAt = t;
  }
}
