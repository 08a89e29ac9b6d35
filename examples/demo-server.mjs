// The demo behind `npm start`: a node:http server with the plugin and --explain, writing ./tcpinfo.log as JSON
// lines with each request's path. It sends itself requests that are slow for different reasons, so the log has
// verdicts at once: then `npm run explain` (tcpinfo explain tcpinfo.log) says which were slow and why.
//
//   /            a quick answer                                   -> ok
//   /report      a handler that thinks 300 ms                     -> server
//   /export      4 MB, asked for by a client that reads slowly    -> client
//   /upload      a 1 MB body sent slowly, then a quick answer     -> client
//
// TCPINFO_OPTIONS=... replaces the options; TCPINFO_CONFIG=plugin.config.example takes them from a plugin.config.
import http from 'node:http';
import { attach, loadConfig } from '../dist/index.js';

const DEFAULT_OPTIONS = '--hooks=txn_close --explain --format=json --log-url --log-file=tcpinfo.log';
const options = process.env.TCPINFO_CONFIG ? loadConfig(process.env.TCPINFO_CONFIG) : (process.env.TCPINFO_OPTIONS ?? DEFAULT_OPTIONS);
const EXPORT = Buffer.alloc(4 * 1024 * 1024, 'e');

const server = http.createServer((req, res) => {
  res.setHeader('content-type', 'text/plain');
  if (req.url === '/report') setTimeout(() => res.end('the report, after 300 ms of thought\n'), 300);
  else if (req.url === '/export') res.end(EXPORT);
  else if (req.url === '/upload') req.resume().on('end', () => res.end('got it\n'));
  else res.end('hello from the tcpinfo demo\n');
});
const handle = attach(server, options);
handle.on('warning', (err) => console.error(err.message));

/** One request on a fresh connection; `slowReader`: read 64 KB, pause 20 ms; `slowBody`: send 1 MB in 64 KB steps 40 ms apart. */
function get(port, path, { slowReader = false, slowBody = false } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: slowBody ? 'POST' : 'GET', agent: false }, (res) => {
      res.on('data', () => {
        if (!slowReader) return;
        res.pause();
        setTimeout(() => res.resume(), 20);
      });
      res.on('end', resolve);
    });
    req.on('error', reject);
    if (!slowBody) return req.end();
    let sent = 0;
    const step = () => {
      if (sent >= 16) return req.end();
      sent++;
      req.write(Buffer.alloc(64 * 1024, 'u'));
      setTimeout(step, 40);
    };
    step();
  });
}

const host = process.env.HOST ?? '127.0.0.1';
server.once('error', (err) => {
  // 8080 taken on this machine: any free port will do for a demo (PORT=... picks one).
  if (err.code !== 'EADDRINUSE' || process.env.PORT !== undefined) throw err;
  console.log('port 8080 is in use: listening on a free port instead');
  server.listen(0, host);
});
server.on('listening', async () => {
  const { address, port } = server.address();
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}/`;
  console.log(`tcpinfo demo listening on ${url}`);
  console.log(`log:    ${handle.options.logFile}   (watch it: tail -F ${handle.options.logFile})`);
  const plan = [['/'], ['/report'], ['/export', { slowReader: true }], ['/upload', { slowBody: true }], ['/'], ['/report']];
  for (const [path, how] of plan) await get(port, path, how);
  console.log(`sent ${plan.length} requests (quick, slow handler, slow reader, slow upload); now: npm run explain`);
  console.log(`try: curl ${url}report   (Ctrl-C to stop)`);
});
server.listen(Number(process.env.PORT ?? 8080), host);

function shutdown() {
  server.close();
  server.closeAllConnections();
  handle.close().then(() => {
    const s = handle.stats();
    console.log(`\nlogged ${s.written} lines to ${handle.options.logFile}`);
    process.exit(0);
  });
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
