// From a fresh clone to the first verdict in two minutes (issue 25): the README's commands as written, taken out of
// README.md, run in a fresh clone of this repository's HEAD (commit first: uncommitted changes are not in it), timed
// against the budget: `npm install && npm start` until the demo has sent itself its requests, Ctrl-C, then the
// explain command the README names. Its answer must not be all `ok`: the demo's slow handler is `server`, its slow
// reader and slow upload `client`. Needs git and the npm registry (npm's cache is used where it has the packages).
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { PACKAGE_ROOT, tempDir } from '../support/harness.mjs';

const run = promisify(execFile);
const BUDGET_MS = 120_000;
// Without the npm_* variables of the `npm run test:slow` around this test (they would point npm at this checkout).
const ENV = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_')));

const README = fs.readFileSync(path.join(PACKAGE_ROOT, 'README.md'), 'utf8');

/** The README's first command block: the line that starts the demo, and the explain command named after it. */
function readmeCommands() {
  const block = /```sh\n([\s\S]*?)\n```/.exec(README)[1];
  const start = block.split('\n').find((line) => line.includes('npm start'));
  const explain = /`(npm run explain)`/.exec(README)?.[1];
  assert.ok(start && explain, 'the README names both commands');
  return { start: start.replace(/\s+#.*$/, ''), explain };
}

test('the README\'s commands reach a verdict that is not all ok within two minutes of a fresh clone', { timeout: 300_000 }, async (t) => {
  const { start, explain } = readmeCommands();
  assert.equal(start, 'npm install && npm start');
  const dir = tempDir(t, 'tcpinfo-two-minutes-');
  const clone = path.join(dir, 'tcpinfo');
  const began = performance.now();
  await run('git', ['clone', '--quiet', PACKAGE_ROOT, clone], { env: ENV, timeout: 60_000 });
  const demo = spawn('bash', ['-c', `${start} --no-update-notifier`], { cwd: clone, env: { ...ENV, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  t.after(() => {
    try {
      process.kill(-demo.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  let output = '';
  demo.stdout.on('data', (d) => (output += d));
  demo.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => demo.on('exit', resolve));
  while (!output.includes('sent 6 requests') && performance.now() - began < BUDGET_MS) {
    if (demo.exitCode !== null) assert.fail(`npm start ended early:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.match(output, /sent 6 requests/, `the demo within the budget:\n${output.slice(-2000)}`);
  // Ctrl-C: the process group, as a terminal sends it.
  process.kill(-demo.pid, 'SIGINT');
  await exited;
  const answer = await run('bash', ['-c', explain], { cwd: clone, env: ENV, timeout: 60_000 });
  const took = performance.now() - began;
  t.diagnostic(`clone, install, demo and explain: ${(took / 1000).toFixed(1)} s`);
  assert.ok(took < BUDGET_MS, `${(took / 1000).toFixed(1)} s, over the ${BUDGET_MS / 1000} s budget`);
  assert.match(answer.stdout, /^server\s+[1-9]\d*\s+\d+%$/m, answer.stdout);
  assert.match(answer.stdout, /^client\s+[1-9]\d*\s+\d+%$/m, answer.stdout);
  assert.match(answer.stdout, /GET \/report 200/);
});
