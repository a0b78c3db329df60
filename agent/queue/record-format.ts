import { crc32 } from 'node:zlib';

/**
 * On-disk layout of a queue segment file:
 *
 *   file header  8 bytes   magic `CSQUEUE1`
 *   record       24-byte header + payload, repeated:
 *     0  u32 LE  payload length, bytes
 *     4  u32 LE  CRC-32 (IEEE, as zlib) of bytes 8 .. end of payload
 *     8  u64 LE  sequence number
 *    16  u64 LE  append time, Unix epoch ms (for the age bound)
 *    24  payload
 *
 * The CRC covers the sequence number and time as well as the payload, so a
 * torn or bit-flipped record is recognised wherever the damage is. A record
 * is written with one `write` call, so a killed process leaves it whole or
 * absent; a power cut can leave a torn tail, which the scan truncates.
 */
export const SEGMENT_MAGIC = Buffer.from('CSQUEUE1', 'latin1');
export const RECORD_HEADER_BYTES = 24;
/** Largest payload a record may hold; a longer length field means corruption. */
export const MAX_RECORD_PAYLOAD_BYTES = 16 * 1024 * 1024;

export function encodeRecord(seq: number, appendedAt: number, payload: Uint8Array): Buffer {
  const record = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payload.length);
  record.writeUInt32LE(payload.length, 0);
  record.writeBigUInt64LE(BigInt(seq), 8);
  record.writeBigUInt64LE(BigInt(appendedAt), 16);
  record.set(payload, RECORD_HEADER_BYTES);
  record.writeUInt32LE(crc32(record.subarray(8)), 4);
  return record;
}

/** Where each good record of a segment starts, and where the good part ends. */
export interface SegmentScan {
  /** Sequence number of the first record; undefined when the segment holds none. */
  firstSeq: number | undefined;
  /** Byte offset of each record, in order; record i has sequence number firstSeq + i. */
  offsets: number[];
  /** Append time of the newest good record, ms (0 when none). */
  newestAppendedAt: number;
  /** Length of the good prefix of the file (0 when even the file header is bad); the rest is damaged. */
  validBytes: number;
  /** Why the scan stopped before the end of the file, if it did. */
  damage: string | undefined;
}

/**
 * Reads records from the start of a segment until the end or the first
 * record that is torn, fails its CRC, or breaks the sequence (each record
 * must be the previous one + 1, and the first one above `after`).
 */
export function scanSegment(data: Buffer, after: number): SegmentScan {
  const scan: SegmentScan = {
    firstSeq: undefined,
    offsets: [],
    newestAppendedAt: 0,
    validBytes: 0,
    damage: undefined,
  };
  if (data.length < SEGMENT_MAGIC.length || !data.subarray(0, SEGMENT_MAGIC.length).equals(SEGMENT_MAGIC)) {
    scan.damage = data.length < SEGMENT_MAGIC.length ? 'torn file header' : 'bad file header';
    return scan;
  }
  let offset = SEGMENT_MAGIC.length;
  let expected: number | undefined;
  while (offset < data.length) {
    const damage = checkRecord(data, offset, expected, after);
    if (damage) {
      scan.damage = damage;
      break;
    }
    const length = data.readUInt32LE(offset);
    const seq = Number(data.readBigUInt64LE(offset + 8));
    scan.firstSeq ??= seq;
    scan.offsets.push(offset);
    scan.newestAppendedAt = Math.max(scan.newestAppendedAt, Number(data.readBigUInt64LE(offset + 16)));
    expected = seq + 1;
    offset += RECORD_HEADER_BYTES + length;
  }
  // Either the end of the file or the start of the first bad record.
  scan.validBytes = offset;
  return scan;
}

function checkRecord(
  data: Buffer,
  offset: number,
  expected: number | undefined,
  after: number,
): string | undefined {
  if (offset + RECORD_HEADER_BYTES > data.length) return 'torn record header';
  const length = data.readUInt32LE(offset);
  if (length > MAX_RECORD_PAYLOAD_BYTES) return `implausible record length ${length}`;
  const end = offset + RECORD_HEADER_BYTES + length;
  if (end > data.length) return 'torn record';
  if (crc32(data.subarray(offset + 8, end)) !== data.readUInt32LE(offset + 4)) return 'CRC mismatch';
  const seq = data.readBigUInt64LE(offset + 8);
  if (seq > BigInt(Number.MAX_SAFE_INTEGER)) return 'sequence number out of range';
  const n = Number(seq);
  if (expected !== undefined ? n !== expected : n <= after) return `sequence number ${n} out of order`;
  return undefined;
}

/**
 * Decodes the record at `offset`, re-checking its CRC (the disk may have
 * changed since the segment was scanned); undefined when it fails.
 */
export function decodeRecord(
  data: Buffer,
  offset: number,
): { seq: number; appendedAt: number; payload: Buffer } | undefined {
  if (offset + RECORD_HEADER_BYTES > data.length) return undefined;
  const length = data.readUInt32LE(offset);
  const end = offset + RECORD_HEADER_BYTES + length;
  if (end > data.length || crc32(data.subarray(offset + 8, end)) !== data.readUInt32LE(offset + 4)) {
    return undefined;
  }
  return {
    seq: Number(data.readBigUInt64LE(offset + 8)),
    appendedAt: Number(data.readBigUInt64LE(offset + 16)),
    payload: data.subarray(offset + RECORD_HEADER_BYTES, end),
  };
}

/** Segment files are named after their first sequence number, zero-padded so names sort numerically. */
export function segmentFileName(firstSeq: number): string {
  return `${String(firstSeq).padStart(16, '0')}.seg`;
}

export const SEGMENT_FILE_PATTERN = /^(\d{16})\.seg$/;
