// The README's quick start runs as written: each snippet marked `<!-- quickstart: NAME -->` is taken out
// of README.md as it stands and run in a fresh app directory where `tcpinfo` resolves to this package
// (as `npm install tcpinfo` makes it), a request is sent, and the log must have its lines.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { countBy, readLog, ROOT, runServerProcess, scratchApp } from './support/harness.mjs';

/** The fenced code block after each `<!-- quickstart: NAME -->` of `text`, by name, with its language. */
export function quickStartSnippets(text) {
  const snippets = {};
  for (const m of text.matchAll(/<!-- quickstart: ([\w-]+) -->\s*\n```(\w*)\n([\s\S]*?)\n```/g)) snippets[m[1]] = { lang: m[2], code: `${m[3]}\n` };
  return snippets;
}

const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const snippets = quickStartSnippets(README);

/** An app with no tcpinfo in it, for the preload's command line to run. */
const PLAIN_APP = `import http from 'node:http';
const server = http.createServer((req, res) => res.end('hello\\n'));
server.listen(process.env.PORT ?? 3000, '127.0.0.1', () => console.log(\`listening on http://127.0.0.1:\${server.address().port}/\`));
`;

/** Each snippet's logged lines after 3 keep-alive requests and Ctrl-C; with --hooks=ssn_start,txn_close. */
async function runSnippet(t, name) {
  const snippet = snippets[name];
  assert.ok(snippet, `README.md has no <!-- quickstart: ${name} --> block`);
  const dir = scratchApp(t, ['express', 'fastify']);
  let run;
  if (snippet.lang === 'js') {
    fs.writeFileSync(path.join(dir, 'app.mjs'), snippet.code);
    run = await runServerProcess(t, { cwd: dir, args: ['app.mjs'] });
  } else {
    assert.equal(snippet.lang, 'sh', `${name}: a js or sh block`);
    const command = snippet.code.trim();
    assert.ok(!command.includes('\n'), `${name}: one command line`);
    // The line names the app it runs; that app is any server without tcpinfo in it.
    const app = /\bnode\b.*\s(\S+\.m?js)$/.exec(command)?.[1];
    assert.ok(app, `${name}: runs an app file: ${command}`);
    fs.writeFileSync(path.join(dir, app), PLAIN_APP);
    run = await runServerProcess(t, { cwd: dir, command: '/bin/bash', args: ['-c', command] });
  }
  assert.ok(run.responses.every((r) => r.status === 200), `${name}: every request answered`);
  assert.ok(run.code === 0 || run.signal === 'SIGINT', `${name}: ended by Ctrl-C (${run.code ?? run.signal})\n${run.stderr}`);
  const logFile = path.join(dir, 'tcpinfo.log');
  assert.ok(fs.existsSync(logFile), `${name}: no tcpinfo.log in the app's directory\n${run.stdout}${run.stderr}`);
  return readLog(logFile);
}

test('the README marks the four quick-start snippets', () => {
  assert.deepEqual(Object.keys(snippets).sort(), ['express', 'fastify', 'http', 'preload']);
});

describe('the README quick start, run as written', () => {
  for (const name of ['http', 'express', 'fastify', 'preload']) {
    test(name, async (t) => {
      const log = await runSnippet(t, name);
      assert.equal(log.headers.length, 1, log.text);
      assert.deepEqual(countBy(log.records), { ssn_start: 1, txn_close: 3 }, log.text);
    });
  }
});
