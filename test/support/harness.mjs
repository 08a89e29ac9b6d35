// Shared test scaffolding: temp dirs, servers on port 0, real clients, log parsing, `ss -tin`.
import { execFile, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The package's root (this repository). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The tcpinfo command as built. */
const CLI_BIN = path.join(ROOT, 'dist', 'cli', 'main.js');

const tempDirs = [];
// Removed when the test file's process exits: after every test's after-hooks (which run in the order they
// were added, so a handle closed in a later hook would otherwise find its directory gone).
process.on('exit', () => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh temp dir, removed when this test file is done. */
export function tempDir(_t, prefix = 'tcpinfo-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** The repository's root (the package as installed: package.json, dist/). */
export const PACKAGE_ROOT = ROOT;

/**
 * A fresh temp dir where `tcpinfo` resolves as an installed package would (node_modules/tcpinfo, a
 * symlink to this checkout), and so do `packages` (symlinks to this checkout's node_modules).
 */
export function consumerDir(t, prefix = 'tcpinfo-consumer-', packages = []) {
  const dir = tempDir(t, prefix);
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(PACKAGE_ROOT, path.join(dir, 'node_modules', 'tcpinfo'), 'dir');
  for (const name of packages) fs.symlinkSync(path.join(PACKAGE_ROOT, 'node_modules', name), path.join(dir, 'node_modules', name), 'dir');
  return dir;
}

/** Listen on port 0 of `host`; resolves with the port. Closes the server (and its connections) after the test. */
export async function listen(t, server, host = '127.0.0.1') {
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  t.after(() => {
    server.closeAllConnections?.();
    return new Promise((resolve) => server.close(() => resolve()));
  });
  return server.address().port;
}

export function helloHandler(req, res) {
  res.setHeader('content-type', 'text/plain');
  res.end('hello world\n');
}

/** One request with a real node:http client; resolves with { status, body, localPort }. */
export function request(options) {
  const mod = options.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(options, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString(), localPort: req.socket?.localPort }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('request timed out')));
    req.end(options.body);
  });
}

/** `n` sequential requests over one keep-alive connection. */
export async function keepAliveRequests(port, n, { host = '127.0.0.1', protocol = 'http:', ...extra } = {}) {
  const Agent = protocol === 'https:' ? https.Agent : http.Agent;
  const agent = new Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
  try {
    const results = [];
    for (let i = 0; i < n; i++) results.push(await request({ host, port, path: `/${i}`, agent, protocol, ...extra }));
    return results;
  } finally {
    agent.destroy();
  }
}

/** `n` requests each on its own connection, sent with `Connection: close`. */
export async function closeRequests(port, n, { host = '127.0.0.1', protocol = 'http:', ...extra } = {}) {
  const results = [];
  for (let i = 0; i < n; i++) {
    results.push(await request({ host, port, path: `/${i}`, agent: false, headers: { connection: 'close' }, protocol, rejectUnauthorized: false, ...extra }));
  }
  return results;
}

/** Lines of a log file, split into header and records ({ ts, event, client, server, cols }). */
export function readLog(file) {
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const headers = [];
  const records = [];
  for (const line of lines) {
    if (line.startsWith('timestamp ')) {
      headers.push(line);
      continue;
    }
    const [ts, event, client, server, ...cols] = line.split(' ');
    records.push({ line, ts, event, client, server, cols });
  }
  return { text, lines, headers, records };
}

export function countBy(records, key = 'event') {
  const counts = {};
  for (const r of records) counts[r[key]] = (counts[r[key]] ?? 0) + 1;
  return counts;
}

/** Items grouped by key (Object.groupBy is Node 21+). */
export function groupBy(items, keyOf) {
  const groups = {};
  for (const item of items) (groups[keyOf(item)] ??= []).push(item);
  return groups;
}

/** Wait until `predicate()` is true, polling; fails after `ms`. */
export async function waitFor(predicate, ms = 5000, what = 'condition') {
  const deadline = Date.now() + ms;
  for (let i = 0; Date.now() < deadline && i < 10_000; i++) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/** A self-signed certificate for localhost, made with the openssl CLI in `dir`. */
export function makeCertificate(dir) {
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
  ], { stdio: 'ignore' });
  return { key: fs.readFileSync(key), cert: fs.readFileSync(cert) };
}

/**
 * `ss -tin` for the established connection with local port `localPort` and peer port `peerPort`,
 * parsed into { key: value } of what ss prints (numbers as ss prints them: ms for rtt, bit/s for rates).
 */
export async function ssInfo(localPort, peerPort) {
  const { stdout } = await run('ss', ['-tinH', 'state', 'established', `( sport = :${localPort} and dport = :${peerPort} )`]);
  return parseSs(stdout);
}

/** What `ss -tin` printed for one connection, as ssInfo returns it; null for nothing. */
export function parseSs(stdout) {
  const text = stdout.replace(/\s+/g, ' ').trim();
  if (text === '') return null;
  const info = {};
  for (const token of text.split(' ')) {
    const m = /^([a-z_]+):([^\s]+)$/.exec(token);
    if (m) info[m[1]] = m[2];
    else if (token === 'app_limited') info.app_limited = true;
  }
  const rtt = info.rtt?.split('/');
  if (rtt) {
    info.rtt_ms = Number(rtt[0]);
    info.rttvar_ms = Number(rtt[1]);
  }
  const wscale = info.wscale?.split(',');
  if (wscale) {
    info.snd_wscale = Number(wscale[0]);
    info.rcv_wscale = Number(wscale[1]);
  }
  return info;
}

export const TIMESTAMP_RE = /^\d{8}\.\d{2}h\d{2}m\d{2}s$/;
/** A log timestamp, as source text for a RegExp. */
export const TIMESTAMP_SOURCE = TIMESTAMP_RE.source.slice(1, -1);

/** `text` matched literally inside a RegExp. */
export function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A rolled file's name, ATS's: tcpinfo.log_<host>.<start>-<end>[.<n>].old; groups 1-3 are start, end, n. */
export function rolledNameRe(host = os.hostname(), base = 'tcpinfo.log') {
  const ts = TIMESTAMP_SOURCE;
  return new RegExp(`^${escapeRegExp(base)}_${escapeRegExp(host)}\\.(${ts})-(${ts})(?:\\.(\\d+))?\\.old$`);
}

/**
 * Every log file in `dir` (live name `base`), rolled ones first in the order they were rolled, the live file
 * last; each rolled name must match `rolledRe` (rolledNameRe()).
 */
export function logFiles(dir, rolledRe, base = 'tcpinfo.log') {
  const rolled = [];
  for (const name of fs.readdirSync(dir)) {
    if (name === base) continue;
    const m = rolledRe.exec(name);
    if (!m) throw new Error(`${name} is not a rolled name: ${base}_<host>.<start>-<end>[.<n>].old`);
    rolled.push({ name, start: m[1], end: m[2], version: Number(m[3] ?? 0) });
  }
  rolled.sort((a, b) => a.start.localeCompare(b.start) || a.end.localeCompare(b.end) || a.version - b.version);
  return [...rolled, { name: base }].map((f) => ({ ...f, file: path.join(dir, f.name) }));
}

/** The tcpinfo bin (dist/cli/main.js) as a subprocess, to its end; resolves with { code, signal, stdout, stderr }. */
export function spawnCli(args, { cwd, env, timeoutMs = 10_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], { cwd, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tcpinfo ${args.join(' ')}: no exit after ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** An app (ESM source) that serves 3 requests of its own, closes its server and prints 'served'. */
export const SELF_ENDING_APP = `
import http from 'node:http';
const server = http.createServer((req, res) => res.end('hello'));
server.listen(0, '127.0.0.1', async () => {
  const url = 'http://127.0.0.1:' + server.address().port + '/';
  for (let i = 0; i < 3; i++) await new Promise((r) => http.get(url, { agent: false }, (res) => res.resume().on('end', r)));
  server.close();
  console.log('served');
});
`;

export const LEVEL1_HEADER = 'timestamp event client server rtt';
export const LEVEL2_HEADER =
  'timestamp event client server rtt rttvar last_sent last_recv snd_cwnd snd_ssthresh rcv_ssthresh unacked sacked lost retrans fackets all_retrans data_segs_in data_segs_out';

/**
 * A fresh app directory as a user's, where `tcpinfo` resolves to this package (a symlink in its
 * node_modules, as an install makes) and so do each of `packages` (from this repository's node_modules).
 */
export function scratchApp(t, packages = []) {
  const dir = tempDir(t, 'tcpinfo-app-');
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'tcpinfo'), 'dir');
  for (const name of packages) fs.symlinkSync(path.join(ROOT, 'node_modules', name), path.join(dir, 'node_modules', name), 'dir');
  return dir;
}

/**
 * Runs a server process (`command` with `args`, in `cwd`, with PORT=0 and `env`) until it prints
 * `listening on http://127.0.0.1:PORT/`; sends `requests` keep-alive requests to it, then SIGINT.
 * Resolves with its exit (code, signal), its output, and the responses. Killed after 10 s whatever happens.
 */
export async function runServerProcess(t, { cwd, command = process.execPath, args = [], env = {}, requests = 3 }) {
  const child = spawn(command, args, { cwd, env: { PATH: process.env.PATH, PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'));
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c) => (stderr += c));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => (clearTimeout(timer), resolve({ code, signal }))));
  const port = await new Promise((resolve) => {
    child.stdout.setEncoding('utf8').on('data', (c) => {
      stdout += c;
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(stdout);
      if (match) resolve(Number(match[1]));
    });
    exited.then(() => resolve(null));
  });
  if (!port) throw new Error(`${[command, ...args].join(' ')} did not start:\n${stdout}${stderr}`);
  const responses = await keepAliveRequests(port, requests, { path: '/' });
  child.kill('SIGINT');
  const exit = await exited;
  return { ...exit, stdout, stderr, responses };
}

/**
 * A fresh app directory (scratchApp, linking `modules`) holding `files` ({ name: source }).
 */
export function appDir(t, files, { modules = [] } = {}) {
  const dir = scratchApp(t, modules);
  for (const [name, source] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), source);
  return dir;
}

/**
 * Runs `command args` in `dir` (default: node), killed after `timeoutMs`. `ready` resolves with the first
 * line of its stdout that starts with `{` (parsed), or with { exit } when it ends before printing one;
 * `exited` with { code, signal, stdout, stderr }.
 */
export function startApp(t, dir, args, { env = {}, command = process.execPath, timeoutMs = 10_000 } = {}) {
  const child = spawn(command, args, { cwd: dir, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c) => (stderr += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => {
    clearTimeout(timer);
    // The pipes may still hold the last output: wait for them to end.
    let open = 2;
    const done = () => --open === 0 && resolve({ code, signal, stdout, stderr });
    child.stdout.once('end', done);
    child.stderr.once('end', done);
    if (child.stdout.readableEnded) done();
    if (child.stderr.readableEnded) done();
  }));
  t.after(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'));
  const ready = new Promise((resolve) => {
    child.stdout.on('data', () => {
      const line = stdout.split('\n').find((l) => l.startsWith('{') && l.endsWith('}'));
      if (line !== undefined) resolve(JSON.parse(line));
    });
    exited.then((exit) => resolve({ exit }));
  });
  return { child, ready, exited };
}

/**
 * The fenced code block after each `<!-- tested: NAME -->` of `text` (a docs page), by name, with its
 * language: the snippets a test runs as the page shows them, so page and test cannot drift apart.
 */
export function testedBlocks(text) {
  const blocks = {};
  for (const m of text.matchAll(/<!-- tested: ([\w.-]+) -->\s*\n```(\w*)\n([\s\S]*?)\n```/g)) blocks[m[1]] = { lang: m[2], code: `${m[3]}\n` };
  return blocks;
}

/** Where `command` is on PATH (or in /usr/sbin, /sbin, where daemons live), or null. */
export function findCommand(command) {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const file = path.join(dir, command);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // not there, or not executable: the next directory
    }
  }
  return null;
}

/**
 * A system tool a slow test runs (Debian package `pkg`): its path; or, where it is missing and could not be
 * installed here (not root, or no apt-get), the test is skipped with a message. As root with apt-get (as on
 * CI, whose .ci/run installs it) a missing tool is a failure, never a silent skip.
 */
export function requireTool(t, command, pkg) {
  const file = findCommand(command);
  if (file !== null) return file;
  const canInstall = process.getuid?.() === 0 && findCommand('apt-get') !== null;
  if (!canInstall) {
    t.skip(`${command} is not installed and cannot be installed here (needs root and apt-get): apt-get install ${pkg}`);
    return null;
  }
  throw new Error(`${command} is not installed: apt-get install -y ${pkg} (.ci/run does this on CI)`);
}

/** A TCP port on 127.0.0.1 that was free a moment ago, for a program that must be told its port. */
export async function freePort() {
  const net = await import('node:net');
  const probe = net.createServer();
  await new Promise((resolve, reject) => probe.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/**
 * Runs a daemon in the foreground for the length of the test: `spawn(file, args)` with its output kept
 * (`output()`, for failure messages). After the test: SIGTERM, then SIGKILL if it is still there after 5 s.
 */
export function runDaemon(t, file, args, options = {}) {
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  let output = '';
  const keep = (c) => {
    output += c;
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout.setEncoding('utf8').on('data', keep);
  child.stderr.setEncoding('utf8').on('data', keep);
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const running = () => child.exitCode === null && child.signalCode === null;
  t.after(async () => {
    if (!running()) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  });
  return { child, exited, running, output: () => output };
}

/**
 * An http.Server (or `server`) with attach() on 127.0.0.1 port 0 (or `host`), logging to tcpinfo.log in a
 * fresh temp dir unless `options` names a logFile; closed after the test. `how`: a request handler, or
 * { host, handler, server }.
 */
export async function serve(t, options, how = {}) {
  const { host = '127.0.0.1', handler = helloHandler, server: given } = typeof how === 'function' ? { handler: how } : how;
  const { attach } = await import('../../dist/index.js');
  const dir = tempDir(t);
  const logFile = path.join(dir, 'tcpinfo.log');
  const server = given ?? http.createServer(handler);
  const handle = attach(server, { logFile, ...options });
  t.after(() => handle.close());
  const port = await listen(t, server, host);
  return { server, handle, port, logFile: options?.logFile ?? logFile, dir };
}

/** The next message from a worker or child that `pick` accepts (bounded: a silent process fails the test). */
export function nextMessage(proc, pick = () => true, ms = 30_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`no message within ${ms} ms`)), ms);
    const onMessage = (m) => pick(m) && done(null, m);
    const onExit = (code) => done(new Error(`exited with ${code} before answering`));
    function done(err, m) {
      clearTimeout(timer);
      proc.off('message', onMessage);
      proc.off('exit', onExit);
      if (err) reject(err);
      else resolve(m);
    }
    proc.on('message', onMessage);
    proc.on('exit', onExit);
  });
}

/** The JSON lines of a log file (none when it does not exist yet). */
export function jsonLines(file) {
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line));
}

/** ss -tin names of the TCP_INFO fields whose values ss prints as they are (see ssInfo). */
export const SS_SAME_FIELDS = {
  mss: 'snd_mss', rcvmss: 'rcv_mss', advmss: 'advmss', cwnd: 'snd_cwnd', pmtu: 'pmtu', bytes_sent: 'bytes_sent',
  bytes_acked: 'bytes_acked', bytes_received: 'bytes_received', segs_out: 'segs_out', segs_in: 'segs_in',
  data_segs_out: 'data_segs_out', data_segs_in: 'data_segs_in', rcv_space: 'rcv_space', rcv_ssthresh: 'rcv_ssthresh',
  snd_wnd: 'snd_wnd', rcv_wnd: 'rcv_wnd', delivered: 'delivered',
};

/**
 * Asserts that a log line's fields (a JSON line with every field) equal what `ss` (ssInfo) printed for
 * the same connection, and that its rtt is ss's; returns how many fields were compared.
 */
export function ssMatches(line, ss) {
  let compared = 0;
  for (const [ssName, field] of Object.entries(SS_SAME_FIELDS)) {
    if (ss[ssName] === undefined || line[field] === undefined) continue;
    if (line[field] !== Number(ss[ssName])) throw new Error(`${field} ${line[field]} vs ss ${ssName} ${ss[ssName]}`);
    compared++;
  }
  if (Math.abs(line.rtt / 1000 - ss.rtt_ms) >= 0.0015) throw new Error(`rtt ${line.rtt} us vs ss ${ss.rtt_ms} ms`);
  return compared;
}

/**
 * A network namespace of the test's own, with its loopback up, deleted after the test; `setup` is a list
 * of commands (arrays) run inside it (`tc qdisc ...`, `sysctl ...`). Not root: the test is skipped, saying
 * why (returns null). As root (as on CI) a namespace that cannot be made fails the test.
 */
export function networkNamespace(t, setup = []) {
  if (process.getuid?.() !== 0) {
    t.skip('needs root to make a network namespace (ip netns add); run the slow tier as root, as CI does');
    return null;
  }
  const ip = findCommand('ip');
  if (ip === null) throw new Error('ip is not installed: apt-get install -y iproute2 (.ci/run does this on CI)');
  const name = `tcpinfo-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  execFileSync(ip, ['netns', 'add', name], { stdio: 'pipe' });
  t.after(() => execFileSync(ip, ['netns', 'del', name], { stdio: 'ignore' }));
  const inside = (command) => execFileSync(ip, ['netns', 'exec', name, ...command], { stdio: 'pipe', encoding: 'utf8' });
  inside(['ip', 'link', 'set', 'lo', 'up']);
  for (const command of setup) inside(command);
  return { name, ip, inside };
}
