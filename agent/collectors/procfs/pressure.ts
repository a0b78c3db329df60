/**
 * `/proc/pressure/{cpu,memory,io}`: pressure-stall information (Linux 4.20+
 * with CONFIG_PSI, not disabled by `psi=0`). Each line is one scope:
 *
 *     some avg10=1.10 avg60=0.36 avg300=0.12 total=20332682
 *     full avg10=0.12 avg60=0.04 avg300=0.00 total=13746879
 *
 * The averages are percentages of wall time over 10 s, 60 s and 300 s.
 */

export const PRESSURE_SCOPES = ['some', 'full'] as const;
export type PressureScope = (typeof PRESSURE_SCOPES)[number];

export interface PressureAverages {
  /** Share of the last 10 s that tasks were stalled, 0..1 (the kernel's percent ÷ 100). */
  readonly avg10: number;
  /** The same over the last 60 s. */
  readonly avg60: number;
}

/** The scopes present in one pressure file; a malformed line is left out. */
export function parsePressure(text: string): Partial<Record<PressureScope, PressureAverages>> {
  const scopes: Partial<Record<PressureScope, PressureAverages>> = {};
  for (const line of text.split('\n')) {
    const [scope, ...pairs] = line.trim().split(/\s+/);
    if (scope !== 'some' && scope !== 'full') continue;
    const fields = new Map(pairs.map((pair) => pair.split('=') as [string, string | undefined]));
    const avg10 = Number(fields.get('avg10'));
    const avg60 = Number(fields.get('avg60'));
    if (!isPercent(avg10) || !isPercent(avg60)) continue;
    scopes[scope] = { avg10: ratioOfPercent(avg10), avg60: ratioOfPercent(avg60) };
  }
  return scopes;
}

/** 13.95 → 0.1395: the kernel prints two decimals, so four are exact (13.95 / 100 is 0.13949999…). */
function ratioOfPercent(percent: number): number {
  return Math.round(percent * 100) / 10_000;
}

function isPercent(x: number): boolean {
  return x >= 0 && x <= 100;
}
