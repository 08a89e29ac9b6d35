// Several processes, one log: node:cluster workers and separate processes writing the same file. One log,
// no torn or interleaved line, none lost, one header per file, exactly one roll per boundary and per size
// crossing. Real processes, real files; this file is also the workers' and the children's script.
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import cluster from 'node:cluster';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const MiB = 1024 * 1024;
const ALL_HOOKS = 'ssn_start,txn_start,send_resp_hdr,txn_close';
const LEVEL2_HEADER =
  'timestamp event client server rtt rttvar last_sent last_recv snd_cwnd snd_ssthresh rcv_ssthresh unacked sacked lost retrans fackets all_retrans data_segs_in data_segs_out';
const LEVEL2_LINE = /^\d{8}\.\d{2}h\d{2}m\d{2}s (ssn_start|txn_start|send_resp_hdr|txn_close) (127\.0\.0\.1|192\.0\.2\.1) (127\.0\.0\.\d+)(?: \d+){15}$/;
const CLUSTER_WORKERS = 4;
const QUEUE_LINES = 4096;
/**
 * How far a rolled file may pass the size: rolling by size a write takes 256 KiB at most (whole lines), so
 * each other process adds at most the write it had under way when the file crossed, and single lines while
 * the roller renames it.
 */
const PAST_SIZE_BOUND = (CLUSTER_WORKERS - 1) * (256 + 32) * 1024;
/** Lines a worker writes through its writer besides those of real requests, to reach several 10 MiB rolls fast. */
const SYNTHETIC_LINES = 140_000;

const role = cluster.isWorker ? 'cluster-worker' : process.argv[2] === '--child' ? process.argv[3] : 'test';
if (role === 'cluster-worker') await clusterWorker();
else if (role === 'time-roller') await timeRoller();
else if (role === 'opener') await opener();
else await defineTests();

// ---- the processes ------------------------------------------------------------------------------------

/** A cluster worker: a real server with the plugin on its own loopback address, plus lines written directly. */
async function clusterWorker() {
  const http = await import('node:http');
  const { attach } = await import('../../dist/index.js');
  const { holdLogFile } = await import('../../dist/attach.js');
  const { releaseWriter } = await import('../../dist/logger/writer-registry.js');
  const { atsTimestampNow } = await import('../../dist/format/timestamp.js');
  const address = process.env.MP_ADDRESS;
  const server = http.createServer((req, res) => res.end('hello world\n'));
  const handle = attach(server, {
    logFile: process.env.MP_LOG, hooks: ALL_HOOKS, logLevel: 2, rollingEnabled: 2, rollingSize: '10', queueLines: QUEUE_LINES,
  });
  // The same writer as the handle's (one per file in a process): its stats() count these lines too.
  const writer = holdLogFile(handle.options);
  await new Promise((resolve) => server.listen(0, address, resolve));
  process.send({ port: server.address().port });
  process.on('message', async (m) => {
    if (m === 'write') {
      // A level-2 line from client 192.0.2.1 whose data_segs_in is its number, so each shows up once or not.
      for (let i = 0; i < SYNTHETIC_LINES; ) {
        const waiting = writer.stats.queued - writer.stats.written - writer.stats.lost;
        for (let n = Math.min(QUEUE_LINES / 2 - waiting, SYNTHETIC_LINES - i); n > 0; n--, i++) {
          writer.write(`${atsTimestampNow()} txn_close 192.0.2.1 ${address} ${40_000 + (i % 999)} 20000 0 0 10 2147483647 64076 0 0 0 0 0 0 ${i} ${i % 7}\n`);
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
      await writer.flush();
      process.send({ wrote: SYNTHETIC_LINES });
    } else if (m === 'close') {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await releaseWriter(writer);
      await handle.close();
      process.send({ stats: handle.stats() });
      process.disconnect();
    }
  });
}

/**
 * A separate process with a writer of its own that rolls by time every 2 s (the options allow 60 s at
 * least; the writer takes any divisor of 86400). It writes its numbered lines for MP_MS ms. With MP_STALL
 * set it stops its event loop for a while now and then, so it comes to a boundary late, with an old look
 * at the file: the case the roll claim is for.
 */
async function timeRoller() {
  const { LogWriter } = await import('../../dist/logger/writer.js');
  const id = process.env.MP_ID;
  const w = new LogWriter({
    file: process.env.MP_LOG, header: 'timestamp id seq\n', queueLines: 100_000, rollingEnabled: 1, rollingOffsetHr: 0,
    rollingIntervalSec: 2, rollingSize: 1 << 30,
  });
  process.send('ready');
  await once(process, 'message');
  const until = Date.now() + Number(process.env.MP_MS);
  let seq = 0;
  for (let round = 0; round < 100_000 && Date.now() < until; round++) {
    for (let i = 0; i < 20; i++) w.write(`${Date.now()} ${id} ${seq++}\n`);
    if (process.env.MP_STALL && round % 40 === 39) {
      const stallUntil = Date.now() + 120 + (round % 7) * 20;
      while (Date.now() < stallUntil);
    }
    await new Promise((resolve) => setTimeout(resolve, 3));
  }
  await w.close();
  process.send({ lines: seq, stats: w.stats });
  process.disconnect();
}

/** Opens the file it is sent at the moment it is told (all openers at once), writes 50 lines, closes it. */
async function opener() {
  const { LogWriter } = await import('../../dist/logger/writer.js');
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  process.on('message', async (m) => {
    if (m === 'exit') return process.disconnect();
    // Asleep until the same millisecond as the others, then straight to the open.
    Atomics.wait(sleeper, 0, 0, Math.max(0, m.at - Date.now()));
    const w = new LogWriter({
      file: m.file, header: `${LEVEL2_HEADER}\n`, queueLines: 1000, rollingEnabled: 0, rollingOffsetHr: 0,
      rollingIntervalSec: 86_400, rollingSize: 1 << 30,
    });
    for (let i = 0; i < 50; i++) w.write(`line ${process.pid} ${i}\n`);
    await w.close();
    process.send({ written: w.stats.written });
  });
  process.send('ready');
}

// ---- the tests ----------------------------------------------------------------------------------------

async function defineTests() {
  const { test } = await import('node:test');
  const { keepAliveRequests, nextMessage, rolledNameRe, tempDir } = await import('../support/harness.mjs');
  const { LiveFile } = await import('../../dist/logger/live-file.js');
  const { sweepLeftovers } = await import('../../dist/logger/roll-claim.js');

  /** A forked child running this file in `role`, killed after the test if still there; its stderr kept. */
  function child(t, childRole, env = {}) {
    const proc = fork(SELF, ['--child', childRole], { env: { ...process.env, NODE_TEST_CONTEXT: undefined, ...env }, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    proc.stderrText = '';
    proc.stderr.setEncoding('utf8').on('data', (d) => (proc.stderrText += d));
    t.after(() => proc.exitCode === null && proc.kill('SIGKILL'));
    return proc;
  }

  function exited(proc) {
    return proc.exitCode !== null ? Promise.resolve() : once(proc, 'exit');
  }

  /** Log files in `dir`, rolled ones (ATS names) first in name order, the live file last; nothing else may be there. */
  function logFiles(dir, host = os.hostname()) {
    const rolledRe = rolledNameRe(host);
    const rolled = [];
    for (const name of fs.readdirSync(dir).sort()) {
      if (name === 'tcpinfo.log') continue;
      const m = rolledRe.exec(name);
      assert.ok(m, `${name}: only the live file and rolled files (no claim or temporary file left behind)`);
      rolled.push({ name, start: m[1], end: m[2], version: Number(m[3] ?? 0) });
    }
    return { rolled, all: [...rolled.map((f) => f.name), 'tcpinfo.log'].map((name) => path.join(dir, name)) };
  }

  /** The records of a file after checking it has exactly one header, at the top, and ends with a whole line. */
  function records(file, header) {
    const text = fs.readFileSync(file, 'latin1');
    assert.ok(text.endsWith('\n'), `${path.basename(file)} ends with a whole line`);
    const lines = text.slice(0, -1).split('\n');
    assert.equal(lines[0], header, `${path.basename(file)} starts with the header`);
    assert.equal(lines.indexOf(header, 1), -1, `${path.basename(file)} has one header`);
    return lines.slice(1);
  }

  test('4 cluster workers serving real requests into one file: whole lines, each once, one roll per size crossing', async (t) => {
    const dir = tempDir(t);
    const logFile = path.join(dir, 'tcpinfo.log');
    const rollingSize = 10 * MiB;
    cluster.setupPrimary({ exec: SELF, silent: true });
    const workers = [];
    for (let k = 0; k < CLUSTER_WORKERS; k++) {
      const address = `127.0.0.${k + 2}`;
      const worker = cluster.fork({ MP_LOG: logFile, MP_ADDRESS: address, NODE_TEST_CONTEXT: undefined });
      worker.address = address;
      worker.stderrText = '';
      worker.process.stderr.setEncoding('utf8').on('data', (d) => (worker.stderrText += d));
      t.after(() => worker.process.exitCode === null && worker.process.kill('SIGKILL'));
      workers.push(worker);
    }
    const ports = await Promise.all(workers.map(async (w) => (await nextMessage(w, (m) => m.port)).port));

    // Real keep-alive clients on every worker while each worker also writes its numbered lines.
    const CLIENTS = 3;
    const REQUESTS = 150;
    const started = performance.now();
    const [answers] = await Promise.all([
      Promise.all(ports.flatMap((port, k) => Array.from({ length: CLIENTS }, () => keepAliveRequests(port, REQUESTS, { host: workers[k].address })))),
      Promise.all(workers.map((w) => (w.send('write'), nextMessage(w, (m) => m.wrote)))),
    ]);
    assert.ok(answers.flat().every((r) => r.status === 200));
    const stats = await Promise.all(workers.map(async (w) => (w.send('close'), (await nextMessage(w, (m) => m.stats)).stats)));
    await Promise.all(workers.map((w) => exited(w.process)));
    t.diagnostic(`load ${Math.round(performance.now() - started)} ms`);
    for (const w of workers) assert.equal(w.stderrText, '', `worker ${w.address}: nothing on stderr (no warning)`);

    const { rolled, all } = logFiles(dir);
    const perServer = {};
    const seen = workers.map(() => new Uint8Array(SYNTHETIC_LINES));
    let bytes = 0;
    for (const file of all) {
      const size = fs.statSync(file).size;
      bytes += size;
      if (file.endsWith('.old')) {
        assert.ok(size > rollingSize, `${path.basename(file)}: ${size} bytes, past the size`);
        assert.ok(size < rollingSize + PAST_SIZE_BOUND, `${path.basename(file)}: ${size} bytes, past the size by less than a write per other process`);
      } else {
        assert.ok(size <= rollingSize, `the live file (${size} bytes) has not passed the size`);
      }
      for (const line of records(file, LEVEL2_HEADER)) {
        const m = LEVEL2_LINE.exec(line);
        assert.ok(m, `a whole level-2 line of 19 columns: ${JSON.stringify(line.slice(0, 200))}`);
        const server = m[3];
        const key = `${server} ${m[1]} ${m[2]}`;
        perServer[key] = (perServer[key] ?? 0) + 1;
        if (m[2] === '192.0.2.1') {
          const k = Number(server.split('.')[3]) - 2;
          const seq = Number(line.slice(line.lastIndexOf(' ', line.length - 3) + 1, line.lastIndexOf(' ')));
          assert.equal(seen[k][seq], 0, `${server}: line ${seq} once`);
          seen[k][seq] = 1;
        }
      }
    }
    for (const [k, w] of workers.entries()) {
      const s = stats[k];
      const count = (event, client = '127.0.0.1') => perServer[`${w.address} ${event} ${client}`] ?? 0;
      const requests = CLIENTS * REQUESTS;
      assert.deepEqual([s.dropped, s.lost, s.writeErrors], [0, 0, 0], `${w.address}: nothing dropped, lost or failed`);
      assert.equal(seen[k].indexOf(0), -1, `${w.address}: every numbered line is in the log`);
      assert.deepEqual(
        [count('ssn_start'), count('txn_start'), count('send_resp_hdr'), count('txn_close'), count('txn_close', '192.0.2.1')],
        [CLIENTS, requests, requests, requests, SYNTHETIC_LINES],
        `${w.address}: the lines of its own requests, each once`,
      );
      const inFiles = Object.entries(perServer).filter(([key]) => key.startsWith(`${w.address} `)).reduce((n, [, c]) => n + c, 0);
      assert.equal(inFiles, s.written, `${w.address}: lines in the files = its stats().written`);
    }
    const rolls = stats.reduce((n, s) => n + s.rolls, 0);
    assert.equal(rolled.length, rolls, 'one rolled file per roll, whoever rolled it');
    assert.ok(rolled.length >= 4, `${rolled.length} rolls`);
    // Every rolled file is one crossing of the size, and the live file is short of one.
    assert.ok(rolled.length <= Math.floor(bytes / rollingSize), `${rolled.length} rolls for ${bytes} bytes`);
    const over = all.slice(0, -1).map((f) => fs.statSync(f).size - rollingSize);
    t.diagnostic(`${rolled.length} rolls by worker: ${stats.map((s) => s.rolls).join(' ')}; ${(bytes / MiB).toFixed(1)} MiB; past the size by ${over.join(' ')} bytes`);
  });

  test('separate processes rolling by time: each boundary rolled once, by one of them; every line once', async (t) => {
    const dir = tempDir(t);
    const logFile = path.join(dir, 'tcpinfo.log');
    const PROCESSES = 4;
    const children = Array.from({ length: PROCESSES }, (_, id) =>
      child(t, 'time-roller', { MP_LOG: logFile, MP_ID: String(id), MP_MS: '5200', MP_STALL: id === 0 ? '1' : '' }),
    );
    await Promise.all(children.map((c) => nextMessage(c, (m) => m === 'ready')));
    const startedAt = Date.now();
    for (const c of children) c.send('go');
    const reports = await Promise.all(children.map((c) => nextMessage(c, (m) => m.stats)));
    const stoppedAt = Date.now();
    await Promise.all(children.map(exited));
    for (const c of children) assert.equal(c.stderrText, '', 'nothing on stderr (no warning)');

    const { rolled, all } = logFiles(dir);
    const seen = children.map((_, id) => new Uint8Array(reports[id].lines));
    for (const file of all) {
      for (const line of records(file, 'timestamp id seq')) {
        const m = /^\d+ (\d) (\d+)$/.exec(line);
        assert.ok(m, `a whole line: ${JSON.stringify(line)}`);
        assert.equal(seen[m[1]][m[2]], 0, `line ${m[1]} ${m[2]} once`);
        seen[m[1]][m[2]] = 1;
      }
    }
    for (const [id, s] of seen.entries()) assert.equal(s.indexOf(0), -1, `process ${id}: every line in the log`);
    // Boundaries every 2 s of the local day: every one passed while all four were writing was rolled at, once.
    const ends = rolled.map((f) => f.end);
    assert.equal(new Set(ends).size, ends.length, `one roll per boundary: ${ends.join(' ')}`);
    assert.ok(rolled.every((f) => f.version === 0 && Number(f.end.slice(-3, -1)) % 2 === 0), `rolled at 2 s boundaries: ${ends.join(' ')}`);
    const { atsTimestamp } = await import('../../dist/format/timestamp.js');
    for (let b = Math.ceil((startedAt + 200) / 2000) * 2000; b < stoppedAt - 600; b += 2000) {
      assert.ok(ends.includes(atsTimestamp(b)), `rolled at ${atsTimestamp(b)}: ${ends.join(' ')}`);
    }
    assert.ok(rolled.length >= 2, `${rolled.length} rolls`);
    assert.equal(reports.reduce((n, r) => n + r.stats.rolls, 0), rolled.length, 'each roll done by one process');
    t.diagnostic(`rolls by process: ${reports.map((r) => r.stats.rolls).join(' ')}`);
  });

  test('many processes opening a missing (or empty) file at the same moment: one header, at the top', async (t) => {
    const dir = tempDir(t);
    const OPENERS = 12;
    const openers = Array.from({ length: OPENERS }, () => child(t, 'opener'));
    await Promise.all(openers.map((c) => nextMessage(c, (m) => m === 'ready')));
    for (const [round, kind] of ['missing', 'missing', 'missing', 'empty', 'empty'].entries()) {
      const file = path.join(dir, `${kind}-${round}.log`);
      if (kind === 'empty') fs.writeFileSync(file, '', { mode: 0o640 });
      const at = Date.now() + 100;
      const answers = openers.map((c) => nextMessage(c, (m) => m.written !== undefined));
      for (const c of openers) c.send({ file, at });
      assert.ok((await Promise.all(answers)).every((a) => a.written === 50));
      const lines = records(file, LEVEL2_HEADER);
      assert.equal(lines.length, OPENERS * 50, `${kind} file, round ${round}: every line`);
      assert.ok(lines.every((l) => /^line \d+ \d+$/.test(l)));
      assert.equal(fs.statSync(file).mode & 0o777, 0o640 & ~process.umask());
    }
    for (const c of openers) c.send('exit');
    await Promise.all(openers.map(exited));
    assert.deepEqual(fs.readdirSync(dir).filter((n) => n.startsWith('.')), [], 'no temporary file left behind');
  });

  test('a process acting on an old look at the file never renames the new one; a claim left by a dead process is passed over', async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'tcpinfo.log');
    const header = 'timestamp event client server rtt\n';
    const a = new LiveFile(file, header, 'web1');
    const b = new LiveFile(file, header, 'web1');
    a.openSync(Date.now());
    b.openSync(Date.now());
    t.after(() => Promise.all([a.close(), b.close()]));
    await a.write(Buffer.from('line 1\n'));
    // Both saw the same file; b rolls it and opens the new one.
    const end = Date.now();
    assert.match(path.basename(await b.rollAway(end)), /^tcpinfo\.log_web1\..*\.old$/);
    await b.close();
    await b.open(end);
    const newIno = fs.statSync(file).ino;
    // a still holds the old file and its old look: its claim (of the old inode) is free, but the name moved on.
    assert.equal(await a.rollAway(end), null);
    assert.equal(fs.statSync(file).ino, newIno, 'the new live file is still in place');
    assert.equal(fs.readdirSync(dir).filter((n) => n.endsWith('.old')).length, 1);

    // Another process holding the claim of the live file (renaming it right now): leave it to that one.
    const st = fs.statSync(file);
    const claim = path.join(dir, `.tcpinfo.log.roll-${st.dev}-${st.ino}`);
    fs.writeFileSync(claim, '1\n');
    assert.equal(await b.rollAway(Date.now()), null);
    assert.equal(fs.statSync(file).ino, newIno);
    // The same claim a minute old: its process died mid-roll. The next generation is claimed, and the roll done.
    const minuteAgo = new Date(Date.now() - 60_000);
    fs.utimesSync(claim, minuteAgo, minuteAgo);
    assert.match(path.basename(await b.rollAway(Date.now() + 1000)), /\.old$/);
    assert.equal(fs.existsSync(file), false, 'renamed');
    assert.deepEqual(fs.readdirSync(dir).filter((n) => n.startsWith('.')), [path.basename(claim)], 'its own claim released');
    // Leftovers older than 10 minutes are swept; younger ones are not.
    const tmp = path.join(dir, '.tcpinfo.log.999.abcd.tmp');
    fs.writeFileSync(tmp, header);
    await sweepLeftovers(file);
    assert.equal(fs.readdirSync(dir).filter((n) => n.startsWith('.')).length, 2);
    const hourAgo = new Date(Date.now() - 3600_000);
    fs.utimesSync(claim, hourAgo, hourAgo);
    fs.utimesSync(tmp, hourAgo, hourAgo);
    await sweepLeftovers(file);
    assert.deepEqual(fs.readdirSync(dir).filter((n) => n.startsWith('.')), []);
  });
}
