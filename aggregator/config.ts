import { z } from 'zod';
import { CommonConfigShape } from '../shared/config/common.js';
import { MAX_TELEMETRY_BYTES } from '../shared/wire/telemetry.js';
import { DEFAULT_OFFLINE_AFTER_INTERVALS } from './live/host-registry.js';

/** DuckDB's memory limit unless configured; DuckDB itself would take 80% of RAM. */
export const DEFAULT_DUCKDB_MEMORY_LIMIT = '512MB';
export const DEFAULT_DUCKDB_THREADS = 2;
/** Telemetry messages per store write. */
export const DEFAULT_BATCH_SIZE = 1000;
/** Longest a message waits before it is written, milliseconds. */
export const DEFAULT_FLUSH_INTERVAL_MS = 1000;
/** Messages held while the store is slow or down before the oldest are dropped. */
export const DEFAULT_MAX_BUFFERED = 200_000;

export const AggregatorSectionSchema = z
  .object({
    store: z
      .object({
        /** DuckDB memory limit with a unit, e.g. `512MB`, `2GB`. Default 512MB. */
        memoryLimit: z
          .string()
          .regex(/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, 'a size such as 512MB or 2GB')
          .default(DEFAULT_DUCKDB_MEMORY_LIMIT),
        /** DuckDB worker threads. Default 2. */
        threads: z.number().int().min(1).max(256).default(DEFAULT_DUCKDB_THREADS),
      })
      .strict()
      .prefault({}),
    ingest: z
      .object({
        /** Largest accepted MQTT payload, bytes. Default 262144 (256 KiB). */
        maxPayloadBytes: z
          .number()
          .int()
          .min(1024)
          .max(16 * 1024 * 1024)
          .default(MAX_TELEMETRY_BYTES),
        /** Messages per store write. Default 1000. */
        batchSize: z.number().int().min(1).max(100_000).default(DEFAULT_BATCH_SIZE),
        /** Longest a message waits before it is written, ms. Default 1000. */
        flushIntervalMs: z.number().int().min(10).max(60_000).default(DEFAULT_FLUSH_INTERVAL_MS),
        /** Messages buffered while the store is slow or down, before dropping the oldest. Default 200000. */
        maxBuffered: z.number().int().min(1).default(DEFAULT_MAX_BUFFERED),
      })
      .strict()
      .prefault({}),
    /** A host is offline after this many missed intervals. Default 3. */
    offlineAfterIntervals: z.number().min(1).max(1000).default(DEFAULT_OFFLINE_AFTER_INTERVALS),
  })
  .strict()
  .prefault({});

/** The aggregator's whole configuration; an `agent` section in a shared file is ignored here. */
export const AggregatorConfigSchema = z
  .object({
    ...CommonConfigShape,
    aggregator: AggregatorSectionSchema,
    agent: z.unknown().optional(),
  })
  .strict();
export type AggregatorConfig = z.infer<typeof AggregatorConfigSchema>;
