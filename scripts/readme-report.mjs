#!/usr/bin/env node
// The README's picture of `tcpinfo report`, never made by hand: runs the ground-truth suite of --explain
// (test/slow/explain-truth.test.mjs, as root: it builds network namespaces; one repeat per congestion control)
// keeping its logs, then the browser test (test/slow/report-browser.test.mjs, headless Chromium) on those logs,
// which writes the page's screenshot to docs/report-screenshot.png.
//   npm run build && node scripts/readme-report.mjs
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const logs = fs.mkdtempSync(path.join(os.tmpdir(), 'tcpinfo-readme-report-'));
try {
  for (const [test, env] of [
    ['explain-truth.test.mjs', { TCPINFO_TRUTH_LOGS: logs, TCPINFO_TRUTH_REPEATS: '1' }],
    ['report-browser.test.mjs', { TCPINFO_REPORT_LOGS: logs, TCPINFO_REPORT_SCREENSHOT: path.join(ROOT, 'docs', 'report-screenshot.png') }],
  ]) {
    const run = spawnSync(process.execPath, ['--test', path.join(ROOT, 'test', 'slow', test)], { stdio: 'inherit', env: { ...process.env, ...env } });
    if (run.status !== 0) {
      console.error(`${test} failed: docs/report-screenshot.png left as it was`);
      process.exit(1);
    }
  }
  console.log(`docs/report-screenshot.png: the report page of ${fs.readdirSync(logs).length} logs of the ground-truth suite`);
} finally {
  fs.rmSync(logs, { recursive: true, force: true });
}
