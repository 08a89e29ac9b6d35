// The verdicts, proven against the real thing (issue 17): each scenario's conditions built for real in a
// network namespace the test makes (loopback shaped with tbf; this kernel has no netem), server and client
// both inside it, and the verdict of its transaction asserted; the numbers behind each verdict cross-checked
// with `ss -tin` of the same connection, read while it is still open, after the response.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { networkNamespace, parseSs, ROOT } from '../support/harness.mjs';

const run = promisify(execFile);
const RUNNER = path.join(ROOT, 'test', 'support', 'explain-scenarios.mjs');

/** A clean loopback whose sockets have a small receive buffer (at most 64 KB): the slow reader's. */
const CLEAN = [['sysctl', '-qw', 'net.ipv4.tcp_rmem=4096 16384 65536']];
/** A loopback at 16 Mbit/s with a short queue (15 KB): a large response fills it and loses packets. */
const SHAPED = [
  ['ip', 'link', 'set', 'lo', 'mtu', '1500'],
  ['tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'tbf', 'rate', '16mbit', 'burst', '6000', 'limit', '15000'],
];

/** Runs the scenarios inside the namespace; resolves with one result per scenario, by name. */
async function scenarios(ns, names, env = {}) {
  const { stdout } = await run(ns.ip, ['netns', 'exec', ns.name, 'env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
    process.execPath, RUNNER, ...names], { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
  const results = {};
  for (const line of stdout.trim().split('\n')) {
    const result = JSON.parse(line);
    results[result.scenario] = { ...result, ss: parseSs(result.ss) };
  }
  return results;
}

/** ss's `busy:1234ms` (and the like) in microseconds; 0 when ss does not print it (it prints only non-zero ones). */
function ssUs(value) {
  return value === undefined ? 0 : Number(/^(\d+)ms/.exec(value)[1]) * 1000;
}

/** The ss chronographs move on after txn_close while the kernel still delivers: they are at least the transaction's, less a tick. */
const TICK_US = 4_000;

test('the four scenarios get their verdicts: server, ok, client (clean loopback), network (shaped)', async (t) => {
  const clean = networkNamespace(t, CLEAN);
  if (clean === null) return;
  const shaped = networkNamespace(t, SHAPED);
  const results = { ...(await scenarios(clean, ['server', 'ok', 'client'], { PROBE: 1 })), ...(await scenarios(shaped, ['network'], { PROBE: 1 })) };
  const txn = (name) => results[name].probe;

  // A handler that waits 300 ms, then answers 1 KB: the time is the server's, before the first byte.
  assert.equal(txn('server').rule, 'ttfb', JSON.stringify(results.server));
  assert.ok(txn('server').ttfb_us >= 300_000 && txn('server').ttfb_us < 400_000, JSON.stringify(txn('server')));
  assert.equal(results.server.ss.busy, undefined, 'ss: no busy time for a 1 KB answer');

  // A quick 1 KB answer.
  assert.equal(txn('ok').rule, 'fast', JSON.stringify(results.ok));
  assert.ok(txn('ok').duration_us < 100_000);
  assert.equal(txn('ok').resp_bytes, Number(results.ok.ss.bytes_sent), 'resp_bytes: the bytes ss says were sent');

  // 4 MB to a client reading slowly with a small receive buffer: its window held the sender.
  const client = txn('client');
  assert.equal(client.rule, 'rwnd', JSON.stringify(results.client));
  assert.ok(client.txn_rwnd_limited_us >= 0.5 * (client.duration_us - client.ttfb_us));
  assert.ok(ssUs(results.client.ss.rwnd_limited) >= client.txn_rwnd_limited_us - TICK_US, `ss ${results.client.ss.rwnd_limited} vs ${client.txn_rwnd_limited_us} us`);
  assert.ok(ssUs(results.client.ss.busy) >= client.txn_busy_us - TICK_US, `ss busy ${results.client.ss.busy} vs ${client.txn_busy_us} us`);

  // The same response over 16 Mbit/s with a short queue: the network held it, and lost packets.
  const network = txn('network');
  assert.match(network.rule, /^(network-limited|retrans|queueing)$/, JSON.stringify(results.network));
  assert.ok(network.txn_retrans > 0, 'the short queue dropped packets');
  assert.equal(network.txn_rwnd_limited_us, 0);
  const ssRetrans = Number(results.network.ss.retrans.split('/')[1]);
  assert.ok(ssRetrans >= network.txn_retrans, `ss retrans ${results.network.ss.retrans} vs ${network.txn_retrans}`);
  assert.ok(ssUs(results.network.ss.busy) >= network.txn_busy_us - TICK_US, `ss busy ${results.network.ss.busy} vs ${network.txn_busy_us} us`);
  assert.equal(results.network.ss.rwnd_limited, undefined, 'ss: never receive window limited');
});
