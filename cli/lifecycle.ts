import type { z } from 'zod';
import { loadConfig } from '../shared/config/load.js';
import { errorMessage } from '../shared/errors.js';
import { createLogger, type LogFormat, type LogLevel, type Logger } from '../shared/log.js';
import { configSources, exitOnConfigError } from './options.js';

/** Longest a graceful stop may take before the process exits anyway, milliseconds. */
const STOP_DEADLINE_MS = 20_000;

/**
 * Runs until SIGINT or SIGTERM, then calls `stop` once and exits 0. A second
 * signal, or a stop that overruns its deadline, exits at once with status 1.
 */
export function runUntilSignalled(stop: () => Promise<void>, log: Logger): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal; exiting without a clean stop');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'stopping');
    const deadline = setTimeout(() => {
      log.error({ deadlineMs: STOP_DEADLINE_MS }, 'clean stop overran its deadline; exiting');
      process.exit(1);
    }, STOP_DEADLINE_MS);
    deadline.unref();
    stop().then(
      () => {
        log.flush();
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err: errorMessage(err) }, 'error while stopping');
        log.flush();
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** Reports a start-up failure in one line with what to do, and exits 1. */
export function exitOnStartFailure(err: unknown, log: Logger): never {
  log.fatal({ err: errorMessage(err) }, 'start-up failed');
  log.flush();
  process.stderr.write(`cloudsense: ${errorMessage(err)}\n`);
  process.exit(1);
}

/** What a long-running command runs: the Telegraf-style small boundary. */
export interface Service {
  start(): Promise<void>;
  /** Safe to call twice and before start. */
  stop(): Promise<void>;
}

/**
 * The life of a long-running command: load and validate its configuration
 * (exit 2 on problems), build the service, start it (exit 1 on failure), call
 * `ready`, then run until SIGINT/SIGTERM and stop cleanly.
 */
export async function runService<
  S extends z.ZodType<{ log: { level: LogLevel; format: LogFormat } }>,
  T extends Service,
>(spec: {
  schema: S;
  options: Record<string, unknown>;
  name: string;
  build: (config: z.output<S>, log: Logger) => T;
  ready: (service: T, config: z.output<S>, log: Logger) => void;
}): Promise<void> {
  let config: z.output<S>;
  try {
    config = loadConfig(spec.schema, configSources(spec.options));
  } catch (err) {
    exitOnConfigError(err);
  }
  const log = createLogger({ ...config.log, name: spec.name });
  const service = spec.build(config, log);
  try {
    await service.start();
  } catch (err) {
    await service.stop().catch(() => undefined);
    exitOnStartFailure(err, log);
  }
  spec.ready(service, config, log);
  runUntilSignalled(() => service.stop(), log);
}
