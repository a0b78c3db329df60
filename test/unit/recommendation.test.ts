/** The wording of recommendations: what a person on call reads (aggregator/api/recommendation.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, recommend } from '../../aggregator/api/recommendation.js';

describe('recommendations in plain words', () => {
  it('names host, resource, time to exhaustion with its band, probability and the host’s playbook', () => {
    const r = recommend({
      hostId: 'web-01',
      resource: 'filesystem:%2Fvar',
      probability: 0.934,
      threshold: 0.4,
      horizonS: 6 * 3600,
      ttBand: { p10S: 2 * 3600, p50S: 3 * 3600, p90S: 5 * 3600 },
      playbook: { playbook: 'clean-var', mode: 'recommend' },
    });
    assert.equal(
      r.text,
      'web-01: /var will be full in about 3 h (between 2 h and 5 h), probability 0.93; ' +
        'suggested: run playbook clean-var, or free space under /var (logs, caches, old releases) or grow the filesystem',
    );
    assert.equal(r.kind, 'filesystem');
    assert.equal(r.action.startsWith('run playbook clean-var'), true);
    assert.deepEqual(r.playbook, { playbook: 'clean-var', mode: 'recommend' });
  });

  it('falls back to the horizon without a band, and to the kind’s advice without a playbook', () => {
    const r = recommend({
      hostId: 'db-2',
      resource: 'memory',
      probability: 0.5,
      threshold: 0.5,
      horizonS: 3600,
    });
    assert.equal(
      r.text,
      'db-2: memory will run out within 60 min, probability 0.50; ' +
        'suggested: find what is growing (ps aux --sort=-rss | head) and restart it or add memory',
    );
    assert.equal(r.ttBand, null);
    assert.equal(r.playbook, null);
  });

  it('speaks of each kind in its own words', () => {
    const text = (resource: string) =>
      recommend({ hostId: 'h', resource, probability: 0.9, threshold: 0.5, horizonS: 600 }).text;
    assert.match(text('cpu'), /^h: CPU will be saturated within 10 min/);
    assert.match(text('swap'), /^h: swap will run out/);
    assert.match(
      text('inodes:%2Fhome'),
      /^h: \/home will run out of inodes.*remove many small files under \/home/,
    );
    assert.match(text('fds'), /^h: file descriptors will run out within 10 min/);
  });

  it('rounds durations to what a band can promise', () => {
    assert.equal(formatDuration(0.2), '1 s');
    assert.equal(formatDuration(45), '45 s');
    assert.equal(formatDuration(20 * 60), '20 min');
    assert.equal(formatDuration(3 * 3600 + 600), '3 h');
    assert.equal(formatDuration(90 * 60), '1.5 h');
    assert.equal(formatDuration(14.4 * 3600), '14 h');
    assert.equal(formatDuration(5 * 86_400), '5 d');
  });
});
