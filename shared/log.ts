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
export function createLogger(options: {
  level: LogLevel;
  format: LogFormat;
  name?: string;
  /** Where the lines go. Default stdout; stderr when stdout carries a command's output (`agent --once --print`). */
  destination?: 'stdout' | 'stderr';
}): Logger {
  const level: LevelWithSilent = options.level;
  const toStderr = options.destination === 'stderr';
  const stream = toStderr ? process.stderr : process.stdout;
  const usePretty = options.format === 'pretty' || (options.format === 'auto' && stream.isTTY === true);
  const base = { level, name: options.name, base: { pid: process.pid } };
  if (!usePretty) return toStderr ? pino(base, pino.destination(2)) : pino(base);
  return pino(
    base,
    pretty({
      colorize: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
      destination: toStderr ? 2 : 1,
    }),
  );
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
