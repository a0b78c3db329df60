/**
 * Turns each cycle's exhaustion probabilities into alerts that do not flap.
 *
 * Per resource: an alert is raised when the probability is at or above the
 * model's operating threshold for `raiseAfter` cycles in a row, and
 * resolved when it is below `threshold × resolveRatio` for `resolveAfter`
 * cycles in a row. Between the two levels nothing changes, so a probability
 * hovering at the threshold raises at most once and never resolves. A
 * raised alert whose resource gets no forecast for `noForecastAfterMs` is
 * resolved as `no_forecast`: nothing would ever resolve it otherwise.
 */
import { ALERT_RAISED, ALERT_RESOLVED, type RESOLVE_REASONS } from '../../shared/wire/events.js';

export interface AlertPolicy {
  raiseAfter: number;
  resolveAfter: number;
  /** Resolve level as a share of the threshold, (0, 1]. */
  resolveRatio: number;
  /** A raised alert without any forecast for this long is resolved, ms. */
  noForecastAfterMs: number;
}

/** One resource's forecast in a cycle, as the hysteresis needs it. */
export interface RiskObservation {
  resource: string;
  /** 0..1; a non-finite value counts as no forecast. */
  probability: number;
  /** The model's operating threshold. */
  threshold: number;
}

/** A raised alert, as kept across agent restarts. */
export interface ActiveAlert {
  resource: string;
  /** When it was raised, Unix epoch ms. */
  raisedAt: number;
  /** Probability and threshold of the latest forecast. */
  probability: number;
  threshold: number;
}

export type AlertTransition =
  | {
      type: typeof ALERT_RAISED;
      resource: string;
      atMs: number;
      probability: number;
      threshold: number;
      detail: string;
    }
  | {
      type: typeof ALERT_RESOLVED;
      resource: string;
      atMs: number;
      probability: number;
      threshold: number;
      detail: string;
      reason: (typeof RESOLVE_REASONS)[number];
      raisedAt: number;
    };

interface ResourceState {
  /** Set while an alert is raised: when it was. */
  raisedAt: number | undefined;
  /** Cycles in a row meeting the condition for the next transition. */
  streak: number;
  lastForecastAt: number;
  probability: number;
  threshold: number;
}

export class AlertHysteresis {
  private readonly states = new Map<string, ResourceState>();

  /** `restored`: alerts raised before a restart, held until resolved; their clock starts at `nowMs`. */
  constructor(
    private readonly policy: AlertPolicy,
    restored: readonly ActiveAlert[] = [],
    nowMs = Date.now(),
  ) {
    for (const alert of restored) {
      this.states.set(alert.resource, {
        raisedAt: alert.raisedAt,
        streak: 0,
        lastForecastAt: nowMs,
        probability: alert.probability,
        threshold: alert.threshold,
      });
    }
  }

  /**
   * One cycle: the forecasts made at `atMs`. Returns the transitions, in
   * the order of `observations`, then the `no_forecast` resolutions.
   */
  update(observations: readonly RiskObservation[], atMs: number): AlertTransition[] {
    const transitions: AlertTransition[] = [];
    for (const o of observations) {
      if (!Number.isFinite(o.probability)) continue;
      let state = this.states.get(o.resource);
      if (!state) {
        state = { raisedAt: undefined, streak: 0, lastForecastAt: atMs, probability: NaN, threshold: NaN };
        this.states.set(o.resource, state);
      }
      state.lastForecastAt = atMs;
      state.probability = o.probability;
      state.threshold = o.threshold;
      const transition = this.step(o.resource, state, atMs);
      if (transition) transitions.push(transition);
    }
    for (const [resource, state] of this.states) {
      if (atMs - state.lastForecastAt < this.policy.noForecastAfterMs) continue;
      this.states.delete(resource);
      if (state.raisedAt === undefined) continue;
      transitions.push({
        type: ALERT_RESOLVED,
        resource,
        atMs,
        probability: state.probability,
        threshold: state.threshold,
        reason: 'no_forecast',
        raisedAt: state.raisedAt,
        detail: `no forecast for ${Math.round((atMs - state.lastForecastAt) / 60_000)} min: the resource is no longer reported, or has no model`,
      });
    }
    return transitions;
  }

  isRaised(resource: string): boolean {
    return this.states.get(resource)?.raisedAt !== undefined;
  }

  /** Every raised alert, to keep across a restart. */
  active(): ActiveAlert[] {
    const out: ActiveAlert[] = [];
    for (const [resource, s] of this.states) {
      if (s.raisedAt !== undefined) {
        out.push({ resource, raisedAt: s.raisedAt, probability: s.probability, threshold: s.threshold });
      }
    }
    return out;
  }

  private step(resource: string, state: ResourceState, atMs: number): AlertTransition | undefined {
    const { probability: p, threshold } = state;
    const { raiseAfter, resolveAfter, resolveRatio } = this.policy;
    if (state.raisedAt === undefined) {
      state.streak = p >= threshold ? state.streak + 1 : 0;
      if (state.streak < raiseAfter) return undefined;
      state.streak = 0;
      state.raisedAt = atMs;
      return {
        type: ALERT_RAISED,
        resource,
        atMs,
        probability: p,
        threshold,
        detail: `probability ${fixed(p)} ≥ threshold ${fixed(threshold)} for ${raiseAfter} cycle${raiseAfter === 1 ? '' : 's'}`,
      };
    }
    const resolveLevel = threshold * resolveRatio;
    state.streak = p < resolveLevel ? state.streak + 1 : 0;
    if (state.streak < resolveAfter) return undefined;
    const raisedAt = state.raisedAt;
    state.streak = 0;
    state.raisedAt = undefined;
    return {
      type: ALERT_RESOLVED,
      resource,
      atMs,
      probability: p,
      threshold,
      reason: 'risk_below_resolve_level',
      raisedAt,
      detail: `probability ${fixed(p)} < ${fixed(resolveLevel)} (threshold ${fixed(threshold)} × ${resolveRatio}) for ${resolveAfter} cycle${resolveAfter === 1 ? '' : 's'}`,
    };
  }
}

function fixed(x: number): string {
  return x.toFixed(3);
}
