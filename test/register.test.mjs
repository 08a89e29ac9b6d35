// tcpinfo/register: apps that know nothing of tcpinfo, started with --import or --require, configured
// by TCPINFO_OPTIONS or TCPINFO_CONFIG; the log they leave, their exit, and a broken configuration.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { attach, describeLogging, loadConfig, parseOptions } from '../dist/index.js';
import { SELF_ENDING_APP, countBy, keepAliveRequests, makeCertificate, readLog, tempDir } from './support/harness.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REGISTER = path.join(ROOT, 'dist', 'register.js');
const PROCESS_TIMEOUT_MS = 10_000;

// The apps: plain node code, no tcpinfo in them. Each prints one JSON line of its ports once listening.
const HTTP_AND_HTTPS_APP = `
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
const hello = (req, res) => res.end('hello\\n');
const plain = http.createServer(hello);
const secure = new https.Server({ key: fs.readFileSync('key.pem'), cert: fs.readFileSync('cert.pem') }, hello);
await new Promise((r) => plain.listen(0, '127.0.0.1', r));
await new Promise((r) => secure.listen(0, '127.0.0.1', r));
console.log(JSON.stringify({ http: plain.address().port, https: secure.address().port }));
`;

const EXPRESS_CJS_APP = `
const express = require('express');
const app = express();
app.get('/', (req, res) => res.send('hello'));
const server = app.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ http: server.address().port })));
process.on('SIGINT', () => {
  server.close(() => {
    console.log('bye');
    process.exit(0);
  });
  server.closeIdleConnections();
});
`;

const FASTIFY_APP = `
import Fastify from 'fastify';
const app = Fastify();
app.get('/', async () => 'hello');
await app.listen({ port: 0, host: '127.0.0.1' });
console.log(JSON.stringify({ http: app.server.address().port }));
`;

/** A temp dir holding the app, with node_modules/tcpinfo (this package) and the frameworks linked in. */
function appDir(t, file, source) {
  const dir = tempDir(t, 'tcpinfo-register-');
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'tcpinfo'), 'dir');
  for (const name of ['express', 'fastify']) fs.symlinkSync(path.join(ROOT, 'node_modules', name), path.join(dir, 'node_modules', name), 'dir');
  fs.writeFileSync(path.join(dir, file), source);
  return dir;
}

/**
 * Starts `node <preload> <app>` in `dir`; resolves with { child, ports } once the app printed its ports,
 * or with the exit when it ends first. `exited` resolves with { code, signal, stdout, stderr }.
 */
function start(t, dir, args, env) {
  const child = spawn(process.execPath, args, { cwd: dir, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c) => (stderr += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), PROCESS_TIMEOUT_MS);
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => {
    clearTimeout(timer);
    resolve({ code, signal, stdout, stderr });
  }));
  t.after(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'));
  const ready = new Promise((resolve) => {
    child.stdout.on('data', () => {
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (line !== undefined) resolve({ ports: JSON.parse(line) });
    });
    exited.then((exit) => resolve({ exit }));
  });
  return { child, ready, exited };
}

function messageOf(fn) {
  try {
    fn();
  } catch (err) {
    return err.message;
  }
  assert.fail('expected a configuration error');
}

describe('register: attaches to every server of an app it did not change', () => {
  test('--import tcpinfo/register, TCPINFO_OPTIONS: an http and an https server; SIGTERM writes the log out, then kills as before', async (t) => {
    const dir = appDir(t, 'app.mjs', HTTP_AND_HTTPS_APP);
    makeCertificate(dir);
    const { child, ready, exited } = start(t, dir, ['--import', 'tcpinfo/register', 'app.mjs'], {
      TCPINFO_OPTIONS: '--hooks=ssn_start,txn_start,send_resp_hdr,txn_close --log-file=both.log',
    });
    const { ports, exit } = await ready;
    assert.ok(ports, `the app did not start: ${JSON.stringify(exit)}`);
    await keepAliveRequests(ports.http, 2);
    await keepAliveRequests(ports.https, 3, { protocol: 'https:' });
    child.kill('SIGTERM');
    const { code, signal, stderr } = await exited;
    assert.equal(signal, 'SIGTERM', `exit ${code}: ${stderr}`);
    // One start-up line, and nothing else.
    assert.equal(stderr, `tcpinfo: logging ssn_start,txn_start,send_resp_hdr,txn_close (level 1, 1000/1000) to ${path.join(fs.realpathSync(dir), 'both.log')}\n`);
    const { headers, records } = readLog(path.join(dir, 'both.log'));
    assert.equal(headers.length, 1);
    assert.deepEqual(countBy(records), { ssn_start: 2, txn_start: 5, send_resp_hdr: 5, txn_close: 5 });
  });

  test('--require tcpinfo/register, TCPINFO_CONFIG: a CommonJS Express app with its own SIGINT handler exits its own way', async (t) => {
    const dir = appDir(t, 'app.cjs', EXPRESS_CJS_APP);
    fs.writeFileSync(path.join(dir, 'plugin.config'), '# ATS plugins\nstats_over_http.so\ntcpinfo.so --hooks=ssn_start,txn_close --log-level=2 --log-file=express.log\n');
    const { child, ready, exited } = start(t, dir, ['--require', 'tcpinfo/register', 'app.cjs'], { TCPINFO_CONFIG: 'plugin.config', TCPINFO_QUIET: '1' });
    const { ports, exit } = await ready;
    assert.ok(ports, `the app did not start: ${JSON.stringify(exit)}`);
    await keepAliveRequests(ports.http, 3);
    child.kill('SIGINT');
    const { code, signal, stdout, stderr } = await exited;
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, stderr);
    assert.match(stdout, /bye/, 'the app\'s own handler ran and chose the exit');
    assert.equal(stderr, '', 'no warning from require() of the ES module, and no start-up line with TCPINFO_QUIET=1');
    const { records } = readLog(path.join(dir, 'express.log'));
    assert.deepEqual(countBy(records), { ssn_start: 1, txn_close: 3 });
    assert.ok(records.every((r) => r.cols.length === 15));
  });

  test('a Fastify app, and SIGINT with no handler of the app', async (t) => {
    const dir = appDir(t, 'app.mjs', FASTIFY_APP);
    const { child, ready, exited } = start(t, dir, ['--import', REGISTER, 'app.mjs'], { TCPINFO_OPTIONS: '-h txn_start,txn_close' });
    const { ports, exit } = await ready;
    assert.ok(ports, `the app did not start: ${JSON.stringify(exit)}`);
    await keepAliveRequests(ports.http, 4);
    child.kill('SIGINT');
    const { signal } = await exited;
    assert.equal(signal, 'SIGINT');
    assert.deepEqual(countBy(readLog(path.join(dir, 'tcpinfo.log')).records), { txn_start: 4, txn_close: 4 });
  });

  test('neither variable: the default options (ssn_start,txn_close to ./tcpinfo.log); an app that ends by itself leaves every line', async (t) => {
    const dir = appDir(t, 'app.mjs', SELF_ENDING_APP);
    const { exited } = start(t, dir, ['--import', REGISTER, 'app.mjs'], {});
    const { code, stdout, stderr } = await exited;
    assert.equal(code, 0, stderr);
    assert.match(stdout, /served/);
    assert.deepEqual(countBy(readLog(path.join(dir, 'tcpinfo.log')).records), { ssn_start: 3, txn_close: 3 });
  });
});

describe('register: a broken configuration stops the process before the app runs', () => {
  const cases = [
    {
      name: 'TCPINFO_OPTIONS with bad values',
      env: { TCPINFO_OPTIONS: '--log-level=7 --hooks=ssn_start,nope' },
      expected: () => messageOf(() => parseOptions('--log-level=7 --hooks=ssn_start,nope')),
    },
    {
      name: 'TCPINFO_CONFIG naming a file that is not there',
      env: { TCPINFO_CONFIG: 'missing/plugin.config' },
      expected: (dir) => messageOf(() => loadConfig(path.join(dir, 'missing/plugin.config'))).replaceAll(path.join(dir, 'missing'), 'missing'),
    },
    {
      name: 'TCPINFO_CONFIG with a bad tcpinfo line',
      env: { TCPINFO_CONFIG: 'plugin.config' },
      file: 'tcpinfo.so --sample-rate=5000\n',
      expected: (dir) => messageOf(() => loadConfig(path.join(dir, 'plugin.config'))).replaceAll(path.join(dir, 'plugin.config'), 'plugin.config'),
    },
    {
      name: 'both variables',
      env: { TCPINFO_OPTIONS: '-l 2', TCPINFO_CONFIG: 'plugin.config' },
      file: 'tcpinfo.so\n',
      expected: () => 'tcpinfo: invalid configuration\n  TCPINFO_CONFIG=plugin.config: TCPINFO_OPTIONS is set too; set one of them, not both',
    },
    {
      name: 'a log directory that does not exist',
      env: { TCPINFO_OPTIONS: '--log-dir=/nonexistent-tcpinfo-dir' },
      expected: () => 'tcpinfo: --log-file=/nonexistent-tcpinfo-dir/tcpinfo.log: cannot open for appending (ENOENT)',
    },
  ];
  for (const { name, env, file, expected } of cases) {
    test(name, async (t) => {
      const dir = appDir(t, 'app.mjs', HTTP_AND_HTTPS_APP);
      if (file !== undefined) fs.writeFileSync(path.join(dir, 'plugin.config'), file);
      const { exited } = start(t, dir, ['--import', 'tcpinfo/register', 'app.mjs'], env);
      const { code, stdout, stderr } = await exited;
      assert.equal(code, 1);
      assert.equal(stdout, '', 'the app never ran');
      const message = expected(dir);
      assert.ok(stderr.startsWith(message + '\n'), `stderr:\n${stderr}\nexpected it to start with:\n${message}`);
      assert.match(stderr, /tcpinfo\/register: the app was not started/);
      assert.equal(fs.existsSync(path.join(dir, 'tcpinfo.log')), false);
    });
  }
});

/** A port free on 127.0.0.1 just now. */
async function freePort() {
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** GET http://127.0.0.1:port/path; resolves with { status, body }. */
function get(port, urlPath) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: urlPath, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c) => (body += c)).on('end', () => resolve({ status: res.statusCode, body }));
    }).on('error', reject);
  });
}

describe('register: its own /metrics server, what cannot work, the start-up line', () => {
  test('--metrics --metrics-port: the /metrics server starts once and is neither logged nor measured', async (t) => {
    const dir = appDir(t, 'app.mjs', HTTP_AND_HTTPS_APP);
    makeCertificate(dir);
    const metricsPort = await freePort();
    const { child, ready, exited } = start(t, dir, ['--import', 'tcpinfo/register', 'app.mjs'], {
      TCPINFO_OPTIONS: `--metrics --metrics-port=${metricsPort}`,
    });
    const { ports, exit } = await ready;
    assert.ok(ports, `the app did not start: ${JSON.stringify(exit)}`);
    await keepAliveRequests(ports.http, 2);
    for (let i = 0; i < 3; i++) {
      const scrape = await get(metricsPort, '/metrics');
      assert.equal(scrape.status, 200);
      assert.match(scrape.body, /^tcpinfo_connections_opened_total\{server="127\.0\.0\.1:(\d+)"\} (\d+)$/m);
      // The app's server that had a connection is measured; the /metrics server, scraped 3 times, is not.
      const servers = [...scrape.body.matchAll(/^tcpinfo_connections_opened_total\{server="127\.0\.0\.1:(\d+)"\}/gm)].map((m) => Number(m[1]));
      assert.deepEqual(servers, [ports.http]);
    }
    child.kill('SIGTERM');
    const { signal, stderr } = await exited;
    assert.equal(signal, 'SIGTERM', stderr);
    // The start-up line and nothing else: no EADDRINUSE, no stack overflow, no attach failure.
    assert.equal(stderr, `tcpinfo: logging ssn_start,txn_close (level 1, 1000/1000) to ${path.join(fs.realpathSync(dir), 'tcpinfo.log')}; metrics at http://127.0.0.1:${metricsPort}/metrics\n`);
    const { records } = readLog(path.join(dir, 'tcpinfo.log'));
    assert.deepEqual(countBy(records), { ssn_start: 1, txn_close: 2 }, 'the 3 scrapes are not logged');
  });

  test('--metrics without prom-client installed: exit 1 before the app runs, saying npm install prom-client', async (t) => {
    // An app whose node_modules holds tcpinfo as installed (a copy, so prom-client cannot be found through
    // this checkout's node_modules) with its dependencies, and no prom-client.
    const dir = tempDir(t, 'tcpinfo-register-');
    const installed = path.join(dir, 'node_modules', 'tcpinfo');
    fs.mkdirSync(installed, { recursive: true });
    fs.cpSync(path.join(ROOT, 'dist'), path.join(installed, 'dist'), { recursive: true });
    fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(installed, 'package.json'));
    const { dependencies } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    for (const name of Object.keys(dependencies)) fs.symlinkSync(path.join(ROOT, 'node_modules', name), path.join(dir, 'node_modules', name), 'dir');
    fs.writeFileSync(path.join(dir, 'app.mjs'), HTTP_AND_HTTPS_APP);
    const { exited } = start(t, dir, ['--import', 'tcpinfo/register', 'app.mjs'], { TCPINFO_OPTIONS: '--metrics --log-file=app.log' });
    const { code, stdout, stderr } = await exited;
    assert.equal(code, 1, stderr);
    assert.equal(stdout, '', 'the app never ran');
    assert.match(stderr, /^tcpinfo: --metrics needs prom-client; install it with `npm install prom-client`\n/);
    assert.match(stderr, /tcpinfo\/register: the app was not started \(configuration from TCPINFO_OPTIONS\)/);
    assert.equal(fs.existsSync(path.join(dir, 'app.log')), false, 'no log file opened');
  });

  test('describeLogging: the start-up line\'s text, for attach() and the integrations, which print nothing', () => {
    const cwd = process.cwd();
    assert.equal(describeLogging('--hooks=ssn_start,txn_close -l 2 --log-file=/app/tcpinfo.log'), 'logging ssn_start,txn_close (level 2, 1000/1000) to /app/tcpinfo.log');
    assert.equal(describeLogging(), `logging ssn_start,txn_close (level 1, 1000/1000) to ${path.join(cwd, 'tcpinfo.log')}`);
    assert.equal(
      describeLogging({ hooks: 'txn_close', fields: 'rtt,snd_cwnd', format: 'json', logUrl: true, sampleRate: 10, sampleBy: 'session', updatePeriod: 5, logFile: '/x/y.log' }),
      'logging txn_close,periodic every 5 s (fields rtt,snd_cwnd, json with the path, 10/1000 sessions) to /x/y.log',
    );
    assert.equal(describeLogging('--explain --slow-ms=250 --log-file=/e.log'), 'logging ssn_start,txn_close (level 1, 1000/1000, explained, slow from 250 ms) to /e.log');
    assert.equal(describeLogging('--metrics --metrics-port=9464 --metrics-host=::1 --log-file=/a.log'), 'logging ssn_start,txn_close (level 1, 1000/1000) to /a.log; metrics at http://[::1]:9464/metrics');
    // A handle's options give the same.
    const handle = attach(http.createServer(), '-l 2 --log-file=' + path.join(tempDir(), 'h.log'));
    try {
      assert.equal(describeLogging(handle.options), `logging ssn_start,txn_close (level 2, 1000/1000) to ${handle.options.logFile}`);
    } finally {
      void handle.close();
    }
  });
});
