#!/usr/bin/env node
// A realistic tcpinfo log for `tcpinfo report` (its scale figures, its screenshot): a day of traffic from a
// few thousand clients in a few hundred networks, as the plugin writes it with
// `--hooks=txn_close --explain --fields=rtt,min_rtt,snd_cwnd,total_retrans` (and, JSON, `--format=json --log-url`):
// per transaction a txn_close line and its txn_delivered verdict line. Seeded: the same arguments, the same file.
// Its story: load follows the day; a congested hour makes the network slow (rtt, retransmissions) for some
// networks; a slow dependency makes /api/report the server's; a few networks' clients read slowly.
//   node bench/report-log.mjs --lines=1000000 --out=/tmp/big.log [--format=text] [--hours=24] [--seed=1]
import fs from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    lines: { type: 'string', default: '1000000' },
    out: { type: 'string', default: 'tcpinfo-report-sample.log' },
    format: { type: 'string', default: 'json' },
    hours: { type: 'string', default: '24' },
    seed: { type: 'string', default: '1' },
    start: { type: 'string', default: '2026-11-23T00:00:00' },
  },
});
const LINES = Number(values.lines);
const JSON_LINES = values.format === 'json';
const SPAN_MS = Number(values.hours) * 3_600_000;
const START = new Date(values.start).getTime();

// mulberry32: small, seeded, good enough for a sample log.
let seed = Number(values.seed) >>> 0 || 1;
function random() {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (list) => list[Math.floor(random() * list.length)];
/** Log-normal around `median`. */
const around = (median, spread = 0.5) => median * Math.exp(spread * Math.sqrt(-2 * Math.log(random() || 1e-9)) * Math.cos(2 * Math.PI * random()));

// Networks: base rtt by distance; some congested in the bad hour, some of slow readers.
const NETWORKS = [];
for (let i = 0; i < 300; i++) {
  const v6 = i % 10 === 9;
  NETWORKS.push({
    prefix: v6 ? `2001:db8:${(0x100 + i).toString(16)}` : `${[198, 203, 192, 100][i % 4]}.${(i * 7) % 250}.${(i * 13) % 250}`,
    v6,
    baseRttUs: around(i % 8 === 0 ? 70_000 : 14_000, 0.5),
    congested: i % 7 === 3,
    slowReaders: i % 11 === 5,
  });
}
const ROUTES = [
  { route: '/api/users/:id', path: () => `/api/users/${Math.floor(random() * 90_000)}`, bytes: 2_000, thinkUs: 4_000, weight: 30 },
  { route: '/api/orders/:id/items', path: () => `/api/orders/${Math.floor(random() * 500_000)}/items?page=${1 + Math.floor(random() * 4)}`, bytes: 8_000, thinkUs: 12_000, weight: 18 },
  { route: '/static/app.js', path: () => '/static/app.js', bytes: 420_000, thinkUs: 300, weight: 12 },
  { route: '/search', path: () => `/search?q=${pick(['tcp', 'rtt', 'bbr', 'cubic', 'ack'])}`, bytes: 15_000, thinkUs: 35_000, weight: 14 },
  { route: '/api/report', path: () => `/api/report?from=${Math.floor(random() * 30)}`, bytes: 60_000, thinkUs: 90_000, weight: 5 },
  { route: '/download/:id', path: () => `/download/${Math.floor(random() * 2 ** 32).toString(16).padStart(8, '0')}${Math.floor(random() * 2 ** 32).toString(16).padStart(8, '0')}`, bytes: 6_000_000, thinkUs: 1_000, weight: 3 },
  { route: '/', path: () => '/', bytes: 30_000, thinkUs: 2_000, weight: 18 },
];
const WEIGHTS = ROUTES.reduce((sum, r) => sum + r.weight, 0);
function route() {
  let w = random() * WEIGHTS;
  for (const r of ROUTES) if ((w -= r.weight) < 0) return r;
  return ROUTES[0];
}

const pad = (n) => (n < 10 ? '0' + n : String(n));
function atsTime(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}.${pad(d.getHours())}h${pad(d.getMinutes())}m${pad(d.getSeconds())}s`;
}

const TXNS = Math.floor(LINES / 2);
// Transactions over the day: more by day than by night (a time for each, in order).
const times = new Float64Array(TXNS);
{
  let t = 0;
  const density = (ms) => 0.35 + 0.65 * Math.max(0, Math.sin(Math.PI * ((ms / 3_600_000 - 5) / 19)));
  const mean = SPAN_MS / TXNS;
  for (let i = 0; i < TXNS; i++) {
    t += (-Math.log(random() || 1e-9) * mean * 0.65) / density(t);
    times[i] = START + Math.min(SPAN_MS - 1, t % SPAN_MS);
  }
  times.sort();
}
const congested = (ms) => {
  const hour = (ms - START) / 3_600_000;
  return hour >= 14 && hour < 15.5;
};
const slowDependency = (ms) => {
  const hour = (ms - START) / 3_600_000;
  return hour >= 9 && hour < 10;
};

const out = fs.openSync(values.out, 'w');
let chunk = '';
const flush = () => {
  fs.writeSync(out, chunk);
  chunk = '';
};
const FIELDS = ['rtt', 'min_rtt', 'snd_cwnd', 'total_retrans'];
const EXPLAIN = ['ttfb_us', 'end_us', 'duration_us', 'delivered_us', 'judged_us', 'server_us', 'client_us', 'network_us', 'upload_us',
  'ack_delay_us', 'resp_bytes', 'txn_retrans', 'txn_busy_us', 'txn_rwnd_limited_us', 'txn_sndbuf_limited_us', 'wnd_limited_us',
  'flow_held_us', 'unsent_bytes', 'min_rtt_us', 'ended', 'shared', 'verdict'];
if (!JSON_LINES) chunk += ['timestamp', 'event', 'client', 'server', ...FIELDS, ...EXPLAIN].join(' ') + '\n';
const DASHES = EXPLAIN.map(() => '-').join(' ');

for (let i = 0; i < TXNS; i++) {
  const now = times[i];
  const net = NETWORKS[Math.floor(random() * random() * NETWORKS.length)];
  const host = 1 + Math.floor(random() * 40);
  const client = net.v6 ? `${net.prefix}::${host.toString(16)}` : `${net.prefix}.${host}`;
  const r = route();
  const bad = net.congested && congested(now);
  const minRtt = Math.round(net.baseRttUs);
  const rtt = Math.round(minRtt * (bad ? around(3.5, 0.4) : around(1.15, 0.15)));
  const think = Math.round(around(r.thinkUs, 0.5) * (r.route === '/api/report' && slowDependency(now) ? 12 : 1));
  const segs = Math.ceil(r.bytes / 1448);
  const lossRate = bad ? 0.03 : 0.0008;
  const retrans = segs > 0 ? Math.round(segs * lossRate * around(1, 0.8)) : 0;
  const rounds = Math.max(1, Math.log2(segs / 10 + 1) + 1);
  const network = Math.round(rtt * rounds + retrans * rtt * 0.6);
  // A slow reader takes about 2 MB/s.
  const client_us = net.slowReaders && r.bytes > 50_000 ? Math.round(around(r.bytes / 2, 0.4)) : 0;
  const judged = think + network + client_us;
  const shares = { server: think, network, client: client_us };
  const largest = Object.entries(shares).sort((a, b) => b[1] - a[1])[0];
  const verdict = judged < 250_000 ? 'ok' : largest[1] >= 0.6 * judged ? largest[0] : 'mixed';
  const busy = network + client_us;
  const cols = {
    ttfb_us: Math.round(think * 0.9), end_us: think, duration_us: think + Math.round(busy * 0.3), delivered_us: judged + 300, judged_us: judged,
    server_us: think, client_us, network_us: network, upload_us: 0, ack_delay_us: 300, resp_bytes: r.bytes + 180, txn_retrans: retrans,
    txn_busy_us: busy, txn_rwnd_limited_us: Math.round(client_us * 0.7), txn_sndbuf_limited_us: 0, wnd_limited_us: client_us,
    flow_held_us: 0, unsent_bytes: 0, min_rtt_us: minRtt,
  };
  const port = 30000 + (i % 30000);
  const url = r.path();
  const cwnd = Math.max(2, Math.round(around(bad ? 8 : 40, 0.4)));
  const total = retrans + (random() < 0.02 ? 1 : 0);
  const closeTime = now - judged / 1000 + cols.duration_us / 1000;
  for (const [event, time] of [['txn_close', closeTime], ['txn_delivered', now]]) {
    if (JSON_LINES) {
      let line = `{"time":"${new Date(time).toISOString()}","event":"${event}","client":"${client}","client_port":${port},"server":"10.0.0.5","server_port":443,` +
        `"conn":"${(i * 2654435761 >>> 0).toString(36)}","method":"GET","status":200,"url":"${url}"`;
      if (event === 'txn_delivered' && r.route !== '/' && r.route !== '/search' && i % 3 !== 0) line += `,"route":"${r.route}"`;
      line += `,"rtt":${rtt},"min_rtt":${minRtt},"snd_cwnd":${cwnd},"total_retrans":${total}`;
      if (event === 'txn_delivered') {
        for (const [k, v] of Object.entries(cols)) line += `,"${k}":${v}`;
        line += `,"ended":"acked","shared":false,"verdict":"${verdict}"`;
      }
      chunk += line + '}\n';
    } else {
      const explain = event === 'txn_delivered' ? [...Object.values(cols), 'acked', 0, verdict].join(' ') : DASHES;
      chunk += `${atsTime(time)} ${event} ${client} 10.0.0.5 ${rtt} ${minRtt} ${cwnd} ${total} ${explain}\n`;
    }
  }
  if (chunk.length > 1 << 20) flush();
}
flush();
fs.closeSync(out);
