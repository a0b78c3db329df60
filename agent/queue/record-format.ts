import { crc32 } from 'node:zlib';

/**
 * On-disk layout of a queue segment file. The file header says the format
 * of its records; format 2 is written, format 1 (before records carried a
 * tag) is still read, its records with tag 0.
 *
 *   file header  8 bytes   magic `CSQUEUE2` (format 2) or `CSQUEUE1` (format 1)
 *   record       header + payload, repeated:
 *     0  u32 LE  payload length, bytes
 *     4  u32 LE  CRC-32 (IEEE, as zlib) of bytes 8 .. end of payload
 *     8  u64 LE  sequence number
 *    16  u64 LE  append time, Unix epoch ms (for the age bound)
 *    24  u8      tag (format 2 only): what the payload is, for its reader;
 *                the queue does not interpret it
 *    25  3 bytes reserved, zero (format 2 only)
 *    28  payload (24 in format 1)
 *
 * The CRC covers the sequence number, time and tag as well as the payload,
 * so a torn or bit-flipped record is recognised wherever the damage is. A
 * record is written with one `write` call, so a killed process leaves it
 * whole or absent; a power cut can leave a torn tail, which the scan
 * truncates.
 */
export interface SegmentFormat {
  readonly version: 1 | 2;
  readonly magic: Buffer;
  /** Bytes before the payload in each record. */
  readonly recordHeaderBytes: number;
}

export const SEGMENT_FORMAT_V1: SegmentFormat = {
  version: 1,
  magic: Buffer.from('CSQUEUE1', 'latin1'),
  recordHeaderBytes: 24,
};
export const SEGMENT_FORMAT_V2: SegmentFormat = {
  version: 2,
  magic: Buffer.from('CSQUEUE2', 'latin1'),
  recordHeaderBytes: 28,
};
/** The format new segments are written in. */
export const SEGMENT_FORMAT = SEGMENT_FORMAT_V2;
/** Length of every format's file header. */
export const SEGMENT_MAGIC_BYTES = 8;
const FORMATS = [SEGMENT_FORMAT_V1, SEGMENT_FORMAT_V2];
const TAG_OFFSET = 24;
/** Largest tag: one byte. */
export const MAX_RECORD_TAG = 255;
/** Largest payload a record may hold; a longer length field means corruption. */
export const MAX_RECORD_PAYLOAD_BYTES = 16 * 1024 * 1024;

/** A record in the current format. */
export function encodeRecord(seq: number, appendedAt: number, payload: Uint8Array, tag = 0): Buffer {
  if (!Number.isInteger(tag) || tag < 0 || tag > MAX_RECORD_TAG) {
    throw new RangeError(`record tag must be an integer 0..${MAX_RECORD_TAG}, got ${tag}`);
  }
  const headerBytes = SEGMENT_FORMAT.recordHeaderBytes;
  const record = Buffer.alloc(headerBytes + payload.length);
  record.writeUInt32LE(payload.length, 0);
  record.writeBigUInt64LE(BigInt(seq), 8);
  record.writeBigUInt64LE(BigInt(appendedAt), 16);
  record.writeUInt8(tag, TAG_OFFSET);
  record.set(payload, headerBytes);
  record.writeUInt32LE(crc32(record.subarray(8)), 4);
  return record;
}

/** The format a segment's file header names; undefined when it names none. */
export function segmentFormatOf(data: Buffer): SegmentFormat | undefined {
  if (data.length < SEGMENT_MAGIC_BYTES) return undefined;
  const magic = data.subarray(0, SEGMENT_MAGIC_BYTES);
  return FORMATS.find((f) => magic.equals(f.magic));
}

/** Where each good record of a segment starts, and where the good part ends. */
export interface SegmentScan {
  /** The records' format; undefined when the file header is bad. */
  format: SegmentFormat | undefined;
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
    format: undefined,
    firstSeq: undefined,
    offsets: [],
    newestAppendedAt: 0,
    validBytes: 0,
    damage: undefined,
  };
  const format = segmentFormatOf(data);
  if (!format) {
    scan.damage = data.length < SEGMENT_MAGIC_BYTES ? 'torn file header' : 'bad file header';
    return scan;
  }
  scan.format = format;
  let offset = SEGMENT_MAGIC_BYTES;
  let expected: number | undefined;
  while (offset < data.length) {
    const damage = checkRecord(data, offset, format, expected, after);
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
    offset += format.recordHeaderBytes + length;
  }
  // Either the end of the file or the start of the first bad record.
  scan.validBytes = offset;
  return scan;
}

function checkRecord(
  data: Buffer,
  offset: number,
  format: SegmentFormat,
  expected: number | undefined,
  after: number,
): string | undefined {
  if (offset + format.recordHeaderBytes > data.length) return 'torn record header';
  const length = data.readUInt32LE(offset);
  if (length > MAX_RECORD_PAYLOAD_BYTES) return `implausible record length ${length}`;
  const end = offset + format.recordHeaderBytes + length;
  if (end > data.length) return 'torn record';
  if (crc32(data.subarray(offset + 8, end)) !== data.readUInt32LE(offset + 4)) return 'CRC mismatch';
  const seq = data.readBigUInt64LE(offset + 8);
  if (seq > BigInt(Number.MAX_SAFE_INTEGER)) return 'sequence number out of range';
  const n = Number(seq);
  if (expected !== undefined ? n !== expected : n <= after) return `sequence number ${n} out of order`;
  return undefined;
}

/**
 * Decodes the record of `format` at `offset`, re-checking its CRC (the disk
 * may have changed since the segment was scanned); undefined when it fails.
 */
export function decodeRecord(
  data: Buffer,
  offset: number,
  format: SegmentFormat,
): { seq: number; appendedAt: number; tag: number; payload: Buffer } | undefined {
  const headerBytes = format.recordHeaderBytes;
  if (offset + headerBytes > data.length) return undefined;
  const length = data.readUInt32LE(offset);
  const end = offset + headerBytes + length;
  if (end > data.length || crc32(data.subarray(offset + 8, end)) !== data.readUInt32LE(offset + 4)) {
    return undefined;
  }
  return {
    seq: Number(data.readBigUInt64LE(offset + 8)),
    appendedAt: Number(data.readBigUInt64LE(offset + 16)),
    tag: format.version === 1 ? 0 : data.readUInt8(offset + TAG_OFFSET),
    payload: data.subarray(offset + headerBytes, end),
  };
}

/** Segment files are named after their first sequence number, zero-padded so names sort numerically. */
export function segmentFileName(firstSeq: number): string {
  return `${String(firstSeq).padStart(16, '0')}.seg`;
}

export const SEGMENT_FILE_PATTERN = /^(\d{16})\.seg$/;
