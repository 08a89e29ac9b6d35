// --server-timing in a real browser (issue 27): Debian's chromium, headless, in the client namespace of a netlab
// (test/support/netlab.mjs: 5 ms each way, an rtt of about 10 ms, worth its one decimal), the servers in its server
// namespace. A page served by one server fetches a same-origin resource and two cross-origin ones (other ports of the
// same address: other origins), one of
// them from a server with --timing-allow-origin naming the page's origin. What performance.getEntriesByType() gives holds
// `tcpinfo` with the values of that transaction's txn_start line (--format=json); the cross-origin response without
// Timing-Allow-Origin shows none. The page also runs the RUM snippet of docs/server-timing.md as written, whose beacon
// must bring the same entries home.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { chromiumCdp } from '../support/cdp.mjs';
import { appDir, jsonLines, requireTool, ROOT, startApp, testedBlocks, waitFor } from '../support/harness.mjs';
import { makeLab } from '../support/netlab.mjs';

const FIELDS = 'rtt,min_rtt,rttvar,snd_cwnd,total_retrans,delivery_rate,bytes_sent,bytes_received';
const RUM = testedBlocks(fs.readFileSync(path.join(ROOT, 'docs', 'server-timing.md'), 'utf8'))['rum.js'];

/** Three servers in one process: `page` (the page, /same, the beacon's /rum), `allowed` (--timing-allow-origin naming the
 * page's origin) and `other` (none); each logs txn_start lines to LOG_DIR/<name>.log. */
const APP = `
import fs from 'node:fs';
import http from 'node:http';
import { attach } from 'tcpinfo';
const dir = process.env.LOG_DIR;
const handles = [];
const timed = (server, name, extra) =>
  handles.push(attach(server, { logFile: dir + '/' + name + '.log', format: 'json', hooks: 'txn_start', fields: process.env.FIELDS, logUrl: true, serverTiming: true, ...extra }));
const host = process.env.HOST;
const listen = (server) => new Promise((resolve) => server.listen(0, host, () => resolve(server.address().port)));
const api = (req, res) => {
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Server-Timing', 'app;dur=1');
  res.end('{}');
};
const rum = fs.readFileSync('rum.js', 'utf8');
let ports;
const page = http.createServer((req, res) => {
  if (req.url === '/rum' && req.method === 'POST') {
    let body = '';
    req.setEncoding('utf8').on('data', (c) => (body += c)).on('end', () => {
      fs.appendFileSync(dir + '/rum.jsonl', body + '\\n');
      res.end();
    });
    return;
  }
  if (req.url === '/same') {
    res.setHeader('Server-Timing', 'db;dur=53');
    res.end('{}');
    return;
  }
  if (req.url !== '/') {
    res.statusCode = 404;
    res.end();
    return;
  }
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.end('<!doctype html><title>t</title><script>' + rum + '</script><script>' +
    'window.fetched = Promise.all(["/same", "http://' + host + ':' + ports.allowed + '/cross", "http://' + host + ':' + ports.other + '/cross-no-tao"]' +
    '.map((u) => fetch(u).then((r) => r.text())));</script>');
});
timed(page, 'page', {});
const pagePort = await listen(page);
const allowed = http.createServer(api);
timed(allowed, 'allowed', { timingAllowOrigin: 'http://' + host + ':' + pagePort });
const other = http.createServer(api);
timed(other, 'other', {});
ports = { page: pagePort, allowed: await listen(allowed), other: await listen(other) };
process.on('SIGTERM', async () => {
  await Promise.all(handles.map((h) => h.close()));
  process.exit(0);
});
console.log(JSON.stringify(ports));
`;

/** The description a txn_start line's values make (docs/server-timing.md). */
function descOf(line) {
  const ms = (us) => `${Math.floor(Math.round(us / 100) / 10)}.${Math.round(us / 100) % 10}`;
  return `rtt=${ms(line.rtt)}&min_rtt=${ms(line.min_rtt)}&rttvar=${ms(line.rttvar)}&cwnd=${line.snd_cwnd}&retrans=${line.total_retrans}` +
    `&delivery_rate=${line.delivery_rate}&sent=${line.bytes_sent}&recv=${line.bytes_received}`;
}

const READ_ENTRIES = `(async () => {
  await window.fetched;
  const pick = (e) => ({ name: e.name, type: e.entryType, serverTiming: e.serverTiming.map((s) => ({ name: s.name, description: s.description, duration: s.duration })) });
  return { secure: isSecureContext, nav: pick(performance.getEntriesByType('navigation')[0]), resources: performance.getEntriesByType('resource').map(pick) };
})()`;

test('chromium: the navigation and resource entries hold tcpinfo with their txn_start lines\' values; cross-origin only with Timing-Allow-Origin; the RUM snippet beacons them home', { timeout: 120_000 }, async (t) => {
  assert.ok(RUM, 'docs/server-timing.md has the <!-- tested: rum.js --> snippet');
  const chromium = requireTool(t, 'chromium', 'chromium');
  if (chromium === null) return;
  const lab = await makeLab(t, { delayMs: 5, seed: 27 });
  if (lab === null) return;
  const host = lab.serverAddr;
  const dir = appDir(t, { 'app.mjs': APP, 'rum.js': RUM.code });
  const logs = path.join(dir, 'logs');
  fs.mkdirSync(logs);
  const app = startApp(t, dir, ['netns', 'exec', lab.namespaces.server, process.execPath, 'app.mjs'], { command: 'ip', env: { LOG_DIR: logs, FIELDS, HOST: host }, timeoutMs: 90_000 });
  const ports = await app.ready;
  assert.ok(ports.page, JSON.stringify(ports));

  const cdp = chromiumCdp(t, ['ip', 'netns', 'exec', lab.namespaces.client, chromium], path.join(dir, 'profile'));
  const { targetId } = await cdp.send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: true });
  for (const domain of ['Page', 'Runtime']) await cdp.send(`${domain}.enable`, {}, sessionId);
  const origin = `http://${host}:${ports.page}`;
  await cdp.send('Page.navigate', { url: `${origin}/` }, sessionId);
  await cdp.event((e) => e.sessionId === sessionId && e.method === 'Page.loadEventFired');
  const { result, exceptionDetails } = await cdp.send('Runtime.evaluate', { expression: READ_ENTRIES, awaitPromise: true, returnByValue: true }, sessionId);
  assert.equal(exceptionDetails, undefined, JSON.stringify(exceptionDetails));
  const seen = result.value;
  // Leaving the page hides it: the snippet's beacon goes.
  await cdp.send('Page.navigate', { url: 'about:blank' }, sessionId);
  await waitFor(() => fs.existsSync(path.join(logs, 'rum.jsonl')), 10_000, 'the RUM beacon');
  app.child.kill('SIGTERM');
  const exit = await app.exited;
  assert.equal(exit.code, 0, exit.stderr);

  const lineOf = (server, url) => {
    const found = jsonLines(path.join(logs, `${server}.log`)).filter((l) => l.event === 'txn_start' && l.url === url);
    assert.equal(found.length, 1, `one txn_start line for ${server} ${url}`);
    return found[0];
  };
  const tcpinfoOf = (entry) => entry.serverTiming.filter((s) => s.name === 'tcpinfo');
  const byName = Object.fromEntries(seen.resources.map((r) => [r.name, r]));

  const navLine = lineOf('page', '/');
  assert.ok(navLine.rtt >= 9000, `the link's delay shows in the rtt: ${navLine.rtt} us`);
  assert.equal(seen.secure, false, 'plain HTTP to another host: no secure context, and Chromium shows the entries all the same');
  assert.deepEqual(tcpinfoOf(seen.nav), [{ name: 'tcpinfo', description: descOf(navLine), duration: 0 }]);
  t.diagnostic(`navigation entry: ${JSON.stringify(tcpinfoOf(seen.nav))}`);

  const same = byName[`${origin}/same`];
  assert.deepEqual(same.serverTiming.map((s) => s.name), ['db', 'tcpinfo'], 'the app\'s entry, then ours');
  assert.deepEqual(tcpinfoOf(same), [{ name: 'tcpinfo', description: descOf(lineOf('page', '/same')), duration: 0 }]);

  const cross = byName[`http://${host}:${ports.allowed}/cross`];
  assert.deepEqual(cross.serverTiming.map((s) => s.name), ['app', 'tcpinfo']);
  assert.deepEqual(tcpinfoOf(cross), [{ name: 'tcpinfo', description: descOf(lineOf('allowed', '/cross')), duration: 0 }]);

  const hidden = byName[`http://${host}:${ports.other}/cross-no-tao`];
  lineOf('other', '/cross-no-tao');
  assert.deepEqual(hidden.serverTiming, [], 'cross-origin without Timing-Allow-Origin: the browser shows nothing');

  // The beacon: the snippet's items for the same three entries, the description's keys as text.
  const beacons = fs.readFileSync(path.join(logs, 'rum.jsonl'), 'utf8').trim().split('\n').flatMap((l) => JSON.parse(l));
  const item = (entry, line) => ({ url: entry.name, type: entry.type, ...Object.fromEntries(new URLSearchParams(descOf(line))) });
  for (const expected of [item(seen.nav, navLine), item(same, lineOf('page', '/same')), item(cross, lineOf('allowed', '/cross'))]) {
    assert.deepEqual(beacons.find((b) => b.url === expected.url), expected);
  }
  assert.equal(beacons.find((b) => b.url.endsWith('/cross-no-tao')), undefined);
  await cdp.send('Browser.close');
  await cdp.exited;
});
