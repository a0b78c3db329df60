/**
 * A process that appends to a FileDiskQueue as fast as it can with
 * `fsync: always`, printing each sequence number once its append has
 * resolved (so it is on disk). The contract suite SIGKILLs it mid-write.
 *
 *   node --import tsx test/helpers/disk-queue-writer.ts <dir> <payload bytes>
 */
import { FileDiskQueue } from '../../agent/queue/disk-queue.js';
import { queuePayload } from './queue-payload.js';

const [dir, size] = process.argv.slice(2);
if (!dir) throw new Error('usage: disk-queue-writer.ts <dir> [payload bytes]');
const bytes = Number(size ?? 200);
const queue = new FileDiskQueue({
  dir,
  maxBytes: 256 * 1024 * 1024,
  maxAgeMs: 86_400_000,
  fsync: 'always',
  fsyncIntervalMs: 1000,
  segmentBytes: 256 * 1024,
});
await queue.start();
process.stdout.write(`open ${queue.lastSeq}\n`);
for (;;) {
  const seq = await queue.append((s) => queuePayload(s, bytes));
  process.stdout.write(`${seq}\n`);
}
