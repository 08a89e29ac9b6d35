// The server of bench/explain-followups.mjs, run in the lab's server namespace: --explain on every transaction,
// 1 KB, 64 KB and 1 MB answers. On stdin `report` it prints one JSON line: the follow-up counts, the verdict lines
// written, and the heap after a GC, then goes on.
import http from 'node:http';
import { attach } from '../../dist/index.js';
import { deliveryCounts, pendingDeliveries } from '../../dist/explain/delivery.js';

const SIZES = { '/small': 1024, '/medium': 64 * 1024, '/big': 1024 * 1024 };
const bodies = Object.fromEntries(Object.entries(SIZES).map(([p, n]) => [p, Buffer.alloc(n, 'x')]));
const server = http.createServer((req, res) => res.end(bodies[req.url] ?? bodies['/small']));
const handle = process.env.BARE ? { stats: () => ({ logged: {} }) } : attach(server, `${process.env.OPTIONS ?? '--hooks=txn_close --explain --sample-rate=1000'} --log-file=${process.argv[2]}`);
server.listen(Number(process.argv[3]), () => console.log(JSON.stringify({ listening: true })));
function heapMiB() {
  globalThis.gc?.();
  return Math.round((process.memoryUsage().heapUsed / 1048576) * 10) / 10;
}
process.stdin.setEncoding('utf8').on('data', (text) => {
  if (!text.includes('report')) return;
  const s = handle.stats();
  console.log(JSON.stringify({ ...deliveryCounts(), pending: pendingDeliveries(), verdicts: s.logged.txn_delivered, handoffs: s.logged.txn_close, heapMiB: heapMiB() }));
});
