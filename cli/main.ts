import { Command } from 'commander';
import { VERSION } from '../shared/version.js';
import { agentCommand } from './commands/agent.js';
import { aggregatorCommand } from './commands/aggregator.js';
import { importCommand } from './commands/import.js';
import { keysCommand } from './commands/keys.js';
import { modelCommand } from './commands/model.js';
import { simulateCommand } from './commands/simulate.js';
import { trainCommand } from './commands/train.js';
import { predictCommand } from './commands/predict.js';
import { evaluateCommand } from './commands/evaluate.js';
import { upCommand } from './commands/up.js';

const program = new Command('cloudsense')
  .description('CloudSense: predict and prevent resource exhaustion on server fleets.')
  .version(VERSION, '-V, --version')
  .showHelpAfterError()
  .addCommand(upCommand())
  .addCommand(aggregatorCommand())
  .addCommand(agentCommand())
  .addCommand(modelCommand())
  .addCommand(keysCommand())
  .addCommand(simulateCommand())
  .addCommand(importCommand())
  .addCommand(trainCommand())
  .addCommand(predictCommand())
  .addCommand(evaluateCommand())
  .addHelpText(
    'after',
    '\nConfiguration: a YAML file (--config), overridden by CLOUDSENSE_* environment variables, overridden by flags.\n' +
      'See docs/configuration.md.',
  );

await program.parseAsync(process.argv);
