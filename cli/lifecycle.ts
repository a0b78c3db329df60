import type { Logger } from '../shared/log.js';
import { errorMessage } from '../shared/errors.js';

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
