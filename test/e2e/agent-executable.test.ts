/**
 * The agent as one executable (deploy/sea/, docs/agent-binary.md): built
 * with the `npm run build:agent` script, copied alone into an empty
 * directory, and run with nothing but `PATH` (an empty directory: no node
 * to be found) and `HOME` in its environment, as `env -i` would. It prints
 * its version, scores this host with the embedded models (`--once --print`,
 * with the default trees engine and with the embedded onnxruntime), unpacks
 * its native files once and reuses them, and runs as the daemon publishing
 * predictions to a real broker.
 *
 * The models are the bundled ones when models/baseline/ has cpu and memory
 * models, else tiny ones written for the test. TEST_AGENT_EXECUTABLE
 * tests a given executable instead of building one.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { connectAsync, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { EmbeddedBroker } from '../../aggregator/broker/embedded-broker.js';
import { BUNDLED_MODELS_DIR } from '../../shared/inference/model-files.js';
import { VERSION } from '../../shared/version.js';
import { hostTopic } from '../../shared/wire/topics.js';
import { PredictionsMessageSchema, type PredictionsMessage } from '../../shared/wire/predictions.js';
import { writeTestModel } from '../helpers/forecast-models.js';
import { freePort, waitFor } from '../helpers/net.js';
import { requireTool, type SystemTool } from '../helpers/require-tool.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BUILD_SCRIPT = join(ROOT, 'deploy', 'sea', 'build-agent.ts');
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

const work = mkdtempSync(join(tmpdir(), 'cloudsense-agent-executable-'));
/** The directory the executable runs in: nothing but the executable. */
const runDir = join(work, 'run');
const executable = join(runDir, 'cloudsense-agent');
const home = join(work, 'home');
/** `PATH` for the executable: an empty directory, so nothing (no node) resolves on it. */
const emptyPath = join(work, 'empty-path');
const cacheDir = join(home, '.cache', 'cloudsense');
/** The whole environment, as `env -i PATH=… HOME=…`. */
const env = { PATH: emptyPath, HOME: home };

const seaNode: SystemTool = {
  name: 'a Node.js binary with single-executable support',
  install:
    'run the tests with the official Node.js 20 binary (nodejs.org or NodeSource), not a libnode build',
  probe: () => {
    if (process.env.TEST_AGENT_EXECUTABLE) return true;
    const node = readFileSync(process.execPath);
    return node.includes(SEA_FUSE) && !node.includes('libnode.so');
  },
};

const linuxX64 = process.platform === 'linux' && process.arch === 'x64';
let built = false;

before(
  async () => {
    if (!linuxX64 || !(await seaNode.probe())) return;
    for (const dir of [runDir, home, emptyPath]) mkdirSync(dir, { recursive: true });
    let source = process.env.TEST_AGENT_EXECUTABLE;
    if (!source) {
      source = join(work, 'build', 'cloudsense-agent-linux-x64');
      const args = ['--import', 'tsx', BUILD_SCRIPT, '--out', source];
      const bundled = ['cpu', 'memory'].every(
        (k) => BUNDLED_MODELS_DIR && existsSync(join(BUNDLED_MODELS_DIR, `${k}.onnx`)),
      );
      if (!bundled) {
        const models = join(work, 'models');
        writeTestModel(models, 'cpu');
        writeTestModel(models, 'memory', { band: true });
        args.push('--models', models);
      }
      await run(process.execPath, args, { cwd: ROOT, timeout: 240_000 });
    }
    copyFileSync(source, executable);
    built = true;
  },
  { timeout: 300_000 },
);

after(() => rmSync(work, { recursive: true, force: true }));

/** Runs the executable to its exit, in its directory, with only `env`. */
async function runExecutable(
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string }> {
  return run(executable, args, { cwd: runDir, env: { ...env, ...extraEnv }, timeout: 60_000 });
}

/** The unpacked directories in the cache. */
function unpacked(): string[] {
  return existsSync(cacheDir) ? readdirSync(cacheDir).filter((name) => name.startsWith('agent-')) : [];
}

interface PrintedPrediction {
  resource: string;
  probability: number;
  model: { source: string };
}

function checkPredictions(stdout: string): void {
  const doc = JSON.parse(stdout) as { metrics: Array<{ name: string }>; predictions: PrintedPrediction[] };
  assert.ok(doc.metrics.some((m) => m.name === 'system.memory.usage'));
  for (const resource of ['cpu', 'memory']) {
    const p = doc.predictions.find((q) => q.resource === resource);
    assert.ok(p, `a prediction for ${resource}: ${stdout}`);
    assert.ok(p.probability >= 0 && p.probability <= 1, `${resource}: probability ${p.probability} in 0..1`);
    assert.equal(p.model.source, 'bundled');
  }
}

describe('the agent as one executable', { skip: linuxX64 ? false : 'built on Linux x64 only' }, () => {
  it('runs from an empty directory, with no node on PATH', async (t) => {
    if (!(await requireTool(t, seaNode))) return;
    assert.ok(built, 'the executable was built');
    assert.deepEqual(readdirSync(emptyPath), [], 'nothing on PATH');
    assert.deepEqual(readdirSync(runDir), ['cloudsense-agent']);
    const { stdout } = await runExecutable(['--version']);
    assert.equal(stdout.trim(), VERSION);
    const help = await runExecutable(['--help']);
    assert.match(help.stdout, /--once/);
    assert.match(help.stdout, /--broker <url>/);
    assert.deepEqual(unpacked(), [], '--version and --help unpack nothing');
  });

  it('--once --print scores this host with the embedded models, by either engine', async (t) => {
    if (!(await requireTool(t, seaNode))) return;
    const { stdout, stderr } = await runExecutable(['--once', '--print', '--data-dir', join(work, 'once')]);
    checkPredictions(stdout);
    assert.doesNotMatch(stderr, /\(node:\d+\) \w*Warning/, 'no warnings from node');

    // The default engine needs the models only: onnxruntime is not unpacked.
    const dirName = new RegExp(`^agent-${VERSION.replace(/\./g, '\\.')}-[0-9a-f]{16}$`);
    const [modelsDir, ...others] = unpacked();
    assert.deepEqual(others, [], `one unpacked directory: ${unpacked().join(', ')}`);
    assert.match(modelsDir!, dirName);
    for (const file of ['models/cpu.onnx', 'models/memory.onnx']) {
      assert.ok(existsSync(join(cacheDir, modelsDir!, file)), `${file} unpacked`);
    }
    assert.ok(!existsSync(join(cacheDir, modelsDir!, 'libonnxruntime.so.1')), 'onnxruntime not unpacked');
    const model = statSync(join(cacheDir, modelsDir!, 'models/cpu.onnx'));

    // The onnxruntime engine unpacks the embedded onnxruntime beside it, once, and scores with it.
    const withRuntime = { CLOUDSENSE_AGENT__MODELS__ENGINE: 'onnxruntime' };
    const runtime = await runExecutable(['--once', '--print', '--data-dir', join(work, 'once')], withRuntime);
    checkPredictions(runtime.stdout);
    assert.doesNotMatch(runtime.stderr, /cannot load|"level":50/);
    const runtimeDir = unpacked().find((d) => d !== modelsDir);
    assert.ok(runtimeDir, `a directory for onnxruntime: ${unpacked().join(', ')}`);
    assert.match(runtimeDir, dirName);
    for (const file of ['onnxruntime_binding.node', 'libonnxruntime.so.1']) {
      assert.ok(existsSync(join(cacheDir, runtimeDir, file)), `${file} unpacked`);
    }
    const lib = statSync(join(cacheDir, runtimeDir, 'libonnxruntime.so.1'));

    // Later starts check and reuse the same files.
    checkPredictions((await runExecutable(['--once', '--print', '--data-dir', join(work, 'once')])).stdout);
    checkPredictions(
      (await runExecutable(['--once', '--print', '--data-dir', join(work, 'once')], withRuntime)).stdout,
    );
    assert.deepEqual(unpacked().sort(), [modelsDir!, runtimeDir].sort());
    assert.deepEqual(readdirSync(cacheDir).sort(), unpacked().sort(), 'no staging directory left');
    for (const [path, before] of [
      [join(cacheDir, modelsDir!, 'models/cpu.onnx'), model],
      [join(cacheDir, runtimeDir, 'libonnxruntime.so.1'), lib],
    ] as const) {
      const again = statSync(path);
      assert.equal(again.ino, before.ino, `${path}: the same file, not a new copy`);
      assert.equal(again.mtimeMs, before.mtimeMs);
    }
  });

  it('runs as the daemon: publishes predictions to the broker and stops cleanly on SIGTERM', async (t) => {
    if (!(await requireTool(t, seaNode))) return;
    const broker = new EmbeddedBroker({
      host: '127.0.0.1',
      port: await freePort(),
      log: pino({ level: 'silent' }),
    });
    await broker.start();
    let observer: MqttClient | undefined;
    const hostId = 'executable-e2e';
    const child = spawn(
      executable,
      ['--broker', broker.url, '--host-id', hostId, '--interval', '1', '--data-dir', join(work, 'daemon')],
      { cwd: runDir, env: { ...env, CLOUDSENSE_LOG_FORMAT: 'json' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      observer = await connectAsync(broker.url, { clientId: 'executable-e2e-observer' });
      const messages: PredictionsMessage[] = [];
      observer.on('message', (_topic, payload) => {
        messages.push(PredictionsMessageSchema.parse(JSON.parse(payload.toString())));
      });
      await observer.subscribeAsync(hostTopic(hostId, 'predictions'), { qos: 1 });
      const message = await waitFor(
        `predictions from the executable\n${output}`,
        () =>
          messages.find((m) => ['cpu', 'memory'].every((r) => m.predictions.some((p) => p.resource === r))),
        30_000,
      );
      for (const p of message.predictions) assert.ok(p.probability >= 0 && p.probability <= 1);

      // The default engine needs no native library: onnxruntime is not even mapped, nor anything from a node_modules.
      const maps = readFileSync(`/proc/${child.pid}/maps`, 'utf8');
      assert.doesNotMatch(maps, /libonnxruntime/);
      assert.doesNotMatch(maps, /node_modules/);

      child.kill('SIGTERM');
      assert.equal(await exited, 0, output);
      assert.doesNotMatch(output, /\(node:\d+\) \w*Warning/, 'no warnings from node');
    } finally {
      child.kill('SIGKILL');
      await observer?.endAsync();
      await broker.stop();
    }
  });
});
