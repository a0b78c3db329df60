/**
 * Prometheus metrics whose value lives in a component and is read when
 * scraped, for the agent's and the aggregator's own `/metrics`: the
 * component keeps plain numbers, the registry asks for them.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

/** A counter whose value is read from a component at scrape time (the component's count only grows). */
export function sampledCounter(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

/** A gauge whose value is read from a component at scrape time. */
export function sampledGauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}
