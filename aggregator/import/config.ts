/**
 * Configuration of `cloudsense import`: the data dir and the DuckDB settings
 * of `aggregator.store`, read from the same file as every other command
 * (the sections the import does not use are ignored here). What to import
 * is given by flags, not configuration.
 */
import { z } from 'zod';
import { CommonConfigShape } from '../../shared/config/common.js';
import { AggregatorSectionSchema } from '../config.js';

/** Rows per store write: one telemetry message each, so a batch is a few hundred kilobytes. */
export const DEFAULT_BATCH_ROWS = 5000;

export const ImportConfigSchema = z
  .object({
    ...CommonConfigShape,
    aggregator: AggregatorSectionSchema,
    agent: z.unknown().optional(),
    simulate: z.unknown().optional(),
  })
  .strict();
export type ImportConfig = z.output<typeof ImportConfigSchema>;
