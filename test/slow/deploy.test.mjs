// The recipes of examples/deploy/ and the figures of docs/deploying.md, run as far as this machine allows:
// - the Dockerfile's CMD, with its ENV, as a container's PID 1 (unshare --pid) on a read-only tree (the log on
//   stdout; its alternative, a rolling file in a volume, the only writable place), then SIGTERM;
// - the Kubernetes manifest, read (no API server here): the metrics port open to the pod network, the sidecar
//   following the log on the volume both mount;
// - the systemd unit, checked by systemd-analyze verify, and its ExecStart run with its Environment= on a tree
//   read-only but for ReadWritePaths= (as ProtectSystem=strict makes it);
// - the table of bytes per request, against bench/log-volume.mjs.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { CASES, measure } from '../../bench/log-volume.mjs';
import { parseOptions } from '../../dist/index.js';
import { appDir, findCommand, keepAliveRequests, LEVEL1_HEADER, ROOT, tempDir } from '../support/harness.mjs';

const DEPLOY = path.join(ROOT, 'examples', 'deploy');
const REQUESTS = 5;
/** The recipes sample 1 request in 100; the runs here log every one, so that a few requests show. */
const EVERY_REQUEST = (options) => options.replace('--sample-rate=10', '--sample-rate=1000');

/** The image's app: a server on $PORT that says where it listens, as which pid. No tcpinfo in it. */
const SERVER_JS = `import http from 'node:http';
const server = http.createServer((req, res) => res.end('hello\\n'));
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening on http://127.0.0.1:' + server.address().port + '/ as pid ' + process.pid));
`;

function firstLine(text) {
  return String(text ?? '').split('\n')[0];
}

/** Whether this machine can make mount and PID namespaces (root, unshare); the reason when not. */
function cannotContain() {
  const probe = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', '--mount', 'sh', '-c', 'mount -o remount,bind,ro / && echo ok'], { encoding: 'utf8' });
  return probe.stdout?.trim() === 'ok' ? null : `unshare --pid --mount cannot run here (root only): ${probe.error?.message ?? firstLine(probe.stderr)}`;
}

/**
 * Runs `argv` in `cwd` with `env` as a container or a hardened service would: in a mount namespace where the
 * whole tree is read-only except `logDir`, a host directory mounted at `mountAt` (under /var/log); with `pid`,
 * as PID 1 of a PID namespace of its own. Resolves once it says where it listens: { port, pid (outside), exited }.
 */
async function runContained(t, { argv, cwd, env, logDir, mountAt, pid }) {
  const mounts = logDir === undefined ? '' : 'mount -t tmpfs -o size=1m tmpfs /var/log && mkdir -p "$1" && mount --bind "$2" "$1" && ';
  assert.ok(logDir === undefined || mountAt.startsWith('/var/log/'), mountAt);
  const script = `set -e; ${mounts}mount -o remount,bind,ro /; shift 2; exec "$@"`;
  const args = [...(pid ? ['--pid', '--fork', '--mount-proc'] : []), '--mount', 'sh', '-c', script, 'sh', mountAt ?? '', logDir ?? '', ...argv];
  const child = spawn('unshare', args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  t.after(() => {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c) => (stderr += c));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
  const listening = await new Promise((resolve) => {
    child.stdout.setEncoding('utf8').on('data', (c) => {
      stdout += c;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)\/ as pid (\d+)/.exec(stdout);
      if (m) resolve({ port: Number(m[1]), innerPid: Number(m[2]) });
    });
    exited.then(() => resolve(null));
  });
  if (listening === null) return { exited };
  // unshare --fork waits for its child and passes no signal on: the app is that child.
  const outerPid = pid ? Number(fs.readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ')[0]) : child.pid;
  return { ...listening, outerPid, exited };
}

/** SIGTERM to the app; resolves with how it ended and how long that took. */
async function terminate(run) {
  const started = Date.now();
  process.kill(run.outerPid, 'SIGTERM');
  const end = await run.exited;
  return { ...end, ms: Date.now() - started };
}

// ---------------------------------------------------------------------------------------------
// Dockerfile

/** The Dockerfile's instructions, `[op, args]`, and those of its commented-out alternative (`# ENV ...`). */
function dockerfile() {
  const text = fs.readFileSync(path.join(DEPLOY, 'Dockerfile'), 'utf8');
  const instructions = [];
  const alternatives = [];
  for (const line of text.split('\n')) {
    const live = /^([A-Z]+)\s+(.*)$/.exec(line);
    if (live) instructions.push([live[1], live[2]]);
    const commented = /^#\s*(ENV)\s+(TCPINFO_OPTIONS=.*)$/.exec(line);
    if (commented) alternatives.push([commented[1], commented[2]]);
  }
  return { instructions, alternatives };
}

/** `K=V K2="v w"` of an ENV instruction. */
function envPairs(args) {
  const env = {};
  for (const m of args.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S+)/g)) env[m[1]] = m[2].startsWith('"') ? JSON.parse(m[2]) : m[2];
  return env;
}

function imageOf() {
  const { instructions, alternatives } = dockerfile();
  const env = Object.assign({}, ...instructions.filter(([op]) => op === 'ENV').map(([, args]) => envPairs(args)));
  const cmd = instructions.filter(([op]) => op === 'CMD').map(([, args]) => JSON.parse(args));
  assert.equal(cmd.length, 1, 'one CMD, in exec form');
  assert.equal(instructions.some(([op]) => op === 'ENTRYPOINT'), false, 'no ENTRYPOINT: CMD is what runs');
  const alternative = alternatives.map(([, args]) => envPairs(args).TCPINFO_OPTIONS);
  assert.equal(alternative.length, 1, 'one alternative TCPINFO_OPTIONS, commented out');
  return { env, cmd: cmd[0], alternative: alternative[0] };
}

/** The lines of stdout: the app's own, and tcpinfo's JSON objects. */
function splitStdout(stdout) {
  const app = [];
  const json = [];
  for (const line of stdout.split('\n').slice(0, -1)) {
    if (line.startsWith('{')) json.push(JSON.parse(line));
    else app.push(line);
  }
  return { app, json };
}

test('Dockerfile: its CMD as PID 1 on a read-only tree logs JSON lines to stdout among the app\'s, and SIGTERM ends it at once, every line out', async (t) => {
  const why = cannotContain();
  if (why !== null) return t.skip(why);
  const image = imageOf();
  assert.match(image.env.TCPINFO_OPTIONS, /--log-file=stdout/);
  assert.match(image.env.TCPINFO_OPTIONS, /--format=json/);
  assert.deepEqual(image.cmd.slice(0, 3), ['node', '--import', 'tcpinfo/register']);
  const dir = appDir(t, { 'server.js': SERVER_JS });
  const env = { PATH: process.env.PATH, ...image.env, TCPINFO_OPTIONS: EVERY_REQUEST(image.env.TCPINFO_OPTIONS), PORT: '0' };

  const run = await runContained(t, { argv: image.cmd, cwd: dir, env, pid: true });
  if (run.port === undefined) assert.fail(`the app did not start:\n${(await run.exited).stderr}`);
  assert.equal(run.innerPid, 1, 'the entry point is PID 1');
  const responses = await keepAliveRequests(run.port, REQUESTS);
  assert.deepEqual(responses.map((r) => r.status), Array(REQUESTS).fill(200));
  const end = await terminate(run);
  t.diagnostic(`SIGTERM to PID 1: exit ${end.code} after ${end.ms} ms`);
  // PID 1 without a handler of its own would ignore the signal: the preload exits with 128 + 15 (docs/deploying.md).
  assert.equal(end.code, 143, end.stderr);
  assert.ok(end.ms < 2000, `${end.ms} ms`);
  const { app, json } = splitStdout(end.stdout);
  assert.equal(app.length, 1, `the app's own line: ${app}`);
  assert.equal(json.length, REQUESTS, end.stdout);
  for (const line of json) assert.equal(line.event, 'txn_close');
  assert.ok(json.every((line) => 'conn' in line), 'a tcpinfo line is an object with "event" and "conn"');
  assert.match(end.stderr, /^tcpinfo: logging txn_close .* to stdout/m);
});

test('Dockerfile: the same read-only tree without TCPINFO_OPTIONS refuses to start, naming the remedies; the alternative (a volume) logs there', async (t) => {
  const why = cannotContain();
  if (why !== null) return t.skip(why);
  const image = imageOf();
  const dir = appDir(t, { 'server.js': SERVER_JS });
  const env = { PATH: process.env.PATH, ...image.env, PORT: '0' };
  delete env.TCPINFO_OPTIONS;

  const refused = await runContained(t, { argv: image.cmd, cwd: dir, env, pid: true });
  assert.equal(refused.port, undefined, 'the app never started');
  const { code, stderr } = await refused.exited;
  assert.equal(code, 1);
  assert.match(stderr, /cannot open for appending \(EROFS\)\n {2}.* is on a read-only file system\n {2}instead, log to standard output: --log-file=stdout --format=json/);

  // The commented-out alternative: a rolling file in the volume, the one writable place.
  const volume = tempDir(t);
  const options = parseOptions(image.alternative);
  const mountAt = path.dirname(options.logFile);
  const run = await runContained(t, {
    argv: image.cmd, cwd: dir, env: { ...env, TCPINFO_OPTIONS: EVERY_REQUEST(image.alternative) }, logDir: volume, mountAt, pid: true,
  });
  if (run.port === undefined) assert.fail(`the app did not start:\n${(await run.exited).stderr}`);
  await keepAliveRequests(run.port, REQUESTS);
  const end = await terminate(run);
  assert.equal(end.code, 143, end.stderr);
  const lines = fs.readFileSync(path.join(volume, path.basename(options.logFile)), 'utf8').split('\n').slice(0, -1);
  assert.equal(lines[0], LEVEL1_HEADER);
  assert.equal(lines.filter((l) => l.split(' ')[1] === 'txn_close').length, REQUESTS);
});

// ---------------------------------------------------------------------------------------------
// Kubernetes

/**
 * The YAML the manifest is written in (no YAML package here): block mappings and sequences by indentation,
 * `key: value`, `- ` items, double-quoted strings and JSON flow sequences, numbers, true/false, # comments
 * on lines of their own. Anything else is an error, so the manifest stays within it.
 */
function parseYamlSubset(text) {
  const lines = [];
  for (const raw of text.split('\n')) {
    if (raw.trim() === '' || raw.trim().startsWith('#')) continue;
    assert.doesNotMatch(raw, /\t/, 'no tabs');
    lines.push({ indent: raw.length - raw.trimStart().length, text: raw.trim() });
  }
  let i = 0;
  const scalar = (s) => {
    if (s.startsWith('"') || s.startsWith('[')) return JSON.parse(s);
    if (/^-?\d+$/.test(s)) return Number(s);
    if (s === 'true' || s === 'false') return s === 'true';
    assert.doesNotMatch(s, /^['{&*!|>]| #/, `outside the subset: ${s}`);
    return s;
  };
  const block = (indent) => {
    if (lines[i].text.startsWith('- ')) {
      const list = [];
      while (i < lines.length && lines[i].indent === indent && lines[i].text.startsWith('- ')) {
        // The item's first entry is on the dash line: read it as a mapping indented past the dash.
        lines[i] = { indent: indent + 2, text: lines[i].text.slice(2) };
        list.push(lines[i].text.includes(': ') || lines[i].text.endsWith(':') ? block(indent + 2) : scalar(lines[i++].text));
      }
      return list;
    }
    const map = {};
    while (i < lines.length && lines[i].indent === indent) {
      const m = /^([\w./-]+):(?: (.*))?$/.exec(lines[i].text);
      assert.ok(m, `line ${i}: ${lines[i].text}`);
      i++;
      if (m[2] !== undefined) map[m[1]] = scalar(m[2]);
      else {
        assert.ok(i < lines.length && lines[i].indent > indent, `${m[1]}: a nested block`);
        map[m[1]] = block(lines[i].indent);
      }
    }
    assert.ok(i === lines.length || lines[i].indent < indent, `line ${i}: indentation`);
    return map;
  };
  const doc = block(0);
  assert.equal(i, lines.length);
  return doc;
}

/** `1Gi`, `512Mi` in bytes. */
function quantity(text) {
  const m = /^(\d+)(Ki|Mi|Gi)$/.exec(text);
  assert.ok(m, text);
  return Number(m[1]) * 1024 ** { Ki: 1, Mi: 2, Gi: 3 }[m[2]];
}

test('kubernetes.yaml: the metrics port open to Prometheus (the default stays 127.0.0.1), the log on a shared emptyDir, a sidecar following it', () => {
  const doc = parseYamlSubset(fs.readFileSync(path.join(DEPLOY, 'kubernetes.yaml'), 'utf8'));
  assert.equal(doc.kind, 'Deployment');
  const pod = doc.spec.template;
  assert.deepEqual(doc.spec.selector.matchLabels, pod.metadata.labels);
  const [app, sidecar, ...others] = pod.spec.containers;
  assert.deepEqual(others, []);
  assert.deepEqual(app.command, imageOf().cmd, "the app container runs the image's CMD");

  const text = app.env.find((e) => e.name === 'TCPINFO_OPTIONS').value;
  const options = parseOptions(text);
  assert.equal(parseOptions('--metrics --metrics-port=9464').metricsHost, '127.0.0.1', 'the default keeps metrics off the network');
  assert.deepEqual([options.metrics, options.metricsHost], [true, '0.0.0.0'], 'the manifest opens it, for the pod IP');
  const metricsPort = app.ports.find((p) => p.name === 'metrics');
  assert.equal(metricsPort.containerPort, options.metricsPort);
  assert.equal(pod.metadata.annotations['prometheus.io/scrape'], 'true');
  assert.equal(pod.metadata.annotations['prometheus.io/port'], String(options.metricsPort));
  assert.ok(app.ports.some((p) => p.name === 'http' && p.containerPort === 8080));

  // The log: a rolling file in the volume both containers mount, the rest of the app's tree read-only.
  assert.equal(app.securityContext.readOnlyRootFilesystem, true);
  const appMount = app.volumeMounts.find((m) => m.mountPath === path.dirname(options.logFile));
  assert.ok(appMount, `the log directory ${path.dirname(options.logFile)} is a mounted volume`);
  const volume = pod.spec.volumes.find((v) => v.name === appMount.name);
  assert.ok(volume.emptyDir, 'an emptyDir');
  assert.ok(options.rollingMaxCount > 0, 'retention');
  assert.ok(quantity(volume.emptyDir.sizeLimit) >= (options.rollingMaxCount + 1) * options.rollingSize, 'the volume holds what retention keeps');

  assert.equal(sidecar.name, 'tcpinfo-tail');
  assert.deepEqual(sidecar.volumeMounts, [{ name: appMount.name, mountPath: appMount.mountPath, readOnly: true }]);
  assert.match(sidecar.command[0], /(^|\/)tcpinfo$/);
  assert.equal(sidecar.command[1], 'tail');
  assert.equal(sidecar.command.at(-1), options.logFile, 'it follows the file the app writes');
});

test('docs/deploying.md: the Kubernetes paragraph says the metrics endpoint listens on 127.0.0.1 by default', () => {
  const text = fs.readFileSync(path.join(ROOT, 'docs', 'deploying.md'), 'utf8');
  const section = text.split(/^### /m).find((part) => part.startsWith('Kubernetes'));
  assert.ok(section, 'a "### Kubernetes" section');
  assert.match(section, /127\.0\.0\.1 by default/);
  assert.match(section, /--metrics-host=0\.0\.0\.0/);
});

// ---------------------------------------------------------------------------------------------
// systemd

/** A unit file: { section: { key: [values] } }. */
function parseUnit(text) {
  const unit = {};
  let section = null;
  for (const line of text.split('\n')) {
    if (line.trim() === '' || /^[#;]/.test(line)) continue;
    const head = /^\[(\w+)\]$/.exec(line);
    if (head) {
      section = unit[head[1]] = {};
      continue;
    }
    const m = /^(\w+)=(.*)$/.exec(line);
    assert.ok(m && section !== null, `not a unit line: ${line}`);
    (section[m[1]] ??= []).push(m[2]);
  }
  return unit;
}

/** Environment= values: `K=V K2=V2`, `"K=V with spaces"`. */
function unitEnvironment(values) {
  const env = {};
  for (const value of values) {
    for (const m of value.matchAll(/"([^"]*)"|(\S+)/g)) {
      const pair = m[1] ?? m[2];
      env[pair.slice(0, pair.indexOf('='))] = pair.slice(pair.indexOf('=') + 1);
    }
  }
  return env;
}

test('tcpinfo-app.service: systemd-analyze verify finds nothing; the preload by NODE_OPTIONS, the log directory the one writable path', async (t) => {
  const file = path.join(DEPLOY, 'tcpinfo-app.service');
  const unit = parseUnit(fs.readFileSync(file, 'utf8'));
  const service = unit.Service;
  const env = unitEnvironment(service.Environment);
  assert.match(env.NODE_OPTIONS, /(^| )--import=tcpinfo\/register( |$)/);
  const options = parseOptions(env.TCPINFO_OPTIONS);
  const logDir = path.dirname(options.logFile);
  assert.deepEqual(service.ReadWritePaths, [logDir]);
  assert.deepEqual(service.ProtectSystem, ['strict']);
  assert.deepEqual(service.LogsDirectory.map((d) => path.join('/var/log', d)), [logDir]);
  assert.ok(options.rollingMaxCount > 0, 'retention');
  assert.deepEqual(unit.Install.WantedBy, ['multi-user.target']);

  await t.test('systemd-analyze verify', (st) => {
    const analyze = findCommand('systemd-analyze');
    if (analyze === null) return st.skip('systemd-analyze is not installed (apt-get install systemd): the unit was checked by the parser above only');
    // Its ExecStart must exist here: node where this machine has it, if not at /usr/bin/node.
    const copy = path.join(tempDir(st), 'tcpinfo-app.service');
    const text = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(copy, fs.existsSync('/usr/bin/node') ? text : text.replace('ExecStart=/usr/bin/node', `ExecStart=${process.execPath}`));
    const run = spawnSync(analyze, ['verify', copy], { encoding: 'utf8', timeout: 30_000 });
    if (run.error !== undefined || /not been booted with systemd|Failed to (connect|initialize)/.test(run.stderr)) {
      return st.skip(`systemd-analyze cannot run here (${run.error?.message ?? firstLine(run.stderr)}): the unit was checked by the parser above only`);
    }
    assert.equal(run.status, 0, run.stderr);
    assert.equal(`${run.stdout}${run.stderr}`.trim(), '', 'no warning either (an unknown key is only a warning)');
  });

  await t.test('its ExecStart with its Environment=, on a tree read-only but for ReadWritePaths=; SIGTERM', async (st) => {
    const why = cannotContain();
    if (why !== null) return st.skip(why);
    const dir = appDir(st, { 'server.js': SERVER_JS });
    const volume = tempDir(st);
    const argv = service.ExecStart[0].split(' ').map((word) => (word === '/usr/bin/node' ? process.execPath : word));
    const runEnv = { PATH: process.env.PATH, ...env, TCPINFO_OPTIONS: EVERY_REQUEST(env.TCPINFO_OPTIONS), PORT: '0' };
    const run = await runContained(st, { argv, cwd: dir, env: runEnv, logDir: volume, mountAt: logDir, pid: false });
    if (run.port === undefined) assert.fail(`the app did not start:\n${(await run.exited).stderr}`);
    await keepAliveRequests(run.port, REQUESTS);
    const end = await terminate(run);
    // Not PID 1: it dies of the signal, as it would have without tcpinfo (a clean stop for systemd).
    assert.equal(end.signal, 'SIGTERM', end.stderr);
    const lines = fs.readFileSync(path.join(volume, path.basename(options.logFile)), 'utf8').split('\n').slice(0, -1);
    assert.equal(lines[0], LEVEL1_HEADER);
    assert.equal(lines.filter((l) => l.split(' ')[1] === 'txn_close').length, REQUESTS);
  });
});

// ---------------------------------------------------------------------------------------------
// Bytes per request

test("docs/deploying.md's bytes-per-request table: the rows bench/log-volume.mjs measures, and its figures hold", async () => {
  const text = fs.readFileSync(path.join(ROOT, 'docs', 'deploying.md'), 'utf8');
  const rows = [...text.matchAll(/^\| ([^|]+) \| `([^`]+)` \| (\d+) \| ([\d.]+) \| [^|]+ \|$/gm)].map((m) => ({
    what: m[1], options: m[2], bytes: Number(m[3]), lines: Number(m[4]),
  }));
  assert.deepEqual(rows.map((r) => [r.what, r.options]), CASES, 'the table has the rows the script measures, in its order');
  assert.match(text, /node bench\/log-volume\.mjs --requests=\d+/, 'the command that produced it');
  // Two rows measured again, briefly: lines per request exactly, bytes within 15%.
  for (const row of [rows[0], rows[7]]) {
    const got = await measure(row.options, { requests: 200, perConnection: 10 });
    assert.equal(got.linesPerRequest.toFixed(2), row.lines.toFixed(2), row.what);
    assert.ok(Math.abs(got.bytesPerRequest - row.bytes) <= row.bytes * 0.15, `${row.what}: ${got.bytesPerRequest} bytes, the doc says ${row.bytes}`);
  }
});
