import { z } from 'zod';
import { CommonConfigShape } from '../shared/config/common.js';
import { errorMessage } from '../shared/errors.js';
import { MAX_TELEMETRY_BYTES } from '../shared/wire/telemetry.js';
import { SelfMetricsSectionSchema } from './api/self-metrics.js';
import { DEFAULT_OFFLINE_AFTER_INTERVALS } from './live/host-registry.js';
import { LeasesSectionSchema } from './remediation/config.js';
import { RetrainingSectionSchema } from './retraining/config.js';
import { SecuritySectionSchema, refineAccess } from './security/config.js';
import { RetentionSectionSchema } from './storage/duckdb/retention.js';
import { parseInfluxUrl } from './storage/influx/influx-location.js';

/** DuckDB's memory limit unless configured; DuckDB itself would take 80% of RAM. */
export const DEFAULT_DUCKDB_MEMORY_LIMIT = '512MB';
export const DEFAULT_DUCKDB_THREADS = 2;
/** Telemetry messages per store write. */
export const DEFAULT_BATCH_SIZE = 1000;
/** Longest a message waits before it is written, milliseconds. */
export const DEFAULT_FLUSH_INTERVAL_MS = 1000;
/** Messages held while the store is slow or down before the oldest are dropped. */
export const DEFAULT_MAX_BUFFERED = 200_000;

/** `aggregator.store.url` of the embedded DuckDB store; any other value names an InfluxDB. */
export const DUCKDB_STORE_URL = 'duckdb';

export const AggregatorSectionSchema = z
  .object({
    store: z
      .object({
        /**
         * Where telemetry, predictions and events are stored: `duckdb` (the data dir's file) or
         * `influx://[user:password@]host[:port]/database`, `influxs://` for HTTPS (docs/storage.md).
         * Default duckdb.
         */
        url: z
          .string()
          .default(DUCKDB_STORE_URL)
          .superRefine((url, ctx) => {
            if (url === DUCKDB_STORE_URL) return;
            try {
              parseInfluxUrl(url);
            } catch (err) {
              ctx.addIssue({ code: 'custom', message: `${errorMessage(err)}; or duckdb` });
            }
          }),
        /** DuckDB memory limit with a unit, e.g. `512MB`, `2GB`. Default 512MB. */
        memoryLimit: z
          .string()
          .regex(/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, 'a size such as 512MB or 2GB')
          .default(DEFAULT_DUCKDB_MEMORY_LIMIT),
        /** DuckDB worker threads. Default 2. */
        threads: z.number().int().min(1).max(256).default(DEFAULT_DUCKDB_THREADS),
        /** DuckDB retention and downsampling of old rows (docs/storage.md). */
        retention: RetentionSectionSchema,
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
    /** The fleet-wide cap on concurrent remediation: leases agents hold while they run a playbook (docs/remediation.md). */
    remediation: LeasesSectionSchema,
    /** The Prometheus endpoint `GET /metrics` (docs/monitoring.md). */
    metrics: SelfMetricsSectionSchema,
    /** Authentication, TLS and request limits (docs/security.md). */
    security: SecuritySectionSchema,
    /** Retraining on schedule and drift, and the promotion rule (docs/retraining.md). */
    retraining: RetrainingSectionSchema,
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
  .strict()
  .superRefine(refineAccess);
export type AggregatorConfig = z.infer<typeof AggregatorConfigSchema>;
