import { Command } from 'commander';
import { VERSION } from '../shared/version.js';

/**
 * Every subcommand, in the order `--help` lists them, each loaded only when
 * needed: a run of one command imports that command's code alone, so the
 * agent never loads DuckDB, aedes, the web server or the trainer (together
 * about 100 MiB of resident memory it has no use for).
 */
const COMMANDS: ReadonlyArray<readonly [string, () => Promise<Command>]> = [
  ['up', async () => (await import('./commands/up.js')).upCommand()],
  ['aggregator', async () => (await import('./commands/aggregator.js')).aggregatorCommand()],
  ['agent', async () => (await import('./commands/agent.js')).agentCommand()],
  ['model', async () => (await import('./commands/model.js')).modelCommand()],
  ['keys', async () => (await import('./commands/keys.js')).keysCommand()],
  ['enroll', async () => (await import('./commands/enroll.js')).enrollCommand()],
  ['tokens', async () => (await import('./commands/tokens.js')).tokensCommand()],
  ['simulate', async () => (await import('./commands/simulate.js')).simulateCommand()],
  ['import', async () => (await import('./commands/import.js')).importCommand()],
  ['train', async () => (await import('./commands/train.js')).trainCommand()],
  ['predict', async () => (await import('./commands/predict.js')).predictCommand()],
  ['evaluate', async () => (await import('./commands/evaluate.js')).evaluateCommand()],
  ['export', async () => (await import('./commands/export.js')).exportCommand()],
];

const program = new Command('cloudsense')
  .description('CloudSense: predict and prevent resource exhaustion on server fleets.')
  .version(VERSION, '-V, --version')
  .showHelpAfterError()
  .addHelpText(
    'after',
    '\nConfiguration: a YAML file (--config), overridden by CLOUDSENSE_* environment variables, overridden by flags.\n' +
      'See docs/configuration.md.',
  );

// The first argument names the command; anything else (`--help`, `help agent`, a typo) gets them all,
// so help and "did you mean" work as before.
const named = COMMANDS.find(([name]) => name === process.argv[2]);
// The agent alone runs with a small young generation (agent/v8-heap.ts), set before its modules load.
if (named?.[0] === 'agent') (await import('../agent/v8-heap.js')).useAgentHeapSettings();
for (const [, load] of named ? [named] : COMMANDS) program.addCommand(await load());

await program.parseAsync(process.argv);
