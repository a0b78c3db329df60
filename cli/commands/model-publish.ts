/**
 * `cloudsense model publish`: signs an exhaustion forecast (and its
 * time-to-exhaustion band) with the aggregator's private key and publishes
 * it retained on `cloudsense/v1/models/{kind or resource id}`, where every
 * agent with the public key picks it up. The aggregator's rollout will do
 * the same; this lets operators and tests do it by hand.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { CloudSenseError, ValidationError, errorMessage } from '../../shared/errors.js';
import { FEATURE_SCHEMA } from '../../shared/features/schema.js';
import { readOnnxMetadata, type OnnxModelMetadata } from '../../shared/inference/onnx-metadata.js';
import {
  RESOURCE_KINDS,
  canonicalResourceId,
  isResourceKind,
  parseResourceId,
  type ResourceKind,
} from '../../shared/resources/resource-id.js';
import { parseSigningKey } from '../../shared/signing/ed25519.js';
import { encodeModelMessage, signModel, type ModelArtifacts } from '../../shared/signing/signed-model.js';
import {
  MAX_MODEL_MESSAGE_BYTES,
  ModelVersionSchema,
  modelKeyOf,
  type ModelTargets,
} from '../../shared/wire/models.js';
import { HOST_ID_PATTERN, modelTopic } from '../../shared/wire/topics.js';
import { publishRetained } from '../retained-publish.js';
import { TOKEN_USERNAME } from '../../aggregator/security/broker-access.js';

const DEFAULT_BROKER = 'mqtt://127.0.0.1:1883';

interface PublishOptions {
  kind: ResourceKind;
  resource?: string;
  model: string;
  bandDir?: string;
  key: string;
  modelVersion?: string;
  hosts?: string[];
  percent?: number;
  broker?: string;
  username?: string;
  password?: string;
  token?: string;
  ca?: string;
  out?: string;
}

export function modelPublishCommand(): Command {
  return (
    new Command('publish')
      .summary('sign a forecast model and publish it, retained, to every agent')
      .description(
        'Sign an exhaustion forecast (ONNX, from `cloudsense train` or `model fit`) with the private key from ' +
          '`cloudsense keys generate` and publish it retained on cloudsense/v1/models/{kind or resource id} ' +
          '(docs/mqtt.md). Agents whose agent.models.publicKey matches verify it and swap it in; any other ' +
          'agent refuses it. With --out and no --broker, only write the signed message to a file.',
      )
      .requiredOption(
        '--kind <kind>',
        `the resource kind the model serves: ${RESOURCE_KINDS.join(' | ')}`,
        parseKind,
      )
      .option('--resource <id>', 'a model for this one resource of the kind, e.g. filesystem:/var')
      .requiredOption('--model <file.onnx>', 'the exhaustion forecast')
      .option(
        '--band-dir <dir>',
        'its time-to-exhaustion band: a directory with <kind>.tte_p10/p50/p90.onnx, or a run’s tte_p10/p50/p90.onnx',
      )
      .requiredOption('--key <file>', 'the private signing key (model-signing.key)')
      // Not `--version`: the program's own --version takes that.
      .option('--model-version <label>', "version label (default: the model's own, else its training run id)")
      .option('--hosts <ids>', 'only these hosts take it (comma-separated host ids)', parseHosts)
      .option('--percent <n>', 'only this share of hosts takes it, 0..100 (stable per host)', parsePercent)
      .option('--broker <url>', `broker URL (default ${DEFAULT_BROKER})`)
      .option('--username <name>', 'MQTT user name')
      .option('--password <secret>', 'MQTT password')
      .option(
        '--token <token>',
        'an admin API token (cloudsense tokens create --role admin): logs in as the model publisher where the broker asks for credentials (env CLOUDSENSE_TOKEN)',
      )
      .option('--ca <file>', "PEM CA certificate of an mqtts:// broker's certificate")
      .option('--out <file>', 'also write the signed message (JSON) to this file')
      .action(async (options: PublishOptions) => {
        try {
          await publish(options);
        } catch (err) {
          process.stderr.write(`cloudsense model publish: ${errorMessage(err)}\n`);
          process.exit(err instanceof CloudSenseError && err.permanent ? 2 : 1);
        }
      })
  );
}

async function publish(options: PublishOptions): Promise<void> {
  const key = parseSigningKey(await readInput(options.key, 'signing key', 'utf8'));
  const resource = options.resource === undefined ? undefined : canonicalResourceId(options.resource);
  if (resource !== undefined && parseResourceId(resource).kind !== options.kind) {
    throw new ValidationError(`--resource ${resource} is not of kind ${options.kind}`);
  }
  const onnx = await readInput(options.model, 'model');
  const metadata = checkForecast(readOnnxMetadata(onnx), options.kind);
  const artifacts: ModelArtifacts = { onnx, band: await readBand(options) };
  const version = options.modelVersion ?? metadata.modelVersion ?? metadata.trainingRunId;
  if (!ModelVersionSchema.safeParse(version).success) {
    throw new ValidationError(
      `version "${version}" is not 1-64 of A-Z a-z 0-9 . _ : + -; give one with --model-version`,
    );
  }
  const targets: ModelTargets | undefined =
    options.hosts || options.percent !== undefined
      ? {
          ...(options.hosts ? { hosts: options.hosts } : {}),
          ...(options.percent !== undefined ? { percent: options.percent } : {}),
        }
      : undefined;
  const message = signModel(
    {
      kind: options.kind,
      resource,
      version,
      createdAt: Date.now(),
      featureSchemaHash: metadata.featureSchemaHash,
      targets,
    },
    artifacts,
    key,
  );
  const payload = encodeModelMessage(message);
  if (payload.length > MAX_MODEL_MESSAGE_BYTES) {
    throw new ValidationError(
      `the signed message is ${payload.length} bytes; agents take at most ${MAX_MODEL_MESSAGE_BYTES}`,
    );
  }
  const topic = modelTopic(modelKeyOf(message));
  const summary = `${topic}: version ${version}, run ${metadata.trainingRunId}, ${payload.length} bytes, sha256 ${message.sha256}`;
  if (options.out) {
    await writeFile(resolve(options.out), payload);
    process.stdout.write(`wrote ${resolve(options.out)} (${summary})\n`);
  }
  if (options.broker === undefined && options.out !== undefined) return;
  const broker = options.broker ?? DEFAULT_BROKER;
  const token = options.token ?? process.env.CLOUDSENSE_TOKEN;
  const login =
    token !== undefined
      ? { username: TOKEN_USERNAME, password: token }
      : { username: options.username, password: options.password };
  const ca = options.ca === undefined ? undefined : await readInput(options.ca, 'CA certificate');
  await publishRetained(broker, topic, payload, { ...login, ca });
  process.stdout.write(`published retained on ${broker} ${summary}\n`);
}

/** The model must be a forecast for this build's features and for the kind it is published for. */
function checkForecast(metadata: OnnxModelMetadata, kind: ResourceKind): OnnxModelMetadata {
  if (metadata.objective !== 'binary') {
    throw new ValidationError(
      `--model is a ${metadata.objective} model, not an exhaustion forecast (binary)`,
    );
  }
  if (metadata.featureSchemaHash !== FEATURE_SCHEMA.hash) {
    throw new ValidationError(
      `--model was trained on feature schema ${metadata.featureSchemaHash.slice(0, 12)}…; agents of this ` +
        `version compute ${FEATURE_SCHEMA.hash.slice(0, 12)}… and would refuse it`,
    );
  }
  const trainedFor = metadata.resource;
  if (trainedFor !== undefined) {
    const trainedKind = isResourceKind(trainedFor) ? trainedFor : parseResourceId(trainedFor).kind;
    if (trainedKind !== kind) throw new ValidationError(`--model was trained for ${trainedFor}, not ${kind}`);
  }
  return metadata;
}

/**
 * The band from `--band-dir`: `<kind>.tte_p10.onnx`… as in a model directory,
 * or `tte_p10.onnx`… as in a training run's artifacts.
 */
async function readBand(options: PublishOptions): Promise<ModelArtifacts['band']> {
  if (options.bandDir === undefined) return undefined;
  const dir = resolve(options.bandDir);
  const band: Partial<Record<'p10' | 'p50' | 'p90', Buffer>> = {};
  for (const q of ['p10', 'p50', 'p90'] as const) {
    const path = [join(dir, `${options.kind}.tte_${q}.onnx`), join(dir, `tte_${q}.onnx`)].find((p) =>
      existsSync(p),
    );
    if (!path) {
      throw new ValidationError(
        `--band-dir ${dir} has neither ${options.kind}.tte_${q}.onnx nor tte_${q}.onnx`,
      );
    }
    const bytes = await readInput(path, 'band model');
    const m = readOnnxMetadata(bytes);
    if (m.objective !== 'quantile' || m.featureSchemaHash !== FEATURE_SCHEMA.hash) {
      throw new ValidationError(`${path} is not a time-to-exhaustion quantile model for this version`);
    }
    band[q] = bytes;
  }
  return { p10: band.p10!, p50: band.p50!, p90: band.p90! };
}

async function readInput(path: string, what: string): Promise<Buffer>;
async function readInput(path: string, what: string, encoding: 'utf8'): Promise<string>;
async function readInput(path: string, what: string, encoding?: 'utf8'): Promise<Buffer | string> {
  try {
    return encoding ? await readFile(resolve(path), encoding) : await readFile(resolve(path));
  } catch (err) {
    throw new CloudSenseError('INPUT_UNREADABLE', `cannot read the ${what} ${path}: ${errorMessage(err)}`, {
      cause: err,
      permanent: true,
    });
  }
}

function parseKind(value: string): ResourceKind {
  if (!isResourceKind(value)) throw new InvalidArgumentError(`expected one of ${RESOURCE_KINDS.join(', ')}`);
  return value;
}

function parseHosts(value: string): string[] {
  const hosts = value
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h.length > 0);
  const bad = hosts.find((h) => !HOST_ID_PATTERN.test(h));
  if (hosts.length === 0 || bad !== undefined)
    throw new InvalidArgumentError(`not a host id: ${bad ?? value}`);
  return hosts;
}

function parsePercent(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 100)
    throw new InvalidArgumentError('expected a whole number 0..100');
  return n;
}
