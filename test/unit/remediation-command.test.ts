/**
 * A playbook's command as a real process: no shell between the argv and
 * the program, a timeout that kills the whole process group, output kept
 * to a bound, only the environment it is given, and another user's uid.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startCommand, type CommandSpec } from '../../agent/remediation/command-runner.js';
import { lookupSystemUser } from '../../agent/remediation/system-user.js';
import { waitFor } from '../helpers/net.js';

const dir = mkdtempSync(join(tmpdir(), 'cloudsense-command-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const spec = (argv: string[], extra: Partial<CommandSpec> = {}): CommandSpec => ({
  argv,
  timeoutMs: 10_000,
  env: { PATH: '/usr/bin:/bin' },
  maxOutputChars: 4096,
  ...extra,
});

/** True while the process exists and is not a zombie waiting to be reaped. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('playbook commands', () => {
  it('passes arguments as they are: no shell expands them', async () => {
    const { result } = startCommand(spec(['/bin/echo', '$HOME', '*', '; rm -rf /', '`id`']));
    const r = await result;
    assert.equal(r.exitCode, 0);
    assert.equal(r.stdout, '$HOME * ; rm -rf / `id`\n');
  });

  it('gets only the environment it is given', async () => {
    process.env.CLOUDSENSE_TEST_SECRET = 'do-not-pass';
    const r = await startCommand(spec(['/usr/bin/env'], { env: { PATH: '/usr/bin:/bin', ONLY: 'this' } }))
      .result;
    delete process.env.CLOUDSENSE_TEST_SECRET;
    assert.deepEqual(r.stdout.trim().split('\n').sort(), ['ONLY=this', 'PATH=/usr/bin:/bin']);
  });

  it('a timeout kills the whole process group, children included', async () => {
    const pidFile = join(dir, 'child.pid');
    const started = Date.now();
    const r = await startCommand(
      spec(['/bin/sh', '-c', `sleep 60 & echo $! > ${pidFile}; sleep 60`], { timeoutMs: 1000 }),
    ).result;
    assert.equal(r.timedOut, true);
    assert.equal(r.exitCode, null);
    assert.equal(r.signal, 'SIGTERM');
    assert.ok(Date.now() - started < 8000, `ended ${Date.now() - started} ms after the start`);
    const child = Number(readFileSync(pidFile, 'utf8'));
    await waitFor('the background child to be gone', () => (alive(child) ? undefined : true), 10_000);
  });

  it('keeps the end of a long output, within the bound', async () => {
    const r = await startCommand(
      spec(
        [
          '/bin/sh',
          '-c',
          'i=0; while [ $i -lt 3000 ]; do echo "line $i"; i=$((i+1)); done; echo bad >&2; exit 3',
        ],
        {
          maxOutputChars: 100,
        },
      ),
    ).result;
    assert.equal(r.exitCode, 3);
    assert.equal(r.stdout.length, 100);
    assert.ok(r.stdout.startsWith('…'));
    assert.ok(r.stdout.endsWith('line 2999\n'));
    assert.equal(r.stderr, 'bad\n');
  });

  it('a missing program is an error, not a result', async () => {
    await assert.rejects(startCommand(spec([join(dir, 'nothing-here')])).result, /ENOENT/);
  });

  it(
    'runs as another user by uid and gid',
    { skip: process.getuid?.() === 0 ? false : 'needs root to switch users' },
    async () => {
      const nobody = lookupSystemUser('nobody');
      assert.ok(nobody, 'the nobody user exists');
      const r = await startCommand(spec(['/usr/bin/id', '-u'], { uid: nobody.uid, gid: nobody.gid })).result;
      assert.equal(r.stdout.trim(), String(nobody.uid));
      assert.equal(lookupSystemUser('no-such-user-cloudsense'), undefined);
      assert.equal(existsSync('/etc/passwd'), true);
    },
  );
});
