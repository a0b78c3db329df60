import { createHash } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ValidationError } from '../../shared/errors.js';
import { temporaryPathFor, writeFileAtomic } from '../../shared/io/atomic-file.js';
import type { Artifact } from './run-record.js';
import type { ArtifactSource } from './run-registry.js';

/** Artifacts live under this folder of the run's directory. */
export const ARTIFACTS_DIR = 'artifacts';
/** Copy buffer for file sources, in bytes. */
const COPY_CHUNK_BYTES = 1 << 20;

/**
 * Stores an artifact under `<runDir>/artifacts/<name>` atomically and returns
 * its record with the SHA-256 of exactly the bytes written. File sources are
 * copied in chunks, so a large dataset never has to fit in memory.
 */
export async function writeArtifactFile(
  runDir: string,
  name: string,
  source: ArtifactSource,
): Promise<Artifact> {
  const segments = artifactPathSegments(name);
  const target = join(runDir, ARTIFACTS_DIR, ...segments);
  await mkdir(dirname(target), { recursive: true });
  const path = [ARTIFACTS_DIR, ...segments].join('/');
  if (typeof source !== 'string') {
    await writeFileAtomic(target, source);
    return {
      name,
      path,
      sha256: createHash('sha256').update(source).digest('hex'),
      bytes: source.byteLength,
    };
  }
  const { sha256, bytes } = await copyHashed(source, target);
  return { name, path, sha256, bytes };
}

/**
 * Splits an artifact name into path segments, refusing anything that could
 * leave the run directory or name a hidden temporary file.
 */
export function artifactPathSegments(name: string): string[] {
  const segments = typeof name === 'string' ? name.split('/') : [];
  const bad =
    segments.length === 0 ||
    name.length > 256 ||
    segments.some((s) => s === '' || s === '.' || s === '..' || s.includes('\\') || s.includes('\0'));
  if (bad) {
    throw new ValidationError(
      `artifact name must be a relative '/'-separated path without . or .. parts, got ${JSON.stringify(name)}`,
      {
        path: 'name',
      },
    );
  }
  return segments;
}

async function copyHashed(sourcePath: string, target: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  const temp = temporaryPathFor(target);
  const input = await open(sourcePath, 'r');
  try {
    const output = await open(temp, 'wx');
    try {
      const buffer = Buffer.allocUnsafe(COPY_CHUNK_BYTES);
      for (;;) {
        const { bytesRead } = await input.read(buffer, 0, buffer.length, null);
        if (bytesRead === 0) break;
        const chunk = buffer.subarray(0, bytesRead);
        hash.update(chunk);
        await output.write(chunk);
        bytes += bytesRead;
      }
      await output.datasync();
    } finally {
      await output.close();
    }
    await rename(temp, target);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  } finally {
    await input.close();
  }
  return { sha256: hash.digest('hex'), bytes };
}
