/**
 * The models the agent scores with: one per resource kind, or per resource
 * id where one was trained for exactly that resource (the id beats its
 * kind, as in the aggregator's catalog). `setModel` swaps a model while
 * scoring may be running: new scoring takes the new model at once, and the
 * old one's native session is released only after the scoring that holds it
 * has finished.
 */
import type { ForecastModel } from '../../shared/inference/forecast-model.js';
import type { ResourceKind } from '../../shared/resources/resource-id.js';
import type { ModelRef } from '../../shared/wire/predictions.js';
import type { BandScorer } from './on-demand-band.js';

/**
 * A loaded forecast with its optional time-to-exhaustion band and where it
 * came from. The band's sessions are created when it is first scored
 * (on-demand-band.ts).
 */
export interface ServingModel {
  readonly forecast: ForecastModel;
  readonly band: BandScorer | undefined;
  readonly ref: ModelRef;
}

export interface ModelLease {
  readonly model: ServingModel;
  /** Ends the hold; safe to call twice. */
  release(): void;
}

interface Slot {
  readonly model: ServingModel;
  /** Scoring calls holding the model. */
  users: number;
  /** Set once the slot was replaced and waits for its users to finish. */
  onIdle: (() => void) | undefined;
}

export class ModelSet {
  private readonly slots = new Map<string, Slot>();
  private closed = false;

  /**
   * The model for a resource (its own, else its kind's), held until
   * `release` is called so a swap cannot free it mid-scoring; undefined
   * when there is none.
   */
  acquire(resourceId: string, kind: ResourceKind): ModelLease | undefined {
    const slot = this.slots.get(resourceId) ?? this.slots.get(kind);
    if (!slot) return undefined;
    slot.users++;
    let released = false;
    return {
      model: slot.model,
      release: () => {
        if (released) return;
        released = true;
        slot.users--;
        if (slot.users === 0) slot.onIdle?.();
      },
    };
  }

  /** Kinds and resource ids that have a model. */
  keys(): string[] {
    return [...this.slots.keys()];
  }

  /** The current model of `key` (a kind or a resource id, no fallback), without holding it. */
  current(key: string): ServingModel | undefined {
    return this.slots.get(key)?.model;
  }

  /** Where each key's current model came from, by key: what the agent reports in its status. */
  refs(): Record<string, ModelRef> {
    return Object.fromEntries([...this.slots].map(([key, slot]) => [key, slot.model.ref]));
  }

  /**
   * Like `setModel`, but the replaced model is not released: it is handed
   * back once no scoring holds it any more, and the caller owns it (to put
   * it back with `setModel`, or release it). After `close`, `model` is
   * released at once and nothing is handed back.
   */
  async replace(key: string, model: ServingModel | undefined): Promise<ServingModel | undefined> {
    if (this.closed) {
      if (model) await release(model);
      return undefined;
    }
    const old = this.slots.get(key);
    if (model) this.slots.set(key, { model, users: 0, onIdle: undefined });
    else this.slots.delete(key);
    if (!old || old.model === model) return undefined;
    if (old.users > 0) await new Promise<void>((resolve) => (old.onIdle = resolve));
    return old.model;
  }

  /**
   * Makes `model` current for `key` (a resource kind or a canonical
   * resource id), or removes the key's model when `model` is undefined.
   * Resolves once the replaced model is released. After `close`, the new
   * model is released at once.
   */
  async setModel(key: string, model: ServingModel | undefined): Promise<void> {
    if (this.closed) {
      if (model) await release(model);
      return;
    }
    const old = this.slots.get(key);
    if (model) this.slots.set(key, { model, users: 0, onIdle: undefined });
    else this.slots.delete(key);
    if (old && old.model !== model) await retire(old);
  }

  /** Releases every model once no scoring holds it. Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    const slots = [...this.slots.values()];
    this.slots.clear();
    await Promise.all(slots.map(retire));
  }
}

async function retire(slot: Slot): Promise<void> {
  if (slot.users > 0) await new Promise<void>((resolve) => (slot.onIdle = resolve));
  await release(slot.model);
}

/** Frees a model's native sessions (one the caller owns, e.g. from `ModelSet.replace`). */
export async function releaseServingModel(model: ServingModel): Promise<void> {
  await release(model);
}

async function release(model: ServingModel): Promise<void> {
  await Promise.all([model.forecast.release(), model.band?.release()]);
}
