import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DAY_MS, HOUR_MS, MINUTE_MS, localTime } from '../../simulator/clock.js';
import type { HostReading } from '../../simulator/host/host-reading.js';
import type { VirtualHost } from '../../simulator/host/virtual-host.js';
import { SWAP_PRESSURE_FROM } from '../../simulator/host/virtual-host.js';
import { pulse, pulseMean } from '../../simulator/signal.js';
import { BACKFILL_CHANCE } from '../../simulator/workloads/batch-bursts.js';
import { FLASH_CROWD_SHARE } from '../../simulator/workloads/diurnal-web.js';
import type { WorkloadName } from '../../simulator/workloads/index.js';
import { type FleetRun, mean, runFleet } from '../helpers/simulated-fleet.js';

/** The hosts of a run that carry `workload`, with their index and the workload's parameters. */
function carriers(run: FleetRun, workload: WorkloadName) {
  return run.fleet.hosts.flatMap((host, i) => {
    const w = host.workloads.find((x) => x.name === workload);
    return w ? [{ host, i, params: w.params, readings: run.readings[i]! }] : [];
  });
}

function incidentsOf(run: FleetRun, host: VirtualHost, workload: WorkloadName, kind: string) {
  return run.incidents.filter((x) => x.hostId === host.hostId && x.workload === workload && x.kind === kind);
}

function fsIndex(host: VirtualHost, mountpoint: unknown): number {
  return host.shape.filesystems.findIndex((f) => f.mountpoint === mountpoint);
}

/** Mean of `value` by local hour of day (0..23). */
function byLocalHour(
  host: VirtualHost,
  readings: HostReading[],
  value: (r: HostReading) => number,
  weekdays = true,
) {
  const buckets: number[][] = Array.from({ length: 24 }, () => []);
  for (const r of readings) {
    const local = localTime(r.t, host.shape.utcOffsetHours);
    if (weekdays === local.weekend) continue;
    buckets[Math.floor(local.hour)]!.push(value(r));
  }
  return buckets.map(mean);
}

function circularHourDistance(a: number, b: number): number {
  const d = Math.abs(a - b) % 24;
  return Math.min(d, 24 - d);
}

describe('workload shapes', () => {
  it('pulse means: a short burst reads as its share of a long interval', () => {
    assert.equal(pulseMean(0, 10 * MINUTE_MS, 0, 10 * MINUTE_MS, 0), 1);
    assert.ok(Math.abs(pulseMean(0, 5 * MINUTE_MS, 0, 3 * MINUTE_MS, 0) - 0.6) < 1e-12);
    assert.equal(pulseMean(0, MINUTE_MS, 2 * MINUTE_MS, MINUTE_MS, 0), 0);
    // With ramps, the mean over the whole pulse is its area over its length.
    const ramp = 10 * MINUTE_MS;
    const duration = HOUR_MS;
    assert.ok(Math.abs(pulseMean(0, duration, 0, duration, ramp) - (duration - ramp) / duration) < 1e-9);
    // And the mean over a tiny interval is the pulse's height there.
    const t = 5 * MINUTE_MS;
    assert.ok(Math.abs(pulseMean(t - 1, t, 0, duration, ramp) - pulse(t, 0, duration, ramp)) < 1e-3);
  });

  it('pulses may climb slowly and stop fast: rise and fall apart', () => {
    const [rise, fall, duration] = [30 * MINUTE_MS, 3 * MINUTE_MS, 2 * HOUR_MS];
    // Half-way up the rise, a quarter of the way through the fall, full in between.
    assert.ok(Math.abs(pulse(15 * MINUTE_MS, 0, duration, rise, fall) - 0.5) < 1e-12);
    assert.ok(pulse(10 * MINUTE_MS, 0, duration, rise, fall) < 0.26);
    assert.equal(pulse(HOUR_MS, 0, duration, rise, fall), 1);
    assert.ok(Math.abs(pulse(duration - 1.5 * MINUTE_MS, 0, duration, rise, fall) - 0.5) < 1e-12);
    // The mean over the whole pulse is its area, each ramp counting half its length.
    const whole = pulseMean(0, duration, 0, duration, rise, fall);
    assert.ok(Math.abs(whole - (duration - rise / 2 - fall / 2) / duration) < 1e-9);
    // Means over consecutive intervals add up to the whole.
    const step = 7 * MINUTE_MS;
    let sum = 0;
    for (let from = -step; from < duration + step; from += step) {
      sum += pulseMean(from, from + step, 0, duration, rise, fall) * step;
    }
    assert.ok(Math.abs(sum / duration - whole) < 1e-9);
    // Ramps longer than the pulse shrink in proportion.
    assert.ok(Math.abs(pulse(20 * MINUTE_MS, 0, 40 * MINUTE_MS, HOUR_MS, HOUR_MS) - 1) < 1e-12);
  });

  it('diurnal web: CPU peaks at the drawn peak hour, lower at night and at the weekend', () => {
    const run = runFleet({ hosts: 12, seed: 21, days: 14, intervalSeconds: 600, profiles: ['web'] });
    const hosts = carriers(run, 'diurnal-web');
    assert.ok(hosts.length >= 10);
    for (const { host, params, readings } of hosts) {
      const hourly = byLocalHour(host, readings, (r) => r.cpuUtilization);
      const peak = hourly.indexOf(Math.max(...hourly));
      const peakHour = Number(params.peakHour);
      assert.ok(
        circularHourDistance(peak + 0.5, peakHour) <= 2.5,
        `${host.hostId}: peak ${peak} vs ${peakHour}`,
      );
      const trough = hourly[Math.floor((peakHour + 12) % 24)]!;
      assert.ok(hourly[peak]! - trough > 0.15, `${host.hostId}: day/night swing`);
      const weekend = byLocalHour(host, readings, (r) => r.cpuUtilization, false);
      const around = (h: number[]) => mean([-1, 0, 1].map((d) => h[(Math.floor(peakHour) + d + 24) % 24]!));
      if (Number(params.weekendFactor) < 0.8)
        assert.ok(around(weekend) < around(hourly), `${host.hostId}: weekend`);
    }
  });

  it('diurnal web: campaign days run above the day before from the morning on, hours before they saturate', () => {
    const run = runFleet({ hosts: 30, seed: 22, days: 42, intervalSeconds: 600, profiles: ['web'] });
    let compared = 0;
    let elevated = 0;
    const ratios: number[] = [];
    const leads: number[] = [];
    for (const { host, readings } of carriers(run, 'diurnal-web')) {
      const campaigns = incidentsOf(run, host, 'diurnal-web', 'campaign');
      const quiet = (from: number, to: number) =>
        !run.incidents.some(
          (x) =>
            x.hostId === host.hostId && x.workload === 'diurnal-web' && x.t >= from - 3 * DAY_MS && x.t < to,
        );
      for (const c of campaigns) {
        // Two to six hours after the campaign's start, against the same hours the day before.
        const k = readings.findIndex((r) => r.t === c.t);
        const span = readings.slice(k + 12, k + 36);
        const before = readings.slice(k + 12 - 144, k + 36 - 144);
        const weekend = [c.t, c.t - DAY_MS].some((t) => localTime(t, host.shape.utcOffsetHours).weekend);
        if (k < 144 || span.length < 24 || weekend || !quiet(c.t - DAY_MS, c.t)) continue;
        compared++;
        const ratio = mean(span.map((r) => r.cpuUtilization)) / mean(before.map((r) => r.cpuUtilization));
        ratios.push(ratio);
        if (ratio > 1.05) elevated++;
      }
      for (const e of run.events.filter((x) => x.hostId === host.hostId && x.kind === 'cpu')) {
        const c = campaigns.filter(
          (x) => x.t <= e.startMs && e.startMs < x.t + Number(x.detail.days) * DAY_MS,
        );
        const flash = incidentsOf(run, host, 'diurnal-web', 'flash-crowd').some(
          (x) => x.t <= e.startMs && e.startMs - x.t < 4 * HOUR_MS,
        );
        if (c.length > 0 && !flash) leads.push((e.startMs - c.at(-1)!.t) / HOUR_MS);
      }
    }
    assert.ok(compared >= 15, `compared ${compared} campaigns`);
    assert.ok(elevated >= 0.9 * compared, `${elevated} of ${compared} campaigns run above the day before`);
    assert.ok(mean(ratios) > 1.2, `campaign traffic ${mean(ratios)} of the day before`);
    // Campaigns saturate the CPU at the day's peak, hours after the series began to run high.
    assert.ok(leads.length >= 10, `${leads.length} campaign CPU events`);
    leads.sort((a, b) => a - b);
    assert.ok(leads[0]! >= 0.75, `earliest saturation ${leads[0]} h into a campaign`);
    assert.ok(leads[Math.floor(leads.length / 2)]! >= 3, `median ${leads[Math.floor(leads.length / 2)]} h`);
  });

  it('diurnal web: flash crowds are a minority of overloads, and rise within minutes', () => {
    const run = runFleet({ hosts: 40, seed: 23, days: 60, intervalSeconds: 600, profiles: ['web'] });
    const flashes = run.incidents.filter((x) => x.kind === 'flash-crowd');
    const campaigns = run.incidents.filter((x) => x.kind === 'campaign');
    const share = flashes.length / (flashes.length + campaigns.length);
    assert.ok(
      Math.abs(share - FLASH_CROWD_SHARE) < 0.06,
      `${flashes.length} flash crowds, ${campaigns.length} campaigns: share ${share}`,
    );
    let checked = 0;
    let sudden = 0;
    for (const f of flashes) {
      const i = run.fleet.hosts.findIndex((h) => h.hostId === f.hostId);
      const readings = run.readings[i]!;
      const k = readings.findIndex((r) => r.t === f.t);
      if (k < 2 || k + 1 >= readings.length || Number(f.detail.minutes) < 20) continue;
      // The interval after the crowd's start holds it in full; the one before it, none of it.
      checked++;
      const jump = readings[k + 1]!.cpuDemand - readings[k - 1]!.cpuDemand;
      if (jump > 0.5 * Number(f.detail.extraCpu)) sudden++;
    }
    assert.ok(checked >= 10 && sudden >= 0.9 * checked, `${sudden} of ${checked} flash crowds jump`);
  });

  it('diurnal web: organic growth brings a hot host to saturation, and capacity is added after', () => {
    const run = runFleet({ hosts: 40, seed: 24, days: 42, intervalSeconds: 1800, profiles: ['web'] });
    const added = run.incidents.filter((x) => x.kind === 'capacity-added');
    let compared = 0;
    for (const a of added) {
      // A saturation came first.
      assert.ok(
        run.events.some((e) => e.hostId === a.hostId && e.kind === 'cpu' && e.startMs < a.t),
        `${a.hostId}: capacity added after a saturation`,
      );
      const i = run.fleet.hosts.findIndex((h) => h.hostId === a.hostId);
      const readings = run.readings[i]!;
      const k = readings.findIndex((r) => r.t === a.t);
      const overload = run.incidents.some(
        (x) =>
          x.hostId === a.hostId &&
          (x.kind === 'campaign' || x.kind === 'flash-crowd') &&
          Math.abs(x.t - a.t) < 3 * DAY_MS,
      );
      if (k < 96 || k + 96 > readings.length || overload) continue;
      // Two days' peak demand after against two days' before.
      compared++;
      const peak = (from: number, to: number) =>
        Math.max(...readings.slice(from, to).map((r) => r.cpuDemand));
      const ratio = peak(k, k + 96) / peak(k - 96, k);
      assert.ok(ratio < 0.9, `${a.hostId}: peak demand ${ratio} of before`);
    }
    assert.ok(compared > 0, `${added.length} capacity additions`);
  });

  it('memory leak: memory climbs through a run, then drops at the restart; some runs end before exhaustion, some after', () => {
    const run = runFleet({ hosts: 16, seed: 3, days: 14, intervalSeconds: 300, profiles: ['api'] });
    const hosts = carriers(run, 'memory-leak');
    const endings = new Set<string>();
    let runs = 0;
    let climbing = 0;
    for (const { host, params, readings } of hosts) {
      const restarts = incidentsOf(run, host, 'memory-leak', 'restart');
      // The first run was joined half-way; the others start at a restart.
      for (const [n, restart] of restarts.entries()) {
        endings.add(String(restart.detail.exhausted));
        const k = readings.findIndex((r) => r.t === restart.t);
        const before = readings[k - 1]!.memoryUtilization;
        const after = readings[k]!.memoryUtilization;
        const leakedShare = (Number(restart.detail.leakedGiB) * 2 ** 30) / host.shape.memoryBytes;
        assert.ok(before - after > leakedShare / 2, `${host.hostId}: restart frees the leak`);
        const hours = Number(restart.detail.runHours);
        if (n === 0 || hours < 8) continue;
        // The leak grows at the drawn rate (faster when busy, slower at night: about the mean over a run).
        const rate = leakedShare / hours / Number(params.leakSharePerHour);
        assert.ok(rate > 0.4 && rate < 1.6, `${host.hostId}: leak rate ${rate} of the drawn one`);
        // And the host's memory climbs over the run, daily traffic swings and all.
        const from = readings.findIndex((r) => r.t === restarts[n - 1]!.t);
        const runReadings = readings.slice(from + 3, k).filter((r) => r.memoryUtilization < 0.95);
        runs++;
        if (slope(runReadings.map((r) => [r.t, r.memoryUtilization])) > 0) climbing++;
      }
    }
    assert.ok(runs >= 10, `checked ${runs} runs`);
    assert.ok(climbing >= 0.9 * runs, `${climbing} of ${runs} runs climb`);
    assert.deepEqual(endings, new Set(['true', 'false']));
    assert.ok(run.events.some((e) => e.kind === 'memory' && e.cause === 'memory-leak'));
  });

  it('memory leak: swap fills as memory pressure builds, except where swappiness is turned down', () => {
    const run = runFleet({
      hosts: 30,
      seed: 17,
      days: 14,
      intervalSeconds: 300,
      profiles: ['api', 'worker'],
    });
    let eager = 0;
    let heralded = 0;
    let reluctant = 0;
    for (const e of run.events.filter((x) => x.kind === 'swap')) {
      const i = run.fleet.hosts.findIndex((h) => h.hostId === e.hostId);
      const { swapOutShare, swapBaselineFraction } = run.fleet.hosts[i]!.shape;
      const readings = run.readings[i]!;
      const k = readings.findIndex((r) => r.t === e.startMs);
      if (k < 12) continue;
      if (swapOutShare >= 0.15) {
        // Half an hour before, swap is well above its idle pages and climbing, while RAM still has room.
        eager++;
        const [hourBefore, halfHourBefore] = [readings[k - 12]!, readings[k - 6]!];
        if (
          halfHourBefore.swapUtilization > swapBaselineFraction + 0.1 &&
          halfHourBefore.swapUtilization > hourBefore.swapUtilization &&
          halfHourBefore.memoryUtilization < 0.95
        )
          heralded++;
      } else {
        // Low swappiness: swap leaves its idle level only once RAM is all but full.
        reluctant++;
        let j = k;
        while (j > 0 && readings[j]!.swapUtilization > swapBaselineFraction + 0.1) j--;
        assert.ok(readings[j]!.memoryUtilization > SWAP_PRESSURE_FROM + 0.15, `${e.hostId}: swapped late`);
      }
    }
    assert.ok(eager >= 20 && heralded >= 0.85 * eager, `${heralded} of ${eager} swap events heralded`);
    assert.ok(reluctant > 0, 'some hosts swap only at the last moment');
  });

  it('log rotation: a sawtooth dropping once a day at the rotation hour, that fools a linear forecast', () => {
    const run = runFleet({ hosts: 20, seed: 8, days: 14, intervalSeconds: 600, profiles: ['web'] });
    const hosts = carriers(run, 'log-rotation');
    let falseAlarms = 0;
    for (const { host, params, readings } of hosts) {
      const fs = fsIndex(host, params.mountpoint);
      const usable = (r: HostReading) => r.filesystems[fs]!.usedBytes + r.filesystems[fs]!.freeBytes;
      const drops = readings.flatMap((r, k) => {
        if (k === 0) return [];
        const fall = readings[k - 1]!.filesystems[fs]!.usedBytes - r.filesystems[fs]!.usedBytes;
        return fall > 0.02 * usable(r) ? [r] : [];
      });
      const failed = incidentsOf(run, host, 'log-rotation', 'rotation-failed').length;
      const cleanups = incidentsOf(run, host, 'log-rotation', 'cleanup').length;
      assert.ok(drops.length >= 13 - failed - 1, `${host.hostId}: ${drops.length} drops, ${failed} failures`);
      assert.ok(drops.length <= 14 + cleanups, `${host.hostId}: ${drops.length} drops`);
      for (const d of drops) {
        const hour = localTime(d.t, host.shape.utcOffsetHours).hour;
        const cleanup = run.incidents.some(
          (x) => x.hostId === host.hostId && x.t === d.t && x.kind === 'cleanup',
        );
        if (!cleanup)
          assert.ok(
            circularHourDistance(hour, Number(params.rotationHour)) < 0.25,
            `${host.hostId}: drop at ${hour}`,
          );
      }
      falseAlarms += predictLinearFalseAlarms(readings.map((r) => [r.t, r.filesystems[fs]!.utilization]));
    }
    assert.ok(falseAlarms > 0, 'predict_linear over 6 h sees the disk full within 6 h where it never fills');
  });

  it('log rotation: a failed rotation fills the disk until an operator cleans up or rotation works again', () => {
    const run = runFleet({ hosts: 30, seed: 2, days: 30, intervalSeconds: 900, profiles: ['web'] });
    const events = run.events.filter((e) => e.kind === 'filesystem' && e.cause === 'log-rotation');
    assert.ok(events.length > 0);
    for (const e of events) {
      const failures = run.incidents.filter(
        (x) => x.hostId === e.hostId && x.workload === 'log-rotation' && x.t <= e.startMs,
      );
      const lastFailure = failures
        .filter((x) => x.kind === 'rotation-failed' || x.kind === 'verbose-logging')
        .at(-1);
      assert.ok(lastFailure, `${e.hostId}: a failed rotation or verbose logging precedes the full disk`);
      if (e.endMs !== null) {
        // It ends when space is freed: a rotation (a working one, or one that recovers) or the operator's cleanup.
        const i = run.fleet.hosts.findIndex((h) => h.hostId === e.hostId);
        const k = run.readings[i]!.findIndex((r) => r.t === e.endMs);
        const [before, after] = [run.readings[i]![k - 1]!, run.readings[i]![k]!].map((r) =>
          r.filesystems.find((f) => f.shape.mountpoint === e.mountpoint)!,
        );
        assert.ok(before!.usedBytes - after!.usedBytes > 0.01 * (after!.usedBytes + after!.freeBytes));
      }
    }
  });

  it('batch bursts: nightly jobs climb to saturation on heavy nights; hourly cron bursts never count', () => {
    const run = runFleet({ hosts: 12, seed: 4, days: 10, intervalSeconds: 60, profiles: ['batch'] });
    const hosts = carriers(run, 'batch-bursts');
    const cpuEvents = run.events.filter((e) => e.kind === 'cpu');
    assert.ok(cpuEvents.length > 0);
    let shortBursts = 0;
    const leads: number[] = [];
    for (const { host, readings } of hosts) {
      for (const e of cpuEvents.filter((x) => x.hostId === host.hostId)) {
        assert.equal(e.cause, 'batch-bursts');
        const hour = localTime(e.startMs, host.shape.utcOffsetHours).hour;
        const job = incidentsOf(run, host, 'batch-bursts', 'nightly-job').find(
          (x) => x.t <= e.startMs && e.startMs < x.t + Number(x.detail.minutes) * MINUTE_MS,
        );
        assert.ok(job, `${host.hostId}: CPU event at ${hour.toFixed(1)} h falls in a nightly job`);
        // The job climbs for minutes before it saturates, and the series shows it.
        const lead = (e.startMs - job.t) / MINUTE_MS;
        const k = readings.findIndex((r) => r.t === e.startMs);
        const j = readings.findIndex((r) => r.t === job.t);
        if (job.detail.backfill === true) continue;
        leads.push(lead);
        assert.ok(lead >= 8, `${host.hostId}: saturated ${lead} min into the job`);
        assert.ok(readings[k - 5]!.cpuUtilization - readings[j - 2]!.cpuUtilization > 0.3);
      }
      // Runs over 90 % shorter than five minutes: bursts the sustain rule leaves out.
      let run_ = 0;
      for (const r of readings) {
        if (r.cpuUtilization >= 0.9) run_++;
        else {
          if (run_ > 0 && run_ < 5) shortBursts++;
          run_ = 0;
        }
      }
    }
    assert.ok(shortBursts > 0, 'some bursts cross 90 % without lasting');
    assert.ok(leads.length >= 5 && mean(leads) >= 15, `saturation ${mean(leads)} min into the job`);
  });

  it("batch bursts: tonight's job looks like last night's and last week's; backfills are rare", () => {
    const run = runFleet({ hosts: 16, seed: 5, days: 42, intervalSeconds: 300, profiles: ['batch'] });
    const lag1: Array<[number, number]> = [];
    const lag7: Array<[number, number]> = [];
    const steps: number[] = [];
    let nights = 0;
    let backfills = 0;
    for (const { host } of carriers(run, 'batch-bursts')) {
      // Log-volume by local day, backfills left out; centred per host.
      const byDay = new Map<number, number>();
      for (const job of incidentsOf(run, host, 'batch-bursts', 'nightly-job')) {
        nights++;
        if (job.detail.backfill === true) backfills++;
        else byDay.set(localTime(job.t, host.shape.utcOffsetHours).day, Math.log(Number(job.detail.volume)));
      }
      const m = mean([...byDay.values()]);
      for (const [day, v] of byDay) {
        const next = byDay.get(day + 1);
        const week = byDay.get(day + 7);
        if (next !== undefined) {
          lag1.push([v - m, next - m]);
          steps.push(Math.abs(next - v));
        }
        if (week !== undefined) lag7.push([v - m, week - m]);
      }
    }
    assert.ok(lag1.length > 400 && lag7.length > 300);
    // Independent nightly draws would correlate at about 0.
    assert.ok(correlation(lag1) > 0.25, `night to night: ${correlation(lag1)}`);
    assert.ok(correlation(lag7) > 0.35, `week to week: ${correlation(lag7)}`);
    steps.sort((a, b) => a - b);
    assert.ok(steps[Math.floor(steps.length / 2)]! < 0.15, 'modest changes from night to night');
    assert.ok(Math.abs(backfills / nights - BACKFILL_CHANCE) < 0.015, `${backfills} backfills in ${nights}`);
    // Owners who see their job saturate the host night after night give it more room.
    const tuned = run.incidents.filter((x) => x.kind === 'job-tuned');
    assert.ok(tuned.length > 0);
    for (const t of tuned) {
      const jobs = run.incidents.filter(
        (x) => x.hostId === t.hostId && x.kind === 'nightly-job' && x.detail.backfill === false,
      );
      const perVolume = (x: (typeof jobs)[number]) => Number(x.detail.cpu) / Number(x.detail.volume);
      const before = jobs.filter((x) => x.t < t.t).at(-1);
      const after = jobs.find((x) => x.t > t.t);
      if (before && after && Number(before.detail.cpu) < 1.6) {
        assert.ok(perVolume(after) < 0.9 * perVolume(before), `${t.hostId}: job CPU per volume drops`);
      }
    }
  });

  it('slow disk fill: the data volume climbs by a small share a day, over days', () => {
    const run = runFleet({ hosts: 10, seed: 6, days: 21, intervalSeconds: 1800, profiles: ['database'] });
    const hosts = carriers(run, 'slow-disk-fill');
    assert.ok(hosts.length >= 8);
    for (const { host, params, readings } of hosts) {
      const fs = fsIndex(host, params.mountpoint);
      const actions = run.incidents.filter(
        (x) => x.hostId === host.hostId && (x.kind === 'volume-expanded' || x.kind === 'data-purged'),
      );
      const day = 48;
      for (let d = 1; d < readings.length / day; d++) {
        const [from, to] = [readings[(d - 1) * day]!, readings[Math.min(readings.length - 1, d * day)]!];
        if (actions.some((a) => a.t > from.t && a.t <= to.t)) continue;
        const growth = to.filesystems[fs]!.utilization - from.filesystems[fs]!.utilization;
        if (to.filesystems[fs]!.utilization > 0.999) continue;
        assert.ok(growth < 0.15, `${host.hostId}: day ${d} grew ${growth}`);
      }
      const first = readings[0]!.filesystems[fs]!.utilization;
      const week = readings[7 * day]!.filesystems[fs]!.utilization;
      if (actions.every((a) => a.t > readings[7 * day]!.t)) assert.ok(week > first, `${host.hostId}: fills`);
    }
  });

  it('slow disk fill: over months, some fills are caught in time and some cross 95 %', () => {
    const run = runFleet({ hosts: 20, seed: 16, days: 90, intervalSeconds: 3600, profiles: ['database'] });
    const actions = run.incidents.filter((x) => x.kind === 'volume-expanded' || x.kind === 'data-purged');
    assert.ok(
      actions.some((x) => x.detail.late === false),
      'an operator acts before the disk is full',
    );
    assert.ok(
      actions.some((x) => x.detail.late === true),
      'and sometimes only after the page',
    );
    const events = run.events.filter((e) => e.kind === 'filesystem');
    assert.ok(
      events.length > 0 && events.every((e) => e.cause === 'slow-disk-fill' && e.mountpoint === '/data'),
    );
  });

  it('noisy idle: a month without coming near any threshold', () => {
    const run = runFleet({ hosts: 25, seed: 12, days: 30, intervalSeconds: 300, profiles: ['idle'] });
    assert.deepEqual(run.events, []);
    for (const readings of run.readings) {
      for (const r of readings) {
        assert.ok(r.cpuUtilization < 0.6);
        assert.ok(r.memoryUtilization < 0.7);
        assert.ok(!(r.swapUtilization >= 0.5));
        assert.ok(r.fdsUtilization < 0.2);
        for (const fs of r.filesystems) assert.ok(fs.utilization < 0.8 && fs.inodesUtilization < 0.5);
      }
    }
  });

  it('weekly pattern: weekday business hours busy, weekends quiet, scheduled reports heaviest on Mondays', () => {
    const run = runFleet({ hosts: 10, seed: 13, days: 42, intervalSeconds: 600, profiles: ['office'] });
    const hosts = carriers(run, 'weekly-pattern');
    let reports = 0;
    let adhoc = 0;
    let mondays = 0;
    for (const { host, params, readings } of hosts) {
      const weekday = byLocalHour(host, readings, (r) => r.cpuUtilization);
      const weekend = byLocalHour(host, readings, (r) => r.cpuUtilization, false);
      const office = (h: number[]) => mean(h.slice(10, 16));
      assert.ok(
        office(weekday) > 2 * office(weekend),
        `${host.hostId}: ${office(weekday)} vs ${office(weekend)}`,
      );
      const runs = incidentsOf(run, host, 'weekly-pattern', 'report-run');
      const optimised = incidentsOf(run, host, 'weekly-pattern', 'report-optimised');
      let lastWeekly: (typeof runs)[number] | undefined;
      for (const x of runs) {
        reports++;
        const local = localTime(x.t, host.shape.utcOffsetHours);
        assert.ok(local.dayOfWeek >= 1 && local.dayOfWeek <= 5, 'reports run on weekdays');
        if (x.detail.kind === 'adhoc') {
          adhoc++;
          continue;
        }
        // Scheduled: at the host's report hour, the weekly one on Mondays.
        assert.ok(
          circularHourDistance(local.hour, Number(params.reportHour)) < 0.25,
          `${host.hostId}: report at ${local.hour}`,
        );
        assert.equal(x.detail.kind, local.dayOfWeek === 1 ? 'weekly' : 'daily');
        if (x.detail.kind === 'daily' && lastWeekly && x.t - lastWeekly.t < 5 * DAY_MS) {
          assert.ok(
            Number(x.detail.cpu) < Number(lastWeekly.detail.cpu),
            `${host.hostId}: Monday's is the heavy one`,
          );
        }
        if (x.detail.kind !== 'weekly') continue;
        // Next to last week's: the data changed a little, unless the report was optimised in between.
        const prev = lastWeekly;
        lastWeekly = x;
        if (!prev || x.t - prev.t > 8 * DAY_MS || optimised.some((o) => o.t > prev.t && o.t < x.t)) continue;
        mondays++;
        const ratio = Number(x.detail.cpu) / Number(prev.detail.cpu);
        assert.ok(ratio > 0.6 && ratio < 1.6, `${host.hostId}: Monday report ${ratio} of last week's`);
      }
    }
    assert.ok(mondays >= 20, `${mondays} Monday pairs`);
    assert.ok(adhoc > 0 && adhoc < 0.06 * reports, `${adhoc} ad-hoc reports of ${reports}`);
  });

  it('inode exhaustion: inodes run out while space is still free', () => {
    const run = runFleet({ hosts: 20, seed: 14, days: 30, intervalSeconds: 900, profiles: ['spool'] });
    const events = run.events.filter((e) => e.kind === 'inodes');
    assert.ok(events.length > 0);
    for (const e of events) {
      assert.equal(e.cause, 'inode-exhaustion');
      assert.equal(e.mountpoint, '/var/spool');
      const i = run.fleet.hosts.findIndex((h) => h.hostId === e.hostId);
      const at = run.readings[i]!.find((r) => r.t === e.startMs)!;
      const fs = at.filesystems.find((f) => f.shape.mountpoint === e.mountpoint)!;
      assert.ok(fs.utilization < 0.9, `space ${fs.utilization} while inodes ${fs.inodesUtilization}`);
    }
    assert.ok(!run.events.some((e) => e.kind === 'filesystem' && e.mountpoint === '/var/spool'));
  });

  it('fd leak: descriptors climb and reset at each restart; some runs exhaust the table', () => {
    const run = runFleet({ hosts: 10, seed: 15, days: 10, intervalSeconds: 300, profiles: ['worker'] });
    const hosts = carriers(run, 'fd-leak');
    let resets = 0;
    for (const { host, readings } of hosts) {
      for (const restart of incidentsOf(run, host, 'fd-leak', 'restart')) {
        const k = readings.findIndex((r) => r.t === restart.t);
        if (k < 1 || Number(restart.detail.runHours) < 2) continue;
        assert.ok(readings[k]!.fdsUtilization < readings[k - 1]!.fdsUtilization, `${host.hostId}: reset`);
        resets++;
      }
    }
    assert.ok(resets >= 5);
    const events = run.events.filter((e) => e.kind === 'fds');
    assert.ok(events.length > 0 && events.every((e) => e.cause === 'fd-leak'));
  });
});

/** Slope and mean point of a least-squares line through the points. */
function fit(points: ReadonlyArray<readonly [number, number]>): { slope: number; mx: number; my: number } {
  const mx = mean(points.map(([x]) => x));
  const my = mean(points.map(([, y]) => y));
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return { slope: den === 0 ? 0 : num / den, mx, my };
}

function slope(points: ReadonlyArray<readonly [number, number]>): number {
  return fit(points).slope;
}

/** Pearson correlation of the pairs. */
function correlation(pairs: ReadonlyArray<readonly [number, number]>): number {
  const mx = mean(pairs.map(([x]) => x));
  const my = mean(pairs.map(([, y]) => y));
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (const [x, y] of pairs) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
    syy += (y - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/**
 * Sample times where Prometheus' `predict_linear(…[6h], 6h)` on utilisation
 * says ≥ 95 % while the series stays under 95 % for the next six hours.
 * The points are on a regular grid.
 */
function predictLinearFalseAlarms(points: ReadonlyArray<readonly [number, number]>): number {
  const window = 6 * HOUR_MS;
  const step = points[1]![0] - points[0]![0];
  const n = Math.round(window / step);
  let alarms = 0;
  for (let k = n; k + n < points.length; k++) {
    const t = points[k]![0];
    const { slope: b, mx, my } = fit(points.slice(k - n + 1, k + 1));
    const predicted = my + b * (t + window - mx);
    if (predicted >= 0.95 && points.slice(k + 1, k + n + 1).every(([, v]) => v < 0.95)) alarms++;
  }
  return alarms;
}
