/** Resources CloudSense forecasts: their ids, utilisation metrics and exhaustion definitions. */
export type { HostWideKind, MountpointKind, Resource, ResourceKind } from './resource-id.js';
export {
  MAX_MOUNTPOINT_LENGTH,
  MAX_RESOURCE_ID_LENGTH,
  MOUNTPOINT_KINDS,
  RESOURCE_KINDS,
  ResourceIdSchema,
  canonicalResourceId,
  decodeMountpoint,
  encodeMountpoint,
  formatResourceId,
  isCanonicalResourceId,
  isMountpointKind,
  isResourceKind,
  mountpointProblem,
  parseResourceId,
} from './resource-id.js';
export type { ExhaustionConfig, ExhaustionDefinition, ExhaustionOverride } from './exhaustion.js';
export {
  DEFAULT_CPU_EXHAUSTION,
  DEFAULT_EXHAUSTION,
  DEFAULT_FDS_EXHAUSTION,
  DEFAULT_FILESYSTEM_EXHAUSTION,
  DEFAULT_INODES_EXHAUSTION,
  DEFAULT_MEMORY_EXHAUSTION,
  DEFAULT_SWAP_EXHAUSTION,
  ExhaustionConfigSchema,
  ExhaustionOverrideSchema,
  MAX_HORIZON_MS,
  describeExhaustion,
  resolveExhaustion,
} from './exhaustion.js';
export type {
  PressureResource,
  PressureSample,
  UtilizationMetric,
  UtilizationSample,
} from './utilization.js';
export {
  PRESSURE_OF_KIND,
  PRESSURE_RESOURCES,
  UTILIZATION_METRICS,
  extractPressure,
  extractUtilization,
} from './utilization.js';
