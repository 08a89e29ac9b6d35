// Several servers and integrations in one process naming the same log file: one writer, whole lines,
// every event once; different files: a writer each. Concurrent load from real clients on loopback.
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { describe, test } from 'node:test';
import express from 'express';
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { attach } from '../dist/index.js';
import expressTcpinfo from '../dist/integrations/express.js';
import fastifyTcpinfo from '../dist/integrations/fastify.js';
import { LEVEL1_HEADER, countBy, helloHandler, keepAliveRequests, listen, readLog, tempDir, waitFor } from './support/harness.mjs';

const ALL_HOOKS = 'ssn_start,txn_start,send_resp_hdr,txn_close';
const LINE_RE = /^\d{8}\.\d{2}h\d{2}m\d{2}s (ssn_start|txn_start|send_resp_hdr|txn_close) 127\.0\.0\.1 127\.0\.0\.1 \d+$/;
const CLIENTS = 6;
const REQUESTS = 60;

/** `CLIENTS` keep-alive clients per port, all at once, `REQUESTS` requests each. */
function load(ports) {
  return Promise.all(ports.flatMap((port) => Array.from({ length: CLIENTS }, () => keepAliveRequests(port, REQUESTS))));
}

describe('one log file, several servers and integrations', () => {
  test('attach(), Express and Fastify on three servers under concurrent load: one header, whole lines, every event once', async (t) => {
    const dir = tempDir(t);
    const logFile = path.join(dir, 'shared.log');
    const options = { logFile, hooks: ALL_HOOKS };

    const plain = http.createServer(helloHandler);
    const handle = attach(plain, options);
    t.after(() => handle.close());
    const middleware = expressTcpinfo(options);
    t.after(() => middleware.close());
    const fastify = Fastify();
    t.after(() => fastify.close());
    await fastify.register(fastifyTcpinfo, { options });
    fastify.get('/*', async () => 'hello world\n');
    await fastify.listen({ port: 0, host: '127.0.0.1' });

    const ports = [
      await listen(t, plain),
      await listen(t, http.createServer(express().use(middleware).use(helloHandler))),
      fastify.server.address().port,
    ];
    const results = (await load(ports)).flat();
    assert.equal(results.length, 3 * CLIENTS * REQUESTS);
    assert.ok(results.every((r) => r.status === 200));

    const perServer = CLIENTS * REQUESTS;
    await waitFor(() => handle.stats().events.txn_close === perServer && middleware.stats().events.txn_close === perServer, 3000);
    await Promise.all([handle.close(), middleware.close(), fastify.close()]);
    // The same writer behind both: its line counts are the same, and cover all three servers.
    assert.equal(handle.stats().written, middleware.stats().written);

    const { headers, records, lines } = readLog(logFile);
    assert.deepEqual(headers, [LEVEL1_HEADER]);
    for (const line of lines.slice(1)) assert.match(line, LINE_RE);
    const total = 3 * perServer;
    assert.deepEqual(countBy(records), { ssn_start: 3 * CLIENTS, txn_start: total, send_resp_hdr: total, txn_close: total });
    assert.equal(handle.stats().written, records.length, 'every line of the file went through the one writer');
  });

  test('different files: a writer each, each file holds only its own server\'s lines', async (t) => {
    const dir = tempDir(t);
    const fileA = path.join(dir, 'a.log');
    const fileB = path.join(dir, 'b.log');
    const serverA = http.createServer(helloHandler);
    const handleA = attach(serverA, { logFile: fileA, hooks: 'txn_start' });
    const middleware = expressTcpinfo({ logFile: fileB, hooks: 'txn_start,txn_close', logLevel: 2 });
    t.after(() => Promise.all([handleA.close(), middleware.close()]));
    const ports = [await listen(t, serverA), await listen(t, http.createServer(express().use(middleware).use(helloHandler)))];
    await load(ports);
    await Promise.all([handleA.close(), middleware.close()]);
    const n = CLIENTS * REQUESTS;
    assert.deepEqual(countBy(readLog(fileA).records), { txn_start: n });
    assert.deepEqual(countBy(readLog(fileB).records), { txn_start: n, txn_close: n });
    assert.equal(handleA.stats().written, n);
    assert.equal(middleware.stats().written, 2 * n);
    assert.ok(readLog(fileB).records.every((r) => r.cols.length === 15));
  });

  test('one server, the same file from attach() and a middleware: logged once; other options are reported, not applied', async (t) => {
    const dir = tempDir(t);
    const logFile = path.join(dir, 'once.log');
    const warnings = [];
    const onWarning = (w) => w.code === 'TCPINFO_ALREADY_LOGGED' && warnings.push(w.message);
    process.on('warning', onWarning);
    t.after(() => process.removeListener('warning', onWarning));
    const same = expressTcpinfo({ logFile, hooks: ALL_HOOKS });
    const other = expressTcpinfo({ logFile, hooks: 'txn_start', sampleRate: 500 });
    t.after(() => Promise.all([same.close(), other.close()]));
    const server = http.createServer(express().use(same, other).use(helloHandler));
    const handle = attach(server, { logFile, hooks: ALL_HOOKS });
    t.after(() => handle.close());
    const port = await listen(t, server);
    await keepAliveRequests(port, 5);
    await waitFor(() => handle.stats().events.txn_close === 5, 2000);
    await Promise.all([handle.close(), same.close(), other.close()]);
    assert.deepEqual(countBy(readLog(logFile).records), { ssn_start: 1, txn_start: 5, send_resp_hdr: 5, txn_close: 5 });
    await new Promise((r) => setImmediate(r));
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /already logs this server with other options/);
  });

  test('attach() with a prom-client registry and a middleware with the same options: compared without throwing', async (t) => {
    const logFile = path.join(tempDir(t), 'metrics.log');
    const registry = new Registry();
    const warnings = [];
    const onWarning = (w) => w.code === 'TCPINFO_ALREADY_LOGGED' && warnings.push(w.message);
    process.on('warning', onWarning);
    t.after(() => process.removeListener('warning', onWarning));
    const middleware = expressTcpinfo({ logFile, hooks: 'txn_close', metrics: registry });
    const server = http.createServer(express().use(middleware).use(helloHandler));
    // The registry holds the metrics attach() made (circular, as prom-client's are) before the middleware compares.
    const handle = attach(server, { logFile, hooks: 'txn_close', metrics: registry });
    t.after(() => Promise.all([handle.close(), middleware.close()]));
    const port = await listen(t, server);
    const results = await keepAliveRequests(port, 3);
    assert.deepEqual(results.map((r) => r.status), [200, 200, 200]);
    await waitFor(() => handle.stats().events.txn_close === 3, 2000);
    await Promise.all([handle.close(), middleware.close()]);
    assert.deepEqual(countBy(readLog(logFile).records), { txn_close: 3 });
    assert.deepEqual(warnings, []);
  });

  test('the same file with another level or rolling: an error at setup, naming the file', async (t) => {
    const dir = tempDir(t);
    const logFile = path.join(dir, 'level.log');
    const handle = attach(http.createServer(helloHandler), { logFile, logLevel: 1 });
    t.after(() => handle.close());
    assert.throws(() => expressTcpinfo({ logFile, logLevel: 2 }), /already being written in this process with other columns \(--log-level/);
    const fastify = Fastify();
    fastify.register(fastifyTcpinfo, { options: { logFile, rollingEnabled: 0 } });
    await assert.rejects(fastify.ready(), /already being written/);
    await handle.close();
  });
});
