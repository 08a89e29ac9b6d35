// Error and warning codes: src/errors.ts lists them, docs/api.md shows the same list, every code written in
// src/ is in it, and each error a user can meet carries its code.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import Fastify from 'fastify';
import { ERROR_CODES, isTcpinfoError, WARNING_CODES } from '../dist/errors.js';
import { attach, parseOptions } from '../dist/index.js';
import tcpinfoPlugin from '../dist/integrations/fastify.js';
import { listen, ROOT, tempDir } from './support/harness.mjs';

const run = promisify(execFile);

/** Environment variables are named like codes, but are not codes. */
const ENVIRONMENT_VARIABLES = new Set(['TCPINFO_OPTIONS', 'TCPINFO_CONFIG']);

function tsFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.join(entry.parentPath ?? entry.path, entry.name));
}

test('docs/api.md "Error and warning codes" lists exactly the codes of src/errors.ts, each as error or warning', () => {
  const text = fs.readFileSync(path.join(ROOT, 'docs', 'api.md'), 'utf8');
  const section = text.split(/^## /m).find((part) => part.startsWith('Error and warning codes\n'));
  assert.ok(section, 'docs/api.md has a section "## Error and warning codes"');
  const rows = [...section.matchAll(/^\| `([A-Z0-9_]+)` \| (error|warning) \|/gm)].map((m) => `${m[1]} ${m[2]}`);
  const listed = [...Object.keys(ERROR_CODES).map((c) => `${c} error`), ...Object.keys(WARNING_CODES).map((c) => `${c} warning`)];
  assert.deepEqual(rows, listed);
});

test('every code written in src/ is listed in src/errors.ts, and every listed code is given somewhere in src/', () => {
  const listed = new Set([...Object.keys(ERROR_CODES), ...Object.keys(WARNING_CODES)]);
  const used = new Map();
  for (const file of tsFiles(path.join(ROOT, 'src'))) {
    // The lists themselves do not count as giving a code.
    const text = fs.readFileSync(file, 'utf8').replace(/^export const (ERROR|WARNING)_CODES = \{[\s\S]*?^\} as const;$/gm, '');
    for (const m of text.matchAll(/['"`]((?:ERR_)?TCPINFO_[A-Z0-9_]+)['"`]/g)) {
      if (!ENVIRONMENT_VARIABLES.has(m[1])) used.set(m[1], path.relative(ROOT, file));
    }
  }
  const unlisted = [...used].filter(([code]) => !listed.has(code)).map(([code, file]) => `${code} (${file})`);
  assert.deepEqual(unlisted, [], 'codes used in src/ but missing from src/errors.ts (an environment variable goes in ENVIRONMENT_VARIABLES here)');
  assert.deepEqual([...listed].filter((code) => !used.has(code)), [], 'codes listed in src/errors.ts that nothing gives');
});

/** The error `fn` throws (or the promise it returns rejects with). */
async function thrown(fn) {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  assert.fail('did not throw');
}

test('each error a user can meet carries its code', async (t) => {
  const dir = tempDir(t);
  const config = await thrown(() => parseOptions('--log-level=3'));
  assert.equal(config.code, 'ERR_TCPINFO_CONFIG');

  for (const call of [() => parseOptions(42), () => attach(null, {})]) {
    const err = await thrown(call);
    assert.ok(err instanceof TypeError);
    assert.equal(err.code, 'ERR_TCPINFO_INVALID_ARGUMENT');
  }

  const cannotOpen = await thrown(() => attach(http.createServer(), { logFile: path.join(dir, 'missing', 'tcpinfo.log') }));
  assert.match(cannotOpen.message, /cannot open for appending \(ENOENT\)/);
  assert.equal(cannotOpen.code, 'ERR_TCPINFO_LOG_OPEN');

  const logFile = path.join(dir, 'shared.log');
  const handle = attach(http.createServer(), { logFile });
  t.after(() => handle.close());
  const conflict = await thrown(() => attach(http.createServer(), { logFile, logLevel: 2 }));
  assert.match(conflict.message, /already being written in this process/);
  assert.equal(conflict.code, 'ERR_TCPINFO_LOG_FILE_CONFLICT');

  const stray = Fastify();
  t.after(() => stray.close());
  stray.register(tcpinfoPlugin, { hooks: 'txn_close' });
  const strayErr = await thrown(() => stray.ready());
  assert.ok(strayErr instanceof TypeError);
  assert.equal(strayErr.code, 'ERR_TCPINFO_INVALID_ARGUMENT');

  for (const err of [config, cannotOpen, conflict, strayErr]) assert.ok(isTcpinfoError(err), err.message);
  // The message is no longer what tells them apart.
  assert.equal(isTcpinfoError(new Error('tcpinfo: looks like ours')), false);
  assert.equal(isTcpinfoError(Object.assign(new Error('x'), { code: 'ENOENT' })), false);
});

/** An app directory where tcpinfo is installed as a copy of dist/ with its dependencies, and no prom-client. */
function appWithoutPromClient(t) {
  const dir = tempDir(t, 'tcpinfo-noprom-');
  const pkg = path.join(dir, 'node_modules', 'tcpinfo');
  fs.cpSync(path.join(ROOT, 'dist'), path.join(pkg, 'dist'), { recursive: true, filter: (src) => !src.endsWith('.map') && !src.endsWith('.d.ts') });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(pkg, 'package.json'));
  const { dependencies } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  for (const name of Object.keys(dependencies)) fs.symlinkSync(path.join(ROOT, 'node_modules', name), path.join(dir, 'node_modules', name), 'dir');
  return dir;
}

test('prom-client missing: attach() throws ERR_TCPINFO_PROM_CLIENT_MISSING, before it opens the log file', async (t) => {
  const dir = appWithoutPromClient(t);
  const env = { PATH: process.env.PATH };
  const script = "import http from 'node:http'; import { attach } from 'tcpinfo';" +
    "let out = { code: 'none: attach() did not throw' };" +
    'try { attach(http.createServer(), { metrics: true }); } catch (err) { out = { code: err.code, message: err.message }; }' +
    'console.log(JSON.stringify(out)); process.exit(0);';
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, env, timeout: 10_000 });
  const { code, message } = JSON.parse(stdout);
  assert.equal(code, 'ERR_TCPINFO_PROM_CLIENT_MISSING');
  assert.match(message, /^tcpinfo: --metrics needs prom-client/);
  // Nothing was opened (and so nothing held) for a logger that never came to be.
  assert.deepEqual(fs.readdirSync(dir).filter((name) => name.startsWith('tcpinfo')), []);
});

test('@opentelemetry/api missing: attach() with --otel throws ERR_TCPINFO_OTEL_API_MISSING, before it opens the log file', async (t) => {
  const dir = appWithoutPromClient(t);
  const script = "import http from 'node:http'; import { attach } from 'tcpinfo';" +
    "let out = { code: 'none: attach() did not throw' };" +
    "try { attach(http.createServer(), { explain: true, otel: true, logFile: 'tcpinfo.log' }); } catch (err) { out = { code: err.code, message: err.message }; }" +
    'console.log(JSON.stringify(out)); process.exit(0);';
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, env: { PATH: process.env.PATH }, timeout: 10_000 });
  const { code, message } = JSON.parse(stdout);
  assert.equal(code, 'ERR_TCPINFO_OTEL_API_MISSING');
  assert.match(message, /^tcpinfo: --otel needs @opentelemetry\/api/);
  assert.deepEqual(fs.readdirSync(dir).filter((name) => name.startsWith('tcpinfo')), []);
});

test("a handle's 'warning' carries the code of its process warning: TCPINFO_METRICS_SERVER for a port taken", async (t) => {
  const taken = http.createServer();
  const port = await listen(t, taken);
  const handle = attach(http.createServer(), { logFile: path.join(tempDir(t), 'm.log'), metrics: true, metricsPort: port });
  t.after(() => handle.close());
  const [handleWarning] = await once(handle, 'warning');
  assert.match(handleWarning.message, /the \/metrics server on 127\.0\.0\.1:\d+ failed/);
  assert.equal(handleWarning.code, 'TCPINFO_METRICS_SERVER');
});
