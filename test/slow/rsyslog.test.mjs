// A real log shipper across rolls: rsyslogd's imfile follows tcpinfo.log by name while it rolls by size
// under load, and forwards to a file; every line written arrives once, whole, in order. The rsyslog
// configuration is docs/rolling-and-faults.md's `<!-- tested: rsyslog.conf -->` block as it stands.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { LogWriter } from '../../dist/logger/writer.js';
import { requireTool, ROOT, runDaemon, tempDir, testedBlocks, waitFor } from '../support/harness.mjs';

const DOC = fs.readFileSync(path.join(ROOT, 'docs', 'rolling-and-faults.md'), 'utf8');
const CONF = testedBlocks(DOC)['rsyslog.conf']?.code;
const DOC_LOG = '/var/log/tcpinfo/tcpinfo.log';
const DOC_OUT = '/var/log/shipped/tcpinfo.log';

const HEADER = 'timestamp event client server rtt\n';
/** Small enough for 20 rolls in seconds (the option's minimum is 10 MiB; the writer takes any size). */
const ROLLING_SIZE = 128 * 1024;
const ROLLS = 21;
/** Bytes written every 10 ms: a roll every ~0.4 s (rsyslog misses a file rolled away before it opened it). */
const BYTES_PER_TICK = 5_000;

/** Lines that say which line they are (`seq`), of varying lengths, as the plugin writes them. */
const FORMATS = {
  text: {
    header: HEADER,
    line: (seq) => `20261123.14h05m09s txn_close 10.0.${(seq >> 8) & 255}.${seq & 255} 127.0.0.1 ${seq} ${'x'.repeat(seq % 41)}\n`,
    seqOf: (line) => Number(line.split(' ')[4]),
  },
  json: {
    header: '',
    // Every 997th line has a 9 KiB url: past rsyslog's default maxMessageSize of 8k.
    line: (seq) =>
      `{"time":"2026-11-23T14:05:09.123Z","event":"txn_close","client":"127.0.0.1","client_port":${40000 + (seq % 20000)},` +
      `"server":"127.0.0.1","server_port":8080,"conn":"1f3k-${seq.toString(36)}","method":"GET","status":200,` +
      `"url":"/seq/${seq}/${(seq % 997 === 500 ? 'u' : 'p').repeat(seq % 997 === 500 ? 9 * 1024 : seq % 53)}","rtt":${seq % 300}}\n`,
    seqOf: (line) => JSON.parse(line).url.split('/')[2] * 1,
  },
};

/** The output file's complete lines (a last line still being written is left for the next look). */
function shipped(file) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (err.code === 'ENOENT') return [];
    throw err;
  }
  return text.slice(0, text.lastIndexOf('\n') + 1).split('\n').slice(0, -1);
}

/** For a failure message: which written file each run of missing lines was in (the files are all kept). */
function whereFrom(logDir, missing, seqOf, header) {
  const runs = [];
  for (const n of missing) {
    const last = runs.at(-1);
    if (last && last[1] === n - 1) last[1] = n;
    else runs.push([n, n]);
  }
  const files = fs.readdirSync(logDir).map((name) => {
    const records = fs.readFileSync(path.join(logDir, name), 'utf8').split('\n').filter((l) => l !== '' && l !== header.slice(0, -1));
    return { name, first: seqOf(records[0]), last: seqOf(records.at(-1)) };
  });
  return runs
    .slice(0, 10)
    .map(([a, b]) => {
      const f = files.filter((f) => f.last >= a && f.first <= b).map((f) => `${f.name} (${f.first}..${f.last})`);
      return `${a}..${b} in ${f.join(', ')}`;
    })
    .join('; ');
}

test('docs/rolling-and-faults.md marks the rsyslog configuration, with the paths the test replaces', () => {
  assert.ok(CONF, 'a <!-- tested: rsyslog.conf --> block');
  assert.ok(CONF.includes(`file="${DOC_LOG}"`) && CONF.includes(`file="${DOC_OUT}"`), CONF);
});

describe('rsyslog imfile follows tcpinfo.log across 20+ size rolls under load', () => {
  for (const [format, { header, line, seqOf }] of Object.entries(FORMATS)) {
    test(`${format} lines: every line arrives once, whole, in order`, { timeout: 60_000 }, async (t) => {
      const rsyslogd = requireTool(t, 'rsyslogd', 'rsyslog');
      if (rsyslogd === null) return;
      assert.ok(CONF, 'docs/rolling-and-faults.md has a <!-- tested: rsyslog.conf --> block');
      const dir = tempDir(t, 'tcpinfo-rsyslog-');
      const logDir = path.join(dir, 'log');
      const workDir = path.join(dir, 'work');
      fs.mkdirSync(logDir);
      fs.mkdirSync(workDir);
      const logFile = path.join(logDir, 'tcpinfo.log');
      const out = path.join(dir, 'shipped.log');
      // The page's block as it stands, with its two paths made ours and a work directory of its own.
      const conf = `global(workDirectory="${workDir}")\n` + CONF.replace(`file="${DOC_LOG}"`, `file="${logFile}"`).replace(`file="${DOC_OUT}"`, `file="${out}"`);
      fs.writeFileSync(path.join(dir, 'rsyslog.conf'), conf);

      const writer = new LogWriter({
        file: logFile, header, queueLines: 200_000, rollingEnabled: 2, rollingOffsetHr: 0, rollingIntervalSec: 86_400,
        rollingSize: ROLLING_SIZE, hostname: 'web1',
      });
      t.after(() => writer.close());
      // Line 0 first, and rsyslogd is following once it has arrived.
      let seq = 0;
      const expected = [];
      const write = () => {
        const text = line(seq++);
        expected.push(text.slice(0, -1));
        assert.ok(writer.write(text), 'queued');
      };
      write();
      await writer.flush();
      const rsyslog = runDaemon(t, rsyslogd, ['-n', '-f', path.join(dir, 'rsyslog.conf'), '-i', path.join(dir, 'rsyslogd.pid')]);
      const alive = () => assert.ok(rsyslog.running(), `rsyslogd exited:\n${rsyslog.output()}`);
      await waitFor(() => (alive(), shipped(out).length > 0), 10_000, 'rsyslogd forwarding the first line');

      // Load: ~1 MB/s in ticks of 10 ms until ROLLS rolls (bounded in lines and in time).
      const started = Date.now();
      while (writer.stats.rolls < ROLLS && seq < 500_000 && Date.now() - started < 20_000) {
        for (let bytes = 0; bytes < BYTES_PER_TICK; bytes += expected.at(-1).length + 1) write();
        await new Promise((r) => setTimeout(r, 10));
      }
      await writer.close();
      const rolls = writer.stats.rolls;
      assert.ok(rolls >= 20, `${rolls} rolls in ${Date.now() - started} ms`);
      assert.equal(writer.stats.written, seq, 'the writer wrote every line');
      const files = fs.readdirSync(logDir);
      assert.equal(files.length, rolls + 1, 'the live file and one file per roll');

      // Every record line, and a header per file for the text format.
      const total = seq + (header === '' ? 0 : rolls + 1);
      // Until all have arrived (and a moment more, for a line twice to show), or none for 5 s.
      let lines = [];
      let lastChange = Date.now();
      await waitFor(() => {
        alive();
        const now = shipped(out);
        if (now.length !== lines.length) lastChange = Date.now();
        lines = now;
        return lines.length >= total ? Date.now() - lastChange >= 300 : Date.now() - lastChange >= 5000;
      }, 30_000, `rsyslogd catching up to ${total} lines (it has ${lines.length})`);

      const records = header === '' ? lines : lines.filter((l) => l !== header.slice(0, -1));
      const seqs = records.map((l) => {
        let n = NaN;
        try {
          n = seqOf(l);
        } catch {
          // not a line of ours: NaN fails the assertion below
        }
        assert.ok(Number.isInteger(n) && n >= 0 && n < seq, `a torn line: ${l.slice(0, 200)}`);
        return n;
      });
      const seen = new Set(seqs);
      const missing = expected.map((_, i) => i).filter((i) => !seen.has(i));
      assert.deepEqual(missing.slice(0, 20), [], `${missing.length} of ${seq} lines never arrived: ${whereFrom(logDir, missing, seqOf, header)}\n${rsyslog.output()}`);
      assert.equal(records.length, seq, `${records.length - seen.size} lines arrived more than once`);
      assert.equal(lines.length - records.length, header === '' ? 0 : rolls + 1, 'one header per file');
      for (let i = 0; i < records.length; i++) {
        assert.equal(records[i], expected[seqs[i]], `line ${seqs[i]} arrived whole, as written`);
        assert.equal(seqs[i], i, 'in the order written');
      }
      t.diagnostic(`${seq} lines, ${rolls} rolls in ${Date.now() - started} ms; all shipped once, whole, in order`);
    });
  }
});
