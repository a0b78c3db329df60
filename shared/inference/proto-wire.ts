/**
 * Reading the protobuf wire format directly, for the few ONNX messages the
 * project reads (model-proto-header.ts, onnx-trees.ts): a full decode with
 * onnx-proto / protobufjs turns every tree node of a large ensemble into JS
 * objects, and the agent cannot afford that memory.
 *
 * Each field is a varint key `(number << 3) | type`; types 0 varint, 1 fixed
 * 8 bytes, 2 length-delimited, 5 fixed 4 bytes (3 and 4, groups, are not
 * used by ONNX and are refused).
 */

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LENGTH_DELIMITED = 2;
export const WIRE_FIXED32 = 5;

/**
 * One field: its number, wire type, and the extent of its payload in the
 * buffer (the varint's bytes, the 4 or 8 fixed bytes, or the
 * length-delimited contents).
 */
export type FieldVisitor = (field: number, wireType: number, start: number, end: number) => void;

/** Calls `visit` for every field in `[from, to)`; throws an Error saying where the wire format breaks. */
export function forEachField(bytes: Uint8Array, from: number, to: number, visit: FieldVisitor): void {
  let at = from;
  while (at < to) {
    const [key, afterKey] = varint(bytes, at, to);
    const field = Math.floor(key / 8);
    const type = key % 8;
    if (field === 0) throw new Error(`field number 0 at byte ${at}`);
    at = afterKey;
    let start = at;
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
        const [length, contents] = varint(bytes, at, to);
        start = contents;
        at = contents + length;
        break;
      }
      default:
        throw new Error(`unsupported wire type ${type} at byte ${at}`);
    }
    if (at > to) throw new Error(`field ${field} runs past the end`);
    visit(field, type, start, at);
  }
}

/** A varint as a JS number (exact up to 2^53) and the offset after it. */
export function varint(bytes: Uint8Array, at: number, to: number): [number, number] {
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

/**
 * An int64 varint (two's complement, so -1 takes ten bytes) as a JS number;
 * values beyond ±2^53 are refused rather than rounded.
 */
export function int64(bytes: Uint8Array, at: number, to: number): [number, number] {
  let value = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    if (at >= to) throw new Error('truncated varint');
    const b = bytes[at++]!;
    value |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) {
      const signed = BigInt.asIntN(64, value);
      if (signed > BigInt(Number.MAX_SAFE_INTEGER) || signed < BigInt(Number.MIN_SAFE_INTEGER)) {
        throw new Error(`int64 ${signed} is beyond ±2^53`);
      }
      return [Number(signed), at];
    }
    shift += 7n;
  }
  throw new Error(`varint longer than 10 bytes at byte ${at - 10}`);
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

export function text(bytes: Uint8Array, start: number, end: number): string {
  return UTF8.decode(bytes.subarray(start, end));
}

/**
 * Appends a repeated int64 field's values: one varint (wire type 0) or a
 * packed run of them (wire type 2); protobuf allows either for the same field.
 */
export function pushInt64s(
  bytes: Uint8Array,
  wireType: number,
  start: number,
  end: number,
  out: number[],
): void {
  if (wireType === WIRE_VARINT) {
    out.push(int64(bytes, start, end)[0]);
    return;
  }
  expectWire(wireType, WIRE_LENGTH_DELIMITED);
  for (let at = start; at < end;) {
    const [value, next] = int64(bytes, at, end);
    out.push(value);
    at = next;
  }
}

/**
 * Appends a repeated float (`size` 4, fixed32) or double (`size` 8, fixed64)
 * field's values: one value, or a packed run of them (wire type 2).
 */
export function pushFixed(
  bytes: Uint8Array,
  wireType: number,
  start: number,
  end: number,
  size: 4 | 8,
  out: number[],
): void {
  const single = size === 4 ? WIRE_FIXED32 : WIRE_FIXED64;
  if (wireType !== single) expectWire(wireType, WIRE_LENGTH_DELIMITED);
  if ((end - start) % size !== 0)
    throw new Error(`${end - start} bytes is not a whole number of ${size}-byte values`);
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, end - start);
  for (let at = 0; at < end - start; at += size) {
    out.push(size === 4 ? view.getFloat32(at, true) : view.getFloat64(at, true));
  }
}

export function expectWire(actual: number, expected: number): void {
  if (actual !== expected) throw new Error(`wire type ${actual} where ${expected} was expected`);
}
