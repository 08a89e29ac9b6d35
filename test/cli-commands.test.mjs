// The `tcpinfo` command on logs the real plugin writes (a node:http server on loopback with attach(),
// real requests), rolled the way the plugin's roller does it. Most runs are in-process (runCli, what the
// bin runs, with its output captured); a few per command run the bin as a subprocess, end to end: tail
// following and stopping on signals, exit statuses and messages. The pure parts: cli-units.test.mjs;
// 300,000 lines through a 16 MB heap: slow/cli-memory.test.mjs.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, test } from 'node:test';
import { runCli } from '../dist/cli/cli.js';
import { attach } from '../dist/index.js';
import { spawnCli } from './support/harness.mjs';

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const ALL_HOOKS = 'ssn_start,txn_start,send_resp_hdr,txn_close';
const EVENTS = ALL_HOOKS.split(',');

// ---------------------------------------------------------------------------------------------
// Helpers

function tempDir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tcpinfo-cli-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** What runCli writes to: text kept, never a terminal. */
function sink() {
  return {
    text: '',
    write(chunk) {
      this.text += chunk;
      return true;
    },
    on() {
      return this;
    },
  };
}

/** The command in-process (in `cwd` while it runs; stdout a terminal `columns` wide when given), to its end; resolves with { code, stdout, stderr }. */
async function cli(args, { cwd, columns } = {}) {
  const stdout = columns === undefined ? sink() : Object.assign(sink(), { isTTY: true, columns });
  const stderr = sink();
  const before = process.cwd();
  if (cwd !== undefined) process.chdir(cwd);
  try {
    const code = await runCli(args, stdout, stderr);
    return { code, stdout: stdout.text, stderr: stderr.text };
  } finally {
    process.chdir(before);
  }
}

/** A long-running command (tail): its output so far, a way to wait for output, and its exit. */
function start(args, options = {}) {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd });
  const run = { child, stdout: '', stderr: '' };
  child.stdout.on('data', (d) => (run.stdout += d));
  child.stderr.on('data', (d) => (run.stderr += d));
  run.exit = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return run;
}

async function waitFor(predicate, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms))),
  ]);
}

/** A loopback server that the test attaches the plugin to, once per log file. */
async function loopbackServer(t) {
  const server = http.createServer((req, res) => res.end('hello\n'));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  return server;
}

function get(port, localAddress) {
  const agent = new http.Agent({ keepAlive: false });
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent, localAddress }, (res) => {
        res.resume();
        res.on('end', resolve);
      })
      .on('error', reject);
  });
}

/**
 * Have the real plugin write `requests` requests (one connection each, all four events) to `logFile`,
 * from each of `clients` (loopback addresses), then close it so every line is in the file.
 */
async function logWithPlugin(server, logFile, { requests, clients = ['127.0.0.1'], logLevel = 2 }) {
  const handle = attach(server, { logFile, hooks: ALL_HOOKS, logLevel });
  const { port } = server.address();
  for (let i = 0; i < requests; i++) {
    for (const client of clients) await get(port, client);
  }
  await waitFor(() => handle.stats().events.txn_close === requests * clients.length, 5000, 'every txn_close');
  await handle.close();
  return handle.stats();
}

/** The lines of a text log: header(s) and records with columns named by the header. */
function readLog(file) {
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter((line) => line !== '');
  let columns;
  const records = [];
  for (const line of lines) {
    const words = line.split(' ');
    if (words[0] === 'timestamp') columns = words;
    else records.push({ line, ...Object.fromEntries(columns.map((name, i) => [name, /^\d+$/.test(words[i]) ? Number(words[i]) : words[i]])) });
  }
  return { lines, records };
}

/** Nearest-rank percentile, computed the plain way: sort everything, take rank ceil(p * n / 100). */
function nearestRank(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil((p * sorted.length) / 100)) - 1];
}

/** The name the roller gives a rolled file. */
function rolledName(logFile, start, end) {
  return `${logFile}_${os.hostname()}.${start}-${end}.old`;
}

/** A level-2 log written with --explain: its 22 columns `-` but on the txn_delivered lines. */
function explainLog(dir) {
  const header =
    'timestamp event client server rtt rttvar last_sent last_recv snd_cwnd snd_ssthresh rcv_ssthresh unacked sacked lost retrans fackets all_retrans data_segs_in data_segs_out ' +
    'ttfb_us end_us duration_us delivered_us judged_us server_us client_us network_us upload_us ack_delay_us resp_bytes txn_retrans ' +
    'txn_busy_us txn_rwnd_limited_us txn_sndbuf_limited_us wnd_limited_us flow_held_us unsent_bytes min_rtt_us ended shared verdict';
  const line = (time, event, client, rtt, explain) =>
    [time, event, client, '10.0.0.1', rtt, 50, 0, 0, 10, 2147483647, 64000, 0, 0, 0, 0, 0, 0, 1, 2, ...explain].join(' ');
  const file = path.join(dir, 'tcpinfo.log');
  fs.writeFileSync(file, [
    header,
    line('20261201.10h00m00s', 'txn_start', '192.0.2.7', 40, Array(22).fill('-')),
    line('20261201.10h00m04s', 'txn_delivered', '192.0.2.7', 7900,
      [1900, 1500000, 1520000, 3702000, 3700000, 1500000, 0, 2200000, 0, 2000, 4300000, 344, 2200000, 0, 0, 0, 0, 122000, 25, 'acked', 0, 'mixed']),
    line('20261201.10h00m09s', 'txn_delivered', '192.0.2.8', 20,
      [70, 80, 3300, 3400, 3400, 80, 0, 3320, 0, 0, 1149, 0, 3000, 0, 0, 0, 0, 0, 20, 'acked', 0, 'ok']),
    line('20261201.10h00m19s', 'txn_delivered', '198.51.100.20', 17950,
      [348, 400, 4416330, '-', 9000000, 400, 0, 8999600, 0, '-', 4287104, 342, 9000000, 0, 0, 0, 0, 0, 30, 'gave_up', 0, 'network']),
  ].join('\n') + '\n');
  return file;
}

// ---------------------------------------------------------------------------------------------

describe('tcpinfo tail', () => {
  test('follows the log across two rolls: every line once, in order', async (t) => {
    const dir = tempDir(t);
    const live = path.join(dir, 'tcpinfo.log');
    const server = await loopbackServer(t);
    // Started before the file exists: tail waits for it, like tail -F. Its polls are far enough
    // apart that lines written just before a rename are still unread when it happens.
    const tail = start(['tail', '--plain', '-n', '0', '--poll=200', live]);
    t.after(() => tail.child.kill('SIGKILL'));
    await waitFor(() => tail.stderr.includes('waiting'), 5000, 'tail to start');
    const records = () => tail.stdout.split('\n').filter((line) => line !== '' && !line.startsWith('timestamp'));

    const files = [];
    const rolls = [
      ['20261123.00h00m00s', '20261123.01h00m00s'],
      ['20261123.01h00m00s', '20261123.02h00m00s'],
    ];
    const linesIn = (paths) => paths.reduce((sum, file) => sum + readLog(file).records.length, 0);
    for (let round = 0; round < 3; round++) {
      // The plugin creates the file (with its header); tail must have found it, as with any tail -F,
      // or a file created and rolled between two of its polls would go unseen.
      await logWithPlugin(server, live, { requests: 1 });
      const before = linesIn(files);
      await waitFor(() => records().length > before, 5000, `tail to reach file ${round + 1}`);
      await logWithPlugin(server, live, { requests: 3 });
      if (round < 2) {
        // The roller: rename the live file; the next attach creates a new one.
        const old = rolledName(live, ...rolls[round]);
        fs.renameSync(live, old);
        files.push(old);
      }
    }
    files.push(live);
    const expected = files.flatMap((file) => readLog(file).records.map((r) => r.line.replaceAll(' ', '\t')));
    assert.equal(expected.length, 3 * 4 * 4, 'the plugin wrote 4 lines per request');
    await waitFor(() => records().length >= expected.length, 5000, `${expected.length} lines from tail`);
    // A few more polls: nothing is read twice.
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(records(), expected);
    // One title line: the columns never changed.
    assert.equal(tail.stdout.split('\n').filter((line) => line.startsWith('timestamp')).length, 1);

    tail.child.kill('SIGINT');
    assert.deepEqual(await withTimeout(tail.exit, 5000, 'tail to stop on SIGINT'), { code: 0, signal: null });
  });

  test('-n N with filters: the last N matching lines, then exit with --no-follow', async (t) => {
    const dir = tempDir(t);
    const live = path.join(dir, 'tcpinfo.log');
    await logWithPlugin(await loopbackServer(t), live, { requests: 6 });
    const { records } = readLog(live);

    const closes = records.filter((r) => r.event === 'txn_close');
    const { code, stdout } = await cli(['tail', '--no-follow', '--json', '-n', '3', '--event=txn_close', live]);
    assert.equal(code, 0);
    const shown = stdout.trim().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual(shown.map((r) => [r.event, r.rtt, r.snd_cwnd, r.all_retrans]), closes.slice(-3).map((r) => [r.event, r.rtt, r.snd_cwnd, r.all_retrans]));

    // --min-rtt is in ms; the log is in microseconds.
    const rtts = records.map((r) => r.rtt);
    const threshold = nearestRank(rtts, 50);
    const slow = records.filter((r) => r.rtt >= threshold);
    const minRtt = await cli(['tail', '--no-follow', '--plain', '-n', '1000', `--min-rtt=${threshold / 1000}`, live]);
    const minRttLines = minRtt.stdout.trim().split('\n').slice(1);
    assert.deepEqual(minRttLines, slow.map((r) => r.line.replaceAll(' ', '\t')));

    const inSubnet = await cli(['tail', '--no-follow', '--plain', '-n', '1000', '--client=127.0.0.0/8', live]);
    assert.equal(inSubnet.stdout.trim().split('\n').length, 1 + records.length);
    const elsewhere = await cli(['tail', '--no-follow', '--plain', '-n', '1000', '--client=10.0.0.0/8,::1', live]);
    assert.equal(elsewhere.stdout, '');
  });

  test('-n beyond what tail holds (1 MiB of lines): the rest is read forwards; bad lines counted once; a last line without newline', async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'long.log');
    const rows = ['timestamp event client server rtt rttvar'];
    const rtts = [];
    for (let i = 0; i < 30_000; i++) {
      if (i % 1000 === 999) rows.push('not a reading');
      rtts.push(1000 + i);
      rows.push(`20261123.10h${String(Math.floor(i / 600) % 60).padStart(2, '0')}m00s txn_close 10.0.0.${i % 200} 10.0.0.250 ${1000 + i} 500`);
    }
    fs.writeFileSync(file, rows.join('\n'));
    assert.ok(fs.statSync(file).size > 1.5 * 1024 * 1024);
    const all = await cli(['tail', '--no-follow', '--plain', '-n', '100000000', file]);
    assert.equal(all.code, 0);
    assert.equal(all.stderr, 'tcpinfo tail: skipped 30 lines that are not tcpinfo readings\n');
    assert.deepEqual(all.stdout.trimEnd().split('\n').slice(1).map((row) => Number(row.split('\t')[4])), rtts);
    const some = await cli(['tail', '--no-follow', '--json', '-n', '25000', '--client=10.0.0.7', file]);
    assert.deepEqual(some.stdout.trimEnd().split('\n').map((line) => JSON.parse(line).rtt), rtts.filter((_, i) => i % 200 === 7));
  });

  test('a terminal gets aligned columns in readable units; a pipe gets plain tab-separated values', async (t) => {
    const dir = tempDir(t);
    const live = path.join(dir, 'tcpinfo.log');
    await logWithPlugin(await loopbackServer(t), live, { requests: 2 });
    const { records } = readLog(live);

    const plain = await cli(['tail', '--no-follow', '-n', '2', live]);
    // eslint-disable-next-line no-control-regex -- ESC is what this looks for
    assert.doesNotMatch(plain.stdout, /\x1b| {2}| $/m, 'no colour, no padding');
    const [title, ...lines] = plain.stdout.trim().split('\n');
    assert.equal(title.split('\t').join(' '), fs.readFileSync(live, 'utf8').split('\n')[0]);
    assert.deepEqual(lines, records.slice(-2).map((r) => r.line.replaceAll(' ', '\t')));

    const pretty = await cli(['tail', '--no-follow', '--pretty', '-n', '2', '--fields=rtt,rttvar,snd_cwnd', live]);
    const [prettyTitle, ...rows] = pretty.stdout.trim().split('\n');
    assert.match(prettyTitle, /^time +event +client +server +rtt\(ms\) +rttvar\(ms\) +snd_cwnd$/);
    for (const [i, row] of rows.entries()) {
      const r = records.at(-2 + i);
      const cells = row.split(/ {2,}/);
      assert.deepEqual(cells.slice(1), [r.event, r.client, r.server, (r.rtt / 1000).toFixed(3), (r.rttvar / 1000).toFixed(3), String(r.snd_cwnd)]);
    }
    // Aligned: every column starts at the same place on every line.
    const ends = (line) => [...line.matchAll(/\S+/g)].map((m) => m.index + m[0].length);
    assert.deepEqual(ends(rows[0]).slice(-3), ends(rows[1]).slice(-3));
  });

  test('JSON-lines input is told apart by content and filtered the same way', async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'tcpinfo.json.log');
    const lines = [
      { time: '2026-11-23T14:05:09.123Z', event: 'ssn_start', client: '::1', client_port: 51234, server: '::1', server_port: 8080, rtt: 120, bytes_acked: 0 },
      { time: '2026-11-23T14:05:09.200Z', event: 'txn_close', client: '::1', client_port: 51234, server: '::1', server_port: 8080, conn: 'c1a2', method: 'GET', status: 200, rtt: 2500, bytes_acked: 5 * 1024 * 1024 },
    ];
    fs.writeFileSync(file, lines.map((l) => JSON.stringify(l) + '\n').join(''));
    const json = await cli(['tail', '--no-follow', '--json', '--min-rtt=1', file]);
    assert.deepEqual(json.stdout.trim().split('\n').map((l) => JSON.parse(l)), [lines[1]]);
    const pretty = await cli(['tail', '--no-follow', '--pretty', '--client=::1', '--fields=rtt,bytes_acked,status', file]);
    const last = pretty.stdout.trim().split('\n').at(-1).split(/ {2,}/);
    assert.deepEqual(last.slice(1), ['txn_close', '::1', '::1', '2.500', '5.0MiB', '200']);
  });

  test('stops cleanly on SIGTERM, and when the reader of its output goes away (EPIPE)', async (t) => {
    const dir = tempDir(t);
    const live = path.join(dir, 'tcpinfo.log');
    await logWithPlugin(await loopbackServer(t), live, { requests: 1 });

    const term = start(['tail', '-n', '1', '--poll=30', live]);
    t.after(() => term.child.kill('SIGKILL'));
    await waitFor(() => term.stdout.includes('txn_close'), 5000, 'the last line');
    term.child.kill('SIGTERM');
    assert.deepEqual(await withTimeout(term.exit, 5000, 'tail to stop on SIGTERM'), { code: 0, signal: null });

    const piped = start(['tail', '-n', '1', '--poll=30', live]);
    t.after(() => piped.child.kill('SIGKILL'));
    await waitFor(() => piped.stdout.includes('txn_close'), 5000, 'the last line');
    piped.child.stdout.destroy();
    // The next line it writes meets a closed pipe.
    const line = fs.readFileSync(live, 'utf8').split('\n')[1];
    fs.appendFileSync(live, `${line}\n${line}\n`);
    assert.deepEqual(await withTimeout(piped.exit, 5000, 'tail to stop on EPIPE'), { code: 0, signal: null });
    assert.equal(piped.stderr, '');
  });

  test('--event=periodic is an event like the others (the lines of --update-period)', async (t) => {
    const dir = tempDir(t);
    const live = path.join(dir, 'tcpinfo.log');
    await logWithPlugin(await loopbackServer(t), live, { requests: 2 });
    // A periodic line is a txn_close line's columns under another event name: made from a real one.
    const close = readLog(live).records.find((r) => r.event === 'txn_close');
    fs.appendFileSync(live, close.line.replace(' txn_close ', ' periodic ') + '\n');
    const tail = await cli(['tail', '--no-follow', '--plain', '-n', '100', '--event=periodic', live]);
    assert.equal(tail.code, 0, tail.stderr);
    assert.deepEqual(tail.stdout.trim().split('\n').slice(1), [close.line.replace(' txn_close ', ' periodic ').replaceAll(' ', '\t')]);
    const summary = await cli(['summary', '--json', '--event=periodic', live]);
    assert.equal(summary.code, 0, summary.stderr);
  });

  test('an --explain log on a 160-column terminal: the verdict, judged time, shares and ended kept, TCP_INFO detail gives way; times in ms; --verdict', async (t) => {
    const file = explainLog(tempDir(t));
    // eslint-disable-next-line no-control-regex -- the bold title
    const shown = (text) => text.replace(/\x1b\[[01]m/g, '').trimEnd().split('\n');
    const narrow = await cli(['tail', '--no-follow', file], { columns: 160 });
    assert.equal(narrow.code, 0, narrow.stderr);
    const [title, start, mixed, ok] = shown(narrow.stdout);
    assert.ok(title.length <= 160, title);
    assert.deepEqual(title.split(/ +/), ['time', 'event', 'client', 'server', 'rtt(ms)', 'rttvar(ms)', 'judged_ms', 'server_ms', 'client_ms', 'network_ms', 'ended', 'verdict']);
    assert.deepEqual(start.split(/ {2,}/).slice(1), ['txn_start', '192.0.2.7', '10.0.0.1', '0.040', '0.050', '-', '-', '-', '-', '-', '-']);
    assert.deepEqual(mixed.split(/ {2,}/).slice(4), ['7.900', '0.050', '3700.000', '1500.000', '0.000', '2200.000', 'acked', 'mixed']);
    assert.deepEqual(ok.split(/ {2,}/).slice(-3), ['3.320', 'acked', 'ok']);
    assert.match(narrow.stderr, /^tcpinfo tail: not shown, for the terminal's width: last_sent,.*snd_ssthresh,rcv_ssthresh,.*fackets,.*ttfb_us,.*shared; /);
    assert.doesNotMatch(narrow.stderr, /verdict|judged_us|server_us|client_us|network_us|ended/);

    // Wide enough for all: every --explain time in ms, bytes readable.
    const wide = await cli(['tail', '--no-follow', '--verdict=mixed,ok', file], { columns: 1000 });
    const [wideTitle, ...rows] = shown(wide.stdout);
    assert.match(wideTitle, / ttfb_ms +end_ms +duration_ms +delivered_ms +judged_ms .* resp_bytes .* min_rtt_ms +ended +shared +verdict$/);
    assert.deepEqual(rows.map((row) => row.split(/ +/).at(-1)), ['mixed', 'ok']);
    assert.match(rows[0], / 1\.900 +1500\.000 +1520\.000 +3702\.000 +3700\.000 .* 4\.1MiB +344 .* 119\.1KiB +0\.025 +acked +0 +mixed$/);

    // A pipe keeps the log's values; --verdict filters there too, JSON as well.
    const plain = await cli(['tail', '--no-follow', '--verdict=network', file]);
    assert.deepEqual(plain.stdout.trimEnd().split('\n').slice(1).map((row) => row.split('\t').at(-1)), ['network']);
    const json = await cli(['tail', '--no-follow', '--json', '--verdict=mixed', file]);
    assert.deepEqual(json.stdout.trimEnd().split('\n').map((line) => JSON.parse(line).judged_us), [3700000]);
    const bad = await cli(['tail', '--no-follow', '--verdict=slow', file]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^tcpinfo tail: --verdict=slow: unknown verdict slow; allowed: unknown, ok, server, client, network, mixed\n/);
  });

  test('usage errors exit 2 and name the option', async () => {
    const bad = [['--event=txn_clsoe'], ['--min-rtt=fast'], ['--client=999.1.1.1'], ['-n', '-3'], ['--json', '--plain'], ['--bogus']];
    const [missing, ...results] = await Promise.all([
      spawnCli(['tail', '--no-follow', path.join(os.tmpdir(), 'no-such-tcpinfo.log')]),
      spawnCli(['tail', '--no-follow', ...bad[0], 'x.log']),
      ...bad.slice(1).map((args) => cli(['tail', '--no-follow', ...args, 'x.log'])),
    ]);
    for (const [i, { code, stderr }] of results.entries()) {
      assert.equal(code, 2, bad[i].join(' '));
      assert.match(stderr, new RegExp(`^tcpinfo tail: .*(${bad[i][0]}|Unknown option)`), bad[i].join(' '));
    }
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no such file/);
  });
});

describe('tcpinfo summary', () => {
  /** Two rolled files and the live one, written by the plugin, from three loopback clients. */
  async function rolledLogs(t) {
    const dir = tempDir(t);
    const live = path.join(dir, 'tcpinfo.log');
    const server = await loopbackServer(t);
    const clients = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];
    const periods = [
      ['20261122.00h00m00s', '20261123.00h00m00s'],
      ['20261123.00h00m00s', '20261124.00h00m00s'],
    ];
    const files = [];
    for (const [i, period] of periods.entries()) {
      await logWithPlugin(server, live, { requests: 4 + i, clients });
      files.push(rolledName(live, ...period));
      fs.renameSync(live, files.at(-1));
    }
    await logWithPlugin(server, live, { requests: 5, clients });
    files.push(live);
    return { dir, files, records: files.flatMap((file) => readLog(file).records) };
  }

  test('figures equal nearest-rank percentiles computed from the same lines; files in time order', async (t) => {
    const { files, records } = await rolledLogs(t);
    // Given out of order: the live file first, then the rolled ones newest first.
    const { code, stdout } = await cli(['summary', '--json', files[2], files[1], files[0]]);
    assert.equal(code, 0);
    const summary = JSON.parse(stdout);
    assert.deepEqual(summary.files, files);
    assert.equal(summary.readings, records.length);
    assert.equal(summary.percentiles, 'nearest-rank');

    assert.deepEqual(Object.keys(summary.events), EVENTS);
    for (const event of EVENTS) {
      const lines = records.filter((r) => r.event === event);
      const rtt = lines.map((r) => r.rtt);
      const got = summary.events[event];
      assert.equal(got.readings, lines.length);
      assert.deepEqual(got.rtt_us, {
        readings: lines.length,
        p50: nearestRank(rtt, 50),
        p90: nearestRank(rtt, 90),
        p99: nearestRank(rtt, 99),
        max: Math.max(...rtt),
      }, event);
      assert.equal(got.rttvar_us.p50, nearestRank(lines.map((r) => r.rttvar), 50));
      assert.equal(got.snd_cwnd.p50, nearestRank(lines.map((r) => r.snd_cwnd), 50));
      const withRetrans = lines.filter((r) => r.all_retrans > 0).length;
      assert.deepEqual(got.retrans, { field: 'all_retrans', readings: lines.length, with_retrans: withRetrans, share: withRetrans / lines.length });
    }

    const byClient = new Map();
    for (const r of records) byClient.set(r.client, [...(byClient.get(r.client) ?? []), r]);
    const expectedClients = [...byClient]
      .map(([client, lines]) => {
        const rtt = lines.map((r) => r.rtt);
        return { client, readings: lines.length, rtt_us: { p50: nearestRank(rtt, 50), p90: nearestRank(rtt, 90), max: Math.max(...rtt) } };
      })
      .sort((a, b) => b.rtt_us.p90 - a.rtt_us.p90 || b.readings - a.readings || a.client.localeCompare(b.client));
    assert.equal(expectedClients.length, 3);
    assert.deepEqual(summary.clients, expectedClients);

    const histogramTotal = summary.rtt_histogram_us.reduce((sum, b) => sum + b.count, 0);
    assert.equal(histogramTotal, records.length);
    for (const bucket of summary.rtt_histogram_us) {
      assert.equal(bucket.count, records.filter((r) => r.rtt >= bucket.from && r.rtt < bucket.to).length, `bucket ${bucket.from}`);
    }
  });

  test('the text report shows the same figures in ms, a table per event, top clients and a histogram', async (t) => {
    const { files, records } = await rolledLogs(t);
    const { code, stdout, stderr } = await cli(['summary', '--top=2', ...files]);
    assert.equal(code, 0);
    assert.equal(stderr, '', 'no progress line when stderr is not a terminal');
    assert.match(stdout, /nearest-rank/);
    assert.match(stdout, /retrans: share of readings with all_retrans > 0/);
    const closes = records.filter((r) => r.event === 'txn_close').map((r) => r.rtt);
    const row = stdout.split('\n').find((line) => line.startsWith('txn_close'));
    const ms = (us) => (us / 1000).toFixed(3);
    assert.deepEqual(row.split(/ +/).slice(1, 6), [String(closes.length), ms(nearestRank(closes, 50)), ms(nearestRank(closes, 90)), ms(nearestRank(closes, 99)), ms(Math.max(...closes))]);
    assert.match(stdout, /^top 2 clients by rtt p90$/m);
    const bars = stdout.split('\n').filter((line) => / - .*#+ /.test(line));
    assert.ok(bars.length >= 1);
    assert.equal(bars.reduce((sum, line) => sum + Number(line.match(/#+ +([\d,]+)/)[1].replaceAll(',', '')), 0), records.length);
  });

  test('--since/--until take the log timestamp, ISO dates and times; level 1 and a retrans-only header say which field', async (t) => {
    const dir = tempDir(t);
    const level1 = path.join(dir, 'level1.log');
    fs.writeFileSync(level1, [
      'timestamp event client server rtt',
      '20261123.09h59m59s txn_close 127.0.0.1 127.0.0.1 100',
      '20261123.10h00m00s txn_close 127.0.0.1 127.0.0.1 200',
      '20261123.11h30m00s txn_close 127.0.0.1 127.0.0.1 300',
      '20261123.12h00m00s txn_close 127.0.0.1 127.0.0.1 400',
      '',
    ].join('\n'));
    // A header of chosen fields (the coming --fields= option): columns found by name; `-` is absent.
    const chosen = path.join(dir, 'chosen.log');
    fs.writeFileSync(chosen, [
      'timestamp event client server retrans min_rtt rtt',
      '20261123.10h15m00s txn_close 127.0.0.1 127.0.0.1 1 5 250',
      '20261123.10h16m00s txn_close 127.0.0.1 127.0.0.1 0 - 350',
      'garbage line',
      '',
    ].join('\n'));
    const ranges = [
      ['20261123.10h00m00s', '20261123.12h00m00s'],
      ['2026-11-23T10:00', '2026-11-23T12:00:00'],
      [new Date(2026, 10, 23, 10).toISOString(), new Date(2026, 10, 23, 12).toISOString()],
    ];
    const results = await Promise.all(ranges.map(([since, until]) => cli(['summary', '--json', `--since=${since}`, `--until=${until}`, level1])));
    for (const [i, { code, stdout }] of results.entries()) {
      const [since, until] = ranges[i];
      assert.equal(code, 0);
      const s = JSON.parse(stdout);
      assert.equal(s.readings, 2, `${since} .. ${until}`);
      assert.deepEqual(s.events.txn_close.rtt_us, { readings: 2, p50: 200, p90: 300, p99: 300, max: 300 });
      assert.equal(s.events.txn_close.retrans, null, 'level 1 has no retransmission column');
    }
    const day = JSON.parse((await cli(['summary', '--json', '--since=2026-11-23', '--until=2026-11-24', level1, chosen])).stdout);
    assert.equal(day.readings, 6);
    const mixed = await cli(['summary', '--json', chosen]);
    const s = JSON.parse(mixed.stdout);
    assert.deepEqual(s.events.txn_close.retrans, { field: 'retrans', readings: 2, with_retrans: 1, share: 0.5 });
    assert.deepEqual(s.events.txn_close.rtt_us, { readings: 2, p50: 250, p90: 350, p99: 350, max: 350 });
    assert.equal(s.skipped_lines, 1);
    assert.match(mixed.stderr, /skipped 1 lines/);
    const text = await cli(['summary', chosen]);
    assert.match(text.stdout, /retrans\*: share of readings with retrans > 0/);
  });

  test('a gzipped rolled file is read too', async (t) => {
    const dir = tempDir(t);
    const gz = path.join(dir, 'small.log_web1.20261123.00h00m00s-20261124.00h00m00s.old.gz');
    const lines = ['timestamp event client server rtt'];
    for (let n = 0; n < 2000; n++) lines.push(`20261123.14h00m00s ${EVENTS[n % 4]} 10.0.0.${n % 20} 127.0.0.1 ${100 + n}`);
    fs.writeFileSync(gz, gzipSync(lines.join('\n') + '\n'));
    const { code, stdout, stderr } = await cli(['summary', '--json', gz]);
    assert.equal(code, 0, stderr);
    const zipped = JSON.parse(stdout);
    assert.deepEqual(zipped.files, [gz]);
    assert.equal(zipped.readings, 2000);
    assert.equal(zipped.events.txn_close.rtt_us.max, 100 + 1999);
  });

  test('exit codes: 2 for usage, 1 for a file that cannot be read (the others still summarised)', async (t) => {
    const dir = tempDir(t);
    const none = await spawnCli(['summary', '--bogus']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^tcpinfo summary: .*\nRun 'tcpinfo summary --help' for usage\.\n$/);
    assert.equal((await cli(['summary', '--since=yesterday', 'x.log'])).code, 2);
    assert.equal((await cli(['summary', '--since=2h', '--until=3h', 'x.log'])).code, 2);
    const ok = path.join(dir, 'ok.log');
    fs.writeFileSync(ok, 'timestamp event client server rtt\n20261123.10h00m00s txn_close 127.0.0.1 127.0.0.1 100\n');
    const partly = await spawnCli(['summary', '--json', path.join(dir, 'missing.log'), ok]);
    assert.equal(partly.code, 1);
    assert.match(partly.stderr, /missing\.log: cannot read \(ENOENT\)/);
    assert.equal(JSON.parse(partly.stdout).readings, 1);
  });
});

describe('control characters from a log never reach the terminal', () => {
  // ESC/OSC sequences (set the title, clear the screen), BEL, a C1 CSI and DEL, in a --log-url path, in
  // a client and in an event name: what someone who can write a log line (or send a request) controls.
  const EVIL = '/a\x1b]0;pwned\x07\x1b[2J\x9b31m\x7fz\tq\nr';
  // eslint-disable-next-line no-control-regex -- control characters are what this looks for
  const RAW = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

  test('tail (plain, aligned, JSON, JSON with --fields) and summary (text, JSON): escaped in every output mode', async (t) => {
    const dir = tempDir(t);
    const jsonLog = path.join(dir, 'json.log');
    const lines = [
      { time: '2026-11-23T10:00:00.000Z', event: 'txn_close', client: '10.0.0.1', server: '10.0.0.2', rtt: 1000, url: EVIL },
      { time: '2026-11-23T10:00:01.000Z', event: 'txn_close\x1b[31m', client: '10.0.0.1\x1b]0;x\x07', server: '10.0.0.2', rtt: 2000, url: '/ok' },
    ];
    fs.writeFileSync(jsonLog, lines.map((line) => JSON.stringify(line) + '\n').join(''));
    const textLog = path.join(dir, 'text.log');
    fs.writeFileSync(textLog, 'timestamp event client server rtt\n20261123.10h00m00s ssn_start\x1b[31m 10.0.0.1\x1b]0;x\x07 10.0.0.2\x9b1m 100\n');

    const runs = [
      ['tail', '--no-follow', '--plain', jsonLog],
      ['tail', '--no-follow', '--pretty', jsonLog],
      ['tail', '--no-follow', '--json', jsonLog],
      ['tail', '--no-follow', '--json', '--fields=url', jsonLog],
      ['tail', '--no-follow', '--plain', textLog],
      ['tail', '--no-follow', '--pretty', textLog],
      ['tail', '--no-follow', '--json', textLog],
      ['summary', jsonLog, textLog],
      ['summary', '--json', jsonLog, textLog],
    ];
    for (const args of runs) {
      const { code, stdout, stderr } = await cli(args);
      assert.equal(code, 0, `${args.join(' ')}: ${stderr}`);
      assert.doesNotMatch(stdout, RAW, `${args.join(' ')} printed a raw control character:\n${JSON.stringify(stdout)}`);
      assert.doesNotMatch(stderr, RAW, args.join(' '));
      const json = args.includes('--json');
      // The escaped form is there to read: \x1b in text, \u001b in JSON (which stays valid JSON).
      assert.ok(stdout.includes(json ? '\\u001b' : '\\x1b'), `${args.join(' ')}: ${stdout}`);
      if (args[0] === 'tail' && args.at(-1) === jsonLog && !args.includes('--pretty')) {
        const escaped = json ? '/a\\u001b]0;pwned\\u0007\\u001b[2J\\u009b31m\\u007fz\\tq\\nr' : '/a\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\x7fz\\x09q\\x0ar';
        assert.ok(stdout.includes(escaped), `${args.join(' ')}: ${stdout}`);
      }
      if (json) {
        for (const line of args[0] === 'tail' ? stdout.trim().split('\n') : [stdout]) JSON.parse(line);
      }
    }
    // JSON output still means the same: the url comes back whole.
    const { stdout } = await cli(['tail', '--no-follow', '--json', jsonLog]);
    assert.equal(JSON.parse(stdout.split('\n')[0]).url, EVIL);
  });
});

describe('bidi controls and line separators never reach the terminal', () => {
  // U+202E turns what follows around on screen; U+2028/U+2029 break lines where a terminal or editor may.
  const RLO = '\u202e';
  const RAW = /[\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;

  test('from a log (tail, summary, explain; text and JSON) and in file names on stderr', async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'bidi.log');
    const close = {
      time: '2026-11-23T10:00:00.000Z', event: `txn_close${RLO}`, client: `10.0.0.1\u2066`, server: '10.0.0.2', rtt: 1000,
      method: 'GET', url: `/invoice_${RLO}fdp.exe\u2028x\u2029y\u200f`, ttfb_us: 200, duration_us: 900_000, verdict: 'server',
    };
    fs.writeFileSync(file, JSON.stringify(close) + '\n' + JSON.stringify({ ...close, event: 'txn_close' }) + '\n');
    const runs = [
      ['tail', '--no-follow', '--plain', file],
      ['tail', '--no-follow', '--pretty', file],
      ['tail', '--no-follow', '--json', file],
      ['summary', file],
      ['summary', '--json', file],
      ['explain', file],
      ['explain', '--json', file],
    ];
    for (const args of runs) {
      const { code, stdout, stderr } = await cli(args);
      assert.equal(code, 0, `${args.join(' ')}: ${stderr}`);
      assert.doesNotMatch(stdout, RAW, `${args.join(' ')} printed a raw bidi control:\n${JSON.stringify(stdout)}`);
      assert.ok(stdout.includes('\\u202e') || stdout.includes('\\u2066'), `${args.join(' ')}: ${stdout}`);
      if (args.includes('--json')) for (const line of args[0] === 'tail' ? stdout.trim().split('\n') : [stdout]) JSON.parse(line);
    }
    const tail = await cli(['tail', '--no-follow', '--plain', file]);
    assert.ok(tail.stdout.includes('/invoice_\\u202efdp.exe\\u2028x\\u2029y\\u200f'), tail.stdout);
    assert.equal(JSON.parse((await cli(['tail', '--no-follow', '--json', file])).stdout.split('\n')[0]).url, close.url);
    const explain = await cli(['explain', file]);
    assert.ok(explain.stdout.includes('GET /invoice_\\u202efdp.exe'), explain.stdout);

    // A file name chosen by whoever can create files where a glob looks.
    const missing = path.join(dir, `gol.${RLO}exe.log`);
    for (const args of [['tail', '--no-follow', missing], ['summary', missing, file], ['explain', missing, file], ['tail', missing, file]]) {
      const { stderr } = await cli(args);
      assert.match(stderr, /gol\.\\u202eexe\.log/, `${args[0]}: ${stderr}`);
      assert.doesNotMatch(stderr, RAW, `${args[0]}: ${stderr}`);
    }
  });
});

describe('hostile lines are skipped and counted, never fatal', () => {
  test('a JSON line nested 200,000 deep: tail (every output mode) and summary skip it', async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'deep.log');
    const good = (rtt) => JSON.stringify({ time: '2026-11-23T10:00:00.000Z', event: 'txn_close', client: '10.0.0.1', server: '10.0.0.2', rtt });
    const deep = `{"time":"2026-11-23T10:00:00.500Z","event":"txn_close","client":"10.0.0.1","server":"10.0.0.2","rtt":5,"x":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
    fs.writeFileSync(file, [good(1000), deep, good(2000), ''].join('\n'));
    for (const mode of ['--plain', '--pretty', '--json']) {
      const { code, stdout, stderr } = await cli(['tail', '--no-follow', mode, file]);
      assert.equal(code, 0, `${mode}: ${stderr}`);
      assert.equal(stderr, 'tcpinfo tail: skipped 1 lines that are not tcpinfo readings\n', mode);
      assert.equal(stdout.trimEnd().split('\n').length, mode === '--json' ? 2 : 3, mode);
    }
    const summary = await cli(['summary', '--json', file]);
    assert.equal(summary.code, 0);
    assert.equal(summary.stderr, 'tcpinfo summary: skipped 1 lines that are not tcpinfo readings\n');
    assert.deepEqual(((r) => [r.readings, r.skipped_lines])(JSON.parse(summary.stdout)), [2, 1]);
  });

  test('a log of newlines: 32 MiB (gzipped, for summary) and 16 MiB (plain, for tail) read in a few seconds, the readings between them found', async (t) => {
    const dir = tempDir(t);
    const reading = (rtt) => `20261123.10h00m00s txn_close 10.0.0.1 10.0.0.2 ${rtt}`;
    const newlines = (mib) => Buffer.alloc(mib * 1024 * 1024, 10);
    const log = (mib) => Buffer.concat([Buffer.from('timestamp event client server rtt\n'), newlines(mib), Buffer.from(reading(1000) + '\n'), newlines(mib), Buffer.from(reading(2000) + '\n'), newlines(1)]);
    const gz = path.join(dir, 'blank.log.gz');
    fs.writeFileSync(gz, gzipSync(log(16)));
    const plain = path.join(dir, 'blank.log');
    fs.writeFileSync(plain, log(8));
    // Each empty line a string and a parse: 14.7 s for summary, 7.3 s for tail before; under 1 s each now.
    let started = performance.now();
    const summary = await cli(['summary', '--json', gz]);
    const summaryMs = performance.now() - started;
    assert.equal(JSON.parse(summary.stdout).readings, 2);
    assert.equal(summary.stderr, '');
    started = performance.now();
    const tail = await cli(['tail', '--no-follow', '--plain', plain]);
    const tailMs = performance.now() - started;
    assert.deepEqual(tail.stdout.trimEnd().split('\n').slice(1).map((row) => row.split('\t')[4]), ['1000', '2000']);
    t.diagnostic(`summary ${Math.round(summaryMs)} ms, tail ${Math.round(tailMs)} ms`);
    assert.ok(summaryMs < 4000 && tailMs < 4000, `summary ${Math.round(summaryMs)} ms, tail ${Math.round(tailMs)} ms`);
  });
});

describe('several writers on one output: a header line again mid-stream', () => {
  test('tail and summary skip the repeated header: no title line again, no reading lost, nothing counted as malformed', async (t) => {
    const dir = tempDir(t);
    // Two workers' stdout captured in one file (> app.log): each wrote the header at its start.
    const header = 'timestamp event client server rtt rttvar';
    const file = path.join(dir, 'stdout.log');
    fs.writeFileSync(file, [
      header,
      '20261123.10h00m00s ssn_start 10.0.0.1 10.0.0.9 1000 500',
      header,
      '20261123.10h00m01s ssn_start 10.0.0.2 10.0.0.9 2000 500',
      '20261123.10h00m02s txn_close 10.0.0.1 10.0.0.9 3000 500',
      header,
      '20261123.10h00m03s txn_close 10.0.0.2 10.0.0.9 4000 500',
      '',
    ].join('\n'));
    const plain = await cli(['tail', '--no-follow', '--plain', '-n', '10', file]);
    assert.equal(plain.code, 0);
    assert.equal(plain.stderr, '');
    const rows = plain.stdout.trim().split('\n');
    assert.equal(rows[0], 'timestamp\tevent\tclient\tserver\trtt\trttvar');
    assert.deepEqual(rows.slice(1).map((row) => row.split('\t')[4]), ['1000', '2000', '3000', '4000']);
    const json = await cli(['tail', '--no-follow', '--json', file]);
    assert.deepEqual(json.stdout.trim().split('\n').map((line) => JSON.parse(line).rtt), [1000, 2000, 3000, 4000]);
    const summary = await cli(['summary', '--json', file]);
    assert.equal(summary.stderr, '');
    const report = JSON.parse(summary.stdout);
    assert.deepEqual([report.readings, report.skipped_lines], [4, 0]);
  });
});

describe('tcpinfo check', () => {
  test('a good plugin.config: every option, its value and whether it is the default; exit 0', async (t) => {
    const dir = tempDir(t);
    const config = path.join(dir, 'plugin.config');
    fs.writeFileSync(config, '# plugins\nstats_over_http.so\ntcpinfo.so --hooks=txn_close --log-level=2 --rolling-interval-sec=7000\n');
    const { code, stdout } = await cli(['check', config], { cwd: dir });
    assert.equal(code, 0);
    assert.match(stdout, /: valid/);
    const row = (option) => stdout.split('\n').find((line) => line.startsWith(option + ' '))?.split(/ {2,}/);
    assert.deepEqual(row('--hooks').slice(1, 3), ['txn_close', 'no']);
    assert.deepEqual(row('--log-level').slice(1, 3), ['2', 'no']);
    assert.deepEqual(row('--sample-rate').slice(1, 3), ['1000', 'yes']);
    assert.deepEqual(row('--rolling-interval-sec').slice(1, 3), ['7200', 'no']);
    assert.match(stdout, /note: .*7000 does not divide 86400: using 7200/);

    // Without an argument: ./plugin.config.
    const here = await spawnCli(['check'], { cwd: dir });
    assert.equal(here.code, 0);
    assert.equal(here.stdout, stdout.replaceAll(config, 'plugin.config'));

    const json = JSON.parse((await cli(['check', '--json', '--options', '--log-level=2 -r 500'])).stdout);
    assert.equal(json.valid, true);
    assert.deepEqual(json.options.find((o) => o.option === '--sample-rate'), {
      option: '--sample-rate', value: '500', isDefault: false, description: json.options.find((o) => o.option === '--sample-rate').description,
    });
    assert.equal(json.options.find((o) => o.option === '--hooks').isDefault, true);
  });

  test('retention, the byte bound and stdout shown: --rolling-max-count, --queue-bytes, --log-file=/dev/stdout as stdout, no directory warning', async () => {
    const { code, stdout } = await cli(['check', '--options', '--rolling-max-count=14 --queue-bytes=64 --log-file=/dev/stdout --rolling-size=10485760']);
    assert.equal(code, 0);
    const row = (option) => stdout.split('\n').find((line) => line.startsWith(option + ' '))?.split(/ {2,}/);
    assert.deepEqual(row('--rolling-max-count').slice(1, 3), ['14', 'no']);
    assert.deepEqual(row('--queue-bytes').slice(1, 3), ['64M', 'no']);
    assert.deepEqual(row('--log-file').slice(1, 3), ['stdout', 'no']);
    assert.match(stdout, /note: --log-file=stdout is never rolled: --rolling-size, --rolling-max-count ignored/);
    assert.match(stdout, /note: --rolling-size=10485760 is in MiB.*write --rolling-size=10M/);
    assert.doesNotMatch(stdout, /note: the log file's directory/);
  });

  test('a broken configuration: every problem listed with its line; exit 1', async (t) => {
    const dir = tempDir(t);
    const config = path.join(dir, 'plugin.config');
    fs.writeFileSync(config, 'foo.so\n\ntcpinfo.so --hooks=ssn_begin --log-level=0 --sample-rate=0x10 --rolling-size=5\n');
    const { code, stdout } = await spawnCli(['check', config]);
    assert.equal(code, 1);
    assert.match(stdout, /invalid, 4 problems/);
    for (const option of ['--hooks=ssn_begin', '--log-level=0', '--sample-rate=0x10', '--rolling-size=5']) {
      assert.match(stdout, new RegExp(`plugin\\.config:3: ${option}: `), option);
    }
    const json = await cli(['check', '--json', '--options=--log-level=7 --bogus']);
    assert.equal(json.code, 1);
    const report = JSON.parse(json.stdout);
    assert.equal(report.valid, false);
    assert.deepEqual(report.problems.map((p) => p.option).sort(), ['--bogus', '--log-level']);

    const missing = await cli(['check', path.join(dir, 'nope.config')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stdout, /cannot read the file/);
    assert.equal((await cli(['check', config, '--options=-l 2'])).code, 2);
  });

  test('what start-up would refuse fails the check (exit 1): a missing or unwritable directory, a symlink, a directory, a hard link or another user\'s file at the log path', async (t) => {
    const dir = tempDir(t);
    const target = path.join(dir, 'elsewhere.log');
    fs.writeFileSync(target, '');
    fs.symlinkSync(target, path.join(dir, 'linked.log'));
    fs.mkdirSync(path.join(dir, 'adir.log'));
    fs.writeFileSync(path.join(dir, 'plain'), '');
    fs.writeFileSync(path.join(dir, 'victim'), 'secret\n');
    fs.linkSync(path.join(dir, 'victim'), path.join(dir, 'hard.log'));
    const cases = [
      [`--log-dir=${path.join(dir, 'missing')}`, `--log-file=${path.join(dir, 'missing', 'tcpinfo.log')}: the directory ${path.join(dir, 'missing')} does not exist`],
      [`--log-dir=${path.join(dir, 'plain')}`, `--log-file=${path.join(dir, 'plain', 'tcpinfo.log')}: ${path.join(dir, 'plain')} is not a directory`],
      [`--log-file=${path.join(dir, 'linked.log')}`, `--log-file=${path.join(dir, 'linked.log')}: is a symbolic link, and the log file is never opened through one`],
      [`--log-file=${path.join(dir, 'adir.log')}`, `--log-file=${path.join(dir, 'adir.log')}: is a directory`],
      [`--log-file=${path.join(dir, 'hard.log')}`, `--log-file=${path.join(dir, 'hard.log')}: has 2 hard links, and the log file is never written through one`],
    ];
    if (process.geteuid?.() === 0) {
      // Root appending to another user's file: that user reads the client addresses.
      fs.writeFileSync(path.join(dir, 'theirs.log'), '', { mode: 0o666 });
      fs.chownSync(path.join(dir, 'theirs.log'), 65534, 65534);
      cases.push([`--log-file=${path.join(dir, 'theirs.log')}`, `--log-file=${path.join(dir, 'theirs.log')}: belongs to uid 65534, and tcpinfo runs as root`]);
    }
    if (process.getuid?.() !== 0) {
      // Root writes anywhere but on a read-only file system.
      const locked = path.join(dir, 'locked');
      fs.mkdirSync(locked, { mode: 0o555 });
      cases.push([`--log-dir=${locked}`, `--log-file=${path.join(locked, 'tcpinfo.log')}: the directory ${locked} is not writable here (EACCES)`]);
    }
    for (const [options, problem] of cases) {
      // What check refuses, start-up refuses.
      assert.throws(() => attach(http.createServer(), options), undefined, options);
      const text = await cli(['check', `--options=${options}`]);
      assert.equal(text.code, 1, options);
      assert.match(text.stdout, /^options: valid, but tcpinfo would not start here: 1 problem\n/, options);
      assert.ok(text.stdout.split('\n')[1].startsWith(`  ${problem}`), `${options}:\n${text.stdout}`);
      const json = await cli(['check', '--json', `--options=${options}`]);
      assert.equal(json.code, 1);
      const report = JSON.parse(json.stdout);
      assert.deepEqual([report.valid, report.ready, report.problems.length, report.problems[0].option], [true, false, 1, '--log-file']);
    }
    // A symlinked directory (a mounted volume) is fine, and so is a log file that is there.
    fs.symlinkSync(dir, path.join(dir, 'volume'));
    const fine = await cli(['check', '--json', `--options=--log-file=${path.join(dir, 'volume', 'elsewhere.log')}`]);
    assert.equal(fine.code, 0, fine.stdout);
    assert.equal(JSON.parse(fine.stdout).ready, true);
  });

  test('--help on every command, with examples; unknown commands exit 2', async () => {
    const commands = ['tail', 'summary', 'check'];
    const helps = await Promise.all(commands.map((command) => cli([command, '--help'])));
    for (const [i, { code, stdout }] of helps.entries()) {
      const command = commands[i];
      assert.equal(code, 0);
      assert.match(stdout, new RegExp(`^Usage: tcpinfo ${command}`));
      assert.match(stdout, /Examples:/);
      assert.match(stdout, /Exit status:/);
    }
    assert.equal((await spawnCli(['--help'])).code, 0);
    const unknown = await spawnCli(['frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
  });
});

describe('what a user did not give or mistyped', () => {
  test('summary and explain read ./tcpinfo.log when given no FILE; its rolled files only with --since/--until (those of that time)', async (t) => {
    const dir = tempDir(t);
    const file = explainLog(dir);
    const rolled = (start, end) => path.join(dir, rolledName('tcpinfo.log', start, end));
    const [header, , delivered] = fs.readFileSync(file, 'utf8').split('\n');
    // The day before (one verdict line, 23:00) and the one before that.
    fs.writeFileSync(rolled('20261130.00h00m00s', '20261201.00h00m00s'), `${header}\n${delivered.replace('20261201.10h00m04s', '20261130.23h00m04s')}\n`);
    fs.writeFileSync(rolled('20261129.00h00m00s', '20261130.00h00m00s'), `${header}\n${delivered.replace('20261201.10h00m04s', '20261129.23h00m04s')}\n`);

    const summary = await cli(['summary', '--json'], { cwd: dir });
    assert.equal(summary.code, 0, summary.stderr);
    assert.deepEqual(JSON.parse(summary.stdout).files, ['tcpinfo.log']);
    assert.equal(summary.stderr, 'tcpinfo summary: read ./tcpinfo.log only; 2 rolled files beside it (name them, e.g. tcpinfo.log_*.old tcpinfo.log, or give --since to read those of that time)\n');

    const since = await cli(['explain', '--json', '--since=2026-11-30T12:00'], { cwd: dir });
    assert.equal(since.code, 0, since.stderr);
    const report = JSON.parse(since.stdout);
    assert.deepEqual(report.files, [path.basename(rolled('20261130.00h00m00s', '20261201.00h00m00s')), 'tcpinfo.log']);
    assert.equal(report.transactions, 4);
    assert.equal(since.stderr, '');
    // Named files are read as named, nothing added.
    assert.deepEqual(JSON.parse((await cli(['explain', '--json', '--since=2026-11-30T12:00', 'tcpinfo.log'], { cwd: dir })).stdout).files, ['tcpinfo.log']);

    // No ./tcpinfo.log: what to pass, exit 1 (input that cannot be read), no empty report.
    const empty = tempDir(t);
    for (const command of ['summary', 'explain']) {
      const none = await spawnCli([command], { cwd: empty });
      assert.equal(none.code, 1, command);
      assert.equal(none.stdout, '');
      assert.equal(
        none.stderr,
        `tcpinfo ${command}: no FILE given, and ./tcpinfo.log does not exist here; name the log, e.g. tcpinfo ${command} /var/log/app/tcpinfo.log (its rolled files too: tcpinfo.log_*.old)\n`,
      );
    }
  });

  test('check with no configuration says there is none and what to pass: exit 2', async (t) => {
    const none = await spawnCli(['check'], { cwd: tempDir(t) });
    assert.equal(none.code, 2);
    assert.equal(none.stdout, '');
    assert.equal(
      none.stderr,
      "tcpinfo check: no configuration to check: no plugin.config here; pass a plugin.config path (tcpinfo check /etc/trafficserver/plugin.config) or an options string (tcpinfo check --options '--hooks=ssn_start,txn_close')\n" +
        "Run 'tcpinfo check --help' for usage.\n",
    );
    // --json too: nothing to report on.
    assert.equal((await cli(['check', '--json'], { cwd: tempDir(t) })).code, 2);
  });

  test('an unknown option gets the closest known one: the command\'s own, else the plugin option it is close to', async () => {
    const cases = [
      [['tail', '--verdcit=ok'], "Unknown option '--verdcit'; did you mean --verdict?"],
      [['tail', '--min-rt=5'], "Unknown option '--min-rt'; did you mean --min-rtt?"],
      [['tail', '--hook=txn_close'], "Unknown option '--hook'; did you mean --event? (--hooks is the plugin's option)"],
      [['summary', '--min-cont=2'], "Unknown option '--min-cont'; did you mean --min-count?"],
      [['summary', '--hook=txn_close'], "Unknown option '--hook'; did you mean --event? (--hooks is the plugin's option)"],
      [['explain', '--verdcit=server'], "Unknown option '--verdcit'; did you mean --verdict?"],
      [['explain', '--log-levl=2'], "Unknown option '--log-levl'; --log-level is the plugin's option, not explain's"],
      [['check', '--opitons=-l 2'], "Unknown option '--opitons'; did you mean --options?"],
      [['check', '--hook=txn_close'], "Unknown option '--hook'; --hooks is the plugin's: check it with --options '--hooks=...'"],
      [['tail', '--frobnicate'], "Unknown option '--frobnicate'"],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await cli([...args, 'x.log']);
      assert.equal(code, 2, args.join(' '));
      assert.equal(stderr.split('\n')[0], `tcpinfo ${args[0]}: ${message}`, args.join(' '));
    }
    // In an options string: the option, and hook names in --hooks.
    const check = await cli(['check', '--options', '--hook=txn_close --hooks=txn_clos']);
    assert.equal(check.code, 1);
    assert.match(check.stdout, /^ {2}--hook=txn_close: unknown option; did you mean --hooks\?$/m);
    assert.match(check.stdout, /^ {2}--hooks=txn_clos: unknown hook "txn_clos"; did you mean txn_close\? \(allowed: /m);
  });
});
