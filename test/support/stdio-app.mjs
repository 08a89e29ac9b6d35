// A stand-in app for the stdout/stderr tests: attaches tcpinfo (options from argv) to a stand-in server,
// emits `lines` ssn_start events for one live loopback connection (the plugin's real path: read, format,
// queue), printing an app line with console.log every `appEvery` events, then closes the handle, or exits
// at once (`end: 'exit'`), or says `ready` on stderr and waits for a signal (`end: 'signal'`: tcpinfo's
// handler ends it). What it saw goes to `statsFile` as JSON: the handle's stats, the app lines printed, the
// warnings' codes and how long close() took.
//
//   node test/support/stdio-app.mjs '{"options":"--log-file=stdout","lines":1000,"appEvery":10,"appLineBytes":100,"statsFile":"/tmp/x.json"}'
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import { setImmediate as turn } from 'node:timers/promises';
import { attach } from '../../dist/index.js';
import { liveConnection } from '../../bench/live-connection.mjs';

const cfg = JSON.parse(process.argv[2]);
const warnings = [];
process.on('warning', (w) => warnings.push(w.code ?? w.name));

function report(extra) {
  if (cfg.statsFile) fs.writeFileSync(cfg.statsFile, JSON.stringify({ stats: handle.stats(), app, warnings, ...extra }));
}

const conn = await liveConnection();
const server = new EventEmitter();
const handle = attach(server, cfg.options);
let app = 0;
const started = performance.now();
for (let i = 0; i < cfg.lines; i++) {
  server.emit('connection', conn.socket);
  if (cfg.appEvery > 0 && i % cfg.appEvery === 0) {
    console.log(`app ${String(app).padStart(8, '0')} ${'x'.repeat(cfg.appLineBytes)}`);
    app++;
  }
  if (i % 256 === 255) await turn();
}
// The loop stays responsive while the destination stalls: measured by how late a 10 ms timer fires.
const t0 = performance.now();
await new Promise((r) => setTimeout(r, 10));
const timerLateMs = performance.now() - t0 - 10;
if (cfg.end === 'signal') {
  // Written at once (not queued behind a stalled stdout); kept alive by the connection until the signal.
  fs.writeSync(2, 'ready\n');
} else if (cfg.end === 'exit') {
  report({ timerLateMs });
  process.exit(0);
}
if (cfg.end !== 'signal') {
  const c0 = performance.now();
  await handle.close();
  const closeMs = performance.now() - c0;
  conn.close();
  report({ closeMs, timerLateMs, totalMs: performance.now() - started });
  // A write pending on a stdout pipe nobody reads keeps a process alive, as Node does for console.log.
  if (cfg.exitAfterClose) process.exit(0);
}
