// The README says what `npm run test:all` needs: the Debian packages `.ci/run` installs when missing, listed
// under the README's `test-requirements` marker. One list, two places: this test holds them together.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT } from './support/harness.mjs';

test('the README lists exactly the packages .ci/run installs for the tests', () => {
  const ci = fs.readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8');
  const installed = new Set([...ci.matchAll(/missing\+=\(([\w.+-]+)\)/g)].map((m) => m[1]));
  assert.ok(installed.size >= 5, `.ci/run's packages: ${[...installed]}`);
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const block = /<!-- test-requirements:[^>]*-->\s*\n```sh\n(apt-get install [^\n]+)\n```/.exec(readme);
  assert.ok(block, 'README.md has the test-requirements block');
  const listed = new Set(block[1].split(/\s+/).slice(2));
  assert.deepEqual([...listed].sort(), [...installed].sort());
});
