/**
 * Which model serves each resource on a data dir. `cloudsense train` makes
 * its model current for the resource it trained; `predict` and `evaluate`
 * (and, later, the rollout to agents) look a resource up here:
 *
 * 1. a model trained for exactly that resource id (`filesystem:%2Fvar`),
 * 2. else one trained for its kind (`filesystem`),
 * 3. else the bundled baseline model of its kind (models/baseline/), so a
 *    fresh install predicts before it has trained anything.
 *
 * The catalog is `<data dir>/models/current.json`, replaced atomically; the
 * model files stay in the run registry (`<data dir>/runs/<run>/artifacts/`),
 * so every current model is a recorded run.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../shared/io/atomic-file.js';
import { CloudSenseError, ValidationError, errorMessage } from '../../shared/errors.js';
import { BUNDLED_MODELS_DIR, modelFilesIn } from '../../shared/inference/model-files.js';
import { canonicalResourceId, isResourceKind, parseResourceId } from '../../shared/resources/resource-id.js';

/** Under the data dir: the run registry, and the catalog's folder. */
export const RUNS_DIR = 'runs';
export const MODELS_DIR = 'models';
export const CATALOG_FILE = 'current.json';

const CatalogEntrySchema = z.object({
  /** Canonical resource id or kind the model serves. */
  resource: z.string().min(1),
  runId: z.string().min(1),
  /** The ONNX file, relative to the data dir. */
  path: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** When it became current, ISO 8601. */
  promotedAt: z.string(),
  /** Time-to-exhaustion band models (P10, P50, P90), relative to the data dir, when trained. */
  band: z.object({ p10: z.string().min(1), p50: z.string().min(1), p90: z.string().min(1) }).optional(),
});
export type CatalogEntry = z.infer<typeof CatalogEntrySchema>;

const CatalogSchema = z.object({
  schemaVersion: z.literal(1),
  models: z.record(z.string(), CatalogEntrySchema),
});
type Catalog = z.infer<typeof CatalogSchema>;

/** The model that serves a resource, and where it came from. */
export interface ResolvedModel {
  source: 'trained' | 'bundled';
  /** The catalog key that matched (resource id or kind), or the kind for a bundled model. */
  key: string;
  /** Absolute path of the ONNX file. */
  path: string;
  runId?: string;
  /** Absolute paths of the time-to-exhaustion band models, when there are some. */
  band?: { p10: string; p50: string; p90: string };
}

export class ModelCatalog {
  readonly file: string;

  constructor(
    readonly dataDir: string,
    private readonly bundledDir: string | undefined = BUNDLED_MODELS_DIR,
  ) {
    this.file = join(dataDir, MODELS_DIR, CATALOG_FILE);
  }

  /** Every current model by key; empty before the first training. */
  async entries(): Promise<Record<string, CatalogEntry>> {
    return (await this.read()).models;
  }

  /** Makes a trained model current for `resource` (a kind or an id). */
  async promote(entry: Omit<CatalogEntry, 'promotedAt' | 'resource'> & { resource: string }): Promise<void> {
    const catalog = await this.read();
    const key = catalogKey(entry.resource);
    catalog.models[key] = { ...entry, resource: key, promotedAt: new Date().toISOString() };
    await mkdir(join(this.dataDir, MODELS_DIR), { recursive: true });
    await writeFileAtomic(this.file, `${JSON.stringify(catalog, null, 2)}\n`);
  }

  /** The model for a resource id or kind (see the file comment); undefined when there is none at all. */
  async resolve(resource: string): Promise<ResolvedModel | undefined> {
    const key = catalogKey(resource);
    const kind = isResourceKind(key) ? key : parseResourceId(key).kind;
    const models = (await this.read()).models;
    for (const candidate of key === kind ? [kind] : [key, kind]) {
      const entry = models[candidate];
      if (entry) {
        return {
          source: 'trained',
          key: candidate,
          path: resolve(this.dataDir, entry.path),
          runId: entry.runId,
          ...(entry.band && {
            band: {
              p10: resolve(this.dataDir, entry.band.p10),
              p50: resolve(this.dataDir, entry.band.p50),
              p90: resolve(this.dataDir, entry.band.p90),
            },
          }),
        };
      }
    }
    if (this.bundledDir === undefined) return undefined;
    const bundled = modelFilesIn(this.bundledDir, kind);
    if (!bundled) return undefined;
    return { source: 'bundled', key: kind, path: bundled.model, ...(bundled.band && { band: bundled.band }) };
  }

  private async read(): Promise<Catalog> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { schemaVersion: 1, models: {} };
      throw new CloudSenseError('CATALOG_READ_FAILED', `cannot read ${this.file}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new ValidationError(`${this.file} is not JSON: ${errorMessage(err)}`, { cause: err });
    }
    const parsed = CatalogSchema.safeParse(json);
    if (!parsed.success) {
      throw new ValidationError(
        `${this.file} is not a model catalog: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        { cause: parsed.error },
      );
    }
    return parsed.data;
  }
}

/** A kind stays a kind; a resource id becomes canonical (`filesystem:/var` → `filesystem:%2Fvar`). */
export function catalogKey(resource: string): string {
  return isResourceKind(resource) ? resource : canonicalResourceId(resource);
}
