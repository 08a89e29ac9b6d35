// --metrics on prom-client 14 (the prom-client14 dev dependency, npm:prom-client@^14): the metrics tests
// (metrics.test.mjs, and the --explain metrics of explain-log.test.mjs) run as they are, in a copy of the
// package where `prom-client` is version 14: what tcpinfo loads for the app and what the tests read.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { PACKAGE_ROOT, tempDir } from '../support/harness.mjs';

const execFileP = promisify(execFile);
const TESTS = ['metrics.test.mjs', 'explain-log.test.mjs'];
// Without the parent's NODE_TEST_CONTEXT: the child reports TAP on its stdout instead of to this runner.
const ENV = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'NODE_TEST_CONTEXT'));

/** package.json, dist/ and the tests copied (real files: they resolve from where they are), every package
 * of node_modules linked, but prom-client linked to prom-client14. */
function packageOnPromClient14(t) {
  const root = path.join(tempDir(t, 'tcpinfo-prom14-'), 'tcpinfo');
  fs.mkdirSync(path.join(root, 'node_modules'), { recursive: true });
  fs.copyFileSync(path.join(PACKAGE_ROOT, 'package.json'), path.join(root, 'package.json'));
  fs.cpSync(path.join(PACKAGE_ROOT, 'dist'), path.join(root, 'dist'), { recursive: true });
  fs.cpSync(path.join(PACKAGE_ROOT, 'test', 'support'), path.join(root, 'test', 'support'), { recursive: true });
  for (const file of TESTS) fs.copyFileSync(path.join(PACKAGE_ROOT, 'test', file), path.join(root, 'test', file));
  const modules = path.join(PACKAGE_ROOT, 'node_modules');
  for (const name of fs.readdirSync(modules)) {
    if (name === 'prom-client' || name.startsWith('.')) continue;
    fs.symlinkSync(path.join(modules, name), path.join(root, 'node_modules', name), 'dir');
  }
  fs.symlinkSync(path.join(modules, 'prom-client14'), path.join(root, 'node_modules', 'prom-client'), 'dir');
  return root;
}

test('the metrics tests pass on prom-client 14', { timeout: 120_000 }, async (t) => {
  const root = packageOnPromClient14(t);
  const fromDist = createRequire(path.join(root, 'dist', 'metrics', 'tcp-metrics.js'));
  assert.equal(fromDist('prom-client/package.json').version.split('.')[0], '14', 'tcpinfo loads prom-client 14 there');

  const args = ['--test', '--test-concurrency=1', '--test-reporter=tap', '--test-name-pattern=metrics', ...TESTS.map((f) => path.join('test', f))];
  const { stdout } = await execFileP(process.execPath, args, { cwd: root, env: ENV, timeout: 100_000, maxBuffer: 16 << 20 }).catch((err) => {
    assert.fail(`node --test on prom-client 14 failed:\n${err.stdout}${err.stderr}`);
  });
  const count = (key) => Number(new RegExp(`^# ${key} (\\d+)$`, 'm').exec(stdout)?.[1]);
  assert.equal(count('fail'), 0, stdout);
  // Every test of metrics.test.mjs (its describe matches) and the two of explain-log.test.mjs.
  assert.ok(count('pass') >= 9, stdout);
});
