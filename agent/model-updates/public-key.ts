import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, errorMessage } from '../../shared/errors.js';
import { isInlineKey, parseVerifyKey, type VerifyKey } from '../../shared/signing/ed25519.js';

const SETTING = 'agent.models.publicKey';

/**
 * The aggregator's public key from `agent.models.publicKey`: the key itself
 * (PEM or raw base64) or a path to a file holding it. A key that cannot be
 * read or is not an Ed25519 public key stops start-up, naming `settingPath`
 * (another command's setting, such as `simulate.modelKey`).
 */
export function readModelPublicKey(setting: string, settingPath = SETTING): VerifyKey {
  let text = setting;
  if (!isInlineKey(setting)) {
    const path = resolve(setting);
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigError([{ path: settingPath, message: `cannot read ${path}: ${errorMessage(err)}` }], {
        cause: err,
      });
    }
  }
  try {
    return parseVerifyKey(text);
  } catch (err) {
    throw new ConfigError([{ path: settingPath, message: errorMessage(err) }], { cause: err });
  }
}
