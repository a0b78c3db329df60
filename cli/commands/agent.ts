import { Command } from 'commander';
import { AgentConfigSchema, type AgentConfig } from '../../agent/config.js';
import { loadConfig } from '../../shared/config/load.js';
import { errorMessage } from '../../shared/errors.js';
import { createLogger } from '../../shared/log.js';
import { addConfigOptions, configSources, exitOnConfigError } from '../options.js';
import { runService } from '../lifecycle.js';

export function agentCommand(): Command {
  return addConfigOptions(
    new Command('agent')
      .summary('run the host agent alone')
      .description(
        "Collect this host's metrics every interval, forecast each resource's exhaustion with the local models, " +
          'and publish telemetry, predictions and alert events to the broker over MQTT.\n\n' +
          'With --once --print: collect once, forecast, print one JSON document (metrics and predictions) to ' +
          'standard output and exit; no broker, nothing queued. Logs go to standard error.',
      )
      .option('--once', 'collect and forecast once, then exit (with --print)')
      .option('--print', 'print the collection and its predictions as JSON on standard output (with --once)'),
    { common: true, agent: true },
  ).action(async (options: Record<string, unknown>) => {
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
