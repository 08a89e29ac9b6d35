// Bytes the log takes per request, for each level, format and set of hooks: the figures of
// docs/deploying.md#how-much-it-logs. Real requests over loopback (keep-alive connections of
// --per-connection requests each) to a server attached with each options string; the log's size after
// close(), less its header, divided by the requests.
//
//   npm run build && node bench/log-volume.mjs [--requests=2000] [--per-connection=10] [--json]
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { attach } from '../dist/index.js';

const ALL_HOOKS = '--hooks=ssn_start,txn_start,send_resp_hdr,txn_close,ssn_close';

/** [what, options string]: the rows of the table, in its order. */
export const CASES = [
  ['txn_close only, level 1', '--hooks=txn_close'],
  ['txn_close only, level 2', '--hooks=txn_close -l 2'],
  ['txn_close only, JSON', '--hooks=txn_close --format=json'],
  ['txn_close only, JSON, level 2', '--hooks=txn_close --format=json -l 2'],
  ['txn_close only, JSON, --log-url', '--hooks=txn_close --format=json --log-url'],
  ['txn_close only, --explain', '--hooks=txn_close --explain'],
  ['txn_close only, --explain, JSON', '--hooks=txn_close --explain --format=json'],
  ['ssn_start,txn_close (the default), level 1', '--hooks=ssn_start,txn_close'],
  ['all hooks, level 1', `${ALL_HOOKS}`],
  ['all hooks, level 2', `${ALL_HOOKS} -l 2`],
  ['all hooks, JSON, level 2', `${ALL_HOOKS} --format=json -l 2`],
];

/** `requests` GETs of a path as an API's, over keep-alive connections of `perConnection` each, `parallel` at a time. */
async function traffic(port, requests, perConnection, parallel = 8) {
  let next = 0;
  const connections = Math.ceil(requests / perConnection);
  const worker = async () => {
    for (let c = next++; c < connections; c = next++) {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      for (let i = 0; i < perConnection && c * perConnection + i < requests; i++) {
        await new Promise((resolve, reject) => {
          http.get({ host: '127.0.0.1', port, path: `/api/items/${100_000 + c * perConnection + i}?page=2`, agent }, (res) => {
            res.resume().on('end', resolve).on('error', reject);
          }).on('error', reject);
        });
      }
      agent.destroy();
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

/** One case: { bytes per request, lines per request, header bytes }. */
export async function measure(options, { requests, perConnection }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tcpinfo-volume-'));
  const logFile = path.join(dir, 'tcpinfo.log');
  try {
    const server = http.createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end('{"id":1,"name":"item"}\n');
    });
    const handle = attach(server, `${options} --log-file=${logFile}`);
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    await traffic(server.address().port, requests, perConnection);
    // Connections end (ssn_close) as the clients' agents let go of them: wait for every one of them.
    await new Promise((resolve) => server.close(resolve));
    await handle.close();
    const text = fs.readFileSync(logFile, 'utf8');
    const lines = text.split('\n').slice(0, -1);
    const header = lines[0].startsWith('timestamp ') ? Buffer.byteLength(lines[0]) + 1 : 0;
    const records = lines.length - (header > 0 ? 1 : 0);
    return { bytesPerRequest: (Buffer.byteLength(text) - header) / requests, linesPerRequest: records / requests, header };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Bytes a day at `perSecond` requests: `1.2 GB`. */
function perDay(bytesPerRequest, perSecond) {
  const bytes = bytesPerRequest * perSecond * 86_400;
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${Math.round(bytes / 1e6)} MB`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { requests: { type: 'string', default: '2000' }, 'per-connection': { type: 'string', default: '10' }, json: { type: 'boolean', default: false } },
  });
  const requests = Number(values.requests);
  const perConnection = Number(values['per-connection']);
  const rows = [];
  for (const [what, options] of CASES) rows.push({ what, options, ...(await measure(options, { requests, perConnection })) });
  if (values.json) {
    console.log(JSON.stringify(rows, null, 2));
  } else {
    console.log(`${requests} requests, ${perConnection} per keep-alive connection, over loopback (${os.release()})\n`);
    console.log('| what | options | bytes/request | lines/request | a day at 100 req/s |');
    console.log('|---|---|---:|---:|---:|');
    for (const r of rows) {
      console.log(`| ${r.what} | \`${r.options}\` | ${Math.round(r.bytesPerRequest)} | ${r.linesPerRequest.toFixed(2)} | ${perDay(r.bytesPerRequest, 100)} |`);
    }
  }
}
