// The shipped types of every entry point (tsc over examples/typed.ts), and the runnable examples run.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { countBy, readLog, runServerProcess, scratchApp, tempDir } from '../support/harness.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const TSC = path.join(ROOT, 'node_modules', '.bin', 'tsc');
const run = promisify(execFile);

describe('types', () => {
  test('examples/typed.ts type-checks against the .d.ts of tcpinfo, tcpinfo/express, tcpinfo/fastify, tcpinfo/register', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    for (const entry of ['.', './express', './fastify', './register']) {
      assert.ok(fs.existsSync(path.join(ROOT, pkg.exports[entry].types)), `${entry}: ${pkg.exports[entry].types} is built`);
    }
    const result = await run(TSC, ['-p', path.join(ROOT, 'examples', 'tsconfig.json')], { cwd: ROOT, timeout: 30_000 }).catch((err) => err);
    assert.equal(result.code ?? 0, 0, `tsc failed:\n${result.stdout}${result.stderr}`);
  });

  test("tcpinfo/fastify type-checks in an app on Fastify 4's own types: the plugin, its options and fastify.tcpinfo", async (t) => {
    // tcpinfo as installed (package.json and dist/ copied: a symlink would resolve 'fastify' from this checkout,
    // Fastify 5), next to fastify -> the fastify4 dev dependency.
    const dir = tempDir(t, 'tcpinfo-fastify4-types-');
    const modules = path.join(dir, 'node_modules');
    fs.mkdirSync(path.join(modules, 'tcpinfo'), { recursive: true });
    fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(modules, 'tcpinfo', 'package.json'));
    fs.cpSync(path.join(ROOT, 'dist'), path.join(modules, 'tcpinfo', 'dist'), { recursive: true });
    fs.symlinkSync(path.join(ROOT, 'node_modules', 'fastify4'), path.join(modules, 'fastify'), 'dir');
    for (const name of ['@types', 'fastify-plugin']) fs.symlinkSync(path.join(ROOT, 'node_modules', name), path.join(modules, name), 'dir');
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'app', type: 'module', private: true }));
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] },
      files: ['app.ts'],
    }));
    fs.writeFileSync(path.join(dir, 'app.ts'), `import Fastify from 'fastify';
import tcpinfo, { type TcpinfoPluginHandle } from 'tcpinfo/fastify';
const app = Fastify();
await app.register(tcpinfo, { options: { hooks: ['txn_close'], logLevel: 2 } });
await app.register(tcpinfo, { options: '--hooks=ssn_start', decorator: 'tcpinfoSessions' });
const handle: TcpinfoPluginHandle = app.tcpinfo;
const written: number = app.tcpinfo.stats().written;
const closed: Promise<void> = handle.close();
// @ts-expect-error: options are a string or an object
await app.register(tcpinfo, { options: 42 });
export { written, closed };
`);
    const result = await run(TSC, ['-p', dir, '--listFiles'], { cwd: dir, timeout: 30_000 }).catch((err) => err);
    assert.equal(result.code ?? 0, 0, `tsc failed:\n${result.stdout}${result.stderr}`);
    // The files as tsc lists them: real paths.
    assert.match(result.stdout, /node_modules\/fastify4\/fastify\.d\.ts$/m, 'compiled against Fastify 4');
    assert.doesNotMatch(result.stdout, /node_modules\/fastify\/fastify\.d\.ts$/m, 'and not Fastify 5');
  });
});

/** Runs an example in an app dir until it prints its URL; sends requests, then SIGINT; resolves with the exit and the log. */
async function runExample(t, file, { args = [], env = {}, requests = 3 } = {}) {
  // As installed: `tcpinfo/register` on the command line resolves from the working directory.
  const dir = scratchApp(t);
  const { code, signal, stderr, responses } = await runServerProcess(t, { cwd: dir, args: [...args, path.join(ROOT, 'examples', file)], env, requests });
  assert.ok(responses.every((r) => r.status === 200));
  return { code, signal, stderr, log: readLog(path.join(dir, 'tcpinfo.log')) };
}

describe('examples run', () => {
  test('plain-http.mjs', async (t) => {
    const { code, stderr, log } = await runExample(t, 'plain-http.mjs');
    assert.equal(code, 0, stderr);
    assert.deepEqual(countBy(log.records), { ssn_start: 1, txn_start: 3, send_resp_hdr: 3, txn_close: 3 });
  });

  test('express.mjs', async (t) => {
    const { code, stderr, log } = await runExample(t, 'express.mjs');
    assert.equal(code, 0, stderr);
    assert.deepEqual(countBy(log.records), { ssn_start: 1, txn_close: 3 });
  });

  test('fastify.mjs', async (t) => {
    const { code, stderr, log } = await runExample(t, 'fastify.mjs');
    assert.equal(code, 0, stderr);
    assert.deepEqual(countBy(log.records), { ssn_start: 1, txn_close: 3 });
  });

  test('preload-app.mjs with --import tcpinfo/register', async (t) => {
    const { signal, stderr, log } = await runExample(t, 'preload-app.mjs', {
      args: ['--import', 'tcpinfo/register'],
      env: { TCPINFO_OPTIONS: '--hooks=ssn_start,txn_close -l 2' },
    });
    assert.equal(signal, 'SIGINT', stderr);
    assert.deepEqual(countBy(log.records), { ssn_start: 1, txn_close: 3 });
    assert.ok(log.records.every((r) => r.cols.length === 15));
  });
});
