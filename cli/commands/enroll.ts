/**
 * `cloudsense enroll token create`: a one-time token with which an agent
 * obtains its own MQTT credentials (`cloudsense agent --enroll TOKEN
 * --aggregator URL`). Works while the aggregator runs (docs/security.md).
 */
import { Command, InvalidArgumentError } from 'commander';
import { HOST_ID_PATTERN } from '../../shared/wire/topics.js';
import { DURATION_HINT, parseDuration } from '../../shared/config/duration.js';
import { DEFAULT_ENROLMENT_TTL_MS, MAX_ENROLMENT_TTL_MS } from '../../aggregator/api/credential-routes.js';
import { withCredentials } from './tokens.js';

export function enrollCommand(): Command {
  const enroll = new Command('enroll')
    .summary('one-time tokens with which agents obtain their MQTT credentials')
    .description(
      'Agents log in to the broker as host:{hostId} with a password of their own. An enrolment token, ' +
        'used once before it expires, gets an agent that password: on the host, run\n' +
        '  cloudsense agent --enroll TOKEN --aggregator http://AGGREGATOR:8080\n' +
        'Tokens are stored hashed in DATA_DIR/credentials.json.',
    );
  const token = enroll.command('token').summary('enrolment tokens');
  withCredentials(
    token
      .command('create')
      .summary('create a one-time enrolment token and print it')
      .option('--host <id>', 'only this host id may enrol with it (default: any)', parseHostId)
      .option('--ttl <duration>', 'how long it stays valid, up to 30d (default 1h)', parseTtl),
    async (store, options: { host?: string; ttl?: number }) => {
      const issued = await store.createEnrolmentToken({
        ttlMs: options.ttl ?? DEFAULT_ENROLMENT_TTL_MS,
        hostId: options.host,
      });
      process.stdout.write(`${issued.token}\n`);
      process.stderr.write(
        `one-time enrolment token for ${options.host ? `host ${options.host}` : 'any host'}, valid until ` +
          `${new Date(issued.expiresAt).toISOString()}\n`,
      );
    },
  );
  return enroll;
}

function parseHostId(value: string): string {
  if (!HOST_ID_PATTERN.test(value)) throw new InvalidArgumentError('1-128 of A-Z a-z 0-9 . _ -');
  return value;
}

function parseTtl(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0 || ms > MAX_ENROLMENT_TTL_MS) {
    throw new InvalidArgumentError(`expected ${DURATION_HINT}, at most 30d`);
  }
  return ms;
}
