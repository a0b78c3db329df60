import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commandSucceeds, requireTool, type SystemTool } from '../helpers/require-tool.js';
import { ensureDatasets, runCloudSense, runXgboost } from '../bench/lib/gbdt-vs-xgboost.js';

const PYTHON3_XGBOOST: SystemTool = {
  name: '/usr/bin/python3 with xgboost and scikit-learn',
  install:
    'install Debian python3-xgboost and python3-sklearn (apt-get install python3-xgboost python3-sklearn)',
  probe: () => commandSucceeds('/usr/bin/python3', ['-c', 'import xgboost, sklearn']),
};

describe('GBDT quality against XGBoost hist (200k train / 50k test rows, 20 features, depth 6, 100 rounds)', () => {
  it('reaches XGBoost’s test AUC within 0.003 on make_classification', async (t) => {
    if (!(await requireTool(t, PYTHON3_XGBOOST))) return;
    const dir = ensureDatasets();
    const xgb = runXgboost(dir, 'classification', 2);
    const ours = runCloudSense(dir, 'classification', 2);
    t.diagnostic(`AUC: CloudSense ${ours.value.toFixed(5)}, XGBoost ${xgb.value.toFixed(5)}`);
    // Better than XGBoost is fine; worse by more than 0.003 is not.
    assert.ok(ours.value >= xgb.value - 0.003, `AUC ${ours.value} vs XGBoost ${xgb.value}`);
  });

  it('reaches XGBoost’s test RMSE within 2% on a non-linear regression', async (t) => {
    if (!(await requireTool(t, PYTHON3_XGBOOST))) return;
    const dir = ensureDatasets();
    const xgb = runXgboost(dir, 'regression', 2);
    const ours = runCloudSense(dir, 'regression', 2);
    t.diagnostic(`RMSE: CloudSense ${ours.value.toFixed(4)}, XGBoost ${xgb.value.toFixed(4)}`);
    assert.ok(ours.value <= xgb.value * 1.02, `RMSE ${ours.value} vs XGBoost ${xgb.value}`);
  });
});
