/**
 * Writes the ground truth of a run as it happens: events and incidents are
 * appended line by line (an interrupted run keeps what it had), `run.json`
 * is written at the start and replaced atomically at the end.
 */
import { createWriteStream, existsSync, mkdirSync, type WriteStream } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import { CloudSenseError } from '../../shared/errors.js';
import type { FleetSink } from '../fleet.js';
import type { IncidentRecord } from '../host/virtual-host.js';
import type { ExhaustionEvent } from './exhaustion-event.js';
import { GROUND_TRUTH_FILE, INCIDENTS_FILE, RUN_FILE, type RunRecord } from './run-record.js';

export class GroundTruthRecorder implements FleetSink {
  readonly dir: string;
  private readonly events: WriteStream;
  private readonly incidents: WriteStream;
  private counts = { events: 0, incidents: 0 };
  private closed = false;

  private constructor(dir: string) {
    this.dir = dir;
    this.events = createWriteStream(join(dir, GROUND_TRUTH_FILE), { flags: 'w' });
    this.incidents = createWriteStream(join(dir, INCIDENTS_FILE), { flags: 'w' });
  }

  /** Creates the directory; refuses one that already holds a simulation, so no run overwrites another's truth. */
  static create(dir: string): GroundTruthRecorder {
    const path = resolve(dir);
    if (existsSync(join(path, RUN_FILE)) || existsSync(join(path, GROUND_TRUTH_FILE))) {
      throw new CloudSenseError(
        'SIMULATION_EXISTS',
        `${path} already holds a simulation's ground truth; remove it or choose another directory`,
        { permanent: true },
      );
    }
    mkdirSync(path, { recursive: true });
    return new GroundTruthRecorder(path);
  }

  event(event: ExhaustionEvent): void {
    this.counts.events++;
    this.events.write(`${JSON.stringify(event)}\n`);
  }

  incident(incident: IncidentRecord): void {
    this.counts.incidents++;
    this.incidents.write(`${JSON.stringify(incident)}\n`);
  }

  get eventCount(): number {
    return this.counts.events;
  }

  get incidentCount(): number {
    return this.counts.incidents;
  }

  /** Writes `run.json` atomically (temporary file, then rename). */
  async writeRun(run: RunRecord): Promise<void> {
    const path = join(this.dir, RUN_FILE);
    await writeFile(`${path}.tmp`, `${JSON.stringify(run, null, 2)}\n`);
    await rename(`${path}.tmp`, path);
  }

  /** Flushes and closes the line files; safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(
      [this.events, this.incidents].map((stream) => {
        stream.end();
        return finished(stream);
      }),
    );
  }
}
