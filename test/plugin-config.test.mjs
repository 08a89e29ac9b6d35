// plugin.config: the tcpinfo line among an ATS admin's lines, and errors that point at the line.
// Build first: npx tsc -p tsconfig.json
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TcpinfoConfigError } from '../dist/config/options.js';
import { findTcpinfoLine, loadConfig, parseConfig } from '../dist/config/plugin-config.js';

const repoRoot = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const cwd = process.cwd();
const MiB = 1024 * 1024;

/** The TcpinfoConfigError parseConfig throws for `text`; fails the test when it does not throw one. */
function configError(text, source) {
  let caught;
  assert.throws(
    () => parseConfig(text, source),
    (err) => {
      caught = err;
      return err instanceof TcpinfoConfigError;
    },
  );
  return caught;
}

// ---------------------------------------------------------------------------------------------
// The example file the demo server reads

test('plugin.config.example: the demo line, logging to ./tcpinfo.log from the repository root', () => {
  const before = process.cwd();
  process.chdir(repoRoot);
  try {
    const options = loadConfig('plugin.config.example');
    assert.deepEqual(options.hooks, ['ssn_start', 'txn_start', 'send_resp_hdr', 'txn_close']);
    assert.equal(options.logLevel, 2);
    assert.equal(options.sampleRate, 1000);
    assert.equal(options.logFile, path.join(repoRoot, 'tcpinfo.log'));
    assert.deepEqual(options.notices, []);
  } finally {
    process.chdir(before);
  }
});

test('plugin.config.example: each commented tcpinfo line is valid once uncommented alone', () => {
  const example = parseExampleLines();
  const commented = example.filter((l) => /^#\S*tcpinfo(\.so)?\s/.test(l));
  assert.ok(commented.length >= 3, 'the example shows rolling and short-form lines');
  for (const line of commented) {
    const options = parseConfig(line.slice(1));
    assert.ok(options.hooks.length > 0, line);
  }
});

function parseExampleLines() {
  return readFileSync(path.join(repoRoot, 'plugin.config.example'), 'utf8').split('\n');
}

// ---------------------------------------------------------------------------------------------
// Finding the line

const PLUGIN_PATHS = ['tcpinfo.so', 'tcpinfo', '/usr/lib/trafficserver/plugins/tcpinfo.so', 'plugins/tcpinfo.so', '"/opt/ts plugins/tcpinfo.so"'];
for (const pluginPath of PLUGIN_PATHS) {
  test(`the plugin path may be ${pluginPath}`, () => {
    assert.equal(parseConfig(`${pluginPath} --log-level=2`).logLevel, 2);
  });
}

test('comments, blank lines, leading whitespace, other plugins and CRLF are handled', () => {
  const text = [
    '# plugin.config',
    '',
    '   # indented comment',
    'stats_over_http.so',
    'header_rewrite.so /etc/trafficserver/hdr.config "unclosed',
    '# tcpinfo.so --log-level=3',
    '\t  tcpinfo.so\t--log-level=2  --hooks=txn_close   # trailing comment -r 5',
    'xdebug.so --enable=x-cache',
    'mytcpinfo.so --log-level=9',
    'tcpinfo.so.bak --log-level=9',
    '',
  ].join('\r\n');
  const options = parseConfig(text);
  assert.equal(options.logLevel, 2);
  assert.deepEqual(options.hooks, ['txn_close']);
  assert.equal(options.sampleRate, 1000);
  assert.deepEqual(findTcpinfoLine(text), { line: 7, args: '\t--log-level=2  --hooks=txn_close   # trailing comment -r 5' });
});

test('a byte order mark does not hide the first line', () => {
  assert.equal(parseConfig('\uFEFFtcpinfo.so -l 2').logLevel, 2);
});

test('a tcpinfo line without options takes every default', () => {
  const options = parseConfig('tcpinfo.so\n');
  assert.deepEqual(options.hooks, ['ssn_start', 'txn_close']);
  assert.equal(options.logFile, path.join(cwd, 'tcpinfo.log'));
});

test('quoted values: double and single quotes, spaces inside', () => {
  assert.equal(parseConfig('tcpinfo.so --log-file="my logs/tcp.log"').logFile, path.join(cwd, 'my logs/tcp.log'));
  assert.equal(parseConfig("tcpinfo.so --log-file='my logs/tcp.log'").logFile, path.join(cwd, 'my logs/tcp.log'));
  assert.equal(parseConfig('tcpinfo.so "--log-file=my logs/tcp"').logFile, path.join(cwd, 'my logs/tcp.log'));
  assert.equal(parseConfig('tcpinfo.so -f "a # b.log"').logFile, path.join(cwd, 'a # b.log'));
});

test('notices carry the source and line', () => {
  const options = parseConfig('# rolling\ntcpinfo.so -S 7000', '/etc/trafficserver/plugin.config');
  assert.equal(options.rollingIntervalSec, 7200);
  assert.deepEqual(options.notices, ['/etc/trafficserver/plugin.config:2: --rolling-interval-sec=7000 does not divide 86400: using 7200']);
});

test('rolling options on the line', () => {
  const options = parseConfig('tcpinfo.so --rolling-enabled=3 --rolling-offset-hr=2 --rolling-interval-sec=21600 --rolling-size=512M');
  assert.equal(options.rollingEnabled, 3);
  assert.equal(options.rollingOffsetHr, 2);
  assert.equal(options.rollingIntervalSec, 21600);
  assert.equal(options.rollingSize, 512 * MiB);
});

// ---------------------------------------------------------------------------------------------
// Malformed plugin.config texts

const MALFORMED = [
  // [text, expected message line]
  ['', '  plugin.config: no line loads tcpinfo.so'],
  ['# tcpinfo.so --log-level=2\n', '  plugin.config: no line loads tcpinfo.so'],
  ['stats_over_http.so\nxdebug.so', '  plugin.config: no line loads tcpinfo.so'],
  ['tcpinfo.so.1 -l 2', '  plugin.config: no line loads tcpinfo.so'],
  ['tcpinfo.so\ntcpinfo.so -l 2', '  plugin.config:2: tcpinfo.so is loaded again (first on line 1); load it once'],
  ['tcpinfo.so\n# x\n/usr/lib/trafficserver/plugins/tcpinfo.so', '  plugin.config:3: tcpinfo.so is loaded again (first on line 1)'],
  ['# c\n\ntcpinfo.so --log-level=0', '  plugin.config:3: --log-level=0: must be 1 or 2'],
  ['tcpinfo.so --hooks=ssn_start,foo', '  plugin.config:1: --hooks=ssn_start,foo: unknown hook "foo"'],
  ['a.so\ntcpinfo.so --sample-rate=0x10', '  plugin.config:2: --sample-rate=0x10: must be a decimal integer from 0 to 1000'],
  ['tcpinfo.so --rolling-size=1K', '  plugin.config:1: --rolling-size=1K: below the minimum of 10 MiB'],
  ['tcpinfo.so --bogus=1', '  plugin.config:1: --bogus=1: unknown option (known: --hooks,'],
  ['tcpinfo.so stray', '  plugin.config:1: stray: unexpected word'],
  ['tcpinfo.so -l 1 -l 2', '  plugin.config:1: --log-level: given 2 times ("1", "2"); give it once'],
  ['tcpinfo.so --log-file="unclosed', '  plugin.config:1: --log-file="unclosed: unclosed quote'],
  ['tcpinfo.so --log-level=', '  plugin.config:1: --log-level: empty value; must be 1 or 2'],
  ['\n\n\n\ntcpinfo.so --queue-lines=1', '  plugin.config:5: --queue-lines=1: must be a decimal integer from 1000 to 10000000'],
];

for (const [text, line] of MALFORMED) {
  test(`malformed plugin.config: ${JSON.stringify(text)}`, () => {
    const err = configError(text);
    assert.match(err.message, /^tcpinfo: invalid configuration\n/);
    assert.ok(err.message.split('\n').some((l) => l.startsWith(line)), `no line starts ${JSON.stringify(line)}:\n${err.message}`);
    assert.ok(err.problems.every((p) => p.source === 'plugin.config'));
  });
}

test('option problems carry the line number, several at once', () => {
  const err = configError('# header\nstats_over_http.so\ntcpinfo.so --log-level=0 -r 2000 --hooks=foo', 'ats/plugin.config');
  assert.deepEqual(
    err.problems.map((p) => [p.line, p.option, p.value]),
    [
      [3, '--hooks', 'foo'],
      [3, '--log-level', '0'],
      [3, '--sample-rate', '2000'],
    ],
  );
  assert.equal(
    err.message,
    [
      'tcpinfo: invalid configuration',
      '  ats/plugin.config:3: --hooks=foo: unknown hook "foo" (allowed: ssn_start, txn_start, send_resp_hdr, txn_close, ssn_close)',
      '  ats/plugin.config:3: --log-level=0: must be 1 or 2',
      '  ats/plugin.config:3: --sample-rate=2000: must be a decimal integer from 0 to 1000',
    ].join('\n'),
  );
});

test('three tcpinfo lines: every extra one is named', () => {
  const err = configError('tcpinfo.so\ntcpinfo.so\n\ntcpinfo');
  assert.deepEqual(
    err.problems.map((p) => p.line),
    [2, 4],
  );
});

// ---------------------------------------------------------------------------------------------
// Files

test('loadConfig: a real file, its path in errors and notices', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tcpinfo-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'plugin.config');
  writeFileSync(file, `# test\ntcpinfo.so --log-dir=${dir} --log-file=tcp -S 7000\n`);
  const options = loadConfig(file);
  assert.equal(options.logFile, path.join(dir, 'tcp.log'));
  assert.deepEqual(options.notices, [`${file}:2: --rolling-interval-sec=7000 does not divide 86400: using 7200`]);

  writeFileSync(file, 'tcpinfo.so -l 5\n');
  assert.throws(() => loadConfig(file), { name: 'TcpinfoConfigError', message: `tcpinfo: invalid configuration\n  ${file}:1: --log-level=5: must be 1 or 2` });
});

test('loadConfig: a missing file is an error naming the path', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tcpinfo-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'missing.config');
  assert.throws(
    () => loadConfig(file),
    (err) => err instanceof TcpinfoConfigError && err.message.includes(`${file}: cannot read the file: ENOENT`) && err.cause?.code === 'ENOENT',
  );
});

test('loadConfig: a directory is an error naming the path', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tcpinfo-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.throws(() => loadConfig(dir), (err) => err instanceof TcpinfoConfigError && err.message.includes(`${dir}: cannot read the file: EISDIR`));
});

test('loadConfig: an unreadable file is an error naming the path', { skip: process.getuid?.() === 0 && 'root reads any file' }, (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tcpinfo-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'secret.config');
  writeFileSync(file, 'tcpinfo.so\n');
  chmodSync(file, 0o000);
  assert.throws(() => loadConfig(file), (err) => err instanceof TcpinfoConfigError && err.message.includes(`${file}: cannot read the file: EACCES`));
});
