import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CliProcess } from '../helpers/cli-process.js';

describe('the cloudsense command', () => {
  for (const command of ['up', 'agent', 'aggregator']) {
    it(`explains \`${command}\` with --help`, async () => {
      const proc = CliProcess.start([command, '--help']);
      const exit = await proc.exited;
      assert.equal(exit.code, 0);
      assert.match(proc.output, new RegExp(`Usage: cloudsense ${command}`));
      assert.match(proc.output, /--data-dir <dir>/);
      assert.match(proc.output, /--config <file>/);
    });
  }

  it('stops at start-up on invalid configuration, listing every problem by dotted path', async () => {
    const proc = CliProcess.start(['up', '--http-port', '99999', '--interval', '0'], {
      CLOUDSENSE_MQTT_PORT: 'not-a-port',
      CLOUDSENSE_LOG_LEVEL: 'loud',
    });
    const exit = await proc.exited;
    assert.equal(exit.code, 2);
    assert.match(proc.output, /invalid configuration, 4 problems/);
    assert.match(proc.output, /http\.port: .*\(from flag --http-port\)/);
    assert.match(proc.output, /agent\.intervalSeconds: .*\(from flag --interval\)/);
    assert.match(proc.output, /mqtt\.port: .*\(from environment variable CLOUDSENSE_MQTT_PORT\)/);
    assert.match(proc.output, /log\.level: .*\(from environment variable CLOUDSENSE_LOG_LEVEL\)/);
  });

  it('says which port is taken when it cannot listen', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const proc = CliProcess.start(['aggregator', '--mqtt-port', String(port), '--http-port', '0'], {
        CLOUDSENSE_DATA_DIR: `${process.env.TMPDIR ?? '/tmp'}/cloudsense-cli-${process.pid}`,
      });
      const exit = await proc.exited;
      assert.equal(exit.code, 1);
      assert.match(proc.output, /EADDRINUSE.*CLOUDSENSE_MQTT_PORT/);
    } finally {
      blocker.close();
    }
  });
});
