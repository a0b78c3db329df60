/**
 * A host reading as the metric points a real agent publishes: the same
 * OTel names, units, attributes and order as agent/collectors/host-metrics.ts
 * (memory pressure stalls before the time zone, which the agent adds last),
 * plus the inode and descriptor utilisations the agent defines but does not
 * collect yet.
 */
import { ATTR, METRIC } from '../../shared/wire/metric-names.js';
import type { MetricPoint } from '../../shared/wire/telemetry.js';
import type { HostReading } from './host-reading.js';
import type { HostShape } from './host-shape.js';

type Attributes = Readonly<Record<string, string>>;

interface FilesystemAttributes {
  base: Attributes;
  used: Attributes;
  free: Attributes;
  reserved: Attributes;
}

const MEMORY_USED: Attributes = { [ATTR.memoryState]: 'used' };
const MEMORY_FREE: Attributes = { [ATTR.memoryState]: 'free' };
const MEMORY_CACHED: Attributes = { [ATTR.memoryState]: 'cached' };
const PAGING_USED: Attributes = { [ATTR.pagingState]: 'used' };
const PAGING_FREE: Attributes = { [ATTR.pagingState]: 'free' };
const MEMORY_PRESSURE_SOME: Attributes = { [ATTR.pressureResource]: 'memory', [ATTR.pressureScope]: 'some' };
const MEMORY_PRESSURE_FULL: Attributes = { [ATTR.pressureResource]: 'memory', [ATTR.pressureScope]: 'full' };

/**
 * The points of one host. Attribute sets never change for a host, so they
 * are built once and shared by every message (history mode makes millions of
 * points; building them per point was most of the simulator's time).
 */
export class TelemetryLayout {
  private readonly filesystems: FilesystemAttributes[];
  private readonly receive: Attributes;
  private readonly transmit: Attributes;

  constructor(private readonly shape: HostShape) {
    this.filesystems = shape.filesystems.map((fs) => {
      const base = { [ATTR.device]: fs.device, [ATTR.mountpoint]: fs.mountpoint, [ATTR.fsType]: fs.type };
      return {
        base,
        used: { ...base, [ATTR.fsState]: 'used' },
        free: { ...base, [ATTR.fsState]: 'free' },
        reserved: { ...base, [ATTR.fsState]: 'reserved' },
      };
    });
    this.receive = { [ATTR.interface]: shape.networkInterface, [ATTR.direction]: 'receive' };
    this.transmit = { [ATTR.interface]: shape.networkInterface, [ATTR.direction]: 'transmit' };
  }

  points(reading: HostReading): MetricPoint[] {
    const points: MetricPoint[] = [];
    const add = (m: { name: string; unit: string }, value: number, attributes?: Attributes) => {
      if (!Number.isFinite(value)) return;
      points.push(
        attributes
          ? { name: m.name, unit: m.unit, value, attributes }
          : { name: m.name, unit: m.unit, value },
      );
    };

    add(METRIC.cpuUtilization, reading.cpuUtilization);
    add(METRIC.cpuLogicalCount, this.shape.cpus);
    add(METRIC.cpuLoad1m, reading.load1m);
    add(METRIC.cpuLoad5m, reading.load5m);
    add(METRIC.cpuLoad15m, reading.load15m);

    add(METRIC.memoryLimit, reading.memoryTotal);
    add(METRIC.memoryUsage, reading.memoryUsed, MEMORY_USED);
    add(METRIC.memoryUsage, reading.memoryFree, MEMORY_FREE);
    add(METRIC.memoryUsage, reading.memoryCached, MEMORY_CACHED);
    add(METRIC.memoryUtilization, reading.memoryUtilization, MEMORY_USED);

    add(METRIC.pagingUsage, reading.swapUsed, PAGING_USED);
    add(METRIC.pagingUsage, reading.swapTotal - reading.swapUsed, PAGING_FREE);
    // As on a real host: no swap, no paging utilisation.
    if (reading.swapTotal > 0) add(METRIC.pagingUtilization, reading.swapUtilization, PAGING_USED);

    reading.filesystems.forEach((fs, i) => {
      const attributes = this.filesystems[i]!;
      add(METRIC.filesystemLimit, fs.sizeBytes, attributes.base);
      add(METRIC.filesystemUsage, fs.usedBytes, attributes.used);
      add(METRIC.filesystemUsage, fs.freeBytes, attributes.free);
      add(METRIC.filesystemUsage, fs.reservedBytes, attributes.reserved);
      add(METRIC.filesystemUtilization, fs.utilization, attributes.base);
      add(METRIC.filesystemInodesUtilization, fs.inodesUtilization, attributes.base);
    });

    add(METRIC.fileDescriptorUtilization, reading.fdsUtilization);
    add(METRIC.networkIo, reading.networkReceiveBytes, this.receive);
    add(METRIC.networkIo, reading.networkTransmitBytes, this.transmit);
    // Memory pressure stalls, as a Linux host with PSI reports them (cpu and io pressure are not simulated).
    add(METRIC.pressureAvg10, reading.memoryPressure.someAvg10, MEMORY_PRESSURE_SOME);
    add(METRIC.pressureAvg60, reading.memoryPressure.someAvg60, MEMORY_PRESSURE_SOME);
    add(METRIC.pressureAvg10, reading.memoryPressure.fullAvg10, MEMORY_PRESSURE_FULL);
    add(METRIC.pressureAvg60, reading.memoryPressure.fullAvg60, MEMORY_PRESSURE_FULL);
    add(METRIC.timeZoneOffset, this.shape.utcOffsetHours * 3600);
    return points;
  }
}
