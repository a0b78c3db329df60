/**
 * `cloudsense keys generate`: the Ed25519 key pair the aggregator signs
 * model updates with. The private key stays on the aggregator; agents get
 * the public key (`agent.models.publicKey`).
 */
import { chmod, mkdir, open } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { CloudSenseError, errorMessage } from '../../shared/errors.js';
import { generateSigningKeyPair } from '../../shared/signing/ed25519.js';

export const PRIVATE_KEY_FILE = 'model-signing.key';
export const PUBLIC_KEY_FILE = 'model-signing.pub';

export function keysCommand(): Command {
  const keys = new Command('keys')
    .summary('the key pair that signs model updates')
    .description(
      'Keys for signed model updates: the aggregator signs every model it sends with its private key, and ' +
        'agents take only models that verify with its public key (agent.models.publicKey).',
    );
  keys
    .command('generate')
    .summary('write a new Ed25519 key pair')
    .description(
      `Write a new Ed25519 key pair to DIR: ${PRIVATE_KEY_FILE} (PKCS#8 PEM, mode 0600; keep it on the ` +
        `aggregator) and ${PUBLIC_KEY_FILE} (SPKI PEM; give it to the agents). Existing files are kept unless ` +
        '--force: agents holding the old public key refuse models signed with a new private key.',
    )
    .requiredOption('--out <dir>', 'directory to write the two files to (created if missing)')
    .option('--force', 'overwrite existing key files')
    .action(async (options: { out: string; force?: boolean }) => {
      try {
        await generate(resolve(options.out), options.force === true);
      } catch (err) {
        process.stderr.write(`cloudsense keys generate: ${errorMessage(err)}\n`);
        process.exit(err instanceof CloudSenseError && err.permanent ? 2 : 1);
      }
    });
  return keys;
}

async function generate(dir: string, force: boolean): Promise<void> {
  const pair = generateSigningKeyPair();
  await mkdir(dir, { recursive: true });
  const privatePath = join(dir, PRIVATE_KEY_FILE);
  const publicPath = join(dir, PUBLIC_KEY_FILE);
  await writeKeyFile(privatePath, pair.privateKeyPem, 0o600, force);
  await writeKeyFile(publicPath, pair.publicKeyPem, 0o644, force);
  process.stdout.write(
    [
      `private key  ${privatePath} (mode 0600: keep it on the aggregator)`,
      `public key   ${publicPath}`,
      '',
      "Agents take model updates signed with this key once their configuration names the public key, as the file's",
      'path or inline:',
      `  agent.models.publicKey: ${pair.publicKeyBase64}`,
      '',
    ].join('\n'),
  );
}

/** Creates the file with `mode` (or, with `force`, replaces it and sets `mode`). */
async function writeKeyFile(path: string, text: string, mode: number, force: boolean): Promise<void> {
  let file;
  try {
    file = await open(path, force ? 'w' : 'wx', mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new CloudSenseError('KEY_EXISTS', `${path} exists; use --force to replace the key pair`, {
        permanent: true,
      });
    }
    throw err;
  }
  try {
    // The mode given to open applies only to a new file, and the umask may have narrowed it.
    await chmod(path, mode);
    await file.writeFile(text);
    await file.sync();
  } finally {
    await file.close();
  }
}
