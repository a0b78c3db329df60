import type { z } from 'zod';
import { loadConfig } from '../shared/config/load.js';
import { ConfigError, errorMessage } from '../shared/errors.js';
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
 * `ready`, then run until SIGINT/SIGTERM and stop cleanly. SIGHUP reloads
 * the configuration when `reload` is `restart` (see ReloadableService), and
 * is logged and ignored otherwise: Node's default for it is to exit.
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
  reload?: 'restart';
}): Promise<void> {
  // A SIGHUP during start-up (`systemctl reload` right after start) must not take Node's
  // default, which exits; it is held and handled once the service runs.
  let heldHangup = false;
  const holdHangup = () => (heldHangup = true);
  process.on('SIGHUP', holdHangup);
  // So must SIGTERM and SIGINT (a stop right after start): the start completes, then the clean stop runs.
  let heldStop: NodeJS.Signals | undefined;
  const holdStop = (signal: NodeJS.Signals) => (heldStop ??= signal);
  process.on('SIGTERM', holdStop);
  process.on('SIGINT', holdStop);
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
  let onHangup: () => void;
  if (spec.reload === 'restart') {
    const reloadable = new ReloadableService({
      service,
      config,
      load: () => loadConfig(spec.schema, configSources(spec.options)),
      build: spec.build,
      log,
    });
    onHangup = () => reloadable.reload();
    runUntilSignalled(() => reloadable.stop(), log);
  } else {
    onHangup = () =>
      log.warn(
        { signal: 'SIGHUP', command: spec.name },
        'SIGHUP ignored: this command does not reload its configuration; restart it to apply changes',
      );
    runUntilSignalled(() => service.stop(), log);
  }
  process.on('SIGHUP', onHangup);
  process.off('SIGHUP', holdHangup);
  process.off('SIGTERM', holdStop);
  process.off('SIGINT', holdStop);
  if (heldStop) {
    log.info({ signal: heldStop }, 'stop signal received during start-up');
    process.kill(process.pid, heldStop);
    return;
  }
  if (heldHangup) onHangup();
}

/**
 * A service that SIGHUP rebuilds from its re-read configuration (the file
 * and the environment; flags stay as given), the way nginx and Telegraf
 * reload: invalid configuration is logged with every problem and the
 * service keeps running on the old one; a valid one that differs stops the
 * running service cleanly and starts one built from it, in this process
 * (state on disk, such as the agent's queue and its sequence numbers,
 * carries over). A new service that fails to start is replaced by one built
 * from the previous configuration.
 *
 * Reloads run one at a time: SIGHUPs during one fold into one more reload
 * after it, which reads the file as it is then. `stop` waits for a running
 * reload, so a SIGTERM in the middle stops whichever service it left running.
 */
class ReloadableService<C extends { log: { level: LogLevel; format: LogFormat } }, T extends Service> {
  private current: T;
  private config: C;
  private reloading: Promise<void> | undefined;
  private again = false;
  private stopping = false;

  constructor(
    private readonly spec: {
      service: T;
      config: C;
      load: () => C;
      build: (config: C, log: Logger) => T;
      log: Logger;
    },
  ) {
    this.current = spec.service;
    this.config = spec.config;
  }

  reload(): void {
    if (this.stopping) return;
    this.spec.log.info({ signal: 'SIGHUP' }, 'reloading the configuration');
    if (this.reloading) {
      this.again = true;
      return;
    }
    this.reloading = (async () => {
      do {
        this.again = false;
        await this.reloadOnce().catch((err: unknown) =>
          this.spec.log.error({ err: errorMessage(err) }, 'reload failed'),
        );
      } while (this.again && !this.stopping);
    })().finally(() => (this.reloading = undefined));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.reloading;
    await this.current.stop();
  }

  private async reloadOnce(): Promise<void> {
    const { log } = this.spec;
    let next: C;
    try {
      next = this.spec.load();
    } catch (err) {
      const problems = err instanceof ConfigError ? err.problems : undefined;
      // The problems by dotted path in a field, and in `err` as the start-up error would print them.
      log.error(
        { problems, err: errorMessage(err) },
        'configuration not reloaded, still running on the previous one',
      );
      return;
    }
    const changed = configChanges(this.config, next);
    if (changed.length === 0) {
      log.info('configuration reloaded: nothing changed');
      return;
    }
    log.info({ changed }, 'configuration changed; restarting with it');
    if (next.log.format !== this.config.log.format) log.warn('log.format takes effect at the next start');
    log.level = next.log.level;
    // A stop that fails leaves what it could not release (a lock, a port) to fail the new start,
    // which then falls back below.
    await this.current
      .stop()
      .catch((err: unknown) => log.error({ err: errorMessage(err) }, 'error while stopping'));
    if (this.stopping) return;
    const started = await this.startBuilt(next);
    if (started) {
      this.current = started;
      this.config = next;
      log.info({ changed: changed.map((c) => c.path) }, 'configuration reloaded');
      return;
    }
    log.error('starting with the new configuration failed; going back to the previous one');
    log.level = this.config.log.level;
    const previous = await this.startBuilt(this.config);
    if (!previous) exitOnStartFailure(new Error('the previous configuration failed to start again'), log);
    this.current = previous;
  }

  /** Builds and starts a service; on failure logs why, stops what was started, and resolves undefined. */
  private async startBuilt(config: C): Promise<T | undefined> {
    let service: T | undefined;
    try {
      service = this.spec.build(config, this.spec.log);
      await service.start();
      return service;
    } catch (err) {
      this.spec.log.error({ err: errorMessage(err) }, 'start failed');
      await service?.stop().catch(() => undefined);
      return undefined;
    }
  }
}

/** Settings whose values stay out of the log when they change. */
const SECRET_PATH = /pass|secret|token|private/i;

/** The leaf settings that differ between two configurations, by dotted path, with their values. */
export function configChanges(
  before: unknown,
  after: unknown,
): Array<{ path: string; from?: unknown; to?: unknown }> {
  const a = leaves(before);
  const b = leaves(after);
  const changes: Array<{ path: string; from?: unknown; to?: unknown }> = [];
  for (const path of new Set([...a.keys(), ...b.keys()])) {
    const from = a.get(path);
    const to = b.get(path);
    if (JSON.stringify(from) === JSON.stringify(to)) continue;
    changes.push(SECRET_PATH.test(path) ? { path } : { path, from, to });
  }
  return changes.sort((x, y) => x.path.localeCompare(y.path));
}

function leaves(value: unknown, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, child] of Object.entries(value)) leaves(child, prefix ? `${prefix}.${key}` : key, out);
  } else {
    out.set(prefix, value);
  }
  return out;
}
