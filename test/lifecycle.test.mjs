// The end of a process that logs: SIGTERM and SIGINT right after a request leave every line of it in the
// file, whatever the entry point (the Express middleware, attach(), the Fastify plugin), and the process
// still dies of the signal; an app with its own handler keeps control; one set of process listeners
// however many files are written (no MaxListenersExceededWarning).
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { appDir, countBy, keepAliveRequests, readLog, startApp } from './support/harness.mjs';
import { OPTIONS, signalAfterRequests } from './support/lifecycle-apps.mjs';

describe('lifecycle: a signal right after a request, the app having no handler for it', () => {
  // The other entry points, SIGINT, and PID 1 in a container: test/slow/lifecycle.test.mjs.
  test('the Express middleware, SIGTERM (kill -TERM): every line of the request is in the file, and the process dies of SIGTERM', async (t) => {
    await signalAfterRequests(t, 'the Express middleware', 'SIGTERM');
  });

  test('an app with its own SIGTERM handler keeps control: it serves on, exits when it chooses, and the lines are written', async (t) => {
    const source = `
import http from 'node:http';
import { attach } from 'tcpinfo';
const server = http.createServer((req, res) => res.end('hello'));
attach(server, '${OPTIONS}');
process.on('SIGTERM', () => {
  console.log('draining');
  // Still serving 300 ms after the signal; then the app ends the process its own way.
  setTimeout(() => {
    server.closeAllConnections();
    server.close(() => process.exit(7));
  }, 300);
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
`;
    const dir = appDir(t, { 'app.mjs': source });
    const { child, ready, exited } = startApp(t, dir, ['app.mjs']);
    const { port, exit } = await ready;
    assert.ok(port, `the app did not start: ${JSON.stringify(exit)}`);
    await keepAliveRequests(port, 2);
    child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 50));
    // After the signal: the app still serves, and these lines count too.
    await keepAliveRequests(port, 2);
    const { code, signal, stdout, stderr } = await exited;
    assert.deepEqual({ code, signal }, { code: 7, signal: null }, stderr);
    assert.match(stdout, /draining/);
    assert.deepEqual(countBy(readLog(path.join(dir, 'app.log')).records), { ssn_start: 2, txn_start: 4, send_resp_hdr: 4, txn_close: 4 });
  });
});

describe('lifecycle: one set of process listeners for every writer', () => {
  test('12 log files in one process: no MaxListenersExceededWarning, one exit listener, none left after close', async (t) => {
    const source = `
import http from 'node:http';
import { attach } from 'tcpinfo';
const counts = () => ({ exit: process.listenerCount('exit'), SIGTERM: process.listenerCount('SIGTERM'), SIGINT: process.listenerCount('SIGINT') });
const before = counts();
const servers = [];
const handles = [];
for (let i = 0; i < 12; i++) {
  const server = http.createServer((req, res) => res.end('hello'));
  handles.push(attach(server, '--log-file=file' + i + '.log'));
  servers.push(server);
}
const during = counts();
await Promise.all(handles.map((h) => h.close()));
// A turn of the loop, for a warning to be printed.
await new Promise((resolve) => setTimeout(resolve, 20));
console.log(JSON.stringify({ before, during, after: counts() }));
`;
    const dir = appDir(t, { 'app.mjs': source });
    const { ready, exited } = startApp(t, dir, ['app.mjs']);
    const report = await ready;
    const { code, stderr } = await exited;
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /MaxListenersExceededWarning/);
    assert.equal(stderr, '');
    assert.deepEqual(report.during, { exit: report.before.exit + 1, SIGTERM: report.before.SIGTERM + 1, SIGINT: report.before.SIGINT + 1 });
    assert.deepEqual(report.after, report.before);
  });
});
