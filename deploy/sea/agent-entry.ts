/**
 * `cloudsense-agent`, the single executable's program: `cloudsense agent`
 * alone, with the same flags, configuration and environment, plus
 * `--version`. deploy/sea/build-agent.ts bundles it (and only what the agent
 * imports) into the one CommonJS script a Node single executable runs.
 */
// First, so that the heap settings apply before the other modules are evaluated.
import './agent-heap.js';
import { agentCommand } from '../../cli/commands/agent.js';
import { errorMessage } from '../../shared/errors.js';
import { useEmbeddedModelsDir } from '../../shared/inference/model-files.js';
import { VERSION } from '../../shared/version.js';
import { embeddedModelsDir } from './runtime.js';

useEmbeddedModelsDir(embeddedModelsDir);

agentCommand()
  .name('cloudsense-agent')
  .version(VERSION, '-V, --version')
  .showHelpAfterError()
  .addHelpText(
    'after',
    '\nConfiguration: a YAML file (--config), overridden by CLOUDSENSE_* environment variables, ' +
      'overridden by flags.\nonnxruntime and the bundled models are unpacked on first use into ' +
      '$XDG_CACHE_HOME/cloudsense (default ~/.cache/cloudsense; see docs/agent-binary.md).',
  )
  // A CommonJS script cannot await at the top level.
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.stderr.write(`cloudsense-agent: ${errorMessage(err)}\n`);
    process.exit(1);
  });
