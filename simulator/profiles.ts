/**
 * Host profiles: what kind of machine a virtual host is and which workloads
 * it runs. A host's seed picks its profile (by weight), its shape and which
 * of the profile's optional workloads it gets, so a fleet is a varied mix.
 */
import type { SeededRandom } from '../models/random.js';
import { type FilesystemNeeds, type HostShape, type HostSize, drawHostShape } from './host/host-shape.js';
import {
  OsBaselineWorkload,
  WORKLOADS,
  type Workload,
  type WorkloadName,
  filesystemIndex,
} from './workloads/index.js';
import { weightedPick } from './signal.js';

export const PROFILE_NAMES = [
  'web',
  'api',
  'batch',
  'database',
  'office',
  'spool',
  'worker',
  'idle',
] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

interface ProfileSpec {
  /** Relative share of the fleet. */
  weight: number;
  description: string;
  sizes: readonly HostSize[];
  filesystems: FilesystemNeeds;
  /** Workloads and the chance that a host of this profile runs each. */
  workloads: ReadonlyArray<readonly [WorkloadName, number]>;
}

export const PROFILES: Readonly<Record<ProfileName, ProfileSpec>> = {
  web: {
    weight: 22,
    description: 'web front end: diurnal traffic, logs rotated daily, sometimes a descriptor leak',
    sizes: ['small', 'medium'],
    filesystems: { varLog: 'maybe', data: false, spool: false },
    workloads: [
      ['diurnal-web', 1],
      ['log-rotation', 1],
      ['fd-leak', 0.15],
    ],
  },
  api: {
    weight: 14,
    description: 'API service with a memory leak under diurnal traffic',
    sizes: ['medium', 'large'],
    filesystems: { varLog: 'yes', data: false, spool: false },
    workloads: [
      ['diurnal-web', 1],
      ['memory-leak', 1],
      ['log-rotation', 0.5],
    ],
  },
  batch: {
    weight: 12,
    description:
      'batch host: hourly cron, a nightly job that may saturate the CPU on most nights where its owners accept it, sometimes a slowly filling data volume',
    sizes: ['medium', 'large'],
    filesystems: { varLog: 'no', data: true, spool: false },
    workloads: [
      ['batch-bursts', 1],
      ['slow-disk-fill', 0.5],
    ],
  },
  database: {
    weight: 12,
    description: 'database: business-hours load, weekly rhythm, a data volume filling over weeks',
    sizes: ['medium', 'large'],
    filesystems: { varLog: 'maybe', data: true, spool: false },
    workloads: [
      ['weekly-pattern', 1],
      ['slow-disk-fill', 1],
    ],
  },
  office: {
    weight: 8,
    description: 'office application: weekday business hours, Monday reports',
    sizes: ['small', 'medium'],
    filesystems: { varLog: 'maybe', data: false, spool: false },
    workloads: [
      ['weekly-pattern', 1],
      ['memory-leak', 0.35],
      ['log-rotation', 0.3],
    ],
  },
  spool: {
    weight: 8,
    description: 'mail or session spool: many small files, inode exhaustion when cleanup breaks',
    sizes: ['small', 'medium'],
    filesystems: { varLog: 'no', data: false, spool: true },
    workloads: [
      ['inode-exhaustion', 1],
      ['diurnal-web', 0.5],
    ],
  },
  worker: {
    weight: 10,
    description: 'queue worker: descriptor leak, sometimes a memory leak and cron jobs',
    sizes: ['small', 'medium'],
    filesystems: { varLog: 'no', data: false, spool: false },
    workloads: [
      ['fd-leak', 1],
      ['memory-leak', 0.4],
      ['batch-bursts', 0.5],
    ],
  },
  idle: {
    weight: 14,
    description: 'noisy idle host: never exhausts anything',
    sizes: ['small', 'medium', 'large'],
    filesystems: { varLog: 'maybe', data: false, spool: false },
    workloads: [['noisy-idle', 1]],
  },
};

export interface HostBlueprint {
  profile: ProfileName;
  shape: HostShape;
  /** The OS baseline first, then the profile's workloads. */
  workloads: Workload[];
}

/**
 * Draws one host: its profile among `allowed`, its shape, and its workloads,
 * each with a random stream of its own split from `rng` (so that one
 * workload drawing more numbers does not change another's series).
 */
export function drawHost(rng: SeededRandom, allowed: readonly ProfileName[] = PROFILE_NAMES): HostBlueprint {
  const profile = weightedPick(
    rng,
    allowed.map((name) => [name, PROFILES[name].weight] as const),
  );
  const spec = PROFILES[profile];
  const shape = drawHostShape(rng.split(), spec.sizes, spec.filesystems);
  const workloads: Workload[] = [new OsBaselineWorkload({ rng: rng.split(), host: shape, fs: 0 })];
  for (const [name, chance] of spec.workloads) {
    const workloadRng = rng.split();
    if (!rng.bernoulli(chance)) continue;
    const factory = WORKLOADS[name];
    workloads.push(
      factory.create({ rng: workloadRng, host: shape, fs: filesystemIndex(shape, factory.mountpoints) }),
    );
  }
  return { profile, shape, workloads };
}
