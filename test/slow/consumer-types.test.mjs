// A TypeScript consumer of the shipped types, compiled by the project's tsc under the settings apps use:
// moduleResolution node10 (the subpaths resolve through typesVersions) with and without esModuleInterop,
// and NodeNext from an ES module (.mts) and from a CommonJS one (.cts). Each compiled consumer then runs.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { consumerDir, PACKAGE_ROOT } from '../support/harness.mjs';

const TSC = path.join(PACKAGE_ROOT, 'node_modules', '.bin', 'tsc');
const run = promisify(execFile);

// Every entry point, default and named imports, a type from each; prints what the imports are at run time.
const CONSUMER = `import { attach, parseOptions, type TcpinfoOptions } from 'tcpinfo';
import tcpinfo, { tcpinfo as named, type TcpinfoMiddleware } from 'tcpinfo/express';
import fastifyTcpinfo, { type TcpinfoPluginOptions } from 'tcpinfo/fastify';
import type * as Register from 'tcpinfo/register';

const options: TcpinfoOptions = parseOptions('--log-level=2');
const make: (options?: string) => TcpinfoMiddleware = tcpinfo;
const pluginOptions: TcpinfoPluginOptions = { options: { logLevel: 2 } };
type Preload = typeof Register;
console.log(JSON.stringify([typeof attach, typeof make, typeof named, typeof fastifyTcpinfo, options.logLevel, pluginOptions.options !== undefined]));
`;
const EXPECTED = '["function","function","function","function",2,true]';

function tsconfig(compilerOptions, files) {
  const base = { target: 'ES2022', strict: true, skipLibCheck: true, types: ['node'] };
  return JSON.stringify({ compilerOptions: { ...base, ...compilerOptions }, files }, null, 2);
}

const PROJECTS = [
  { name: 'node10', module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true, files: { 'consumer.ts': 'consumer.js' } },
  { name: 'node10-no-interop', module: 'commonjs', moduleResolution: 'node10', esModuleInterop: false, files: { 'consumer.ts': 'consumer.js' } },
  { name: 'nodenext', module: 'nodenext', moduleResolution: 'nodenext', esModuleInterop: true, files: { 'consumer.mts': 'consumer.mjs', 'consumer.cts': 'consumer.cjs' } },
];

describe('TypeScript consumers', () => {
  test('tsc checks and compiles a consumer of every entry point under node10 (with and without esModuleInterop) and NodeNext (.mts and .cts); the output runs', async (t) => {
    const dir = consumerDir(t, 'tcpinfo-ts-consumer-', ['@types']);
    const results = await Promise.all(
      PROJECTS.map(async ({ name, files, ...options }) => {
        const project = path.join(dir, name);
        fs.mkdirSync(project);
        for (const file of Object.keys(files)) fs.writeFileSync(path.join(project, file), CONSUMER);
        fs.writeFileSync(path.join(project, 'tsconfig.json'), tsconfig({ ...options, outDir: 'out' }, Object.keys(files)));
        const compiled = await run(TSC, ['-p', project], { cwd: project, timeout: 60_000 }).catch((err) => err);
        return { name, files, project, compiled };
      }),
    );
    for (const { name, files, project, compiled } of results) {
      assert.equal(compiled.code ?? 0, 0, `${name}: tsc failed:\n${compiled.stdout}${compiled.stderr}`);
      for (const output of Object.values(files)) {
        const { stdout, stderr } = await run(process.execPath, [path.join(project, 'out', output)], { cwd: project, timeout: 10_000 });
        assert.equal(stdout.trim(), EXPECTED, `${name}: ${output}`);
        assert.equal(stderr, '', `${name}: ${output}`);
      }
    }
  });
});

// The object form: every kind of value the runtime takes compiles (and parseOptions takes it); typos, wrong
// literals and names that are no hook or field do not compile (each bad line must be an error, or tsc reports
// the unused @ts-expect-error), and the runtime refuses them too.
const GOOD = `import { parseOptions, type TcpinfoOptionsInput } from 'tcpinfo';
import { Registry } from 'prom-client';

const good: TcpinfoOptionsInput[] = [
  {},
  { hooks: ['ssn_start', 'txn_start', 'send_resp_hdr', 'txn_close', 'ssn_close'] },
  { hooks: ['txn_close'] as const },
  { hooks: 'ssn_start,txn_close' },
  { logLevel: 1 }, { logLevel: 2 }, { logLevel: '1' }, { 'log-level': '2' },
  { format: 'ats' }, { format: 'json', logUrl: true }, { format: 'json', 'log-url': '1' },
  { fields: ['rtt', 'snd_cwnd', 'total_retrans', 'delivery_rate'] }, { fields: 'all' }, { fields: 'rtt,rttvar' },
  { rollingEnabled: 0 }, { rollingEnabled: '3', rollingSize: '512M' }, { rollingEnabled: 2, rollingSize: 100 }, { 'rolling-size': '10240k' },
  { rollingOffsetHr: '1', rollingIntervalSec: 5400, rollingMaxCount: '10' },
  { sampleRate: 10 }, { sampleRate: '010' }, { 'sample-rate': '1000' }, { sampleBy: 'session', sampleSeed: 42 }, { sampleSeed: 'run-1' },
  { logFileMode: 0o644 }, { logFileMode: '0644' }, { logFileMode: '644' }, { 'log-file-mode': '0o600' },
  { queueLines: 1000, queueBytes: '1G' }, { 'queue-bytes': 64 }, { updatePeriod: '30' },
  { explain: true, slowMs: '250' }, { explain: 1 }, { explain: 'false' },
  { metrics: true, metricsPort: 0, metricsHost: '0.0.0.0' }, { metrics: new Registry() }, { metrics: '1', 'metrics-port': '9464' }, { metrics: 0 },
  { logFile: 'stdout' }, { logDir: '/tmp', logFile: 'x.log' },
];
let accepted = 0;
for (const input of good) {
  parseOptions(input);
  accepted++;
}
console.log(JSON.stringify({ accepted, of: good.length }));
`;

const BAD = `import { parseOptions, type TcpinfoOptionsInput } from 'tcpinfo';

const bad: TcpinfoOptionsInput[] = [
  // @ts-expect-error a log level is 1 or 2
  { logLevel: 3 },
  // @ts-expect-error as text too
  { logLevel: '3' },
  // @ts-expect-error in kebab case too
  { 'log-level': 0 },
  // @ts-expect-error ats or json
  { format: 'text' },
  // @ts-expect-error event or session
  { sampleBy: 'connection' },
  // @ts-expect-error a typo in a hook name
  { hooks: ['ssn_start', 'txn_clsoe'] },
  // @ts-expect-error periodic reads are no hook (--update-period)
  { hooks: ['periodic'] },
  // @ts-expect-error a typo in a field name
  { fields: ['rtt', 'rttt'] },
  // @ts-expect-error 0 to 3
  { rollingEnabled: 4 },
  // @ts-expect-error not a switch
  { rollingEnabled: true },
  // @ts-expect-error not a number
  { sampleRate: 'ten' },
  // @ts-expect-error no MB suffix
  { rollingSize: '10MB' },
  // @ts-expect-error no spaces, no MiB
  { queueBytes: '16 MiB' },
  // @ts-expect-error a switch is 1, 0, true or false
  { explain: 'yes' },
  // @ts-expect-error as a number too
  { logUrl: 2 },
  // @ts-expect-error an object that is no Registry
  { metrics: {} },
  // @ts-expect-error not a port
  { metricsPort: '9464x' },
  // @ts-expect-error not an octal mode
  { logFileMode: 'rw-r-----' },
  // @ts-expect-error a typo in a key
  { logLevl: 2 },
];
let refused = 0;
for (const input of bad) {
  try {
    parseOptions(input);
  } catch {
    refused++;
  }
}
console.log(JSON.stringify({ refused, of: bad.length }));
`;

test('the object form: what the runtime takes compiles (literal unions that take the strings too); typos and wrong literals do not, and the runtime refuses them', async (t) => {
  const dir = consumerDir(t, 'tcpinfo-ts-object-', ['@types', 'prom-client']);
  fs.writeFileSync(path.join(dir, 'good.mts'), GOOD);
  fs.writeFileSync(path.join(dir, 'bad.mts'), BAD);
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), tsconfig({ module: 'nodenext', moduleResolution: 'nodenext', outDir: 'out' }, ['good.mts', 'bad.mts']));
  const compiled = await run(TSC, ['-p', dir], { cwd: dir, timeout: 60_000 }).catch((err) => err);
  assert.equal(compiled.code ?? 0, 0, `tsc:\n${compiled.stdout}${compiled.stderr}`);
  const good = JSON.parse((await run(process.execPath, [path.join(dir, 'out', 'good.mjs')], { cwd: dir, timeout: 10_000 })).stdout);
  assert.equal(good.accepted, good.of, 'parseOptions takes every object that compiles here');
  const bad = JSON.parse((await run(process.execPath, [path.join(dir, 'out', 'bad.mjs')], { cwd: dir, timeout: 10_000 })).stdout);
  assert.deepEqual(bad, { refused: 19, of: 19 }, 'and refuses every one that does not');
});
