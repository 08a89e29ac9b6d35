// `tcpinfo report` on a million lines (issue 26): a day of JSON lines written with --explain --log-url
// (bench/report-log.mjs, about 470 MB) makes its page in at most 20 s, with a peak RSS under 300 MB, and the
// page stays under 3 MB (a fixed number of time buckets, top-N lists). The figures are printed.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ROOT, tempDir } from '../support/harness.mjs';

const GENERATOR = path.join(ROOT, 'bench', 'report-log.mjs');
const CLI = pathToFileURL(path.join(ROOT, 'dist', 'cli', 'cli.js')).href;

/** The command in a process of its own, which reports its peak RSS (bytes) as its last stderr line. */
function measured(args) {
  const script =
    `const { runCli } = await import(${JSON.stringify(CLI)});` +
    `const code = await runCli(${JSON.stringify(args)});` +
    `process.stderr.write('maxrss ' + process.resourceUsage().maxRSS * 1024 + '\\n'); process.exitCode = code;`;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const rss = Number(/maxrss (\d+)/.exec(stderr)?.[1]);
      resolve({ code, ms: performance.now() - started, rss, stderr });
    });
  });
}

test('a million lines: the page in at most 20 s, RSS under 300 MB, the page under 3 MB', { timeout: 300_000 }, async (t) => {
  const dir = tempDir(t, 'tcpinfo-report-scale-');
  const log = path.join(dir, 'tcpinfo.log');
  execFileSync(process.execPath, [GENERATOR, '--lines=1000000', `--out=${log}`]);
  const html = path.join(dir, 'report.html');
  const r = await measured(['report', log, '-o', html]);
  assert.equal(r.code, 0, r.stderr);
  const page = fs.statSync(html).size;
  const figures = `1,000,000 lines (${(fs.statSync(log).size / 2 ** 20).toFixed(0)} MiB): ${(r.ms / 1000).toFixed(1)} s, ` +
    `peak RSS ${(r.rss / 2 ** 20).toFixed(0)} MiB, page ${(page / 1024).toFixed(0)} KiB`;
  t.diagnostic(figures);
  assert.ok(r.ms <= 20_000, figures);
  assert.ok(r.rss < 300 * 2 ** 20, figures);
  assert.ok(page < 3 * 2 ** 20, figures);
});
