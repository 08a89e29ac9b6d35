// What --explain's follow-up to delivery costs at a real RTT: N requests over C keep-alive connections between two
// network namespaces 25 ms apart each way (test/support/netlab.mjs; needs root), every transaction explained.
// Prints the follow-up reads per transaction, how many were decided at the hand-off, the most followed at once,
// and the server's heap (after a GC) before and after.
//
//   node bench/explain-followups.mjs [--requests=N] [--connections=C] [--delay-ms=D]
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeLab } from '../test/support/netlab.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name, fallback) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const N = arg('requests', 3000);
const C = arg('connections', 30);
const DELAY = arg('delay-ms', 25);
const PORT = 8080;

const afters = [];
const t = {
  after: (fn) => afters.push(fn),
  skip: (why) => {
    console.log(`skipped: ${why}`);
    process.exit(0);
  },
};
try {
  const lab = await makeLab(t, { delayMs: DELAY });
  const log = path.join(os.tmpdir(), `tcpinfo-followups-${process.pid}.log`);
  const server = lab.spawn('server', [process.execPath, '--expose-gc', path.join(here, 'explain', 'followups-server.mjs'), log, String(PORT)], { stdio: ['pipe', 'pipe', 'inherit'] });
  server.stdout.setEncoding('utf8');
  const lines = [];
  server.stdout.on('data', (chunk) => lines.push(...chunk.trim().split('\n').map((l) => JSON.parse(l))));
  const next = async () => {
    const seen = lines.length;
    for (let i = 0; i < 600 && lines.length === seen; i++) await new Promise((r) => setTimeout(r, 50));
    return lines[lines.length - 1];
  };
  await next();
  server.stdin.write('report\n');
  const before = await next();
  const client = `
const http = require('http');
const agent = new http.Agent({ keepAlive: true, maxSockets: ${C} });
const paths = ['/small', '/small', '/small', '/medium', '/big'];
let done = 0;
let resets = 0;
const t0 = Date.now();
const get = (i) => new Promise((resolve, reject) => http.get({ host: '${lab.serverAddr}', port: ${PORT}, path: paths[i % paths.length], agent }, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject));
// A keep-alive connection the server closed as a request went out on it: sent again (counted).
const one = (i) => get(i).catch((err) => { if (err.code !== 'ECONNRESET' || ++resets > 100) throw err; return one(i); });
(async () => {
  let i = 0;
  await Promise.all(Array.from({ length: ${C} }, async () => { while (i < ${N}) { await one(i++); done++; } }));
  agent.destroy();
  console.log(JSON.stringify({ done, resets, ms: Date.now() - t0 }));
})();`;
  const { stdout } = await lab.exec('client', [process.execPath, '-e', client], { timeout: 600_000 });
  const run = JSON.parse(stdout);
  await new Promise((r) => setTimeout(r, 2000));
  server.stdin.write('report\n');
  const after = await next();
  const followed = after.followed - before.followed;
  const reads = after.reads - before.reads;
  console.log(`${run.done} requests over ${C} keep-alive connections, ${DELAY} ms each way, in ${(run.ms / 1000).toFixed(1)} s (1 KB x3, 64 KB, 1 MB in turn; ${run.resets} sent again after a reset)`);
  console.log(`verdict lines: ${after.verdicts} (hand-offs ${after.handoffs}); decided at the hand-off's own read: ${after.verdicts - followed}`);
  console.log(`followed past the hand-off: ${followed}, with ${reads} follow-up reads: ${(reads / followed).toFixed(2)} per followed transaction, ${(reads / after.verdicts).toFixed(2)} per transaction`);
  console.log(`most followed at once: ${after.mostPending}; still followed at the end: ${after.pending}`);
  console.log(`server heap after a GC: ${before.heapMiB} MiB before, ${after.heapMiB} MiB after`);
  server.kill();
} finally {
  for (const fn of afters.reverse()) await fn();
}
