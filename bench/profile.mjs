// CPU profile of the bench server under load: `node --cpu-prof` on the server process (the same
// http-server.mjs the overhead section measures), autocannon in its own process, then the frames
// ranked by self time, the plugin's own code (dist/) listed apart.
//
//   node bench/profile.mjs [--case=b] [--handler=hello] [--seconds=10] [--connections=10] [--keep]
//   --case=bare profiles the server without the plugin.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CASES, HANDLERS } from './http-cases.mjs';
import { childMeter, LOAD, measureWindow } from './http-overhead.mjs';
import { Child } from './ipc.mjs';
import { printProfile, summarizeProfile } from './profile-summary.mjs';

const SERVER = new URL('./http-server.mjs', import.meta.url).pathname;

const { values: args } = parseArgs({
  options: {
    case: { type: 'string', default: 'b' },
    handler: { type: 'string', default: 'hello' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '10' },
    top: { type: 'string', default: '25' },
    keep: { type: 'boolean', default: false },
  },
});
const chosen = args.case === 'bare' ? { id: 'bare', options: null } : CASES.find((c) => c.id === args.case);
if (chosen === undefined || HANDLERS[args.handler] === undefined) {
  console.error(`--case must be bare or one of ${CASES.map((c) => c.id).join(', ')}; --handler one of ${Object.keys(HANDLERS).join(', ')}`);
  process.exit(2);
}
const seconds = Number(args.seconds);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tcpinfo-bench-profile-'));
const server = new Child(SERVER, [JSON.stringify({ handler: args.handler, options: chosen.options, logDir: dir })], {
  execArgv: ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-name=server.cpuprofile'],
  name: 'profiled server',
});
const load = new Child(LOAD, [], { name: 'load generator' });
try {
  const { port } = await server.next('listening', 10_000);
  await load.next('ready', 15_000);
  const w = await measureWindow(load, childMeter(server), port, { connections: Number(args.connections), seconds, warmupSeconds: 1 });
  const r = await load.next('result', 15_000);
  await server.stop(15_000);
  console.log(
    `case ${chosen.id} ${chosen.options ?? '(bare)'}, handler ${args.handler}: ${(w.requests / w.seconds).toFixed(0)} req/s (${r.errors} errors), ` +
      `${(w.cpuUs / w.requests).toFixed(1)} us CPU per request, ${(w.plugin.logged / w.requests).toFixed(2)} lines per request`,
  );
  const file = path.join(dir, 'server.cpuprofile');
  printProfile(summarizeProfile(JSON.parse(fs.readFileSync(file, 'utf8'))), Number(args.top));
  if (args.keep) console.log(`\nprofile kept: ${file}`);
} finally {
  await load.stop();
  server.kill();
  if (!args.keep) fs.rmSync(dir, { recursive: true, force: true });
}
