/**
 * Which series an import writes: the metric, its unit and attributes, from
 * `--metric` (an OpenTelemetry metric name, or a resource id as shorthand
 * for that resource's utilisation metric), `--attribute` and `--unit`.
 */
import { ValidationError } from '../../shared/errors.js';
import {
  RESOURCE_KINDS,
  UTILIZATION_METRICS,
  extractUtilization,
  isMountpointKind,
  isResourceKind,
  parseResourceId,
} from '../../shared/resources/index.js';
import { ATTR, METRIC } from '../../shared/wire/metric-names.js';
import { MetricPointSchema, SCHEMA_VERSION, type MetricPoint } from '../../shared/wire/telemetry.js';

export interface ImportTarget {
  /** OpenTelemetry metric name. */
  metric: string;
  /** UCUM unit stored with every point. */
  unit: string;
  attributes: Record<string, string>;
  /** A 0..1 ratio (`*.utilization` in unit `1`): values outside are bad rows. */
  ratio: boolean;
  /** The canonical resource id training reads this series as; undefined when it reads it as none. */
  resourceId: string | undefined;
  /** Why a utilisation series will not reach training, when it will not. */
  note: string | undefined;
}

export interface TargetInput {
  /** `--metric`: a metric name such as `system.cpu.utilization`, or a resource id such as `filesystem:/var`. */
  metric: string;
  /** `--attribute key=value`, each as typed. */
  attributes: readonly string[];
  /** `--unit`; default: the unit CloudSense uses for a known metric, `1` for `*.utilization`. */
  unit?: string | undefined;
}

const KNOWN_UNITS = new Map<string, string>(Object.values(METRIC).map((m) => [m.name, m.unit]));
const UTILIZATION_NAMES: ReadonlySet<string> = new Set(
  RESOURCE_KINDS.map((k) => UTILIZATION_METRICS[k].metric),
);

export function resolveTarget(input: TargetInput): ImportTarget {
  const given = parseAttributes(input.attributes);
  const text = input.metric.trim();
  const kind = text.split(':')[0]!;
  let metric: string;
  let attributes: Record<string, string>;
  if (isResourceKind(kind)) {
    const resource = parseResourceId(text);
    const spec = UTILIZATION_METRICS[resource.kind];
    metric = spec.metric;
    const implied: Record<string, string> = { ...spec.attributes };
    if ('mountpoint' in resource) implied[ATTR.mountpoint] = resource.mountpoint;
    for (const [key, value] of Object.entries(given)) {
      if (implied[key] !== undefined && implied[key] !== value) {
        throw new ValidationError(
          `--attribute ${key}=${value} contradicts --metric ${text}, which means ${key}=${implied[key]}`,
          { path: 'attribute' },
        );
      }
    }
    if (spec.noOtherAttributes && Object.keys(given).some((k) => implied[k] === undefined)) {
      throw new ValidationError(
        `--metric ${text} is the whole-host figure and takes no --attribute; for a per-CPU or per-state ` +
          `series give the metric name (${metric}) instead`,
        { path: 'attribute' },
      );
    }
    attributes = { ...given, ...implied };
  } else {
    metric = text;
    attributes = given;
  }

  const name = MetricPointSchema.shape.name.safeParse(metric);
  if (!name.success) {
    throw new ValidationError(`--metric "${metric}": ${name.error.issues[0]?.message ?? 'invalid'}`, {
      path: 'metric',
    });
  }
  const known = KNOWN_UNITS.get(metric);
  if (input.unit !== undefined && known !== undefined && input.unit !== known) {
    throw new ValidationError(
      `${metric} is stored in unit "${known}", not "${input.unit}"; leave out --unit`,
      {
        path: 'unit',
      },
    );
  }
  const unit = input.unit ?? known ?? (metric.endsWith('.utilization') ? '1' : undefined);
  if (unit === undefined) {
    throw new ValidationError(
      `${metric} is not a metric CloudSense collects: give its unit with --unit (UCUM as OpenTelemetry uses ` +
        'it: 1 for a ratio, By for bytes, {thread} for a count)',
      { path: 'unit' },
    );
  }
  const point: MetricPoint = { name: metric, unit, value: 0, attributes };
  const checked = MetricPointSchema.safeParse(point);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    const field = issue.path[0] === 'name' ? '--metric' : issue.path[0] === 'unit' ? '--unit' : '--attribute';
    throw new ValidationError(`${field}: ${issue.message}`, { path: field.slice(2) });
  }
  const resourceId = resourceIdOf(metric, unit, attributes);
  return {
    metric,
    unit,
    attributes,
    ratio: unit === '1' && metric.endsWith('.utilization'),
    resourceId,
    note: resourceId === undefined && UTILIZATION_NAMES.has(metric) ? missingForTraining(metric) : undefined,
  };
}

/**
 * The resource id training reads a series as, or undefined when it reads it
 * as none: the agent-side reading of a telemetry message (extractUtilization)
 * applied to one point of the series, so both sides agree by construction.
 */
export function resourceIdOf(
  metric: string,
  unit: string,
  attributes: Record<string, string>,
): string | undefined {
  const point: MetricPoint = { name: metric, unit, value: 0, attributes };
  return extractUtilization({
    schemaVersion: SCHEMA_VERSION,
    hostId: 'import',
    seq: 0,
    timestamp: 1,
    intervalSeconds: 60,
    metrics: [point],
  })[0]?.resourceId;
}

/** `key=value` flags as attributes; a key given twice must have one value. */
function parseAttributes(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? '' : item.slice(0, eq).trim();
    if (key === '') {
      throw new ValidationError(`--attribute "${item}": expected key=value, e.g. ${ATTR.mountpoint}=/var`, {
        path: 'attribute',
      });
    }
    const value = item.slice(eq + 1).trim();
    if (out[key] !== undefined && out[key] !== value) {
      throw new ValidationError(`--attribute ${key} is given twice, as "${out[key]}" and "${value}"`, {
        path: 'attribute',
      });
    }
    out[key] = value;
  }
  return out;
}

function missingForTraining(metric: string): string {
  const kinds = RESOURCE_KINDS.filter((k) => UTILIZATION_METRICS[k].metric === metric);
  const needs = kinds.flatMap((k) => {
    const spec = UTILIZATION_METRICS[k];
    const pairs = Object.entries(spec.attributes).map(([key, value]) => `${key}=${value}`);
    if (isMountpointKind(k)) pairs.push(`${ATTR.mountpoint}=<mountpoint>`);
    return pairs;
  });
  const example = kinds.map((k) => (isMountpointKind(k) ? `${k}:<mountpoint>` : k)).join(' or ');
  return (
    `training reads ${metric} only with ${needs.length > 0 ? needs.join(', ') : 'no attributes'}: ` +
    `use --metric ${example} to import it as a resource`
  );
}
