// A file another process is writing is not a torn file. A writer opening a log file that ends inside a line
// adds a newline first (a crash tore it); but another process's large write shows its pages one by one, so
// for a moment the end of a shared log looks mid-line while that write is under way. Found by the bench's
// several-processes section: four writers of one file rolling by size wrote blank lines in 4 runs of 6.
// Here a child appends bytes with no newline among them without pause (a write always under way): a writer
// opening the file, by its sync path (its constructor) or its async path (following the name after a rename),
// must add no newline before its first line. (A file that holds still mid-line still gets one:
// test/log-file-safety.test.mjs.)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { LogWriter } from '../../dist/logger/writer.js';
import { tempDir, waitFor } from '../support/harness.mjs';

const HEADER = 'timestamp event client server rtt\n';

function options(file) {
  return { file, header: HEADER, queueLines: 1024, rollingEnabled: 0, rollingOffsetHr: 0, rollingIntervalSec: 86_400, rollingSize: 0, flushMs: 1 };
}

/** A child appending 'x' to `file` without pause for at most `ms`; resolves once the file has grown. */
async function growing(t, file, ms = 20_000) {
  const code = `const fs = require('fs'); const fd = fs.openSync(${JSON.stringify(file)}, 'a'); const b = Buffer.alloc(512, 'x');
    const end = Date.now() + ${ms}; while (Date.now() < end) fs.writeSync(fd, b);`;
  const child = spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
  t.after(() => child.kill('SIGKILL'));
  const start = fs.statSync(file).size;
  await waitFor(() => fs.statSync(file).size > start + 64 * 1024, 10_000, 'the child writing');
  return async () => {
    child.kill('SIGKILL');
    await once(child, 'exit');
  };
}

const newlines = (file) => fs.readFileSync(file, 'latin1').split('\n').length - 1;

test('opening a log file while another process writes to it adds no newline before the first line (sync open, 20 writers)', { timeout: 60_000 }, async (t) => {
  const file = path.join(tempDir(t), 'tcpinfo.log');
  fs.writeFileSync(file, HEADER);
  const stop = await growing(t, file);
  for (let i = 0; i < 20; i++) {
    const w = new LogWriter(options(file));
    w.write(`line ${i}\n`);
    await w.flush();
    await w.close();
    assert.equal(w.stats.written, 1);
  }
  await stop();
  assert.equal(newlines(file), 21, 'the header\'s newline and the 20 lines\'');
});

test('following the name to a file another process is writing adds no newline (async open, 5 writers)', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  for (let i = 0; i < 5; i++) {
    const file = path.join(dir, `tcpinfo-${i}.log`);
    const w = new LogWriter(options(file));
    w.write('first line\n');
    await w.flush();
    // Another process rolled the file away, and a third is writing the new one at the name.
    fs.renameSync(file, path.join(dir, `moved-${i}.log`));
    fs.writeFileSync(file, HEADER);
    const stop = await growing(t, file);
    // Not in place: the writer follows the name (an async open) and appends its line there.
    w.write('second line\n');
    await w.flush();
    await stop();
    await w.close();
    assert.equal(w.stats.written, 2);
    // The header's newline and the writer's line's: a newline added at the open would be a third.
    assert.equal(newlines(file), 2, `writer ${i}`);
  }
});
