/**
 * Progress for long-running commands: on a terminal one line redrawn in place
 * with a percentage and an ETA; otherwise (CI, pipes, journald) plain lines.
 */
export class ProgressLine {
  private drawn = false;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  private get tty(): boolean {
    return this.stream.isTTY === true;
  }

  /** A line that stays. */
  log(line: string): void {
    this.clear();
    this.stream.write(`${line}\n`);
  }

  /** Progress at `fraction` (0..1) of work that began at `startedAt` (ms since epoch). */
  update(line: string, fraction: number, startedAt: number): void {
    const elapsed = Date.now() - startedAt;
    const eta =
      fraction > 0 && fraction < 1 ? ` ETA ${formatDuration((elapsed / fraction) * (1 - fraction))}` : '';
    const text = `[${(fraction * 100).toFixed(0).padStart(3)}%] ${line}${eta}`;
    if (!this.tty) {
      this.stream.write(`${text}\n`);
      return;
    }
    this.stream.write(`\r\x1b[2K${text.slice(0, (this.stream.columns || 120) - 1)}`);
    this.drawn = true;
  }

  done(): void {
    this.clear();
  }

  private clear(): void {
    if (this.drawn) this.stream.write('\r\x1b[2K');
    this.drawn = false;
  }
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
