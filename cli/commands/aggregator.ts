import { Command } from 'commander';
import { createAggregator } from '../../aggregator/aggregator.js';
import { AggregatorConfigSchema } from '../../aggregator/config.js';
import { addConfigOptions } from '../options.js';
import { runService } from '../lifecycle.js';

export function aggregatorCommand(): Command {
  return addConfigOptions(
    new Command('aggregator')
      .summary('run the aggregator alone')
      .description(
        "Run the embedded MQTT broker, validate and store telemetry (in the data dir's DuckDB file, or in " +
          'InfluxDB with --store), and serve the REST API, WebSocket stream, dashboard and /metrics.',
      ),
    { common: true, agent: false, aggregator: true },
  ).action((options: Record<string, unknown>) =>
    runService({
      schema: AggregatorConfigSchema,
      options,
      name: 'aggregator',
      build: createAggregator,
      ready: (aggregator, _config, log) =>
        log.info(
          {
            http: aggregator.httpUrl,
            mqtt: aggregator.mqttUrl,
            dataDir: aggregator.dataDir,
            store: aggregator.storeDescription,
          },
          'aggregator ready',
        ),
    }),
  );
}
