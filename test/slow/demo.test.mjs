// `npm start`, the README's first command: the demo server writes ./tcpinfo.log (JSON lines, --explain, the
// request paths), sends itself requests slow for different reasons, and flushes on SIGTERM; `npm run explain`
// then finds the server's and the client's verdicts in it. A plugin.config works too (TCPINFO_CONFIG).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { LEVEL2_HEADER, ROOT, jsonLines, readLog, spawnCli, tempDir, waitFor } from '../support/harness.mjs';

const root = ROOT;

function startDemo(t, dir, env = {}) {
  const child = spawn(process.execPath, [path.join(root, 'examples', 'demo-server.mjs')], {
    cwd: dir,
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  const output = { text: '' };
  child.stdout.on('data', (d) => (output.text += d));
  child.stderr.on('data', (d) => (output.text += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, output, exited };
}

test('the demo logs its own requests with their verdicts to ./tcpinfo.log, flushes on SIGTERM, and explain reads them', async (t) => {
  const dir = tempDir(t);
  const { child, output, exited } = startDemo(t, dir);
  await waitFor(() => output.text.includes('sent 6 requests'), 15_000, 'the demo to send itself its requests');
  assert.match(output.text, /tcpinfo demo listening on http:\/\/127\.0\.0\.1:\d+\//);
  child.kill('SIGTERM');
  assert.deepEqual(await exited, { code: 0, signal: null });
  const logFile = path.join(dir, 'tcpinfo.log');
  assert.match(output.text, new RegExp(`log: +${logFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  const verdicts = jsonLines(logFile).filter((l) => l.event === 'txn_delivered');
  assert.deepEqual(verdicts.map((l) => l.url).sort(), ['/', '/', '/export', '/report', '/report', '/upload']);
  const of = (url) => verdicts.filter((l) => l.url === url).map((l) => l.verdict);
  assert.deepEqual(of('/'), ['ok', 'ok']);
  assert.deepEqual(of('/report'), ['server', 'server']);
  assert.deepEqual(of('/export'), ['client']);
  assert.deepEqual(of('/upload'), ['client']);
  assert.equal(fs.statSync(logFile).mode & 0o777, 0o640 & ~process.umask());
  // `npm run explain` is this command, run where the demo ran.
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  assert.equal(pkg.scripts.explain, 'node dist/cli/main.js explain tcpinfo.log');
  const explain = await spawnCli(['explain', 'tcpinfo.log'], { cwd: dir });
  assert.equal(explain.code, 0, explain.stderr);
  assert.match(explain.stdout, /^server\s+2\s+\d+%$/m);
  assert.match(explain.stdout, /^client\s+2\s+\d+%$/m);
});

test('with TCPINFO_CONFIG the demo takes its options from a plugin.config (Traffic Server\'s text format)', async (t) => {
  const dir = tempDir(t);
  fs.copyFileSync(path.join(root, 'plugin.config.example'), path.join(dir, 'plugin.config.example'));
  const { child, output, exited } = startDemo(t, dir, { TCPINFO_CONFIG: 'plugin.config.example' });
  await waitFor(() => output.text.includes('sent 6 requests'), 15_000, 'the demo to send itself its requests');
  child.kill('SIGTERM');
  assert.deepEqual(await exited, { code: 0, signal: null });
  const { headers, records } = readLog(path.join(dir, 'tcpinfo.log'));
  assert.deepEqual(headers, [LEVEL2_HEADER]);
  assert.equal(records.filter((r) => r.event === 'txn_start').length, 6);
  assert.equal(records.filter((r) => r.event === 'txn_close').length, 6);
});
