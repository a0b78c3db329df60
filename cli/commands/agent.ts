import { Command } from 'commander';
import { createAgent } from '../../agent/agent.js';
import { AgentConfigSchema } from '../../agent/config.js';
import { addConfigOptions } from '../options.js';
import { runService } from '../lifecycle.js';

export function agentCommand(): Command {
  return addConfigOptions(
    new Command('agent')
      .summary('run the host agent alone')
      .description("Collect this host's metrics every interval and publish them to the broker over MQTT."),
    { common: true, agent: true },
  ).action((options: Record<string, unknown>) =>
    runService({
      schema: AgentConfigSchema,
      options,
      name: 'agent',
      build: createAgent,
      ready: () => undefined,
    }),
  );
}
