// The package as users get it: a fresh clone of this repository's HEAD (commit first: uncommitted changes
// are not in it), packed with `npm pack` (its prepare script builds dist/), the tarball installed into an
// app without dev dependencies and used from ES modules, CommonJS and npx, and with plain `npm install` into
// apps on Express 4, and on Fastify 4 with prom-client 14 (the previous majors); and `npm install git+file://`
// of the clone, where npm runs prepare with the dev dependencies. Needs git, and the npm registry for the
// app's dependencies.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { PACKAGE_ROOT, tempDir } from '../support/harness.mjs';

const execFileP = promisify(execFile);
const NPM_TIMEOUT_MS = 240_000;

// The environment of `npm run test:slow` carries npm_* variables (npm_config_local_prefix among them) that
// would make the npm run here act on this checkout: the children get the environment without them.
const ENV = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_')));
// npm's own extras off: no audit or funding report, no update notice (none of them about this package);
// packages from npm's cache when it has them (--prefer-offline reaches the git clone's install too).
const NPM_QUIET = ['--no-audit', '--no-fund', '--no-update-notifier', '--prefer-offline'];

function run(file, args, cwd, timeout = NPM_TIMEOUT_MS) {
  return execFileP(file, args, { cwd, env: ENV, timeout, maxBuffer: 16 << 20 });
}

function npm(args, cwd) {
  return run('npm', [...args, ...NPM_QUIET], cwd);
}

/** An empty app: package.json only. */
function scratchApp(dir, name) {
  const app = path.join(dir, name);
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }) + '\n');
  return app;
}

/** The relative links (files, not #anchors or URLs) of a Markdown text, without code blocks and spans. */
function relativeLinks(markdown) {
  const text = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
  const targets = [];
  for (const match of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)|^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)) {
    const target = match[1] ?? match[2];
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue;
    targets.push(decodeURI(target.replace(/[#?].*$/, '')));
  }
  return targets;
}

// What `npm install <tarball>` may print, each explained in docs/deploying.md ("Install"): npm's summary,
// and (npm 11 with allowScripts) the install scripts it did not run: koffi's (not needed: its binary comes
// from an optional dependency package) and tcpinfo's prepare (not run for a tarball: dist/ is in it).
function unexplainedLines(output) {
  return output.split('\n').filter((line) => {
    if (line.trim() === '') return false;
    if (/^(added|changed|removed) \d+ packages?/.test(line) || /^up to date/.test(line)) return false;
    const listed = /^npm warn install-scripts\s+(\S+?)@\S+ \((\w+):/.exec(line);
    if (listed) return !((listed[1] === 'koffi' && listed[2] === 'install') || (listed[1] === 'tcpinfo' && listed[2] === 'prepare'));
    return !line.startsWith('npm warn install-scripts');
  });
}

// Imports every entry point; reads TCP_INFO of a loopback connection (koffi's binary, which its own install
// script is not needed to put in place); prints one JSON line.
const ESM_APP = `
import net from 'node:net';
import { once } from 'node:events';
import { attach, readTcpInfo } from 'tcpinfo';
import middleware from 'tcpinfo/express';
import plugin from 'tcpinfo/fastify';
const server = net.createServer().listen(0, '127.0.0.1');
await once(server, 'listening');
const client = net.connect(server.address().port, '127.0.0.1');
const [socket] = await once(server, 'connection');
const info = readTcpInfo(socket);
client.destroy();
server.close();
console.log(JSON.stringify({ attach: typeof attach, express: typeof middleware, fastify: typeof plugin, state: info?.state }));
`;
const ESM_EXPECTED = { attach: 'function', express: 'function', fastify: 'function', state: 1 };

const CJS_APP = `
const { attach } = require('tcpinfo');
console.log(JSON.stringify({ attach: typeof attach, express: typeof require('tcpinfo/express'), fastify: typeof require('tcpinfo/fastify') }));
`;
const CJS_EXPECTED = { attach: 'function', express: 'function', fastify: 'function' };

// An app on the previous majors, with the middleware (or the plugin, with --metrics on prom-client 14): one
// request through it, then the log's events (and the scrape's connection count) printed as one JSON line.
const EXPRESS4_APP = `
import fs from 'node:fs';
import http from 'node:http';
import express from 'express';
import tcpinfo from 'tcpinfo/express';
const middleware = tcpinfo({ hooks: 'ssn_start,txn_start,send_resp_hdr,txn_close', logFile: 'tcpinfo.log', format: 'json' });
const app = express();
app.use(middleware);
app.get('*', (req, res) => res.send('hello'));
const server = app.listen(0, '127.0.0.1', () => {
  http.get({ host: '127.0.0.1', port: server.address().port, path: '/x', agent: false }, (res) => {
    res.resume().on('end', async () => {
      server.close();
      await middleware.close();
      const events = fs.readFileSync('tcpinfo.log', 'utf8').trim().split('\\n').map((l) => JSON.parse(l).event);
      const major = JSON.parse(fs.readFileSync('node_modules/express/package.json', 'utf8')).version.split('.')[0];
      console.log(JSON.stringify({ express: major, status: res.statusCode, events }));
    });
  });
});
`;
const EXPRESS4_EXPECTED = { express: '4', status: 200, events: ['ssn_start', 'txn_start', 'send_resp_hdr', 'txn_close'] };

const FASTIFY4_APP = `
import fs from 'node:fs';
import Fastify from 'fastify';
import client from 'prom-client';
import tcpinfo from 'tcpinfo/fastify';
const app = Fastify();
await app.register(tcpinfo, { options: { hooks: 'ssn_start,txn_close', logFile: 'tcpinfo.log', format: 'json', metrics: true } });
app.get('/', async () => 'hello');
await app.listen({ port: 0, host: '127.0.0.1' });
const res = await fetch(\`http://127.0.0.1:\${app.server.address().port}/\`);
await res.text();
const opened = /^tcpinfo_connections_opened_total\\{[^}]*\\} (\\d+)$/m.exec(await client.register.metrics())?.[1];
const stats = app.tcpinfo.stats();
await app.close();
const events = fs.readFileSync('tcpinfo.log', 'utf8').trim().split('\\n').map((l) => JSON.parse(l).event);
const major = (name) => JSON.parse(fs.readFileSync(\`node_modules/\${name}/package.json\`, 'utf8')).version.split('.')[0];
console.log(JSON.stringify({ fastify: major('fastify'), promClient: major('prom-client'), status: res.status, opened, logged: stats.logged.txn_close, events }));
`;
const FASTIFY4_EXPECTED = { fastify: '4', promClient: '14', status: 200, opened: '1', logged: 1, events: ['ssn_start', 'txn_close'] };

describe('install as users get it', { timeout: 2 * NPM_TIMEOUT_MS }, () => {
  const version = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')).version;
  let dir;
  let clone;
  let gitInstall;

  before(async (t) => {
    dir = tempDir(t, 'tcpinfo-install-');
    clone = path.join(dir, 'clone');
    const { stdout: dirty } = await run('git', ['status', '--porcelain', '--untracked-files=no'], PACKAGE_ROOT, 10_000);
    if (dirty.trim() !== '') console.error(`install.test: testing HEAD; these uncommitted changes are not in it:\n${dirty}`);
    await run('git', ['clone', '--quiet', PACKAGE_ROOT, clone], dir, 30_000);
    // Started now, awaited by its test: npm installs the dev dependencies and builds in its own clone.
    const gitApp = scratchApp(dir, 'git-app');
    gitInstall = npm(['install', `git+${pathToFileURL(clone).href}`], gitApp).then(
      (result) => ({ app: gitApp, ...result }),
      (error) => ({ app: gitApp, error }),
    );
  });

  after(() => gitInstall);

  let tarball;
  let files;

  test('npm pack of a fresh clone builds dist/ (prepare) and ships it, LICENSE, no source maps, and every file the README and docs link to', async () => {
    // As after `npm ci` in the clone: the dev dependencies (TypeScript) are there.
    fs.symlinkSync(path.join(PACKAGE_ROOT, 'node_modules'), path.join(clone, 'node_modules'), 'dir');
    assert.ok(!fs.existsSync(path.join(clone, 'dist')), 'a fresh clone has no dist/');
    const { stdout } = await npm(['pack', '--json', '--pack-destination', dir], clone);
    const [packed] = JSON.parse(stdout);
    tarball = path.join(dir, packed.filename);
    files = new Set(packed.files.map((f) => f.path));

    for (const file of ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'dist/integrations/express.js', 'dist/integrations/fastify.js', 'dist/register.js', 'dashboards/tcpinfo.json', 'dashboards/alerts.yml']) {
      assert.ok(files.has(file), `${file} is in the tarball`);
    }
    const license = fs.readFileSync(path.join(clone, 'LICENSE'), 'utf8');
    assert.equal(JSON.parse(fs.readFileSync(path.join(clone, 'package.json'), 'utf8')).license, 'Apache-2.0');
    assert.match(license, /^\s*Apache License\s+Version 2\.0, January 2004/);
    assert.match(license, /END OF TERMS AND CONDITIONS/);
    assert.deepEqual([...files].filter((f) => f.endsWith('.map')), [], 'no source maps');
    assert.deepEqual([...files].filter((f) => /^(src|test|bench|scripts)\//.test(f)), [], 'no sources, tests or benchmarks');

    const markdown = [...files].filter((f) => f === 'README.md' || /^docs\/.*\.md$/.test(f));
    assert.ok(markdown.some((f) => f.startsWith('docs/')), 'docs/*.md are in the tarball');
    const missing = [];
    for (const doc of markdown) {
      for (const link of relativeLinks(fs.readFileSync(path.join(clone, doc), 'utf8'))) {
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(doc), link)).replace(/\/$/, '');
        if (!files.has(target) && ![...files].some((f) => f.startsWith(target + '/'))) missing.push(`${doc} -> ${link}`);
      }
    }
    assert.deepEqual(missing, [], 'relative links of the README and docs that the tarball lacks');
  });

  test('the tarball installs into an app without dev dependencies, printing only what docs/deploying.md explains; import, require, npx tcpinfo --version', async () => {
    assert.ok(tarball, 'packed');
    const app = scratchApp(dir, 'app');
    const { stdout, stderr } = await npm(['install', tarball], app);
    assert.deepEqual(unexplainedLines(stdout + stderr), [], `npm install printed:\n${stdout}${stderr}`);
    const deploying = fs.readFileSync(path.join(clone, 'docs', 'deploying.md'), 'utf8');
    for (const word of ['allowScripts', 'koffi', 'prepare']) assert.ok(deploying.includes(word), `docs/deploying.md explains ${word}`);

    const installed = fs.readdirSync(path.join(app, 'node_modules')).sort();
    for (const dev of ['typescript', 'express', 'fastify', '@types']) assert.ok(!installed.includes(dev), `${dev} is not installed`);

    fs.writeFileSync(path.join(app, 'app.mjs'), ESM_APP);
    fs.writeFileSync(path.join(app, 'app.cjs'), CJS_APP);
    const [esm, cjs, cli] = await Promise.all([
      run(process.execPath, ['app.mjs'], app, 10_000),
      run(process.execPath, ['app.cjs'], app, 10_000),
      run('npx', ['--no', '--', 'tcpinfo', '--version'], app, 30_000),
    ]);
    assert.deepEqual(JSON.parse(esm.stdout), ESM_EXPECTED);
    assert.equal(esm.stderr, '');
    assert.deepEqual(JSON.parse(cjs.stdout), CJS_EXPECTED);
    assert.equal(cjs.stderr, '');
    assert.equal(cli.stdout.trim(), version);
  });

  // npm stops with ERESOLVE when an optional peer is there in a version out of range: the app's own
  // express@4 (fastify@4, prom-client@14) must be in range, with no --legacy-peer-deps.
  for (const [name, dependencies, source, expected] of [
    ['express4-app', { express: '^4.21.0' }, EXPRESS4_APP, EXPRESS4_EXPECTED],
    ['fastify4-app', { fastify: '^4.28.0', 'prom-client': '^14.2.0' }, FASTIFY4_APP, FASTIFY4_EXPECTED],
  ]) {
    test(`plain npm install of the tarball into an app on ${Object.entries(dependencies).map(([n, v]) => `${n}@${v}`).join(' and ')}; a request through it is logged`, async () => {
      assert.ok(tarball, 'packed');
      const app = scratchApp(dir, name);
      const manifest = JSON.parse(fs.readFileSync(path.join(app, 'package.json'), 'utf8'));
      fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ ...manifest, type: 'module', dependencies }) + '\n');
      const { stdout, stderr } = await npm(['install', tarball], app).catch((err) => assert.fail(`npm install failed:\n${err.stdout}${err.stderr}`));
      assert.doesNotMatch(stdout + stderr, /ERESOLVE|peer/i);
      // Exits 1 for a dependency missing or out of its range, optional peers included.
      await npm(['ls', '--all'], app).catch((err) => assert.fail(`npm ls found problems:\n${err.stdout}${err.stderr}`));
      fs.writeFileSync(path.join(app, 'app.mjs'), source);
      const { stdout: out, stderr: err } = await run(process.execPath, ['app.mjs'], app, 20_000);
      assert.deepEqual(JSON.parse(out), expected, err);
    });
  }

  test('npm install git+file://<clone> builds dist/ (prepare, with the dev dependencies) and the app imports it', async () => {
    const { app, error, stdout, stderr } = await gitInstall;
    assert.ifError(error);
    assert.deepEqual(unexplainedLines(stdout + stderr), [], `npm install printed:\n${stdout}${stderr}`);
    assert.ok(fs.existsSync(path.join(app, 'node_modules', 'tcpinfo', 'dist', 'index.js')), 'dist/ is built');
    fs.writeFileSync(path.join(app, 'app.mjs'), ESM_APP);
    const esm = await run(process.execPath, ['app.mjs'], app, 10_000);
    assert.deepEqual(JSON.parse(esm.stdout), ESM_EXPECTED);
  });
});
