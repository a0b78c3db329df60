import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileDiskQueue } from '../../agent/queue/disk-queue.js';
import { diskQueueContract } from '../contract/disk-queue.contract.js';

diskQueueContract('FileDiskQueue', {
  open: (dir, settings = {}) =>
    new FileDiskQueue({
      dir,
      maxBytes: settings.maxBytes ?? 64 * 1024 * 1024,
      maxAgeMs: settings.maxAgeMs ?? 86_400_000,
      fsync: settings.fsync ?? 'interval',
      fsyncIntervalMs: 1000,
      segmentBytes: settings.segmentBytes,
      now: settings.now,
    }),
  writerScript: fileURLToPath(new URL('../helpers/disk-queue-writer.ts', import.meta.url)),
  segmentFiles: (dir) =>
    readdirSync(dir)
      .filter((name) => name.endsWith('.seg'))
      .sort()
      .map((name) => join(dir, name)),
});
