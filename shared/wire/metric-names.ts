/**
 * Metric names, units and attribute keys, after OpenTelemetry's host-metrics
 * semantic conventions. Units use UCUM as OTel does: `1` for a 0..1 ratio,
 * `By` for bytes, `{thread}` / `{cpu}` for counts.
 */
export const METRIC = {
  cpuUtilization: { name: 'system.cpu.utilization', unit: '1' },
  cpuLogicalCount: { name: 'system.cpu.logical.count', unit: '{cpu}' },
  cpuLoad1m: { name: 'system.cpu.load_average.1m', unit: '{thread}' },
  cpuLoad5m: { name: 'system.cpu.load_average.5m', unit: '{thread}' },
  cpuLoad15m: { name: 'system.cpu.load_average.15m', unit: '{thread}' },
  memoryUsage: { name: 'system.memory.usage', unit: 'By' },
  memoryLimit: { name: 'system.memory.limit', unit: 'By' },
  memoryUtilization: { name: 'system.memory.utilization', unit: '1' },
  pagingUsage: { name: 'system.paging.usage', unit: 'By' },
  pagingUtilization: { name: 'system.paging.utilization', unit: '1' },
  filesystemUsage: { name: 'system.filesystem.usage', unit: 'By' },
  filesystemLimit: { name: 'system.filesystem.limit', unit: 'By' },
  filesystemUtilization: { name: 'system.filesystem.utilization', unit: '1' },
  /** Used ÷ total inodes, per mountpoint (attributes as filesystem utilisation). Linux only. */
  filesystemInodesUtilization: { name: 'system.filesystem.inodes.utilization', unit: '1' },
  /** Allocated ÷ maximum open files system-wide (`/proc/sys/fs/file-nr`). Linux only. */
  fileDescriptorUtilization: { name: 'system.linux.file_descriptor.utilization', unit: '1' },
  /**
   * Pressure-stall information (`/proc/pressure/*`), the kernel's avg10 and
   * avg60 as a 0..1 share of wall time (the kernel's percent ÷ 100), with
   * `ATTR.pressureResource` and `ATTR.pressureScope`. Linux with PSI only.
   */
  pressureAvg10: { name: 'system.linux.pressure.avg10', unit: '1' },
  pressureAvg60: { name: 'system.linux.pressure.avg60', unit: '1' },
  networkIo: { name: 'system.network.io', unit: 'By' },
  /**
   * The host's local-time offset from UTC, seconds east (as node_exporter's
   * `node_time_zone_offset_seconds`), sent with every sample: the calendar
   * features are in the host's local time.
   */
  timeZoneOffset: { name: 'system.time_zone.offset', unit: 's' },
} as const;

export const ATTR = {
  memoryState: 'system.memory.state',
  pagingState: 'system.paging.state',
  device: 'system.device',
  mountpoint: 'system.filesystem.mountpoint',
  fsType: 'system.filesystem.type',
  fsState: 'system.filesystem.state',
  interface: 'network.interface.name',
  direction: 'network.io.direction',
  /** PSI resource: `cpu`, `memory`, `io`. */
  pressureResource: 'system.linux.pressure.resource',
  /** PSI scope: `some` (at least one task stalled) or `full` (all non-idle tasks stalled). */
  pressureScope: 'system.linux.pressure.scope',
} as const;
