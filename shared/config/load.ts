import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigProblem, errorMessage } from '../errors.js';

/** Environment variable prefix; `CLOUDSENSE_CONFIG` names the YAML file. */
export const ENV_PREFIX = 'CLOUDSENSE_';
export const CONFIG_FILE_ENV = 'CLOUDSENSE_CONFIG';

/**
 * Short environment variable names for the most used settings. Any other
 * setting is reachable as `CLOUDSENSE_` + its dotted path in upper snake case
 * with `__` between levels, e.g. `CLOUDSENSE_AGENT__INTERVAL_SECONDS`.
 */
export const ENV_ALIASES: Readonly<Record<string, string>> = {
  CLOUDSENSE_DATA_DIR: 'dataDir',
  CLOUDSENSE_HTTP_HOST: 'http.host',
  CLOUDSENSE_HTTP_PORT: 'http.port',
  CLOUDSENSE_MQTT_HOST: 'mqtt.host',
  CLOUDSENSE_MQTT_PORT: 'mqtt.port',
  CLOUDSENSE_LOG_LEVEL: 'log.level',
  CLOUDSENSE_LOG_FORMAT: 'log.format',
  CLOUDSENSE_HOST_ID: 'agent.hostId',
  CLOUDSENSE_INTERVAL: 'agent.intervalSeconds',
  CLOUDSENSE_BROKER_URL: 'agent.brokerUrl',
  CLOUDSENSE_STORE: 'aggregator.store.url',
};

export interface ConfigSources {
  /** Path of a YAML file; undefined for none. */
  file?: string | undefined;
  /** Usually `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Values from command-line flags by dotted path, e.g. `{ 'http.port': '9000' }`. */
  flags?: Record<string, string | number | boolean | undefined>;
  /** The flag that set each path, for messages, e.g. `{ 'http.port': '--http-port' }`. */
  flagNames?: Record<string, string>;
}

type Tree = Record<string, unknown>;

/**
 * Builds the configuration from a YAML file, then `CLOUDSENSE_*` variables,
 * then flags (each overriding the one before), and validates it against the
 * schema. Every problem is reported at once, by dotted path and source.
 */
export function loadConfig<S extends z.ZodType>(schema: S, sources: ConfigSources): z.output<S> {
  const origin = new Map<string, string>();
  const problems: ConfigProblem[] = [];
  const merged: Tree = {};

  const file = sources.file ?? sources.env?.[CONFIG_FILE_ENV];
  if (file) {
    const fromFile = readYamlFile(file, problems);
    if (fromFile) {
      for (const [path, value] of flatten(fromFile)) setPath(merged, path, value, origin, file);
    }
  }
  for (const [name, raw] of Object.entries(sources.env ?? {})) {
    if (!name.startsWith(ENV_PREFIX) || name === CONFIG_FILE_ENV || raw === undefined) continue;
    setPath(merged, envToPath(name), parseScalar(raw), origin, `environment variable ${name}`);
  }
  for (const [path, raw] of Object.entries(sources.flags ?? {})) {
    if (raw === undefined) continue;
    const flag = sources.flagNames?.[path] ?? path;
    setPath(merged, path, typeof raw === 'string' ? parseScalar(raw) : raw, origin, `flag ${flag}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const result = schema.safeParse(merged);
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    const base = issue.path.map(String).join('.');
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
    for (const key of keys) {
      const path = key === undefined ? base : base ? `${base}.${key}` : key;
      const message = key === undefined ? issue.message : 'unknown setting';
      problems.push({ path, message, source: sourceOf(path, origin) });
    }
  }
  throw new ConfigError(problems);
}

function readYamlFile(file: string, problems: ConfigProblem[]): Tree | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    problems.push({ path: '', message: `cannot read config file: ${errorMessage(err)}`, source: file });
    return undefined;
  }
  try {
    const doc: unknown = parseYaml(text);
    if (doc === null || doc === undefined) return {};
    if (typeof doc !== 'object' || Array.isArray(doc)) {
      problems.push({ path: '', message: 'the config file must hold a mapping of settings', source: file });
      return undefined;
    }
    return doc as Tree;
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}` : '';
    problems.push({ path: '', message: `YAML syntax error${where}: ${errorMessage(err)}`, source: file });
    return undefined;
  }
}

/** `CLOUDSENSE_AGENT__INTERVAL_SECONDS` → `agent.intervalSeconds`. */
export function envToPath(name: string): string {
  const alias = ENV_ALIASES[name];
  if (alias) return alias;
  return name
    .slice(ENV_PREFIX.length)
    .split('__')
    .map((part) => part.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase()))
    .join('.');
}

/** Environment and flag values are typed as YAML scalars: `10` is a number, `true` a boolean. */
function parseScalar(raw: string): unknown {
  if (raw.trim() === '') return raw;
  try {
    const v: unknown = parseYaml(raw);
    return v === null || typeof v === 'object' ? raw : v;
  } catch {
    return raw;
  }
}

/** Leaf values of a parsed YAML tree by dotted path (arrays are leaves). */
function* flatten(tree: Tree, prefix = ''): Generator<[string, unknown]> {
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const entries = Object.keys(value);
      if (entries.length === 0) yield [path, {}];
      else yield* flatten(value as Tree, path);
    } else {
      yield [path, value];
    }
  }
}

function setPath(
  root: Tree,
  path: string,
  value: unknown,
  origin: Map<string, string>,
  source: string,
): void {
  const parts = path.split('.');
  let node = root;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[part] = {};
    node = node[part] as Tree;
  }
  node[parts[parts.length - 1]!] = value;
  origin.set(path, source);
}

/** The source of a path, or of its closest ancestor or descendant that was set. */
function sourceOf(path: string, origin: Map<string, string>): string | undefined {
  for (let p = path; p; p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '') {
    const s = origin.get(p);
    if (s) return s;
  }
  for (const [p, s] of origin) if (p.startsWith(`${path}.`)) return s;
  return undefined;
}
