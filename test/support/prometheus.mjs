// The real Prometheus (Debian's package) run for a test, its HTTP API, and real HTTP clients loading a server:
// what test/slow/prometheus.test.mjs and test/slow/dashboards.test.mjs share.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { freePort, runDaemon, waitFor } from './harness.mjs';

/** GET a Prometheus API path; its `data`. */
export async function api(port, pathAndQuery) {
  const res = await fetch(`http://127.0.0.1:${port}${pathAndQuery}`, { signal: AbortSignal.timeout(5000) });
  const body = await res.json();
  assert.equal(body.status, 'success', `${pathAndQuery}: ${JSON.stringify(body)}`);
  return body.data;
}

/** An instant query: its series, each with its labels and value. */
export async function query(port, promql) {
  const data = await api(port, `/api/v1/query?query=${encodeURIComponent(promql)}`);
  assert.equal(data.resultType, 'vector', promql);
  return data.result.map((r) => ({ labels: r.metric, value: Number(r.value[1]) }));
}

/**
 * Prometheus on a free port of 127.0.0.1 with `config` (prometheus.yml's text), its data in `dir`; stopped after
 * the test. Resolves when it is ready: `{ port, alive }`, alive() failing the test with its output once it exited.
 */
export async function startPrometheus(t, prometheus, dir, config) {
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), config);
  const port = await freePort();
  const prom = runDaemon(t, prometheus, [
    `--config.file=${path.join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ]);
  const alive = () => assert.ok(prom.running(), `prometheus exited:\n${prom.output()}`);
  await waitFor(async () => {
    alive();
    return fetch(`http://127.0.0.1:${port}/-/ready`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false);
  }, 20_000, 'Prometheus ready');
  return { port, alive };
}

/** Wait for `count` scrapes of `job` within the last 5 minutes (at most 20 s), then check every one succeeded. */
export async function waitForScrapes({ port, alive }, job, count) {
  await waitFor(async () => {
    alive();
    const [r] = await query(port, `count_over_time(up{job="${job}"}[5m])`);
    return r !== undefined && r.value >= count;
  }, 20_000, `${count} scrapes`);
  const [up] = await query(port, `min_over_time(up{job="${job}"}[5m])`);
  assert.equal(up.value, 1, `every scrape succeeded:\n${JSON.stringify(await api(port, '/api/v1/targets'))}`);
}

/**
 * Real clients on `port` until `stop()`: `keepAlive` ones on their own connection each, and `close` ones that
 * open a connection per request; each waits a little between requests. Bounded in requests and in time.
 */
export function load(port, { keepAlive, close }) {
  let stopped = false;
  /** When each request ended, and whether it had a connection of its own (at most 100_000 each). */
  const ends = [];
  let failure = null;
  const deadline = Date.now() + 45_000;
  const client = async (agent, headers) => {
    for (let i = 0; i < 100_000 && !stopped && failure === null && Date.now() < deadline; i++) {
      await new Promise((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port, path: `/${i}`, agent, headers }, (res) => {
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', reject);
        req.setTimeout(5000, () => req.destroy(new Error('request timed out')));
      }).catch((err) => (failure ??= err));
      if (ends.length < 100_000) ends.push({ at: Date.now(), newConnection: agent === false });
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const agents = Array.from({ length: keepAlive }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  const done = Promise.all([
    ...agents.map((agent) => client(agent, {})),
    ...Array.from({ length: close }, () => client(false, { connection: 'close' })),
  ]);
  return {
    requests: () => ends.length,
    failure: () => failure,
    /** Requests, and new connections, per second over the last `seconds`. */
    perSecond(seconds) {
      const recent = ends.filter((e) => e.at >= Date.now() - seconds * 1000);
      return { requestsPerSecond: recent.length / seconds, connectionsPerSecond: recent.filter((e) => e.newConnection).length / seconds };
    },
    async stop() {
      stopped = true;
      await done;
      for (const agent of agents) agent.destroy();
    },
  };
}
