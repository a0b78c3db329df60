import { Command } from 'commander';
import { createAggregator } from '../../aggregator/aggregator.js';
import { AggregatorConfigSchema } from '../../aggregator/config.js';
import { loadConfig } from '../../shared/config/load.js';
import { createLogger } from '../../shared/log.js';
import { addConfigOptions, configSources, exitOnConfigError } from '../options.js';
import { exitOnStartFailure, runUntilSignalled } from '../lifecycle.js';

export function aggregatorCommand(): Command {
  return addConfigOptions(
    new Command('aggregator')
      .summary('run the aggregator alone')
      .description(
        'Run the embedded MQTT broker, validate and store telemetry in the data dir, and serve the REST API, ' +
          'WebSocket stream, dashboard and /metrics.',
      ),
    { common: true, agent: false },
  ).action(async (options: Record<string, unknown>) => {
    let config;
    try {
      config = loadConfig(AggregatorConfigSchema, configSources(options));
    } catch (err) {
      exitOnConfigError(err);
    }
    const log = createLogger({ ...config.log, name: 'aggregator' });
    const aggregator = createAggregator(config, log);
    try {
      await aggregator.start();
    } catch (err) {
      exitOnStartFailure(err, log);
    }
    log.info(
      { http: aggregator.httpUrl, mqtt: aggregator.mqttUrl, dataDir: aggregator.dataDir },
      'aggregator ready',
    );
    runUntilSignalled(() => aggregator.stop(), log);
  });
}
