/**
 * Reads the few top-level fields of an ONNX ModelProto that describe a model
 * (producer, metadata_props) straight from the protobuf wire format, without
 * decoding the graph. A full decode (onnx-proto / protobufjs) turns every
 * tree node of a large ensemble into JS objects: for a 600-tree model that
 * grew the agent's RSS by ~24 MB that the heap gave back but the process did
 * not. Here the graph is only checked to be present and skipped.
 *
 * Wire format (protobuf): each field is a varint key `(number << 3) | type`;
 * types 0 varint, 1 fixed 8 bytes, 2 length-delimited, 5 fixed 4 bytes
 * (3 and 4, groups, are not used by ONNX and are refused).
 */

/** ModelProto field numbers (onnx.proto3). */
const MODEL_PRODUCER_NAME = 2;
const MODEL_PRODUCER_VERSION = 3;
const MODEL_GRAPH = 7;
const MODEL_METADATA_PROPS = 14;
/** StringStringEntryProto field numbers. */
const ENTRY_KEY = 1;
const ENTRY_VALUE = 2;

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

export interface ModelProtoHeader {
  producerName: string;
  producerVersion: string;
  /** metadata_props in file order (a repeated key appears twice). */
  metadataProps: Array<{ key: string; value: string }>;
  hasGraph: boolean;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Scans `bytes` as a ModelProto; throws an Error saying where the wire format breaks. */
export function readModelProtoHeader(bytes: Uint8Array): ModelProtoHeader {
  const header: ModelProtoHeader = {
    producerName: '',
    producerVersion: '',
    metadataProps: [],
    hasGraph: false,
  };
  forEachField(bytes, 0, bytes.length, (field, start, end) => {
    if (field === MODEL_PRODUCER_NAME) header.producerName = text(bytes, start, end);
    else if (field === MODEL_PRODUCER_VERSION) header.producerVersion = text(bytes, start, end);
    else if (field === MODEL_GRAPH) header.hasGraph = true;
    else if (field === MODEL_METADATA_PROPS) {
      const entry = { key: '', value: '' };
      forEachField(bytes, start, end, (f, s, e) => {
        if (f === ENTRY_KEY) entry.key = text(bytes, s, e);
        else if (f === ENTRY_VALUE) entry.value = text(bytes, s, e);
      });
      header.metadataProps.push(entry);
    }
  });
  return header;
}

/**
 * Calls `onBytes` with the extent of every length-delimited field in
 * `[from, to)`; other fields are checked and skipped.
 */
function forEachField(
  bytes: Uint8Array,
  from: number,
  to: number,
  onBytes: (field: number, start: number, end: number) => void,
): void {
  let at = from;
  while (at < to) {
    const [key, afterKey] = varint(bytes, at, to);
    const field = Math.floor(key / 8);
    const type = key % 8;
    if (field === 0) throw new Error(`field number 0 at byte ${at}`);
    at = afterKey;
    switch (type) {
      case WIRE_VARINT:
        at = varint(bytes, at, to)[1];
        break;
      case WIRE_FIXED64:
        at += 8;
        break;
      case WIRE_FIXED32:
        at += 4;
        break;
      case WIRE_LENGTH_DELIMITED: {
        const [length, start] = varint(bytes, at, to);
        const end = start + length;
        if (end > to) throw new Error(`field ${field} runs past the end (byte ${start} + ${length})`);
        onBytes(field, start, end);
        at = end;
        break;
      }
      default:
        throw new Error(`unsupported wire type ${type} at byte ${at}`);
    }
    if (at > to) throw new Error(`field ${field} runs past the end`);
  }
}

/** A varint as a JS number (exact up to 2^53) and the offset after it. */
function varint(bytes: Uint8Array, at: number, to: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (at >= to) throw new Error('truncated varint');
    const b = bytes[at++]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return [value, at];
    scale *= 128;
  }
  throw new Error(`varint longer than 10 bytes at byte ${at - 10}`);
}

function text(bytes: Uint8Array, start: number, end: number): string {
  return UTF8.decode(bytes.subarray(start, end));
}
