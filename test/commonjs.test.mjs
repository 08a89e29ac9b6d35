// CommonJS apps: require() of each entry point, from a .cjs file that resolves tcpinfo as an installed
// package, gives what import gives; for tcpinfo/express and tcpinfo/fastify, the function itself.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { consumerDir } from './support/harness.mjs';

const run = promisify(execFile);

// Prints one JSON line: what each require() gave, compared with the same entry's import (the same object:
// one module instance, so the import tests of Express and Fastify cover what CommonJS apps get).
const CONSUMER = `
const main = require('tcpinfo');
const middleware = require('tcpinfo/express');
const plugin = require('tcpinfo/fastify');
(async () => {
  const esm = { main: await import('tcpinfo'), express: await import('tcpinfo/express'), fastify: await import('tcpinfo/fastify') };
  console.log(JSON.stringify({
    main: { attach: typeof main.attach, sameAsImport: main.attach === esm.main.attach },
    express: { type: typeof middleware, sameAsImport: middleware === esm.express.default, dotDefault: middleware.default === middleware, dotTcpinfo: middleware.tcpinfo === middleware },
    fastify: { type: typeof plugin, sameAsImport: plugin === esm.fastify.default, dotDefault: plugin.default === plugin, dotTcpinfo: plugin.tcpinfo === plugin },
  }));
})();
`;

describe('CommonJS', () => {
  test("require('tcpinfo'), require('tcpinfo/express'), require('tcpinfo/fastify') from a .cjs file: what import gives, the function itself for the integrations", async (t) => {
    const dir = consumerDir(t, 'tcpinfo-cjs-');
    fs.writeFileSync(path.join(dir, 'consumer.cjs'), CONSUMER);
    const { stdout, stderr } = await run(process.execPath, ['consumer.cjs'], { cwd: dir, timeout: 10_000 });
    assert.equal(stderr, '', 'no warning (require of ES modules is not experimental on Node >= 20.19)');
    assert.deepEqual(JSON.parse(stdout), {
      main: { attach: 'function', sameAsImport: true },
      express: { type: 'function', sameAsImport: true, dotDefault: true, dotTcpinfo: true },
      fastify: { type: 'function', sameAsImport: true, dotDefault: true, dotTcpinfo: true },
    });
  });
});
