// `tcpinfo summary` streams: 300,000 lines (more bytes than the heap may hold) through a 16 MB heap, the
// bin as a subprocess; the rest of the command: test/cli-commands.test.mjs.
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

test('streams in bounded memory: 300,000 lines through a 16 MB heap; gzip read too', async (t) => {
  const dir = tempDir(t);
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
