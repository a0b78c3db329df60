/**
 * Reads the few top-level fields of an ONNX ModelProto that describe a model
 * (producer, metadata_props) straight from the protobuf wire format
 * (proto-wire.ts), without decoding the graph: a full decode (onnx-proto /
 * protobufjs) turns every tree node of a large ensemble into JS objects, and
 * for a 600-tree model that grew the agent's RSS by ~24 MB that the heap
 * gave back but the process did not. Here the graph is only checked to be
 * present and skipped.
 */
import { WIRE_LENGTH_DELIMITED, forEachField, text } from './proto-wire.js';

/** ModelProto field numbers (onnx.proto3). */
const MODEL_PRODUCER_NAME = 2;
const MODEL_PRODUCER_VERSION = 3;
const MODEL_GRAPH = 7;
const MODEL_METADATA_PROPS = 14;
/** StringStringEntryProto field numbers. */
const ENTRY_KEY = 1;
const ENTRY_VALUE = 2;

export interface ModelProtoHeader {
  producerName: string;
  producerVersion: string;
  /** metadata_props in file order (a repeated key appears twice). */
  metadataProps: Array<{ key: string; value: string }>;
  hasGraph: boolean;
}

/** Scans `bytes` as a ModelProto; throws an Error saying where the wire format breaks. */
export function readModelProtoHeader(bytes: Uint8Array): ModelProtoHeader {
  const header: ModelProtoHeader = {
    producerName: '',
    producerVersion: '',
    metadataProps: [],
    hasGraph: false,
  };
  forEachField(bytes, 0, bytes.length, (field, wire, start, end) => {
    if (wire !== WIRE_LENGTH_DELIMITED) return;
    if (field === MODEL_PRODUCER_NAME) header.producerName = text(bytes, start, end);
    else if (field === MODEL_PRODUCER_VERSION) header.producerVersion = text(bytes, start, end);
    else if (field === MODEL_GRAPH) header.hasGraph = true;
    else if (field === MODEL_METADATA_PROPS) {
      const entry = { key: '', value: '' };
      forEachField(bytes, start, end, (f, w, s, e) => {
        if (w !== WIRE_LENGTH_DELIMITED) return;
        if (f === ENTRY_KEY) entry.key = text(bytes, s, e);
        else if (f === ENTRY_VALUE) entry.value = text(bytes, s, e);
      });
      header.metadataProps.push(entry);
    }
  });
  return header;
}
