/** Run tracking (MLflow-style): run records, the registry interface and its file implementation. */
export type { Artifact, DataRange, MetricPoint, RunParamValue, RunRecord, RunStatus } from './run-record.js';
export { RunRecordSchema, featureSchemaHash } from './run-record.js';
export type {
  ArtifactSource,
  RunDataset,
  RunFilter,
  RunHandle,
  RunRegistry,
  RunStart,
} from './run-registry.js';
export { FileRunRegistry } from './file-run-registry.js';
export { newRunId, runIdTime } from './run-id.js';
export type { TrackedObjective, TrialTracking } from './tracked-objective.js';
export { trackTrials } from './tracked-objective.js';
