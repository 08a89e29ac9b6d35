// The explain scenarios' server and client, in one process run inside the network namespace the slow
// test made (`ip netns exec NS node explain-scenarios.mjs SCENARIO...`): traffic on that namespace's
// loopback only. For each scenario, one request on a fresh keep-alive connection; once its response
// is in, `ss -tin` of the server's end of the connection (still open), then the connection closes.
// Prints one JSON line per scenario: { scenario, serverPort, clientPort, ss, ms }.
// With TCPINFO_LOG=<dir>, the server carries the plugin with TCPINFO_OPTIONS (--explain...), logging into <dir>.
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { attach } from '../../dist/index.js';

const KB = Buffer.alloc(1024, 'a');
const BIG_BYTES = Number(process.env.BIG_BYTES ?? 4 * 1024 * 1024);
const BIG = Buffer.alloc(BIG_BYTES, 'b');

const ROUTES = {
  // A handler that thinks 300 ms, then answers 1 KB.
  '/wait': (req, res) => setTimeout(() => res.end(KB), 300),
  // A quick 1 KB answer.
  '/quick': (req, res) => res.end(KB),
  // A multi-megabyte response, handed to Node at once.
  '/big': (req, res) => res.end(BIG),
};

const SCENARIOS = {
  server: { path: '/wait' },
  ok: { path: '/quick' },
  // The client reads 64 KB, then pauses 30 ms: about 2 MB/s, far below what loopback carries.
  client: { path: '/big', slowReader: { pauseMs: 30 } },
  network: { path: '/big' },
};

/** `ss -tin` of the established connection between the two ports, as ss prints it (one line). */
function ss(serverPort, clientPort) {
  return execFileSync('ss', ['-tinH', 'state', 'established', `( sport = :${serverPort} and dport = :${clientPort} )`], {
    encoding: 'utf8',
  }).replace(/\s+/g, ' ').trim();
}

function run(name, port) {
  const scenario = SCENARIOS[name];
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: scenario.path, agent }, (res) => {
      let bytes = 0;
      res.on('data', (chunk) => {
        bytes += chunk.length;
        if (scenario.slowReader) {
          res.pause();
          setTimeout(() => res.resume(), scenario.slowReader.pauseMs);
        }
      });
      res.on('end', () => {
        const clientPort = req.socket.localPort;
        // The server's txn_close came before the last byte arrived here; give its log line a moment.
        setTimeout(() => {
          const line = ss(port, clientPort);
          agent.destroy();
          resolve({ scenario: name, serverPort: port, clientPort, bytes, ms: Math.round(performance.now() - started), ss: line });
        }, 50);
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(60_000, () => req.destroy(new Error(`${name}: no answer in 60 s`)));
  });
}

const server = http.createServer((req, res) => (ROUTES[req.url] ?? ((_, r) => r.writeHead(404).end()))(req, res));
let handle = null;
if (process.env.TCPINFO_LOG) {
  handle = attach(server, `${process.env.TCPINFO_OPTIONS ?? ''} --log-dir=${process.env.TCPINFO_LOG}`);
  handle.on('warning', (err) => process.stderr.write(`tcpinfo warning: ${err.message}\n`));
}
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
for (const name of process.argv.slice(2)) {
  if (!(name in SCENARIOS)) throw new Error(`unknown scenario ${name}; known: ${Object.keys(SCENARIOS).join(', ')}`);
  process.stdout.write(JSON.stringify(await run(name, port)) + '\n');
}
await handle?.close();
server.close();
