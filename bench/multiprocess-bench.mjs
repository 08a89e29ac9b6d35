// What several processes writing one log cost (issue 9): level-2 lines per second into one file from one
// process, and from N processes each with a writer of its own (the design: O_APPEND, claimed rolls), next to
// the two alternatives: a file per process, and one writer in a primary fed over IPC. Rolling by size at
// 10 MiB throughout, so the rolls are part of the cost; every run's files are checked (one header per file,
// every line whole and there, rolled files one per roll) before its figures count.
//
//   npm run build && node bench/multiprocess-bench.mjs [--lines=1000000] [--processes=4] [--runs=3]
//                                                        [--setups=one,shared,own,ipc] [--json]
//
// Each setup writes the same number of lines in all (split evenly between its processes), each producer
// feeding its writer up to, never past, half its queue bound, so no line is dropped. Figures are the median
// of the runs: lines/s of wall time from "go" to the last file closed, and CPU (user+system, all processes
// of the setup, the primary's included for IPC) per line.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const SELF = fileURLToPath(import.meta.url);
const HEADER =
  'timestamp event client server rtt rttvar last_sent last_recv snd_cwnd snd_ssthresh rcv_ssthresh unacked sacked lost retrans fackets all_retrans data_segs_in data_segs_out\n';
const ROLLING_SIZE = 10 * 1024 * 1024;
const QUEUE_LINES = 65_536;
/** Lines a producer adds per turn of the event loop, at most. */
const CHUNK_LINES = 4096;
/** IPC: lines per message from a worker, and messages a worker may have in flight. */
const IPC_LINES = 512;
const IPC_IN_FLIGHT = 64;

export const SETUPS = [
  { id: 'one', label: 'one process', shared: true, single: true },
  { id: 'shared', label: 'one file (this design: O_APPEND, claimed rolls)', shared: true },
  { id: 'own', label: 'a file per process', shared: false },
  { id: 'ipc', label: 'one writer in the primary, fed over IPC', ipc: true },
];

function writerOptions(file) {
  return { file, header: HEADER, queueLines: QUEUE_LINES, rollingEnabled: 2, rollingOffsetHr: 0, rollingIntervalSec: 86_400, rollingSize: ROLLING_SIZE };
}

/** A level-2 line of the usual length; process `id`, line `i` (its data_segs_in). */
function line(id, i) {
  return `20261123.14h05m09s txn_close 192.0.2.${id} 10.0.0.5 ${48_000 + (i % 4999)} ${24_000 + (i % 977)} 0 0 10 2147483647 64076 ${i % 3} 0 0 0 0 ${i % 11} ${i} ${i % 7}\n`;
}

// ---- children --------------------------------------------------------------------------------------

/** A producer with a writer of its own, or (IPC) sending its lines to the primary. */
async function producer() {
  const { LogWriter } = await import('../dist/logger/writer.js');
  const job = JSON.parse(process.env.MPB_JOB);
  const w = job.ipc ? null : new LogWriter(writerOptions(job.file));
  process.send({ type: 'ready' });
  await once(process, 'message');
  const cpu0 = process.cpuUsage();
  if (w !== null) {
    for (let i = 0; i < job.lines; ) {
      const room = Math.min(CHUNK_LINES, QUEUE_LINES / 2 - (w.stats.queued - w.stats.written - w.stats.lost));
      for (let n = Math.min(room, job.lines - i); n > 0; n--, i++) w.write(line(job.id, i));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await w.close();
  } else {
    let inFlight = 0;
    let resume = null;
    const sent = () => {
      inFlight--;
      if (resume !== null && inFlight < IPC_IN_FLIGHT / 2) resume();
    };
    for (let i = 0; i < job.lines; ) {
      let text = '';
      for (let n = Math.min(IPC_LINES, job.lines - i); n > 0; n--, i++) text += line(job.id, i);
      inFlight++;
      process.send(text, sent);
      if (inFlight >= IPC_IN_FLIGHT) await new Promise((resolve) => (resume = resolve));
      resume = null;
    }
    while (inFlight > 0) await new Promise((resolve) => setImmediate(resolve));
  }
  const cpu = process.cpuUsage(cpu0);
  process.send({ type: 'done', stats: w?.stats ?? null, cpuUs: cpu.user + cpu.system });
  process.disconnect();
}

// ---- one run ---------------------------------------------------------------------------------------

function spawnProducer(job) {
  const child = fork(SELF, ['--child'], { env: { ...process.env, MPB_JOB: JSON.stringify(job) }, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  child.stderrText = '';
  child.stderr.setEncoding('utf8').on('data', (d) => (child.stderrText += d));
  return child;
}

function nextMessage(child, type, ms = 300_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`no ${type} within ${ms} ms`)), ms);
    const onMessage = (m) => m?.type === type && finish(null, m);
    const onExit = (code) => finish(new Error(`producer exited (${code}) before ${type}: ${child.stderrText.trim()}`));
    function finish(err, m) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(m);
    }
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/** Every file of the run: one header at the top, lines whole; returns the record count and files. */
function checkFiles(dir) {
  let records = 0;
  let rolled = 0;
  let maxOver = 0;
  const names = fs.readdirSync(dir);
  for (const name of names) {
    if (name.startsWith('.')) throw new Error(`${name} left behind in the log directory`);
    const text = fs.readFileSync(path.join(dir, name), 'latin1');
    if (name.endsWith('.old')) {
      rolled++;
      if (text.length <= ROLLING_SIZE) throw new Error(`${name}: rolled at ${text.length} bytes, short of the size`);
      maxOver = Math.max(maxOver, text.length - ROLLING_SIZE);
    }
    if (!text.startsWith(HEADER) || text.indexOf(HEADER, 1) !== -1) throw new Error(`${name}: not exactly one header at the top`);
    if (!text.endsWith('\n')) throw new Error(`${name}: ends inside a line`);
    let at = HEADER.length;
    while (at < text.length) {
      const end = text.indexOf('\n', at);
      // 19 columns: 18 spaces.
      let spaces = 0;
      for (let i = text.indexOf(' ', at); i !== -1 && i < end; i = text.indexOf(' ', i + 1)) spaces++;
      if (spaces !== 18) throw new Error(`${name}: a torn line at byte ${at}: ${JSON.stringify(text.slice(at, end))}`);
      records++;
      at = end + 1;
    }
  }
  return { records, files: names.length, rolled, maxOver };
}

async function runSetup(setup, totalLines, processes) {
  const n = setup.single ? 1 : processes;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tcpinfo-mp-bench-'));
  try {
    const per = Math.floor(totalLines / n);
    const children = Array.from({ length: n }, (_, id) =>
      spawnProducer({ id, lines: per, ipc: setup.ipc === true, file: path.join(dir, setup.shared ? 'tcpinfo.log' : `tcpinfo-${id}.log`) }),
    );
    try {
      let primary = null;
      if (setup.ipc) {
        const { LogWriter } = await import('../dist/logger/writer.js');
        primary = new LogWriter(writerOptions(path.join(dir, 'tcpinfo.log')));
        // A batch of lines is one write() call here: the best case for IPC (a real design would count lines).
        for (const child of children) child.on('message', (m) => typeof m === 'string' && primary.write(m));
      }
      await Promise.all(children.map((c) => nextMessage(c, 'ready')));
      const cpu0 = process.cpuUsage();
      const start = performance.now();
      for (const c of children) c.send('go');
      const reports = await Promise.all(children.map((c) => nextMessage(c, 'done')));
      if (primary !== null) await primary.close();
      const seconds = (performance.now() - start) / 1000;
      const primaryCpu = process.cpuUsage(cpu0);
      await Promise.all(children.map((c) => (c.exitCode !== null ? null : once(c, 'exit'))));
      const check = checkFiles(dir);
      const lines = per * n;
      if (check.records !== lines) throw new Error(`${setup.id}: ${check.records} lines in the files, ${lines} written`);
      const stats = primary !== null ? [primary.stats] : reports.map((r) => r.stats);
      const rolls = stats.reduce((sum, s) => sum + s.rolls, 0);
      if (rolls !== check.rolled) throw new Error(`${setup.id}: ${rolls} rolls counted, ${check.rolled} rolled files`);
      if (stats.some((s) => s.dropped + s.lost + s.writeErrors > 0)) throw new Error(`${setup.id}: lines dropped or lost`);
      const cpuUs = reports.reduce((sum, r) => sum + r.cpuUs, 0) + (primary !== null ? primaryCpu.user + primaryCpu.system : 0);
      return { setup: setup.id, label: setup.label, processes: n, files: check.files, lines, seconds, linesPerSecond: lines / seconds, cpuNsPerLine: (cpuUs * 1000) / lines, rolls, rolled: check.rolled, maxOverBytes: check.maxOver };
    } finally {
      for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Runs every setup `runs` times, interleaved; resolves with one row per setup (medians). */
export async function measureMultiprocess({ lines = 1_000_000, processes = 4, runs = 3, setups = SETUPS, log = () => {} } = {}) {
  const results = new Map(setups.map((s) => [s.id, []]));
  for (let run = 0; run < runs; run++) {
    for (const setup of setups) {
      const r = await runSetup(setup, lines, processes);
      log(`run ${run + 1}/${runs} ${setup.id}: ${Math.round(r.linesPerSecond)} lines/s, ${r.rolls} rolls`);
      results.get(setup.id).push(r);
    }
  }
  return setups.map((s) => {
    const rs = results.get(s.id);
    const mid = rs.find((r) => r.linesPerSecond === median(rs.map((x) => x.linesPerSecond)));
    return { ...mid, cpuNsPerLine: median(rs.map((r) => r.cpuNsPerLine)), maxOverBytes: Math.max(...rs.map((r) => r.maxOverBytes)), runs: rs.length };
  });
}

export function renderTable(rows) {
  const base = rows.find((r) => r.setup === 'one');
  const out = [
    '| setup | processes | files | lines | lines/s | vs 1 process | CPU ns/line | rolls (= rolled files) | rolled files past 10 MiB by, at most |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const ratio = base ? `${(r.linesPerSecond / base.linesPerSecond).toFixed(2)}x` : '';
    out.push(`| ${r.label} | ${r.processes} | ${r.files} | ${r.lines} | ${Math.round(r.linesPerSecond).toLocaleString('en-US')} | ${ratio} | ${Math.round(r.cpuNsPerLine)} | ${r.rolls} | ${r.rolls === 0 ? '' : r.maxOverBytes < 10_240 ? `${r.maxOverBytes} B` : `${Math.round(r.maxOverBytes / 1024)} KiB`} |`);
  }
  return out.join('\n');
}

function fail(message) {
  console.error(message);
  process.exit(2);
}

if (process.argv[2] === '--child') {
  await producer();
} else if (process.argv[1] === SELF) {
  const { values } = parseArgs({
    options: {
      lines: { type: 'string', default: '1000000' }, processes: { type: 'string', default: '4' }, runs: { type: 'string', default: '3' },
      setups: { type: 'string', default: SETUPS.map((s) => s.id).join(',') }, json: { type: 'boolean', default: false },
    },
  });
  const setups = values.setups.split(',').map((id) => SETUPS.find((s) => s.id === id) ?? fail(`--setups: unknown ${id} (allowed: ${SETUPS.map((s) => s.id).join(', ')})`));
  for (const [name, min] of [['lines', 1000], ['processes', 2], ['runs', 1]]) {
    if (!(Number.isInteger(Number(values[name])) && Number(values[name]) >= min)) fail(`--${name}=${values[name]}: a whole number, at least ${min}`);
  }
  const rows = await measureMultiprocess({
    lines: Number(values.lines), processes: Number(values.processes), runs: Number(values.runs), setups,
    log: (text) => process.stderr.write(`${text}\n`),
  });
  if (values.json) console.log(JSON.stringify({ cpus: os.cpus().length, rollingSize: ROLLING_SIZE, rows }, null, 2));
  else {
    console.log(`${os.cpus().length} CPUs; level-2 lines of ~${line(0, 123_456).length} bytes; rolling by size at 10 MiB; median of ${values.runs} runs\n`);
    console.log(renderTable(rows));
  }
}
