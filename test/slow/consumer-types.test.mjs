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
