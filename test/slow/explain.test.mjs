// The verdicts, proven against the real thing (issue 17): each scenario's conditions built for real in a
// network namespace the test makes (loopback shaped with tbf; this kernel has no netem), server and client
// both inside it, the server carrying the plugin with --explain. The verdict of each transaction in the log
// is asserted, its numbers cross-checked with `ss -tin` of the same connection (read while it is still
// open, after the response), and `tcpinfo explain` on those logs must give each verdict with its evidence.
// With TCPINFO_EXPLAIN_EXAMPLE=<file> (scripts/readme-explain.mjs sets it), its text output goes to that file
// for the README's example.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { networkNamespace, parseSs, ROOT, tempDir } from '../support/harness.mjs';

const run = promisify(execFile);
const RUNNER = path.join(ROOT, 'test', 'support', 'explain-scenarios.mjs');
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
const EXAMPLE = process.env.TCPINFO_EXPLAIN_EXAMPLE;

/** A clean loopback whose sockets have a small receive buffer (at most 64 KB): the slow reader's. */
const CLEAN = [['sysctl', '-qw', 'net.ipv4.tcp_rmem=4096 16384 65536']];
/** A loopback at 16 Mbit/s with a short queue (15 KB): a large response fills it and loses packets. */
const SHAPED = [
  ['ip', 'link', 'set', 'lo', 'mtu', '1500'],
  ['tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'tbf', 'rate', '16mbit', 'burst', '6000', 'limit', '15000'],
];
/** The plugin's options in the scenarios: every transaction explained, JSON lines with the path and min_rtt. */
const OPTIONS = '--hooks=txn_close --explain --format=json --log-url --fields=rtt,min_rtt,snd_cwnd,total_retrans';

/** Runs the scenarios inside the namespace, logging into `logDir`; resolves with one result per scenario, by name. */
async function scenarios(ns, names, logDir) {
  const env = [`TCPINFO_LOG=${logDir}`, `TCPINFO_OPTIONS=${OPTIONS}`];
  const { stdout } = await run(ns.ip, ['netns', 'exec', ns.name, 'env', ...env, process.execPath, RUNNER, ...names], {
    timeout: 120_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const lines = fs.readFileSync(path.join(logDir, 'tcpinfo.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const results = {};
  for (const line of stdout.trim().split('\n')) {
    const result = JSON.parse(line);
    const txn = lines.filter((l) => l.event === 'txn_delivered' && l.client_port === result.clientPort);
    assert.equal(txn.length, 1, `${result.scenario}: one verdict line for client port ${result.clientPort}`);
    results[result.scenario] = { ...result, ss: parseSs(result.ss), txn: txn[0] };
  }
  return results;
}

/** ss's `busy:1234ms` (and the like) in microseconds; 0 when ss does not print it (it prints only non-zero ones). */
function ssUs(value) {
  return value === undefined ? 0 : Number(/^(\d+)ms/.exec(value)[1]) * 1000;
}

/** ss (read after the client had its last byte) shows at least the chronographs of the verdict line, less a tick. */
const TICK_US = 4_000;

test('the four scenarios get their verdicts, and tcpinfo explain says why', { timeout: 180_000 }, async (t) => {
  const clean = networkNamespace(t, CLEAN);
  if (clean === null) return;
  const shaped = networkNamespace(t, SHAPED);
  const cleanLog = tempDir(t, 'tcpinfo-explain-clean-');
  const shapedLog = tempDir(t, 'tcpinfo-explain-shaped-');
  const results = { ...(await scenarios(clean, ['server', 'ok', 'client'], cleanLog)), ...(await scenarios(shaped, ['network'], shapedLog)) };
  const show = (name) => JSON.stringify({ ...results[name].txn, ss: results[name].ss });

  // A handler that waits 300 ms, then answers 1 KB: the time is the server's, before the first byte.
  const server = results.server.txn;
  assert.equal(server.verdict, 'server', show('server'));
  assert.ok(server.ttfb_us >= 299_000 && server.ttfb_us < 400_000 && server.server_us >= server.judged_us / 2, show('server'));
  assert.equal(results.server.ss.busy, undefined, 'ss: no busy time for a 1 KB answer');

  // A quick 1 KB answer.
  const ok = results.ok.txn;
  assert.equal(ok.verdict, 'ok', show('ok'));
  assert.ok(ok.judged_us < 100_000 && ok.ended === 'acked');
  assert.equal(ok.resp_bytes, Number(results.ok.ss.bytes_sent), 'resp_bytes: the bytes ss says were sent');

  // 4 MB to a client reading slowly with a small receive buffer: its window held the sender.
  const client = results.client.txn;
  assert.equal(client.verdict, 'client', show('client'));
  assert.ok(client.client_us >= 0.5 * client.judged_us && client.delivered_us > client.duration_us, show('client'));
  assert.ok(ssUs(results.client.ss.rwnd_limited) >= client.txn_rwnd_limited_us - TICK_US, show('client'));
  assert.ok(ssUs(results.client.ss.busy) >= client.txn_busy_us - TICK_US, show('client'));
  assert.equal(client.min_rtt, Math.round(Number(results.client.ss.minrtt) * 1000), 'min_rtt: as ss has it');

  // The same response over 16 Mbit/s with a short queue: the network held it, and lost packets.
  const network = results.network.txn;
  assert.equal(network.verdict, 'network', show('network'));
  assert.ok(network.txn_retrans > 0, 'the short queue dropped packets');
  // The client reads at once: its window may stop the sender for a tick, never for long.
  assert.ok(network.txn_rwnd_limited_us <= 0.1 * network.judged_us && network.network_us >= 0.5 * network.judged_us, show('network'));
  assert.ok(Number(results.network.ss.retrans.split('/')[1]) >= network.txn_retrans, show('network'));
  assert.ok(ssUs(results.network.ss.busy) >= network.txn_busy_us - TICK_US, show('network'));
  assert.ok(ssUs(results.network.ss.rwnd_limited) <= 0.1 * ssUs(results.network.ss.busy), 'ss: hardly receive window limited');

  // tcpinfo explain on the two logs: each verdict, with its evidence.
  const logs = [path.join(cleanLog, 'tcpinfo.log'), path.join(shapedLog, 'tcpinfo.log')];
  const json = JSON.parse((await run(process.execPath, [CLI, 'explain', '--json', ...logs])).stdout);
  assert.equal(json.transactions, 4);
  for (const verdict of ['server', 'client', 'network', 'ok']) assert.equal(json.verdicts[verdict].transactions, 1, verdict);
  const byUrl = Object.fromEntries(json.slowest.map((s) => [`${s.url} ${s.verdict}`, s]));
  assert.match(byUrl['/wait server'].evidence, /^server (9\d|100)% \(first byte after 3\d\d ms, the app ended the response after 3\d\d ms\)/);
  assert.match(byUrl['/big client'].evidence, /^client \d+% \(receive window limited [\d.]+ m?s/);
  assert.match(byUrl['/big network'].evidence, /network \d+% \([\d.]+ m?s draining: \d+ retransmissions, rtt [\d.]+ ms against a minimum of [\d.]+ ms/);
  assert.deepEqual(json.slowest.map((s) => s.verdict).sort(), ['client', 'network', 'server']);

  // The README's example: the command as shown, run where the two logs are, under names that say which is which.
  const shown = tempDir(t, 'tcpinfo-explain-example-');
  fs.copyFileSync(logs[0], path.join(shown, 'clean-link.log'));
  fs.copyFileSync(logs[1], path.join(shown, 'lossy-link.log'));
  const args = ['explain', 'clean-link.log', 'lossy-link.log'];
  const text = await run(process.execPath, [CLI, ...args], { cwd: shown });
  assert.match(text.stdout, /^server\s+1\s+\d+%$/m);
  if (EXAMPLE) {
    fs.writeFileSync(EXAMPLE, `$ tcpinfo ${args.join(' ')}\n${text.stdout}`);
    t.diagnostic(`wrote ${EXAMPLE}`);
  }
});
