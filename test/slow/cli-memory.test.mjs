// `tcpinfo summary` streams and `tcpinfo tail -n <huge>` holds a bounded part: 300,000 lines (more bytes than
// the heap may hold) through a 16 MB heap, the bin as a subprocess; the rest: test/cli-commands.test.mjs.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { test } from 'node:test';
import { spawnCli, tempDir } from '../support/harness.mjs';

const EVENTS = ['ssn_start', 'txn_start', 'send_resp_hdr', 'txn_close'];

/** Nearest-rank percentile, computed the plain way: sort everything, take rank ceil(p * n / 100). */
function nearestRank(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil((p * sorted.length) / 100)) - 1];
}

/** A log of 300,000 lines (about 20 MB) in `dir`; returns its path and the rtt of each line. */
function bigLog(dir) {
  const big = path.join(dir, 'big.log');
  const fd = fs.openSync(big, 'w');
  fs.writeSync(fd, 'timestamp event client server rtt rttvar snd_cwnd all_retrans\n');
  const expected = [];
  for (let block = 0; block < 30; block++) {
    let text = '';
    for (let i = 0; i < 10_000; i++) {
      const n = block * 10_000 + i;
      const rtt = 100 + ((n * 7919) % 3000);
      expected.push(rtt);
      text += `20261123.14h${String(block).padStart(2, '0')}m00s ${EVENTS[n % 4]} 10.0.0.${n % 20} 127.0.0.1 ${rtt} 50 10 ${n % 100 === 0 ? 1 : 0}\n`;
    }
    fs.writeSync(fd, text);
  }
  fs.closeSync(fd);
  assert.ok(fs.statSync(big).size > 16 * 1024 * 1024, 'more bytes than the heap may hold');
  return { big, expected };
}

test('streams in bounded memory: 300,000 lines through a 16 MB heap; gzip read too', async (t) => {
  const dir = tempDir(t);
  const { big, expected } = bigLog(dir);
  const { code, stdout, stderr } = await spawnCli(['summary', '--json', '--top=3', big], { timeoutMs: 30_000, env: { NODE_OPTIONS: '--max-old-space-size=16' } });
  assert.equal(code, 0, stderr);
  const s = JSON.parse(stdout);
  assert.equal(s.readings, expected.length);
  const all = s.rtt_histogram_us.reduce((sum, b) => sum + b.count, 0);
  assert.equal(all, expected.length);
  const closes = expected.filter((_, n) => n % 4 === 3);
  assert.equal(s.events.txn_close.rtt_us.p99, nearestRank(closes, 99));
  assert.equal(s.events.ssn_start.retrans.with_retrans, 3000);

  const gz = path.join(dir, 'small.log_web1.20261123.00h00m00s-20261124.00h00m00s.old.gz');
  fs.writeFileSync(gz, gzipSync(fs.readFileSync(big).subarray(0, 100_000)));
  const zipped = JSON.parse((await spawnCli(['summary', '--json', gz], { timeoutMs: 30_000 })).stdout);
  assert.equal(zipped.files[0], gz);
  assert.ok(zipped.readings > 1000);
});

test('tail -n 100000000 holds a bounded part of a log: all 300,000 lines through a 16 MB heap', async (t) => {
  const { big, expected } = bigLog(tempDir(t));
  const started = Date.now();
  const { code, stdout, stderr } = await spawnCli(['tail', '--no-follow', '--plain', '-n', '100000000', big], {
    timeoutMs: 60_000,
    env: { NODE_OPTIONS: '--max-old-space-size=16' },
  });
  assert.equal(code, 0, stderr.slice(0, 2000));
  const lines = stdout.split('\n');
  assert.equal(lines.at(-1), '');
  assert.equal(lines[0], 'timestamp\tevent\tclient\tserver\trtt\trttvar\tsnd_cwnd\tall_retrans');
  assert.equal(lines.length - 2, expected.length, 'every line once, in order');
  assert.equal(lines[1].split('\t')[4], String(expected[0]));
  assert.equal(lines.at(-2).split('\t')[4], String(expected.at(-1)));
  // A filter: the last 70,000 of the 75,000 txn_close lines, in order.
  const closes = await spawnCli(['tail', '--no-follow', '--plain', '--event=txn_close', '-n', '70000', big], {
    timeoutMs: 60_000,
    env: { NODE_OPTIONS: '--max-old-space-size=16' },
  });
  assert.equal(closes.code, 0, closes.stderr.slice(0, 2000));
  const rows = closes.stdout.trimEnd().split('\n').slice(1);
  assert.equal(rows.length, 70_000);
  assert.deepEqual(rows.map((row) => Number(row.split('\t')[4])), expected.filter((_, n) => n % 4 === 3).slice(-70_000));
  t.diagnostic(`${Date.now() - started} ms`);
});
