/** Feature extraction over time windows: one implementation for the agent (live) and the aggregator (replay). */
export type { ExtractorStats, FeatureExtractorOptions, PushOutcome } from './extractor.js';
export { FeatureExtractor, timeToThresholdH } from './extractor.js';
export type { ReplayResult, SeriesHistory } from './replay.js';
export { SIDE_COLUMNS, acceptedSampleTimes, replaySeries } from './replay.js';
export type { FeatureSchema, WindowLabel, WindowStat } from './schema.js';
export {
  BUCKETS_PER_WINDOW,
  FEATURE_COUNT,
  FEATURE_NAMES,
  FEATURE_SCHEMA,
  FEATURE_SCHEMA_VERSION,
  FEATURE_WINDOWS,
  MAX_SAMPLE_GAP_MS,
  PRESSURE_MAX_AGE_MS,
  SEASON_BUCKET_MS,
  SEASON_LOOKAHEAD_MAX_MS,
  SEASON_SPAN_MS,
  SLOPE_CHANGE_PAIRS,
  TIME_TO_THRESHOLD_CAP_H,
  TIME_TO_THRESHOLD_NOT_RISING_H,
  TIME_TO_THRESHOLD_WINDOWS,
  WINDOW_STATS,
  featureIndex,
} from './schema.js';
