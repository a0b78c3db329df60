/** Every workload by name, with the filesystems it prefers to write to. */
import { BatchBurstsWorkload } from './batch-bursts.js';
import { DiurnalWebWorkload } from './diurnal-web.js';
import { FdLeakWorkload } from './fd-leak.js';
import { InodeExhaustionWorkload } from './inode-exhaustion.js';
import { LogRotationWorkload } from './log-rotation.js';
import { MemoryLeakWorkload } from './memory-leak.js';
import { NoisyIdleWorkload } from './noisy-idle.js';
import { SlowDiskFillWorkload } from './slow-disk-fill.js';
import { WeeklyPatternWorkload } from './weekly-pattern.js';
import type { Workload, WorkloadInit, WorkloadName } from './workload.js';

export { OsBaselineWorkload } from './os-baseline.js';
export { WORKLOAD_NAMES, filesystemIndex } from './workload.js';
export type { TickContext, Workload, WorkloadInit, WorkloadName, WorkloadParams } from './workload.js';

interface WorkloadFactory {
  create(init: WorkloadInit): Workload;
  /** Mountpoints to write to, first present wins; `/` when the host has none of them. */
  mountpoints: readonly string[];
}

export const WORKLOADS: Readonly<Record<WorkloadName, WorkloadFactory>> = {
  'diurnal-web': { create: (i) => new DiurnalWebWorkload(i), mountpoints: [] },
  'memory-leak': { create: (i) => new MemoryLeakWorkload(i), mountpoints: [] },
  'log-rotation': { create: (i) => new LogRotationWorkload(i), mountpoints: ['/var/log'] },
  'batch-bursts': { create: (i) => new BatchBurstsWorkload(i), mountpoints: ['/data'] },
  'slow-disk-fill': { create: (i) => new SlowDiskFillWorkload(i), mountpoints: ['/data'] },
  'noisy-idle': { create: (i) => new NoisyIdleWorkload(i), mountpoints: [] },
  'weekly-pattern': { create: (i) => new WeeklyPatternWorkload(i), mountpoints: [] },
  'inode-exhaustion': { create: (i) => new InodeExhaustionWorkload(i), mountpoints: ['/var/spool', '/data'] },
  'fd-leak': { create: (i) => new FdLeakWorkload(i), mountpoints: [] },
};
