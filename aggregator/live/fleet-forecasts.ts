import { isResourceKind, type ResourceKind } from '../../shared/resources/resource-id.js';
import type { ModelRef, Prediction, PredictionsMessage } from '../../shared/wire/predictions.js';
import type { StatusMessage } from '../../shared/wire/telemetry.js';

/** The latest forecast for one resource of a host. */
export interface ResourceForecast extends Prediction {
  /** The cycle's collection time, Unix epoch ms (the agent's clock). */
  timestamp: number;
  /** When the aggregator received it, Unix epoch ms (this machine's clock). */
  receivedAt: number;
}

/** A model serving a resource kind on a host. */
export interface HostModel {
  kind: ResourceKind;
  model: ModelRef;
}

export interface HostForecasts {
  hostId: string;
  /** The latest forecast per resource, by resource id. */
  forecasts: ResourceForecast[];
  /**
   * The models serving each kind: as the agent's status names them, or,
   * for an agent whose status does not, as its latest forecasts name them.
   */
  models: HostModel[];
  /** The newest forecast's collection time, Unix epoch ms; null before the first. */
  newestTimestamp: number | null;
}

interface HostState {
  forecasts: Map<string, ResourceForecast>;
  /** From the last status that named models; undefined until one does. */
  statusModels: HostModel[] | undefined;
  /** Last message of any kind, this machine's clock, ms: what `list` forgets by. */
  lastUpdate: number;
}

/**
 * The fleet's current exhaustion risk: the latest forecast per host and
 * resource, and the models that made them, in memory. A replayed or
 * reordered older forecast never replaces a newer one. Hosts are forgotten
 * when nothing has come from them for the retention `list` is given, so the
 * state follows the fleet rather than its history.
 */
export class FleetForecasts {
  private readonly hosts = new Map<string, HostState>();

  constructor(private readonly now: () => number = Date.now) {}

  record(message: PredictionsMessage): void {
    const host = this.entry(message.hostId);
    const receivedAt = this.now();
    for (const prediction of message.predictions) {
      const current = host.forecasts.get(prediction.resource);
      if (current && current.timestamp > message.timestamp) continue;
      host.forecasts.set(prediction.resource, { ...prediction, timestamp: message.timestamp, receivedAt });
    }
  }

  updateStatus(message: StatusMessage): void {
    const host = this.entry(message.hostId);
    // Only an online status names models; the last will (offline) leaves the list as it was.
    if (message.models) host.statusModels = distinctModels(Object.entries(message.models));
  }

  /** Every host heard from since `forgetBefore` (ms, this machine's clock), by id; the others are dropped. */
  list(forgetBefore: number): HostForecasts[] {
    const out: HostForecasts[] = [];
    for (const [hostId, host] of [...this.hosts].sort(([a], [b]) => a.localeCompare(b))) {
      if (host.lastUpdate < forgetBefore) {
        this.hosts.delete(hostId);
        continue;
      }
      const forecasts = [...host.forecasts.values()];
      let newest: number | null = null;
      for (const f of forecasts) newest = Math.max(newest ?? f.timestamp, f.timestamp);
      out.push({
        hostId,
        forecasts,
        models: host.statusModels ?? distinctModels(forecasts.map((f) => [f.resource, f.model])),
        newestTimestamp: newest,
      });
    }
    return out;
  }

  private entry(hostId: string): HostState {
    let host = this.hosts.get(hostId);
    if (!host) {
      host = { forecasts: new Map(), statusModels: undefined, lastUpdate: 0 };
      this.hosts.set(hostId, host);
    }
    host.lastUpdate = this.now();
    return host;
  }
}

/**
 * One entry per kind and model, from (kind or resource id, model) pairs:
 * resources of a kind normally share one model, and a model of one resource
 * (keyed by its id) counts for the resource's kind. Keys of no known kind
 * are left out.
 */
function distinctModels(entries: ReadonlyArray<readonly [key: string, model: ModelRef]>): HostModel[] {
  const seen = new Map<string, HostModel>();
  for (const [key, model] of entries) {
    const kind = key.split(':', 1)[0]!;
    if (!isResourceKind(kind)) continue;
    seen.set(JSON.stringify([kind, model.source, model.runId, model.version ?? null]), { kind, model });
  }
  return [...seen.values()];
}
