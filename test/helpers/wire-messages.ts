/**
 * Wire messages as an agent publishes them, for tests that play a host
 * with a plain MQTT client.
 */
import type { MetricPoint } from '../../shared/wire/telemetry.js';

/** A telemetry message of `hostId` numbered `seq`, stamped now; by default one CPU reading. */
export function telemetryJson(
  hostId: string,
  seq: number,
  metrics: MetricPoint[] = [{ name: 'system.cpu.utilization', unit: '1', value: 0.25 }],
): string {
  return JSON.stringify({
    schemaVersion: 1,
    hostId,
    seq,
    timestamp: Date.now(),
    intervalSeconds: 10,
    metrics,
  });
}
