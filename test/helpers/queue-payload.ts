/**
 * Deterministic queue payloads for the disk-queue tests: the sequence number
 * and a filler derived from it, so a reader can tell whether a payload came
 * back whole and under its own number.
 */
export function queuePayload(seq: number, bytes = 200): Buffer {
  const head = Buffer.from(`{"seq":${seq},"fill":"`);
  const tail = Buffer.from('"}');
  const fill = Buffer.alloc(Math.max(0, bytes - head.length - tail.length), 97 + (seq % 26));
  return Buffer.concat([head, fill, tail]);
}

/** True when `payload` is exactly what `queuePayload(seq, bytes)` made. */
export function isQueuePayload(payload: Buffer, seq: number, bytes = 200): boolean {
  return payload.equals(queuePayload(seq, bytes));
}
