import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readNumericCsv, toTrainingSet } from '../../models/data/numeric-csv.js';
import { ValidationError } from '../../shared/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'cloudsense-csv-'));
let n = 0;
function csv(text: string): string {
  const path = join(dir, `t${++n}.csv`);
  writeFileSync(path, text);
  return path;
}

async function rejects(text: string, pattern: RegExp, target = 'y'): Promise<void> {
  await assert.rejects(
    async () => toTrainingSet(await readNumericCsv(csv(text)), target),
    (err: unknown) => err instanceof ValidationError && pattern.test(err.message),
  );
}

describe('numeric CSV', () => {
  it('reads numbers, quoted fields, missing cells and CRLF line ends', async () => {
    const table = await readNumericCsv(csv('a,"b",y\r\n1,2.5,0\r\n,NA,1\r\n"3",-1e3,0\r\n\r\n'));
    assert.deepEqual(table.columns, ['a', 'b', 'y']);
    assert.equal(table.numRows, 3);
    const set = toTrainingSet(table, 'y');
    assert.deepEqual(set.featureNames, ['a', 'b']);
    assert.deepEqual([...set.features], [1, 2.5, NaN, NaN, 3, -1000]);
    assert.deepEqual(Array.from(set.labels), [0, 1, 0]);
  });

  it('names the line of a ragged row', () =>
    rejects('a,y\n1,0\n2,1,7\n', /:3: 3 fields, but the header has 2 columns/));
  it('names line and column of a non-numeric cell', () =>
    rejects('a,y\n1,0\nabc,1\n', /:3: column "a": "abc" is not a number/));
  it('lists the columns when the target is missing', () =>
    rejects('a,b\n1,0\n2,1\n', /no target column "y"; the columns are a, b/));
  it('refuses a constant target', () => rejects('a,y\n1,1\n2,1\n', /target "y" is constant/));
  it('refuses a missing target value', () =>
    rejects('a,y\n1,1\n2,\n', /data row 2: the target "y" is missing/));
  it('refuses an empty file and a header without rows', async () => {
    await rejects('', /empty/);
    await rejects('a,y\n', /no data rows/);
  });
  it('refuses duplicate column names', () => rejects('a,a,y\n1,2,0\n', /"a" appears twice/));
});
