import { Command } from 'commander';
import { AgentConfigSchema, type AgentConfig } from '../../agent/config.js';
import { loadConfig } from '../../shared/config/load.js';
import { CloudSenseError, errorMessage } from '../../shared/errors.js';
import { createLogger } from '../../shared/log.js';
import { addConfigOptions, configSources, exitOnConfigError } from '../options.js';
import { runService } from '../lifecycle.js';

export function agentCommand(): Command {
  return addConfigOptions(
    new Command('agent')
      .summary('run the host agent alone')
      .description(
        "Collect this host's metrics every interval, forecast each resource's exhaustion with the local models, " +
          'and publish telemetry, predictions and alert events to the broker over MQTT. SIGHUP re-reads the ' +
          'configuration file and applies it (an invalid one is logged and the agent keeps the old); ' +
          'SIGTERM stops cleanly.\n\n' +
          'With --once --print: collect once, forecast, print one JSON document (metrics and predictions) to ' +
          'standard output and exit; no broker, nothing queued. Logs go to standard error.',
      )
      .option('--once', 'collect and forecast once, then exit (with --print)')
      .option('--print', 'print the collection and its predictions as JSON on standard output (with --once)')
      .option(
        '--enroll <token>',
        'trade a one-time enrolment token (cloudsense enroll token create) for MQTT credentials, store them in the data dir, and exit',
      )
      .option('--aggregator <url>', "the aggregator's HTTP URL, for --enroll, e.g. https://aggregator:8080"),
    { common: true, agent: true },
  ).action(async (options: Record<string, unknown>) => {
    if (options.enroll !== undefined || options.aggregator !== undefined) {
      await enrolOnce(options);
      return;
    }
    if (options.once || options.print) {
      await printOnce(options);
      return;
    }
    // Loaded here, not at the top: onnxruntime's native code is needed only to
    // run, so `--help` and `--version` never load it (the single executable
    // unpacks it before the first load).
    const { createAgent } = await import('../../agent/agent.js');
    await runService({
      schema: AgentConfigSchema,
      options,
      name: 'agent',
      build: createAgent,
      ready: () => undefined,
      reload: 'restart',
    });
  });
}

/** `--once --print`: exit 0 with the document on stdout, 2 on bad usage or configuration, 1 on failure. */
async function printOnce(options: Record<string, unknown>): Promise<void> {
  if (!options.once || !options.print) {
    process.stderr.write(
      'cloudsense agent: --once and --print go together (collect, predict, print, exit)\n',
    );
    process.exit(2);
  }
  let config: AgentConfig;
  try {
    config = loadConfig(AgentConfigSchema, configSources(options));
  } catch (err) {
    exitOnConfigError(err);
  }
  const log = createLogger({ ...config.log, name: 'agent', destination: 'stderr' });
  try {
    const { forecastOnce } = await import('../../agent/once.js');
    const snapshot = await forecastOnce(config, log);
    process.stdout.write(`${JSON.stringify(snapshot, null, 2)}\n`);
  } catch (err) {
    log.flush();
    process.stderr.write(`cloudsense agent: ${errorMessage(err)}\n`);
    process.exit(1);
  }
}

/** `--enroll TOKEN --aggregator URL`: exit 0 once the credentials are stored, 2 on bad usage, 1 on failure. */
async function enrolOnce(options: Record<string, unknown>): Promise<void> {
  const token = options.enroll;
  const aggregator = options.aggregator;
  if (typeof token !== 'string' || typeof aggregator !== 'string' || !URL.canParse(aggregator)) {
    process.stderr.write('cloudsense agent: --enroll TOKEN goes with --aggregator http(s)://HOST:PORT\n');
    process.exit(2);
  }
  let config: AgentConfig;
  try {
    config = loadConfig(AgentConfigSchema, configSources(options));
  } catch (err) {
    exitOnConfigError(err);
  }
  try {
    const { enrolAgent } = await import('../../agent/publish/broker-credentials.js');
    const { path, username } = await enrolAgent(config, aggregator, token);
    process.stdout.write(
      `enrolled as ${username}; credentials stored in ${path} (mode 0600).\n` +
        'Start the agent with the same data dir and host id: cloudsense agent\n',
    );
  } catch (err) {
    process.stderr.write(`cloudsense agent: ${errorMessage(err)}\n`);
    process.exit(err instanceof CloudSenseError && err.permanent ? 2 : 1);
  }
}
