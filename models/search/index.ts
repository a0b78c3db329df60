/** Hyperparameter search: search spaces, samplers (random, TPE), pruners and the study that runs them. */
export type {
  CategoricalChoice,
  ParamDefinition,
  ParamValue,
  ParamValues,
  ParamsOf,
  SearchSpace,
} from './space.js';
export { categorical, defineSpace, float, int, parseParams } from './space.js';
export type { Sampler, SamplingHistory } from './sampler.js';
export { RandomSampler } from './sampler.js';
export type { TpeSamplerOptions } from './tpe-sampler.js';
export { TpeSampler, defaultGamma, defaultWeights } from './tpe-sampler.js';
export type { Pruner, PruningContext, PercentilePrunerOptions } from './pruner.js';
export { MedianPruner, NopPruner, PercentilePruner } from './pruner.js';
export type { Objective, StudyBudget, StudyOptions } from './study.js';
export { Study } from './study.js';
export type { StudyHeader, StudyLog } from './study-log.js';
export { formatStudyLog, parseStudyLog, readStudyLog } from './study-log.js';
export type { Direction, IntermediateValue, Trial, TrialRecord, TrialState } from './trial.js';
export { TrialPruned } from './trial.js';
