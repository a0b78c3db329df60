import { Command } from 'commander';
import { createAgent } from '../../agent/agent.js';
import { AgentConfigSchema } from '../../agent/config.js';
import { loadConfig } from '../../shared/config/load.js';
import { createLogger } from '../../shared/log.js';
import { addConfigOptions, configSources, exitOnConfigError } from '../options.js';
import { exitOnStartFailure, runUntilSignalled } from '../lifecycle.js';

export function agentCommand(): Command {
  return addConfigOptions(
    new Command('agent')
      .summary('run the host agent alone')
      .description("Collect this host's metrics every interval and publish them to the broker over MQTT."),
    { common: true, agent: true },
  ).action(async (options: Record<string, unknown>) => {
    let config;
    try {
      config = loadConfig(AgentConfigSchema, configSources(options));
    } catch (err) {
      exitOnConfigError(err);
    }
    const log = createLogger({ ...config.log, name: 'agent' });
    const agent = createAgent(config, log);
    try {
      await agent.start();
    } catch (err) {
      exitOnStartFailure(err, log);
    }
    runUntilSignalled(() => agent.stop(), log);
  });
}
