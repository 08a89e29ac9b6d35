// --metrics: Envoy tcp_stats / Istio style aggregates on prom-client, scraped as text after a known workload.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { describe, test } from 'node:test';
import client from 'prom-client';
import { attach, parseOptions } from '../dist/index.js';
import { MAX_SCRAPE_READS } from '../dist/metrics/tcp-metrics.js';
import { keepAliveRequests, listen, request, tempDir, waitFor } from './support/harness.mjs';

/** Prometheus text format into { 'name{labels}': value }. */
function parseExposition(text) {
  const samples = {};
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples[line.slice(0, at)] = Number(line.slice(at + 1));
  }
  return samples;
}

const FINAL_FIELDS = 'bytes_sent,bytes_received,segs_out,segs_in,data_segs_out,data_segs_in,total_retrans,notsent_bytes';

async function metricsServer(t, extra = {}) {
  const dir = tempDir(t);
  const logFile = path.join(dir, 'tcpinfo.log');
  const registry = new client.Registry();
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end(req.url === '/big' ? 'z'.repeat(200_000) : 'hello world\n'));
  });
  // The log's ssn_close lines hold each connection's final reading: the same reading the metrics got.
  const handle = attach(server, { logFile, hooks: 'ssn_close', format: 'json', fields: FINAL_FIELDS, sampleRate: 1000, metrics: registry, ...extra });
  t.after(() => handle.close());
  const port = await listen(t, server);
  return { server, handle, registry, port, logFile, label: `127.0.0.1:${port}` };
}

describe('metrics', () => {
  test('after a known workload: connections, byte and segment counters, gauges, histogram counts', async (t) => {
    const { handle, registry, port, logFile, label } = await metricsServer(t);
    // 6 keep-alive connections x 4 requests, 2 short connections, one large response.
    await Promise.all(Array.from({ length: 6 }, () => keepAliveRequests(port, 4, { method: 'POST', body: 'q'.repeat(3000) })));
    await request({ host: '127.0.0.1', port, path: '/big', agent: false, headers: { connection: 'close' } });
    await request({ host: '127.0.0.1', port, path: '/', agent: false, headers: { connection: 'close' } });
    await waitFor(() => handle.stats().events.ssn_close === 8, 3000, 'all connections closed');
    const s = parseExposition(await registry.metrics());
    const v = (name) => s[`${name}{server="${label}"}`];

    assert.equal(v('tcpinfo_connections_opened_total'), 8);
    assert.equal(v('tcpinfo_connections_closed_total'), 8);
    await handle.close();
    const finals = fs.readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(finals.length, 8);
    const sum = (field) => finals.reduce((a, l) => a + l[field], 0);
    assert.equal(v('tcpinfo_tx_bytes_total'), sum('bytes_sent'));
    assert.equal(v('tcpinfo_rx_bytes_total'), sum('bytes_received'));
    assert.equal(v('tcpinfo_tx_segments_total'), sum('segs_out'));
    assert.equal(v('tcpinfo_rx_segments_total'), sum('segs_in'));
    assert.equal(v('tcpinfo_tx_data_segments_total'), sum('data_segs_out'));
    assert.equal(v('tcpinfo_rx_data_segments_total'), sum('data_segs_in'));
    assert.equal(v('tcpinfo_tx_retransmitted_segments_total'), sum('total_retrans'));
    // A response still queued in the kernel when the fd closes goes out after the last read: it is in
    // that read's notsent_bytes, not (yet) in bytes_sent.
    assert.ok(v('tcpinfo_tx_bytes_total') + sum('notsent_bytes') > 200_000, 'the large response is counted');
    assert.ok(v('tcpinfo_rx_bytes_total') > 24 * 3000, 'every POST body is counted');
    // Gauges: the sum over open connections, and none are open.
    assert.equal(v('tcpinfo_tx_unsent_bytes'), 0);
    assert.equal(v('tcpinfo_tx_unacked_segments'), 0);
    // One observation per read: a connection closed before any scrape is read once, at its close, however many
    // transactions it had.
    const reads = 8;
    assert.equal(s[`tcpinfo_rtt_us_count{server="${label}"}`], reads);
    assert.equal(s[`tcpinfo_rtt_variance_us_count{server="${label}"}`], reads);
    assert.ok(s[`tcpinfo_tx_percent_retransmitted_segments_count{server="${label}"}`] >= 8);
    assert.ok(Object.keys(s).every((k) => !k.includes('client') && !k.includes('127.0.0.1:' + (port + 1))), 'no per-client label');
  });

  test('gauges hold the open connections while they are open, and counters move at periodic reads', async (t) => {
    const { handle, registry, port, label } = await metricsServer(t, { updatePeriod: 1 });
    const agent = new http.Agent({ keepAlive: true, keepAliveMsecs: 60_000, maxSockets: 3 });
    await Promise.all([1, 2, 3].map(() => request({ host: '127.0.0.1', port, agent })));
    let s = parseExposition(await registry.metrics());
    assert.equal(s[`tcpinfo_connections_opened_total{server="${label}"}`], 3);
    assert.equal(s[`tcpinfo_connections_closed_total{server="${label}"}`] ?? 0, 0);
    const before = s[`tcpinfo_rtt_us_count{server="${label}"}`];
    await waitFor(() => handle.stats().events.periodic >= 3, 2500, 'a round of periodic reads');
    s = parseExposition(await registry.metrics());
    assert.ok(s[`tcpinfo_rtt_us_count{server="${label}"}`] >= before + 3, 'periodic reads are observed');
    agent.destroy();
    await waitFor(() => handle.stats().events.ssn_close === 3, 2000);
    s = parseExposition(await registry.metrics());
    assert.equal(s[`tcpinfo_connections_closed_total{server="${label}"}`], 3);
    assert.equal(s[`tcpinfo_tx_unacked_segments{server="${label}"}`], 0);
  });

  test('a scrape reads the open connections: counters and gauges move without --update-period, no read per request', async (t) => {
    const { registry, port, label } = await metricsServer(t, { hooks: 'txn_close,ssn_close' });
    const agent = new http.Agent({ keepAlive: true, keepAliveMsecs: 60_000, maxSockets: 3 });
    t.after(() => agent.destroy());
    for (let round = 0; round < 4; round++) await Promise.all([1, 2, 3].map(() => request({ host: '127.0.0.1', port, agent, path: '/big' })));
    let s = parseExposition(await registry.metrics());
    const v = (name) => s[`${name}{server="${label}"}`];
    assert.equal(v('tcpinfo_connections_opened_total'), 3);
    assert.ok(v('tcpinfo_tx_bytes_total') >= 12 * 200_000 - v('tcpinfo_tx_unsent_bytes'), 'the bytes of open connections, read at the scrape');
    // 12 transactions, 3 connections open: one read of each, at the scrape.
    assert.equal(v('tcpinfo_rtt_us_count'), 3);
    await request({ host: '127.0.0.1', port, agent });
    s = parseExposition(await registry.metrics());
    assert.equal(v('tcpinfo_rtt_us_count'), 6, 'each scrape reads each open connection once, whichever metric collects first');
    assert.ok(v('tcpinfo_rx_bytes_total') > 0);
  });

  test(`a scrape reads at most ${MAX_SCRAPE_READS} open connections, the next ones where the last stopped`, async (t) => {
    const { server, registry, port, label } = await metricsServer(t);
    const total = MAX_SCRAPE_READS + 50;
    let accepted = 0;
    server.on('connection', () => accepted++);
    const sockets = [];
    t.after(() => sockets.forEach((socket) => socket.destroy()));
    // In batches, within the listen backlog.
    for (let i = 0; i < total; i++) {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => {});
      sockets.push(socket);
      if (sockets.length % 200 === 0 || i === total - 1) await waitFor(() => accepted === sockets.length, 5000, `${sockets.length} connections accepted`);
    }
    const rttCount = async () => parseExposition(await registry.metrics())[`tcpinfo_rtt_us_count{server="${label}"}`];
    const started = performance.now();
    assert.equal(await rttCount(), MAX_SCRAPE_READS);
    const took = performance.now() - started;
    assert.equal(await rttCount(), total, 'the rest of the round');
    assert.equal(await rttCount(), total + MAX_SCRAPE_READS, 'a new round');
    assert.ok(took < 1000, `a scrape of ${MAX_SCRAPE_READS} reads took ${took.toFixed(1)} ms`);
  });

  test('metrics count every connection, whatever the log samples', async (t) => {
    const { handle, registry, port, label } = await metricsServer(t, { sampleRate: 0 });
    await Promise.all(Array.from({ length: 5 }, () => keepAliveRequests(port, 2)));
    await waitFor(() => handle.stats().events.ssn_close === 5, 2000);
    const s = parseExposition(await registry.metrics());
    assert.equal(s[`tcpinfo_connections_opened_total{server="${label}"}`], 5);
    assert.ok(s[`tcpinfo_rx_bytes_total{server="${label}"}`] > 0);
    assert.equal(handle.stats().logged.ssn_close, 0, 'the log sampled nothing');
  });

  test('--metrics-port serves /metrics itself; the default registry is prom-client\'s', async (t) => {
    const dir = tempDir(t);
    const server = http.createServer((req, res) => res.end('ok'));
    const handle = attach(server, `--log-file=${path.join(dir, 't.log')} --metrics --metrics-port=0`);
    t.after(() => handle.close());
    const port = await listen(t, server);
    await keepAliveRequests(port, 2);
    await waitFor(() => handle.metricsServer.address() !== null, 2000, 'the metrics server listening');
    const metricsPort = handle.metricsServer.address().port;
    const res = await request({ host: '127.0.0.1', port: metricsPort, path: '/metrics' });
    assert.equal(res.status, 200);
    assert.match(res.body, new RegExp(`tcpinfo_connections_opened_total\\{server="127.0.0.1:${port}"\\} 1`));
    assert.ok(client.register.getSingleMetric('tcpinfo_rtt_us'), 'registered on the default registry');
    assert.equal((await request({ host: '127.0.0.1', port: metricsPort, path: '/' })).status, 404);
    await handle.close();
  });

  test('two servers with one --metrics-port share one /metrics server, each series by its server label', async (t) => {
    const dir = tempDir(t);
    // A port that was free a moment ago.
    const probe = http.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => probe.once('listening', r));
    const metricsPort = probe.address().port;
    await new Promise((r) => probe.close(r));
    const registry = new client.Registry();
    const servers = [http.createServer((req, res) => res.end('a')), http.createServer((req, res) => res.end('b'))];
    const handles = servers.map((server, i) =>
      attach(server, { logFile: path.join(dir, `s${i}.log`), metrics: registry, metricsPort }),
    );
    t.after(() => Promise.all(handles.map((h) => h.close())));
    assert.equal(handles[0].metricsServer, handles[1].metricsServer, 'one server for the port');
    const ports = [];
    for (const server of servers) ports.push(await listen(t, server));
    for (const port of ports) await keepAliveRequests(port, 1);
    await waitFor(() => handles[0].metricsServer.listening, 2000);
    const res = await request({ host: '127.0.0.1', port: metricsPort, path: '/metrics' });
    for (const port of ports) assert.match(res.body, new RegExp(`tcpinfo_connections_opened_total\\{server="127.0.0.1:${port}"\\} 1`));
    await handles[0].close();
    assert.equal(handles[1].metricsServer.listening, true, 'still served while one user remains');
  });

  test('a closed logger takes its server\'s series with it; another logger of the same label keeps them', async (t) => {
    const dir = tempDir(t);
    const registry = new client.Registry();
    const series = async () => (await registry.getMetricsAsJSON()).reduce((n, m) => n + m.values.length, 0);
    const options = (name, extra) => ({ logFile: path.join(dir, `${name}.log`), hooks: 'txn_close', metrics: registry, ...extra });
    const serve = async (server) => {
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      return server.address().port;
    };
    const stop = (server) => new Promise((resolve) => server.close(resolve));
    // A server attached the whole time: its series are the baseline.
    const kept = http.createServer((req, res) => res.end('kept'));
    const keptHandle = attach(kept, options('kept', { explain: true }));
    t.after(() => keptHandle.close());
    await keepAliveRequests(await serve(kept), 1);
    t.after(() => stop(kept));
    const baseline = await series();
    assert.ok(baseline > 50, `${baseline} series for one server`);
    for (let i = 0; i < 20; i++) {
      const server = http.createServer((req, res) => res.end('short'));
      const handle = attach(server, options('short', { explain: i % 2 === 0 }));
      await keepAliveRequests(await serve(server), 1);
      await handle.close();
      await stop(server);
    }
    assert.equal(await series(), baseline, 'the series of 20 closed servers are gone');

    // Two loggers of one server share its label: closing one leaves the series, counts and all, to the other.
    const shared = http.createServer((req, res) => res.end('shared'));
    const first = attach(shared, options('first', { explain: true }));
    const second = attach(shared, options('second'));
    t.after(() => Promise.all([first.close(), second.close()]));
    const port = await serve(shared);
    t.after(() => stop(shared));
    await keepAliveRequests(port, 2);
    const opened = async () => parseExposition(await registry.metrics())[`tcpinfo_connections_opened_total{server="127.0.0.1:${port}"}`];
    const before = await opened();
    assert.ok(before > 0);
    await first.close();
    await keepAliveRequests(port, 1);
    assert.equal(await opened(), before + 1, 'the series stays with the logger still open, its count kept');
    await second.close();
    assert.equal(await opened(), undefined);
    assert.equal(await series(), baseline);
  });

  test('option errors: --metrics-port without --metrics, a bad port', () => {
    assert.throws(() => parseOptions('--metrics-port=9100'), /--metrics-port=9100: needs --metrics/);
    assert.throws(() => parseOptions('--metrics --metrics-port=70000'), /--metrics-port=70000: must be a decimal integer from 0 to 65535/);
    assert.equal(parseOptions('--metrics').metrics, true);
  });
});
