// The framework examples of examples/frameworks/ (Koa, hapi, NestJS on its Express and on its Fastify adapter)
// with the real frameworks: that nested package (its own package.json and lock file, so the frameworks stay out
// of tcpinfo's install) is copied next to this package's package.json and dist/, where its `tcpinfo: file:../..`
// links to them; `npm ci` there; then each example serves keep-alive requests, gets SIGINT, and its log has a
// line for each. Needs the npm registry (or npm's cache).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { LEVEL2_HEADER, PACKAGE_ROOT, readLog, runServerProcess, tempDir } from '../support/harness.mjs';

const execFileP = promisify(execFile);
const NPM_TIMEOUT_MS = 240_000;
const SOURCE = path.join(PACKAGE_ROOT, 'examples', 'frameworks');
// As in install.test.mjs: no npm_* variables of an `npm run` around this, none of npm's extras.
const ENV = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_')));
const NPM_QUIET = ['--no-audit', '--no-fund', '--no-update-notifier', '--prefer-offline'];
const REQUESTS = 3;

const EXAMPLES = [
  { file: 'koa.mjs', framework: 'koa', body: 'hello from Koa\n' },
  { file: 'hapi.mjs', framework: '@hapi/hapi', body: 'hello from hapi\n' },
  { file: 'nest-express.mjs', framework: '@nestjs/platform-express', body: 'hello from NestJS\n' },
  { file: 'nest-fastify.mjs', framework: '@nestjs/platform-fastify', body: 'hello from NestJS\n' },
];

describe('examples/frameworks with the real frameworks', { timeout: NPM_TIMEOUT_MS + 60_000 }, () => {
  let examples;

  before(async (t) => {
    const root = path.join(tempDir(t, 'tcpinfo-frameworks-'), 'tcpinfo');
    examples = path.join(root, 'examples', 'frameworks');
    fs.mkdirSync(examples, { recursive: true });
    fs.copyFileSync(path.join(PACKAGE_ROOT, 'package.json'), path.join(root, 'package.json'));
    fs.symlinkSync(path.join(PACKAGE_ROOT, 'dist'), path.join(root, 'dist'), 'dir');
    for (const file of fs.readdirSync(SOURCE)) {
      if (['package.json', 'package-lock.json', '.npmrc'].includes(file) || file.endsWith('.mjs')) fs.copyFileSync(path.join(SOURCE, file), path.join(examples, file));
    }
    await execFileP('npm', ['ci', ...NPM_QUIET], { cwd: examples, env: ENV, timeout: NPM_TIMEOUT_MS, maxBuffer: 16 << 20 }).catch((err) => {
      assert.fail(`npm ci in examples/frameworks failed:\n${err.stdout}${err.stderr}`);
    });
  });

  test('every example is run here, and every dependency of the nested package is used by one', () => {
    assert.deepEqual(fs.readdirSync(SOURCE).filter((f) => f.endsWith('.mjs') && f !== 'nest-app.mjs').sort(), EXAMPLES.map((e) => e.file).sort());
    const { dependencies } = JSON.parse(fs.readFileSync(path.join(SOURCE, 'package.json'), 'utf8'));
    const sources = fs.readdirSync(SOURCE).filter((f) => f.endsWith('.mjs')).map((f) => fs.readFileSync(path.join(SOURCE, f), 'utf8')).join('\n');
    // rxjs: a peer of Nest's packages, imported by them.
    assert.deepEqual(Object.keys(dependencies).filter((name) => name !== 'rxjs' && !sources.includes(`'${name}`)), []);
  });

  for (const { file, framework, body } of EXAMPLES) {
    test(`${file} (${framework}): ${REQUESTS} keep-alive requests, SIGINT, and the log has their lines`, async (t) => {
      const cwd = tempDir(t, 'tcpinfo-framework-run-');
      const { code, signal, stdout, stderr, responses } = await runServerProcess(t, { cwd, args: [path.join(examples, file)], requests: REQUESTS });
      assert.deepEqual(responses.map((r) => [r.status, r.body]), Array(REQUESTS).fill([200, body]));
      assert.deepEqual({ code, signal }, { code: 0, signal: null }, `${stdout}${stderr}`);
      assert.equal(stderr, '');
      assert.match(stdout, new RegExp(`logging to ${cwd.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/tcpinfo\\.log`));
      const { headers, records } = readLog(path.join(cwd, 'tcpinfo.log'));
      assert.deepEqual(headers, [LEVEL2_HEADER]);
      assert.deepEqual(records.map((r) => r.event), ['ssn_start', ...Array(REQUESTS).fill('txn_close')]);
    });
  }
});
