/**
 * `/proc/net/dev`: byte counters per network interface since it came up,
 * for the network namespace of the reading process.
 */

export interface InterfaceCounters {
  readonly name: string;
  readonly receiveBytes: number;
  readonly transmitBytes: number;
}

/**
 * One entry per interface. After two header lines, each line is
 * `name: rx_bytes rx_packets rx_errs rx_drop rx_fifo rx_frame rx_compressed
 * rx_multicast tx_bytes …` (a wide counter may touch the colon).
 */
export function parseNetDev(text: string): InterfaceCounters[] {
  const interfaces: InterfaceCounters[] = [];
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0 || line.includes('|')) continue;
    const name = line.slice(0, colon).trim();
    const fields = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    const receiveBytes = fields[0];
    const transmitBytes = fields[8];
    if (!name || receiveBytes === undefined || transmitBytes === undefined) continue;
    if (!Number.isFinite(receiveBytes) || !Number.isFinite(transmitBytes)) continue;
    interfaces.push({ name, receiveBytes, transmitBytes });
  }
  return interfaces;
}
