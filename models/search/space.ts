import { ValidationError } from '../../shared/errors.js';
import type { SeededRandom } from '../random.js';

/**
 * Search-space definitions, Optuna's distributions in TypeScript types:
 *
 *   const space = defineSpace({
 *     learningRate: float(0.01, 0.3, { log: true }),
 *     numLeaves: int(8, 255),
 *     boosting: categorical(['gbdt', 'goss']),
 *   });
 *   // ParamsOf<typeof space> = { learningRate: number; numLeaves: number; boosting: 'gbdt' | 'goss' }
 *
 * Samplers work on an internal numeric coordinate per parameter: the value
 * itself, its natural log for `log` parameters, and the choice's index for
 * categoricals.
 */

export type CategoricalChoice = string | number | boolean;
export type ParamValue = CategoricalChoice;
/** Parameter values by name, before they are checked against a space. */
export type ParamValues = Record<string, ParamValue>;

export interface FloatParam {
  readonly kind: 'float';
  readonly low: number;
  readonly high: number;
  /** Sample uniformly in log(value); needs low > 0. */
  readonly log: boolean;
  /** Grid spacing from `low`, or null for a continuous value. Not with `log`. */
  readonly step: number | null;
}

export interface IntParam {
  readonly kind: 'int';
  readonly low: number;
  readonly high: number;
  /** Sample uniformly in log(value); needs low ≥ 1 and step 1. */
  readonly log: boolean;
  /** Grid spacing from `low`; default 1. */
  readonly step: number;
}

export interface CategoricalParam<C extends CategoricalChoice = CategoricalChoice> {
  readonly kind: 'categorical';
  readonly choices: readonly C[];
}

export type ParamDefinition = FloatParam | IntParam | CategoricalParam;
export type SearchSpace = Readonly<Record<string, ParamDefinition>>;

/** The value type one definition yields: the choice union for categoricals, `number` otherwise. */
export type ParamValueOf<D> = D extends CategoricalParam<infer C> ? C : number;
/** The typed parameter object a study over `S` hands to its objective. */
export type ParamsOf<S extends SearchSpace> = { -readonly [K in keyof S]: ParamValueOf<S[K]> };

export function float(low: number, high: number, options: { log?: boolean; step?: number } = {}): FloatParam {
  const def: FloatParam = { kind: 'float', low, high, log: options.log ?? false, step: options.step ?? null };
  checkNumeric(def, '');
  return def;
}

export function int(low: number, high: number, options: { log?: boolean; step?: number } = {}): IntParam {
  const def: IntParam = { kind: 'int', low, high, log: options.log ?? false, step: options.step ?? 1 };
  checkNumeric(def, '');
  return def;
}

export function categorical<const C extends CategoricalChoice>(choices: readonly C[]): CategoricalParam<C> {
  const def: CategoricalParam<C> = { kind: 'categorical', choices: [...choices] };
  checkCategorical(def, '');
  return def;
}

/**
 * Checks a whole space (also one built by hand or read from a file) and
 * returns it unchanged, with its literal types kept.
 */
export function defineSpace<const S extends SearchSpace>(space: S): S {
  const names = Object.keys(space);
  if (names.length === 0) throw new ValidationError('a search space needs at least one parameter');
  for (const name of names) {
    const def = space[name]!;
    if (def.kind === 'categorical') checkCategorical(def, name);
    else checkNumeric(def, name);
  }
  return space;
}

/** True when the definition allows exactly one value; samplers return it without drawing. */
export function isSingleValue(def: ParamDefinition): boolean {
  return def.kind === 'categorical' ? def.choices.length === 1 : def.low === def.high;
}

/** Whether `value` is a value of `def`: in range, on the grid, an integer for `int`, one of the choices. */
export function isValueOf(def: ParamDefinition, value: unknown): boolean {
  if (def.kind === 'categorical') return def.choices.some((c) => c === value);
  if (typeof value !== 'number' || !Number.isFinite(value) || value < def.low || value > def.high)
    return false;
  if (def.kind === 'int' && !Number.isInteger(value)) return false;
  if (def.step === null) return true;
  const k = (value - def.low) / def.step;
  return Math.abs(k - Math.round(k)) < 1e-9;
}

/** Checks `params` against `space` (every name present, every value allowed) and narrows its type. */
export function parseParams<S extends SearchSpace>(
  space: S,
  params: ParamValues,
  where = 'params',
): ParamsOf<S> {
  for (const [name, def] of Object.entries(space)) {
    if (!isValueOf(def, params[name])) {
      throw new ValidationError(
        `${where}.${name}: ${JSON.stringify(params[name])} is not in ${describeParam(def)}`,
        {
          path: `${where}.${name}`,
        },
      );
    }
  }
  const extra = Object.keys(params).filter((name) => !(name in space));
  if (extra.length > 0) {
    throw new ValidationError(`${where}: not in the search space: ${extra.join(', ')}`, { path: where });
  }
  return params as ParamsOf<S>;
}

/**
 * The interval a numeric parameter's internal coordinate lives in. Grid
 * parameters are widened by half a step at both ends (in value space, before
 * the log), as Optuna does, so every grid point owns an equal-width bin and
 * the end points are not drawn half as often.
 */
export function internalBounds(def: FloatParam | IntParam): { low: number; high: number } {
  const half = def.step === null ? 0 : def.step / 2;
  return { low: toInternal(def, def.low - half), high: toInternal(def, def.high + half) };
}

/** Value → internal coordinate (log for `log` parameters). */
export function toInternal(def: FloatParam | IntParam, value: number): number {
  return def.log ? Math.log(value) : value;
}

/** Internal coordinate → a valid value: undoes the log, snaps to the grid, clamps to [low, high]. */
export function fromInternal(def: FloatParam | IntParam, coordinate: number): number {
  let value = def.log ? Math.exp(coordinate) : coordinate;
  if (def.step !== null) value = def.low + Math.round((value - def.low) / def.step) * def.step;
  value = Math.min(def.high, Math.max(def.low, value));
  // Grid arithmetic leaves 1e-16-sized noise; an int parameter must be an exact integer.
  return def.kind === 'int' ? Math.round(value) : value;
}

/** One uniform draw from a definition (uniform in log space for `log`), as Optuna's RandomSampler. */
export function sampleUniform(def: ParamDefinition, random: SeededRandom): ParamValue {
  if (def.kind === 'categorical') return def.choices[random.int(0, def.choices.length - 1)]!;
  if (def.low === def.high) return def.low;
  const { low, high } = internalBounds(def);
  return fromInternal(def, random.uniform(low, high));
}

export function describeParam(def: ParamDefinition): string {
  if (def.kind === 'categorical') return `{${def.choices.map((c) => JSON.stringify(c)).join(', ')}}`;
  const grid = def.step === null ? '' : ` step ${def.step}`;
  return `${def.kind} [${def.low}, ${def.high}]${def.log ? ' log' : ''}${grid}`;
}

function checkNumeric(def: FloatParam | IntParam, name: string): void {
  const problem = numericProblem(def);
  if (problem) throw new ValidationError(`${name ? `${name}: ` : ''}${problem}`, { path: name || undefined });
}

function numericProblem(def: FloatParam | IntParam): string | undefined {
  const { low, high, log, step } = def;
  if (!Number.isFinite(low) || !Number.isFinite(high)) return `bounds must be finite, got ${low}..${high}`;
  if (low > high) return `low must not exceed high, got ${low}..${high}`;
  if (log && low <= 0) return `a log-scale parameter needs low > 0, got ${low}`;
  if (step !== null && !(Number.isFinite(step) && step > 0)) return `step must be > 0, got ${step}`;
  if (def.kind === 'int') {
    if (!Number.isSafeInteger(low) || !Number.isSafeInteger(high)) return `int bounds must be integers`;
    if (!Number.isSafeInteger(def.step)) return `int step must be an integer, got ${def.step}`;
    if (log && def.step !== 1) return 'a log-scale int parameter must have step 1';
  } else if (log && step !== null) {
    return 'a float parameter cannot have both log and step';
  }
  if (step !== null) {
    // Optuna silently moves `high` onto the grid; a refused setting is easier to notice.
    const k = (high - low) / step;
    if (Math.abs(k - Math.round(k)) > 1e-9)
      return `high − low (${high - low}) must be a multiple of step ${step}`;
  }
  return undefined;
}

function checkCategorical(def: CategoricalParam, name: string): void {
  const prefix = name ? `${name}: ` : '';
  if (def.choices.length === 0) throw new ValidationError(`${prefix}a categorical parameter needs choices`);
  if (new Set(def.choices).size !== def.choices.length) {
    throw new ValidationError(`${prefix}categorical choices must be distinct`, { path: name || undefined });
  }
  for (const c of def.choices) {
    if (typeof c === 'number' && !Number.isFinite(c)) {
      throw new ValidationError(`${prefix}categorical choices must be finite numbers, got ${c}`);
    }
  }
}
