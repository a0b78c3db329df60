import assert from 'node:assert/strict';
import { afterEach, describe, it, type TestContext } from 'node:test';
import { requireTool, type SystemTool } from '../helpers/require-tool.js';

const saved = process.env.CI;
afterEach(() => {
  if (saved === undefined) delete process.env.CI;
  else process.env.CI = saved;
});

/** Records skip() calls instead of skipping the real test. */
function fakeContext(): { t: TestContext; skipped: Array<string | undefined> } {
  const skipped: Array<string | undefined> = [];
  return { t: { skip: (message?: string) => skipped.push(message) } as unknown as TestContext, skipped };
}

const tool = (present: boolean): SystemTool => ({
  name: 'frobnicator',
  install: 'install Debian frobnicator (apt-get install frobnicator)',
  probe: () => present,
});

describe('requireTool', () => {
  it('goes on when the tool is there', async () => {
    const { t, skipped } = fakeContext();
    assert.equal(await requireTool(t, tool(true)), true);
    assert.deepEqual(skipped, []);
  });

  it('skips with the install hint outside CI', async () => {
    delete process.env.CI;
    const { t, skipped } = fakeContext();
    assert.equal(await requireTool(t, tool(false)), false);
    assert.deepEqual(skipped, ['install Debian frobnicator (apt-get install frobnicator)']);
  });

  it('fails in CI, naming the tool and how to install it', async () => {
    process.env.CI = 'true';
    const { t, skipped } = fakeContext();
    await assert.rejects(
      requireTool(t, tool(false)),
      /frobnicator is required in CI but missing: install Debian/,
    );
    assert.deepEqual(skipped, []);
  });

  it('probes once per tool', async () => {
    let probes = 0;
    const counted: SystemTool = { ...tool(true), probe: () => ++probes > 0 };
    const { t } = fakeContext();
    await requireTool(t, counted);
    await requireTool(t, counted);
    assert.equal(probes, 1);
  });
});
