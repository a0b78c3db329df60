/**
 * The files a simulation leaves for evaluation, in one directory
 * (`<data dir>/simulation/` in history mode):
 *
 * - `ground-truth.jsonl`: one ExhaustionEvent per line, in the order they ended;
 * - `incidents.jsonl`: what the workloads did (restarts, failed rotations, overloads…), one per line;
 * - `run.json`: the seed and configuration, the fleet, the exhaustion definitions and a summary.
 */
import type { ExhaustionDefinition, ResourceKind } from '../../shared/resources/index.js';
import type { HostDescription } from '../fleet.js';
import type { LabelStats } from './label-rates.js';

export const SIMULATION_DIR = 'simulation';
export const GROUND_TRUTH_FILE = 'ground-truth.jsonl';
export const INCIDENTS_FILE = 'incidents.jsonl';
export const RUN_FILE = 'run.json';
/** Bump when a change to these files is not backwards compatible. */
export const RUN_RECORD_VERSION = 1;

export interface RunRecord {
  schemaVersion: typeof RUN_RECORD_VERSION;
  tool: string;
  version: string;
  mode: 'live' | 'history';
  /** False while running, and when the run was interrupted or failed. */
  completed: boolean;
  /** Always `none`: the simulator runs no remediation; every reset is part of a workload. */
  remediation: 'none';
  config: {
    seed: number;
    hosts: number;
    hostPrefix: string;
    profiles: readonly string[] | null;
    intervalSeconds: number;
    days: number | null;
    speed: number | null;
  };
  /** Simulated span, Unix epoch ms: the first sample, and the end of the last sample's interval. */
  startMs: number;
  endMs: number;
  createdAt: string;
  exhaustion: Record<ResourceKind, ExhaustionDefinition>;
  files: { groundTruth: string; incidents: string };
  summary: {
    messages: number;
    points: number;
    events: number;
    incidents: number;
    /** Per resource kind: label windows and how many are positive. */
    labels: LabelStats;
    /** History mode: the store written, and how fast. */
    store?: { description: string; seconds: number; messagesPerSecond: number; pointsPerSecond: number };
  };
  fleet: HostDescription[];
}

/** What a run record is built from. */
export interface RunRecordInput {
  mode: RunRecord['mode'];
  completed: boolean;
  config: RunRecord['config'];
  version: string;
  startMs: number;
  endMs: number;
  exhaustion: Record<ResourceKind, ExhaustionDefinition>;
  summary: RunRecord['summary'];
  fleet: HostDescription[];
}

export function runRecord(input: RunRecordInput): RunRecord {
  return {
    schemaVersion: RUN_RECORD_VERSION,
    tool: 'cloudsense simulate',
    version: input.version,
    mode: input.mode,
    completed: input.completed,
    remediation: 'none',
    config: input.config,
    startMs: input.startMs,
    endMs: input.endMs,
    createdAt: new Date().toISOString(),
    exhaustion: input.exhaustion,
    files: { groundTruth: GROUND_TRUTH_FILE, incidents: INCIDENTS_FILE },
    summary: input.summary,
    fleet: input.fleet,
  };
}
