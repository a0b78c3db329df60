import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { BrokerAccess, type BrokerIdentity } from '../../aggregator/security/broker-access.js';
import {
  CREDENTIALS_FILE,
  CredentialStore,
  EnrolmentRefusedError,
} from '../../aggregator/security/credential-store.js';
import { hashSecret, verifySecret } from '../../aggregator/security/secret-hash.js';

const dir = mkdtempSync(join(tmpdir(), 'cloudsense-credentials-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const storePath = () => join(dir, `${++n}`, CREDENTIALS_FILE);

describe('secret hashing', () => {
  it('verifies the secret and nothing else, with a salt per hash', async () => {
    const a = await hashSecret('correct horse');
    const b = await hashSecret('correct horse');
    assert.notEqual(a.salt, b.salt);
    assert.notEqual(a.hash, b.hash);
    assert.equal(await verifySecret('correct horse', a), true);
    assert.equal(await verifySecret('correct horsf', a), false);
    assert.equal(await verifySecret('correct horse', { salt: a.salt, hash: 'short' }), false);
  });
});

describe('the credential store', () => {
  it('keeps only hashes, in a file of mode 0600', async () => {
    const path = storePath();
    const store = new CredentialStore(path);
    const { token } = await store.createApiToken('operate', 'ci');
    const agent = await store.issueAgentCredentials('web-01');
    const text = readFileSync(path, 'utf8');
    assert.equal(text.includes(token.split('.')[2]!), false);
    assert.equal(text.includes(agent.password), false);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual((await store.verifyApiToken(token))?.role, 'operate');
    assert.equal(await store.verifyApiToken(`${token}x`), undefined);
    assert.equal(await store.verifyApiToken('Bearer nonsense'), undefined);
    assert.equal(agent.username, 'host:web-01');
    assert.equal(await store.verifyAgent('web-01', agent.password), true);
    assert.equal(await store.verifyAgent('web-01', 'guess'), false);
    assert.equal(await store.verifyAgent('web-02', agent.password), false);
  });

  it('spends an enrolment token on first use, and honours its host and expiry', async () => {
    const store = new CredentialStore(storePath());
    const any = await store.createEnrolmentToken({ ttlMs: 60_000 });
    const issued = await store.redeemEnrolmentToken(any.token, 'db-01');
    assert.equal(issued.username, 'host:db-01');
    assert.equal(await store.verifyAgent('db-01', issued.password), true);
    await assert.rejects(store.redeemEnrolmentToken(any.token, 'db-02'), EnrolmentRefusedError);

    const forOne = await store.createEnrolmentToken({ ttlMs: 60_000, hostId: 'db-03' });
    await assert.rejects(
      store.redeemEnrolmentToken(forOne.token, 'db-04'),
      (err: unknown) => err instanceof EnrolmentRefusedError && err.reason === 'host',
    );
    assert.equal((await store.redeemEnrolmentToken(forOne.token, 'db-03')).username, 'host:db-03');

    const expired = await store.createEnrolmentToken({ ttlMs: 1 });
    await new Promise((r) => setTimeout(r, 20));
    await assert.rejects(store.redeemEnrolmentToken(expired.token, 'db-05'), EnrolmentRefusedError);
  });

  it('sees changes another process makes, and two writers lose nothing', async () => {
    const path = storePath();
    const aggregator = new CredentialStore(path);
    const cli = new CredentialStore(path);
    assert.equal(await aggregator.verifyApiToken('csa.000000000000.aaaaaaaaaaaaaaaaaaaa'), undefined);
    const created = await Promise.all(
      Array.from({ length: 6 }, (_, i) => (i % 2 ? aggregator : cli).createApiToken('read', `t${i}`)),
    );
    for (const { token } of created) assert.equal((await aggregator.verifyApiToken(token))?.role, 'read');
    assert.equal((await cli.listApiTokens()).length, 6);
    assert.equal(await cli.revokeApiToken(created[0]!.id), true);
    assert.equal(
      await aggregator.verifyApiToken(created[0]!.token),
      undefined,
      'revoked by the other process',
    );
  });

  it('breaks a lock left by a process that is gone, and waits for one that is alive', async () => {
    const path = storePath();
    const store = new CredentialStore(path);
    await store.createApiToken('read');
    writeFileSync(`${path}.lock`, '2147483646\n');
    await store.createApiToken('read');
    assert.equal((await store.listApiTokens()).length, 2);

    writeFileSync(`${path}.lock`, `${process.pid}\n`);
    let done = false;
    const waiting = store.createApiToken('admin').then(() => (done = true));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(done, false, 'the lock of a live process is respected');
    rmSync(`${path}.lock`);
    await waiting;
    assert.equal((await store.listApiTokens()).length, 3);
  });

  it('refuses a corrupt file instead of treating it as empty', async () => {
    const path = storePath();
    const store = new CredentialStore(path);
    await store.createApiToken('read');
    writeFileSync(path, '{"version":1,"agents":');
    await assert.rejects(
      store.verifyApiToken('csa.000000000000.aaaaaaaaaaaaaaaaaaaa'),
      /not a valid credentials file/,
    );
  });
});

describe('broker ACLs', () => {
  const log = pino({ level: 'silent' });
  const agent: BrokerIdentity = { kind: 'agent', hostId: 'web-01' };

  it('keeps an agent to its own topics and lets only admins publish models', async () => {
    const access = new BrokerAccess({
      credentials: new CredentialStore(storePath()),
      authRequired: true,
      maxAgentPayloadBytes: 262_144,
      log,
    });
    const own = 'cloudsense/v1/hosts/web-01';
    for (const kind of ['telemetry', 'predictions', 'events', 'status']) {
      assert.equal(access.mayPublish(agent, 'c', `${own}/${kind}`), true, kind);
    }
    for (const topic of [
      'cloudsense/v1/hosts/web-02/telemetry',
      `${own}/ack`,
      `${own}/commands`,
      `${own}/telemetry/extra`,
      'cloudsense/v1/models/cpu',
      `${own}/models/cpu`,
      '$SYS/x',
      'elsewhere',
    ]) {
      assert.equal(access.mayPublish(agent, 'c', topic), false, topic);
    }
    for (const filter of [
      'cloudsense/v1/models/+',
      'cloudsense/v1/models/#',
      'cloudsense/v1/models/cpu',
      `${own}/ack`,
      `${own}/commands`,
      `${own}/models/+`,
      `${own}/models/#`,
      `${own}/models/memory`,
    ]) {
      assert.equal(access.maySubscribe(agent, 'c', filter), true, filter);
    }
    for (const filter of [
      '#',
      'cloudsense/v1/hosts/+/telemetry',
      'cloudsense/v1/hosts/web-02/ack',
      'cloudsense/v1/hosts/web-02/models/+',
      'cloudsense/v1/hosts/+/models/+',
      `${own}/#`,
    ]) {
      assert.equal(access.maySubscribe(agent, 'c', filter), false, filter);
    }
    assert.equal(access.mayPublish({ kind: 'publisher' }, 'p', 'cloudsense/v1/models/cpu'), true);
    assert.equal(access.mayPublish({ kind: 'reader' }, 'r', 'cloudsense/v1/models/cpu'), false);
    assert.equal(access.maySubscribe({ kind: 'reader' }, 'r', 'cloudsense/v1/hosts/+/telemetry'), true);
    assert.deepEqual(access.stats(), {
      loginsRefused: 0,
      publishesDenied: 9,
      subscriptionsDenied: 6,
      packetsOversized: 0,
    });
  });

  it('logs agents in by host and client id, refuses anonymous clients when authentication is required', async () => {
    const credentials = new CredentialStore(storePath());
    const { password } = await credentials.issueAgentCredentials('web-01');
    const { token } = await credentials.createApiToken('admin');
    const read = await credentials.createApiToken('read');
    const required = new BrokerAccess({
      credentials,
      authRequired: true,
      maxAgentPayloadBytes: 262_144,
      log,
    });
    const pw = Buffer.from(password);
    assert.deepEqual(await required.login('cloudsense-agent-web-01', 'host:web-01', pw), agent);
    assert.equal(await required.login('cloudsense-agent-web-02', 'host:web-01', pw), 'identifier-rejected');
    assert.equal(
      await required.login('cloudsense-agent-web-01', 'host:web-01', Buffer.from('x')),
      'bad-credentials',
    );
    assert.equal(await required.login('anyone', undefined, undefined), 'not-authorized');
    assert.deepEqual(await required.login('publisher', 'token', Buffer.from(token)), { kind: 'publisher' });
    assert.deepEqual(await required.login('cloudsense-agent-web-01', 'token', Buffer.from(token)), {
      kind: 'publisher',
    });
    assert.equal(
      await required.login('cloudsense-agent-web-01', 'token', Buffer.from(read.token)),
      'identifier-rejected',
    );
    assert.deepEqual(await required.login('dashboard', 'token', Buffer.from(read.token)), { kind: 'reader' });
    assert.equal(required.stats().loginsRefused, 4);

    const open = new BrokerAccess({ credentials, authRequired: false, maxAgentPayloadBytes: 262_144, log });
    assert.deepEqual(await open.login('anyone', undefined, undefined), { kind: 'anonymous' });
    assert.equal(await open.login('x', 'host:web-01', Buffer.from('wrong')), 'bad-credentials');
  });
});
