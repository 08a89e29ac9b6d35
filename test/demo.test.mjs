// `npm start`, the README's first command: the demo server writes ./tcpinfo.log from plugin.config.example.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LEVEL2_HEADER, readLog, tempDir, waitFor } from './support/harness.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

test('the demo server logs its own requests to ./tcpinfo.log and flushes on SIGTERM', async (t) => {
  const dir = tempDir(t);
  fs.copyFileSync(path.join(root, 'plugin.config.example'), path.join(dir, 'plugin.config.example'));
  const child = spawn(process.execPath, [path.join(root, 'examples', 'demo-server.mjs')], {
    cwd: dir,
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  await waitFor(() => out.includes('sent 3 requests'), 10_000, 'the demo to answer itself');
  assert.match(out, /tcpinfo demo listening on http:\/\/127\.0\.0\.1:\d+\//);
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  child.kill('SIGTERM');
  assert.deepEqual(await exited, { code: 0, signal: null });
  const logFile = path.join(dir, 'tcpinfo.log');
  assert.match(out, new RegExp(`log: +${logFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  const { headers, records } = readLog(logFile);
  assert.deepEqual(headers, [LEVEL2_HEADER]);
  assert.equal(records.filter((r) => r.event === 'txn_start').length, 3);
  assert.equal(records.filter((r) => r.event === 'txn_close').length, 3);
  assert.equal(fs.statSync(logFile).mode & 0o777, 0o640 & ~process.umask());
});
