import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RetrainingSectionSchema } from '../../aggregator/retraining/config.js';
import { type PromotionInput, decidePromotion } from '../../aggregator/retraining/promotion-rule.js';

const thresholds = { minPrAucGain: 0.01, maxRecallLoss: 0.02 };
const rules = [
  { name: 'static_threshold', prAuc: 0.4, recall: 0.9 },
  { name: 'predict_linear', prAuc: 0.5, recall: 0.6 },
  { name: 'fill_rate', prAuc: null, recall: null },
];
const input = (over: Partial<PromotionInput>): PromotionInput => ({
  holdout: { rows: 1000, positives: 40 },
  challenger: { prAuc: 0.7, recall: 0.8 },
  champion: { prAuc: 0.6, recall: 0.8 },
  rules,
  ...over,
});

describe('promotion rule', () => {
  it('promotes a challenger that beats the champion by the margin and every rule, keeping recall', () => {
    const d = decidePromotion(input({}), thresholds);
    assert.equal(d.promote, true, d.reason);
    assert.match(d.reason, /beats the champion's 0\.600 by 0\.100/);
  });

  it('keeps a better champion', () => {
    const d = decidePromotion(input({ champion: { prAuc: 0.75, recall: 0.8 } }), thresholds);
    assert.equal(d.promote, false);
    assert.match(d.reason, /champion's 0\.750/);
  });

  it('keeps the champion when the gain is inside the margin', () => {
    const d = decidePromotion(input({ challenger: { prAuc: 0.605, recall: 0.9 } }), thresholds);
    assert.equal(d.promote, false);
    assert.match(d.reason, /under the 0\.010 required/);
    assert.equal(
      decidePromotion(input({ challenger: { prAuc: 0.61, recall: 0.9 } }), thresholds).promote,
      true,
    );
  });

  it('refuses a challenger that ranks better but warns about fewer exhaustions', () => {
    const d = decidePromotion(input({ challenger: { prAuc: 0.8, recall: 0.7 } }), thresholds);
    assert.equal(d.promote, false);
    assert.match(d.reason, /recall 0\.700 .* below the champion's 0\.800/);
    assert.equal(
      decidePromotion(input({ challenger: { prAuc: 0.8, recall: 0.785 } }), thresholds).promote,
      true,
      'a loss within maxRecallLoss is noise',
    );
  });

  it('refuses a challenger that does not beat every rule, champion or not', () => {
    const d = decidePromotion(
      input({ challenger: { prAuc: 0.5, recall: 0.9 }, champion: undefined }),
      thresholds,
    );
    assert.equal(d.promote, false);
    assert.match(d.reason, /does not beat the rule predict_linear \(0\.500\)/);
  });

  it('needs only the rules without a usable champion', () => {
    const none = decidePromotion(input({ champion: undefined }), thresholds);
    assert.equal(none.promote, true);
    assert.match(none.reason, /no champion to beat/);
    const unscored = decidePromotion(input({ champion: { prAuc: null, recall: null } }), thresholds);
    assert.equal(unscored.promote, true);
  });

  it('judges nothing on a hold-out without an exhaustion', () => {
    const d = decidePromotion(
      input({ holdout: { rows: 500, positives: 0 }, challenger: { prAuc: null, recall: null } }),
      thresholds,
    );
    assert.equal(d.promote, false);
    assert.match(d.reason, /no exhaustion in the hold-out/);
  });
});

describe('retraining configuration', () => {
  it('has defaults for a small box', () => {
    const s = RetrainingSectionSchema.parse(undefined);
    assert.equal(s.enabled, true);
    assert.equal(s.interval, 86_400_000);
    assert.equal(s.checkInterval, 6 * 3_600_000);
    assert.equal(s.threads, 1);
    assert.equal(s.search.budget, 600_000);
    assert.deepEqual(s.resources, ['cpu', 'memory', 'swap', 'filesystem', 'inodes', 'fds']);
    assert.deepEqual(s.promotion, { minPrAucGain: 0.01, maxRecallLoss: 0.02 });
  });

  it('lists every bad value by its path', () => {
    const result = RetrainingSectionSchema.safeParse({
      interval: '10m',
      resources: ['disk'],
      holdoutFraction: 0.9,
      drift: { window: 'soon', minShiftedShare: 0 },
      search: { extra: 1 },
    });
    assert.equal(result.success, false);
    const paths = result.error.issues.map((i) => i.path.join('.')).sort();
    assert.deepEqual(paths, [
      'drift.minShiftedShare',
      'drift.window',
      'holdoutFraction',
      'interval',
      'resources.0',
      'search',
    ]);
  });
});
