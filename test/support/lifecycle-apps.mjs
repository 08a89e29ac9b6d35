// Apps that log, run as child processes, for the tests of how a process ends (test/lifecycle.test.mjs,
// test/slow/lifecycle.test.mjs).
import assert from 'node:assert/strict';
import path from 'node:path';
import { appDir, countBy, keepAliveRequests, readLog, startApp } from './harness.mjs';

export const HOOKS = 'ssn_start,txn_start,send_resp_hdr,txn_close';
export const OPTIONS = `--hooks=${HOOKS} --log-file=app.log`;
/** Two requests on one keep-alive connection: what the file must hold. */
export const EXPECTED = { ssn_start: 1, txn_start: 2, send_resp_hdr: 2, txn_close: 2 };

// Apps with no signal handler of their own; each prints {"port"} once listening.
export const APPS = {
  'the Express middleware': {
    modules: ['express'],
    source: `
import express from 'express';
import tcpinfo from 'tcpinfo/express';
const app = express();
app.use(tcpinfo('${OPTIONS}'));
app.get('/*path', (req, res) => res.send('hello'));
const server = app.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
`,
  },
  'attach()': {
    modules: [],
    source: `
import http from 'node:http';
import { attach } from 'tcpinfo';
const server = http.createServer((req, res) => res.end('hello'));
attach(server, '${OPTIONS}');
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
`,
  },
  'the Fastify plugin': {
    modules: ['fastify'],
    source: `
import Fastify from 'fastify';
import tcpinfo from 'tcpinfo/fastify';
const app = Fastify();
await app.register(tcpinfo, { options: '${OPTIONS}' });
app.get('/*', async () => 'hello');
await app.listen({ port: 0, host: '127.0.0.1' });
console.log(JSON.stringify({ port: app.server.address().port }));
`,
  },
};

/**
 * Starts the app of `entry` (in APPS), makes two requests on one connection, then sends `signal` to it
 * (or to the process `pidOf(child)` names, the app inside a namespace); checks the app died of it within
 * the bound with every line in the file. Resolves with the exit.
 */
export async function signalAfterRequests(t, entry, signal, { args = [], command, pidOf = (child) => child.pid, expectExit } = {}) {
  const { modules, source } = APPS[entry];
  const dir = appDir(t, { 'app.mjs': source }, { modules });
  const { child, ready, exited } = startApp(t, dir, [...args, 'app.mjs'], { command });
  const { port, exit } = await ready;
  assert.ok(port, `the app did not start: ${JSON.stringify(exit)}`);
  await keepAliveRequests(port, 2);
  const killedAt = Date.now();
  process.kill(pidOf(child), signal);
  const ended = await exited;
  const { code, signal: diedOf, stderr } = ended;
  assert.deepEqual({ code, signal: diedOf }, expectExit ?? { code: null, signal }, stderr);
  assert.ok(Date.now() - killedAt < 1500, 'written out within the ~1 s bound');
  assert.equal(stderr, '');
  assert.deepEqual(countBy(readLog(path.join(dir, 'app.log')).records), EXPECTED);
  return ended;
}
