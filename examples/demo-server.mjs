// The demo behind `npm start`: a node:http server with the plugin configured from plugin.config.example,
// writing ./tcpinfo.log. It sends itself a few requests so the log has lines at once; curl it for more.
import http from 'node:http';
import { attach, loadConfig } from '../dist/index.js';

const configFile = process.env.TCPINFO_CONFIG ?? 'plugin.config.example';
const options = loadConfig(configFile);
const server = http.createServer((req, res) => {
  res.setHeader('content-type', 'text/plain');
  res.end('hello from the tcpinfo demo\n');
});
const handle = attach(server, options);
handle.on('warning', (err) => console.error(err.message));

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
  console.log(`config: ${configFile}`);
  console.log(`log:    ${options.logFile}   (watch it: tail -F ${options.logFile})`);
  for (let i = 0; i < 3; i++) {
    await fetch(url).then((r) => r.text());
  }
  console.log(`sent 3 requests to ${url}; try: curl ${url}   (Ctrl-C to stop)`);
});
server.listen(Number(process.env.PORT ?? 8080), host);

function shutdown() {
  server.close();
  server.closeAllConnections();
  handle.close().then(() => {
    const s = handle.stats();
    console.log(`\nlogged ${s.written} lines to ${options.logFile}`);
    process.exit(0);
  });
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
