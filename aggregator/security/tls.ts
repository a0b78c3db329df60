import { readFileSync } from 'node:fs';
import { CloudSenseError, errorMessage } from '../../shared/errors.js';
import type { SecuritySection } from './config.js';

/** PEM key and certificate, read at start-up. */
export interface TlsFiles {
  key: Buffer;
  cert: Buffer;
}

/**
 * For a listener that serves TLS, a function that reads its key and
 * certificate (called at start, so an unreadable file fails start-up with
 * the setting to fix); undefined when it serves plain text.
 */
export function tlsFilesFor(
  tls: SecuritySection['tls'],
  listener: 'mqtt' | 'http',
): (() => TlsFiles) | undefined {
  const { cert, key } = tls;
  if (cert === undefined || key === undefined || !tls[listener]) return undefined;
  return () => ({ cert: readPem(cert, 'cert'), key: readPem(key, 'key') });
}

function readPem(path: string, setting: 'cert' | 'key'): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new CloudSenseError(
      'TLS_FILE_UNREADABLE',
      `cannot read aggregator.security.tls.${setting} ${path}: ${errorMessage(err)}`,
      { cause: err, permanent: true },
    );
  }
}
