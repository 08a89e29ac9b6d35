// The options module: the Traffic Server options string and the object form, read into TcpinfoOptions.
// Build first: npx tsc -p tsconfig.json
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { closest, editDistance } from '../dist/config/closest.js';
import {
  DEFAULT_OPTIONS_STRING,
  OPTION_SPECS,
  TcpinfoConfigError,
  describeOptions,
  parseOptions,
  splitWords,
} from '../dist/config/options.js';

const MiB = 1024 * 1024;
const cwd = process.cwd();

const DEFAULTS = {
  hooks: ['ssn_start', 'txn_close'],
  logFile: path.join(cwd, 'tcpinfo.log'),
  logLevel: 1,
  logFileMode: 0o640,
  sampleRate: 1000,
  sampleSeed: undefined,
  rollingEnabled: 1,
  rollingOffsetHr: 0,
  rollingIntervalSec: 86400,
  rollingSize: 1024 * MiB,
  rollingMaxCount: 0,
  queueLines: 65536,
  queueBytes: 16 * MiB,
  updatePeriod: 0,
  fields: undefined,
  format: 'ats',
  logUrl: false,
  sampleBy: 'event',
  explain: false,
  slowMs: 100,
  metrics: false,
  metricsRegistry: undefined,
  metricsPort: undefined,
  metricsHost: '127.0.0.1',
  otel: false,
  serverTiming: false,
  timingAllowOrigin: undefined,
  notices: [],
};

/** The error parseOptions throws for `input`; fails the test when it does not throw one. */
function configError(input) {
  let caught;
  assert.throws(
    () => parseOptions(input),
    (err) => {
      caught = err;
      return err instanceof TcpinfoConfigError;
    },
  );
  return caught;
}

// ---------------------------------------------------------------------------------------------
// Defaults

for (const [label, input] of [
  ['no argument', undefined],
  ['empty string', ''],
  ['blank string', ' \t\n '],
  ['empty object', {}],
  ['null', null],
  ['only comments', '# nothing here\n  # nor here'],
  ['object with undefined values', { logLevel: undefined, hooks: undefined }],
]) {
  test(`defaults: ${label}`, () => {
    assert.deepEqual(parseOptions(input), DEFAULTS);
  });
}

test('DEFAULT_OPTIONS_STRING parses to the defaults', () => {
  assert.deepEqual(parseOptions(DEFAULT_OPTIONS_STRING), DEFAULTS);
  assert.match(DEFAULT_OPTIONS_STRING, /--hooks=ssn_start,txn_close/);
});

// ---------------------------------------------------------------------------------------------
// The option table

test('OPTION_SPECS: Traffic Server getopt letters (plugins/tcpinfo/tcpinfo.cc longopts)', () => {
  const shorts = Object.fromEntries(OPTION_SPECS.filter((s) => s.short).map((s) => [s.long, s.short]));
  assert.deepEqual(shorts, {
    'sample-rate': 'r',
    'log-file': 'f',
    'log-level': 'l',
    hooks: 'h',
    'rolling-enabled': 'e',
    'rolling-offset-hr': 'H',
    'rolling-interval-sec': 'S',
    'rolling-size': 'M',
  });
});

test('OPTION_SPECS: every entry complete, names unique, log-dir before log-file', () => {
  for (const spec of OPTION_SPECS) {
    assert.match(spec.long, /^[a-z]+(-[a-z]+)*$/);
    assert.equal(typeof spec.key, 'string');
    assert.equal(typeof spec.parse, 'function');
    assert.ok(spec.description.length > 10, spec.long);
    assert.ok(spec.allowed.length > 0, spec.long);
  }
  assert.equal(new Set(OPTION_SPECS.map((s) => s.long)).size, OPTION_SPECS.length);
  assert.equal(new Set(OPTION_SPECS.map((s) => s.key)).size, OPTION_SPECS.length);
  const names = OPTION_SPECS.map((s) => s.long);
  assert.ok(names.indexOf('log-dir') < names.indexOf('log-file'));
  assert.deepEqual(names.slice(-15), [
    'queue-lines', 'queue-bytes', 'update-period', 'fields', 'format', 'log-url', 'sample-by', 'explain', 'slow-ms', 'metrics', 'metrics-port', 'metrics-host', 'otel',
    'server-timing', 'timing-allow-origin',
  ]);
});

// ---------------------------------------------------------------------------------------------
// Ways of writing an option

test('--name=value, --name value and the short forms read the same', () => {
  const long = parseOptions(
    '--hooks=txn_start --log-file=x.log --log-level=2 --sample-rate=5 --rolling-enabled=3 ' +
      '--rolling-offset-hr=4 --rolling-interval-sec=600 --rolling-size=20',
  );
  const spaced = parseOptions(
    '--hooks txn_start --log-file x.log --log-level 2 --sample-rate 5 --rolling-enabled 3 ' +
      '--rolling-offset-hr 4 --rolling-interval-sec 600 --rolling-size 20',
  );
  const short = parseOptions('-h txn_start -f x.log -l 2 -r 5 -e 3 -H 4 -S 600 -M 20');
  const attached = parseOptions('-htxn_start -fx.log -l2 -r5 -e3 -H4 -S600 -M20');
  const expected = {
    ...DEFAULTS,
    hooks: ['txn_start'],
    logFile: path.join(cwd, 'x.log'),
    logLevel: 2,
    sampleRate: 5,
    rollingEnabled: 3,
    rollingOffsetHr: 4,
    rollingIntervalSec: 600,
    rollingSize: 20 * MiB,
  };
  assert.deepEqual(long, expected);
  assert.deepEqual(spaced, expected);
  assert.deepEqual(short, expected);
  assert.deepEqual(attached, expected);
});

test('long-only options: --log-dir, --sample-seed, --queue-lines', () => {
  const o = parseOptions('--log-dir=/var/log/ts --sample-seed=abc --queue-lines=1000');
  assert.equal(o.logFile, '/var/log/ts/tcpinfo.log');
  assert.equal(o.sampleSeed, 'abc');
  assert.equal(o.queueLines, 1000);
  assert.equal(parseOptions('--queue-lines=10000000').queueLines, 10_000_000);
});

test('the object form: camelCase or kebab-case keys, numbers or strings', () => {
  const camel = parseOptions({ logLevel: 2, sampleRate: '10', rollingSize: 64, logFile: 'a.txt', queueLines: 2000 });
  const kebab = parseOptions({ 'log-level': '2', 'sample-rate': 10, 'rolling-size': '64', 'log-file': 'a.txt', 'queue-lines': '2000' });
  assert.deepEqual(camel, kebab);
  assert.equal(camel.logLevel, 2);
  assert.equal(camel.sampleRate, 10);
  assert.equal(camel.rollingSize, 64 * MiB);
  assert.equal(camel.logFile, path.join(cwd, 'a.txt'));
  assert.equal(parseOptions({ sampleSeed: 42 }).sampleSeed, '42');
  assert.deepEqual(parseOptions({ hooks: ['txn_close', 'ssn_start'] }).hooks, ['txn_close', 'ssn_start']);
  assert.deepEqual(parseOptions({ hooks: 'txn_close, send_resp_hdr' }).hooks, ['txn_close', 'send_resp_hdr']);
});

test('options parseOptions returned come back as they are (attach may be handed them)', () => {
  const once = parseOptions('--rolling-size=64');
  assert.equal(parseOptions(once), once);
  assert.equal(once.rollingSize, 64 * MiB);
});

test('a structurally copied TcpinfoOptions is not mistaken for input: rollingSize bytes would read as MiB', () => {
  const copy = { ...parseOptions() };
  const err = configError(copy);
  assert.match(err.message, /notices=\[\]: unknown option/);
});

// ---------------------------------------------------------------------------------------------
// Rules, value by value

test('hooks: order kept, duplicates removed keeping the first', () => {
  assert.deepEqual(parseOptions('--hooks=txn_close,ssn_start,txn_close,ssn_start').hooks, ['txn_close', 'ssn_start']);
  assert.deepEqual(parseOptions('--hooks=send_resp_hdr,txn_start,ssn_start,txn_close').hooks, [
    'send_resp_hdr',
    'txn_start',
    'ssn_start',
    'txn_close',
  ]);
});

const LOG_FILES = [
  // [options, expected absolute path]
  ['--log-file=tcpinfo', path.join(cwd, 'tcpinfo.log')],
  ['--log-file=tcpinfo.log', path.join(cwd, 'tcpinfo.log')],
  ['--log-file=tcpinfo.txt', path.join(cwd, 'tcpinfo.txt')],
  ['--log-file=a.b.c', path.join(cwd, 'a.b.c')],
  ['--log-file=.hidden', path.join(cwd, '.hidden')],
  ['--log-file=logs.d/tcpinfo', path.join(cwd, 'logs.d/tcpinfo.log')], // the dot is the directory's
  ['--log-file=logs/tcp.x', path.join(cwd, 'logs/tcp.x')],
  ['--log-file=/var/log/tcpinfo', '/var/log/tcpinfo.log'],
  ['--log-file=/var/log/tcpinfo.out', '/var/log/tcpinfo.out'],
  ['--log-dir=/srv/logs', '/srv/logs/tcpinfo.log'],
  ['--log-dir=/srv/logs --log-file=tcp', '/srv/logs/tcp.log'],
  ['--log-dir=/srv/logs --log-file=sub/tcp.log', '/srv/logs/sub/tcp.log'],
  ['--log-dir=/srv/logs --log-file=/abs/tcp', '/abs/tcp.log'], // absolute wins over --log-dir
  ['--log-file=tcp --log-dir=/srv/logs', '/srv/logs/tcp.log'], // order on the line does not matter
  ['--log-dir=rel --log-file=tcp', path.join(cwd, 'rel/tcp.log')],
  ['--log-dir=/srv/x/../logs', '/srv/logs/tcpinfo.log'],
];
for (const [input, expected] of LOG_FILES) {
  test(`log file: ${input} -> ${expected}`, () => {
    assert.equal(parseOptions(input).logFile, expected);
  });
}

test('sample-rate: decimal integers 0..1000, leading zeros read as decimal', () => {
  assert.equal(parseOptions('-r 0').sampleRate, 0);
  assert.equal(parseOptions('-r 1000').sampleRate, 1000);
  assert.equal(parseOptions('-r 0100').sampleRate, 100);
});

test('log-level, rolling-enabled, rolling-offset-hr: every allowed value', () => {
  assert.equal(parseOptions('-l 1').logLevel, 1);
  assert.equal(parseOptions('-l 2').logLevel, 2);
  for (const n of [0, 1, 2, 3]) assert.equal(parseOptions(`-e ${n}`).rollingEnabled, n);
  for (const n of [0, 12, 23]) assert.equal(parseOptions(`-H ${n}`).rollingOffsetHr, n);
});

const ROLLING_SIZES = [
  ['10', 10 * MiB],
  ['1024', 1024 * MiB],
  ['10240K', 10 * MiB],
  ['10240k', 10 * MiB],
  ['10M', 10 * MiB],
  ['10m', 10 * MiB],
  ['512M', 512 * MiB],
  ['1G', 1024 * MiB],
  ['2g', 2048 * MiB],
];
for (const [text, bytes] of ROLLING_SIZES) {
  test(`rolling-size ${text} = ${bytes} bytes`, () => {
    assert.equal(parseOptions(`--rolling-size=${text}`).rollingSize, bytes);
  });
}

const INTERVALS = [
  // [asked, used]; used must divide 86400
  [60, 60],
  [61, 64],
  [3600, 3600],
  [3601, 4320],
  [7000, 7200],
  [43201, 86400],
  [86399, 86400],
  [86400, 86400],
];
for (const [asked, used] of INTERVALS) {
  test(`rolling-interval-sec ${asked} -> ${used}${asked === used ? '' : ', with a notice'}`, () => {
    const o = parseOptions(`--rolling-interval-sec=${asked}`);
    assert.equal(o.rollingIntervalSec, used);
    assert.equal(86400 % o.rollingIntervalSec, 0);
    assert.deepEqual(o.notices, asked === used ? [] : [`--rolling-interval-sec=${asked} does not divide 86400: using ${used}`]);
  });
}

// ---------------------------------------------------------------------------------------------
// Quoting and comments in an options string

test('quotes: double, single, around part of a word; tabs and newlines separate words', () => {
  assert.equal(parseOptions('--log-file="my logs/tcp.log"').logFile, path.join(cwd, 'my logs/tcp.log'));
  assert.equal(parseOptions("--log-file='my logs/tcp.log'").logFile, path.join(cwd, 'my logs/tcp.log'));
  assert.equal(parseOptions('"--log-file=my logs/tcp.log"').logFile, path.join(cwd, 'my logs/tcp.log'));
  assert.equal(parseOptions('-f "a b.log"').logFile, path.join(cwd, 'a b.log'));
  assert.equal(parseOptions(`--log-file="it's.log"`).logFile, path.join(cwd, "it's.log"));
  assert.deepEqual(parseOptions('--log-level=2\t--hooks=txn_close\n-r 7'), { ...DEFAULTS, logLevel: 2, hooks: ['txn_close'], sampleRate: 7 });
});

test('a # starting a word starts a comment to the end of the line; inside a word it is text', () => {
  assert.equal(parseOptions('--log-level=2 # --log-level=3').logLevel, 2);
  assert.deepEqual(parseOptions('-l 2 # note\n-r 5'), { ...DEFAULTS, logLevel: 2, sampleRate: 5 });
  assert.equal(parseOptions('--log-file=a#b.log').logFile, path.join(cwd, 'a#b.log'));
});

test('splitWords: words, their ends, quotes removed', () => {
  assert.deepEqual(
    splitWords(` a "b c"d 'e'  #x`).words.map((w) => [w.text, w.start, w.end]),
    [
      ['a', 1, 2],
      ['b cd', 3, 9],
      ['e', 10, 13],
    ],
  );
  assert.equal(splitWords('a "b').unclosedQuote.text, '"b');
});

// ---------------------------------------------------------------------------------------------
// Malformed input: one TcpinfoConfigError naming the option and the value

const MALFORMED = [
  // [input, option named, value named ('' when the message names the option alone)]
  ['--hooks=ssn_start,foo', '--hooks', 'ssn_start,foo'],
  ['--hooks=SSN_START', '--hooks', 'SSN_START'],
  ['--hooks=periodic', '--hooks', 'periodic'],
  ['--hooks=ssn_start,,txn_close', '--hooks', 'ssn_start,,txn_close'],
  ['--hooks=,', '--hooks', ','],
  ['--hooks=', '--hooks', ''],
  ['--hooks', '--hooks', ''],
  ['-h', '--hooks', ''],
  ['--log-level=0', '--log-level', '0'],
  ['--log-level=3', '--log-level', '3'],
  ['-l 01', '--log-level', '01'],
  ['--log-level=one', '--log-level', 'one'],
  ['--log-level=-1', '--log-level', '-1'],
  ['--log-level --hooks=txn_close', '--log-level', ''],
  ['--sample-rate=-5', '--sample-rate', '-5'],
  ['--sample-rate=0x10', '--sample-rate', '0x10'],
  ['--sample-rate=1e3', '--sample-rate', '1e3'],
  ['--sample-rate=10.5', '--sample-rate', '10.5'],
  ['--sample-rate=', '--sample-rate', ''],
  ['--sample-rate=1001', '--sample-rate', '1001'],
  ['--sample-rate=+5', '--sample-rate', '+5'],
  ['-r 12abc', '--sample-rate', '12abc'],
  ['--rolling-enabled=4', '--rolling-enabled', '4'],
  ['--rolling-enabled=true', '--rolling-enabled', 'true'],
  ['--rolling-offset-hr=24', '--rolling-offset-hr', '24'],
  ['-H -1', '--rolling-offset-hr', '-1'],
  ['--rolling-interval-sec=59', '--rolling-interval-sec', '59'],
  ['--rolling-interval-sec=86401', '--rolling-interval-sec', '86401'],
  ['-S 1h', '--rolling-interval-sec', '1h'],
  ['--rolling-size=9', '--rolling-size', '9'],
  ['--rolling-size=10239K', '--rolling-size', '10239K'],
  ['--rolling-size=0G', '--rolling-size', '0G'],
  ['--rolling-size=10MB', '--rolling-size', '10MB'],
  ['--rolling-size=1.5G', '--rolling-size', '1.5G'],
  ['--rolling-size=10T', '--rolling-size', '10T'],
  ['--rolling-size=99999999999G', '--rolling-size', '99999999999G'],
  ['--queue-bytes=0', '--queue-bytes', '0'],
  ['--queue-bytes=1023K', '--queue-bytes', '1023K'],
  ['--queue-bytes=17G', '--queue-bytes', '17G'],
  ['--queue-bytes=1.5M', '--queue-bytes', '1.5M'],
  ['--queue-bytes=16MB', '--queue-bytes', '16MB'],
  ['--rolling-max-count=-1', '--rolling-max-count', '-1'],
  ['--rolling-max-count=1e3', '--rolling-max-count', '1e3'],
  ['--rolling-max-count=100001', '--rolling-max-count', '100001'],
  ['--queue-lines=999', '--queue-lines', '999'],
  ['--queue-lines=10000001', '--queue-lines', '10000001'],
  ['--log-file=', '--log-file', ''],
  ['--log-file=logs/', '--log-file', 'logs/'],
  ['--log-file=..', '--log-file', '..'],
  ['--log-dir=', '--log-dir', ''],
  ['--sample-seed=', '--sample-seed', ''],
  ['--bogus', '--bogus', ''],
  ['--bogus=1', '--bogus', '1'],
  ['-x', '-x', ''],
  ['--no-hooks', '--no-hooks', ''],
  ['--Log-Level=2', '--Log-Level', '2'],
  ['--logLevel=2', '--logLevel', '2'],
  ['--log_level=2', '--log_level', '2'],
  ['--hooks=txn_close extra', 'extra', ''],
  ['-- -l 2', '-l', ''],
  ['--log-level=2 --log-level=2', '--log-level', ''],
  ['-l 1 --log-level=2', '--log-level', ''],
  ['--log-file="my logs', '--log-file="my logs', ''],
  [{ logLevel: 3 }, '--log-level', '3'],
  [{ 'log-level': 0 }, '--log-level', '0'],
  [{ sampleRate: 10.5 }, '--sample-rate', '10.5'],
  [{ sampleRate: -1 }, '--sample-rate', '-1'],
  [{ sampleRate: Number.NaN }, '--sample-rate', 'NaN'],
  [{ rollingSize: 5 }, '--rolling-size', '5'],
  [{ hooks: [] }, '--hooks', ''],
  [{ hooks: ['ssn_start', 'foo'] }, '--hooks', 'ssn_start,foo'],
  [{ hooks: ['ssn_start', 1] }, '--hooks', "[ 'ssn_start', 1 ]"],
  [{ logFile: true }, '--log-file', 'true'],
  [{ logFile: null }, '--log-file', 'null'],
  [{ rollingEnabled: false }, '--rolling-enabled', 'false'],
  [{ logLvl: 2 }, 'logLvl', '2'],
  [{ r: 100 }, 'r', '100'],
  [{ logLevel: 2, 'log-level': 2 }, '--log-level', ''],
];

for (const [input, option, value] of MALFORMED) {
  const label = typeof input === 'string' ? JSON.stringify(input) : JSON.stringify(input) ?? String(input);
  test(`malformed: ${label}`, () => {
    const err = configError(input);
    assert.equal(err.name, 'TcpinfoConfigError');
    assert.equal(err.code, 'ERR_TCPINFO_CONFIG');
    assert.ok(err instanceof Error);
    assert.match(err.message, /^tcpinfo: invalid configuration\n {2}\S/);
    const problem = err.problems.find((p) => p.option === option);
    assert.ok(problem, `no problem names ${option}: ${err.message}`);
    assert.equal(problem.value, value);
    assert.ok(problem.reason.length > 0);
    const line = value === '' ? `  ${option}: ` : `  ${option}=${value}: `;
    assert.ok(err.message.includes(line), `message lacks ${JSON.stringify(line)}:\n${err.message}`);
  });
}

test('a mistyped option or hook gets the closest known name, in the style it was written; none when nothing is close', () => {
  assert.equal(configError('--hook=txn_close').message, 'tcpinfo: invalid configuration\n  --hook=txn_close: unknown option; did you mean --hooks?');
  assert.match(configError('--log-levle=2').message, /--log-levle=2: unknown option; did you mean --log-level\?$/);
  assert.match(configError('--rolling-interval=3600').message, /--rolling-interval=3600: unknown option; did you mean --rolling-interval-sec\?$/);
  assert.match(configError({ hook: 'txn_close' }).message, /^ {2}hook=txn_close: unknown option; did you mean hooks\?$/m);
  assert.match(configError({ logLevl: 2 }).message, /^ {2}logLevl=2: unknown option; did you mean logLevel\?$/m);
  assert.match(configError({ 'log-levl': 2 }).message, /^ {2}log-levl=2: unknown option; did you mean log-level\?$/m);
  assert.equal(
    configError('--hooks=txn_clos').message,
    'tcpinfo: invalid configuration\n  --hooks=txn_clos: unknown hook "txn_clos"; did you mean txn_close? (allowed: ssn_start, txn_start, send_resp_hdr, txn_close, ssn_close)',
  );
  assert.match(configError({ hooks: ['ssn_strat', 'TXN_CLOSE', 'nothing'] }).message,
    /unknown hooks "ssn_strat", "TXN_CLOSE", "nothing"; did you mean ssn_start for "ssn_strat", txn_close for "TXN_CLOSE"\? \(allowed: /);
  assert.deepEqual(
    ['verdcit', 'hook', 'ab', 'xyzzy', 'ver', 'js'].map((name) => closest(name, ['verdict', 'hooks', 'json', 'ab', 'version'])),
    ['verdict', 'hooks', 'ab', undefined, undefined, undefined],
  );
  assert.deepEqual([['ab', 'ba'], ['kitten', 'sitting'], ['', 'abc'], ['ca', 'abc']].map(([a, b]) => editDistance(a, b)), [1, 3, 3, 3]);
});

test('messages read as documented', () => {
  assert.equal(configError('--log-level=3').message, 'tcpinfo: invalid configuration\n  --log-level=3: must be 1 or 2');
  assert.equal(
    configError('--hooks=ssn_start,foo').message,
    'tcpinfo: invalid configuration\n  --hooks=ssn_start,foo: unknown hook "foo" (allowed: ssn_start, txn_start, send_resp_hdr, txn_close, ssn_close)',
  );
  assert.match(configError('--bogus').message, /^ {2}--bogus: unknown option \(known: --hooks, --log-dir, --log-file, --log-level, /m);
  assert.match(configError({ bogus: 1 }).message, /^ {2}bogus=1: unknown option \(known: hooks, logDir, logFile, logLevel, /m);
  assert.match(configError('--sample-rate=0x10').message, /--sample-rate=0x10: must be a decimal integer from 0 to 1000$/);
  assert.match(configError('--rolling-size=5').message, /--rolling-size=5: below the minimum of 10 MiB/);
  assert.match(configError('-l 1 -l 2').message, /--log-level: given 2 times \("1", "2"\); give it once/);
  assert.match(configError('--log-level=').message, /--log-level: empty value; must be 1 or 2/);
  assert.match(configError('--hooks=periodic').message, /--update-period/);
  // A value whose edges are blank is quoted so the reader sees them.
  assert.match(configError('--log-level=" 2"').message, /--log-level=" 2": must be 1 or 2$/);
});

test('several problems are reported at once, each on its own line', () => {
  const err = configError('--hooks=foo -l 3 -r -5 --bogus stray -M 1 -S 7000');
  assert.deepEqual(
    err.problems.map((p) => p.option),
    ['--bogus', 'stray', '--hooks', '--log-level', '--sample-rate', '--rolling-size'],
  );
  assert.equal(err.message.split('\n').length, 1 + 6);
  assert.ok(err.problems.every((p) => p.line === undefined));
});

test('an object with several problems reports them all', () => {
  const err = configError({ logLevel: 9, sampleRate: 'all', hooks: 'x', typo: 1 });
  assert.equal(err.problems.length, 4);
});

test('input that is neither a string nor an object is a TypeError', () => {
  assert.throws(() => parseOptions(42), TypeError);
  assert.throws(() => parseOptions(['--log-level=2']), TypeError);
});

test('log file: stdout and stderr, however written, are the process\'s own output and never get ".log"', () => {
  for (const text of ['stdout', '/dev/stdout', '/proc/self/fd/1', '/dev/fd/1', '/dev//stdout', '/dev/../dev/stdout']) {
    assert.equal(parseOptions(`--log-file=${text}`).logFile, 'stdout', text);
  }
  for (const text of ['stderr', '/dev/stderr', '/proc/self/fd/2', '/dev/fd/2']) {
    assert.equal(parseOptions(`--log-file=${text}`).logFile, 'stderr', text);
  }
  assert.equal(parseOptions('--log-dir=/var/log --log-file=stdout').logFile, 'stdout');
  assert.equal(parseOptions('--log-dir=/dev --log-file=stderr').logFile, 'stderr');
  assert.equal(parseOptions('--log-dir=/proc/self/fd --log-file=1').logFile, 'stdout');
  assert.equal(parseOptions({ logFile: '/dev/stdout' }).logFile, 'stdout');
  // A file of that name in a directory is still a file: written so, it gets ".log" as any other.
  assert.equal(parseOptions('--log-file=./stdout').logFile, path.join(cwd, 'stdout.log'));
  assert.equal(parseOptions('--log-file=logs/stdout').logFile, path.join(cwd, 'logs/stdout.log'));
  assert.deepEqual(parseOptions('--log-file=stdout').notices, []);
  const row = describeOptions('--log-file=/dev/stdout').find((r) => r.option === '--log-file');
  assert.equal(row.value, 'stdout');
});

test('log file: ".log" is never appended to a FIFO, a device or a socket that exists; a file, a directory or a symlink keeps the rule', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tcpinfo-opt-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  execFileSync('mkfifo', [path.join(dir, 'pipe')]);
  fs.writeFileSync(path.join(dir, 'plain'), '');
  fs.mkdirSync(path.join(dir, 'sub'));
  fs.symlinkSync('/dev/null', path.join(dir, 'link'));
  const at = (name) => parseOptions(`--log-dir=${dir} --log-file=${name}`).logFile;
  assert.equal(at('pipe'), path.join(dir, 'pipe'));
  assert.equal(at(path.join(dir, 'pipe')), path.join(dir, 'pipe'));
  assert.equal(parseOptions('--log-file=/dev/null').logFile, '/dev/null');
  assert.equal(at('plain'), path.join(dir, 'plain.log'));
  assert.equal(at('sub'), path.join(dir, 'sub.log'));
  assert.equal(at('link'), path.join(dir, 'link.log'));
  assert.equal(at('absent'), path.join(dir, 'absent.log'));
});

test('queue-bytes: MiB by default, K/M/G suffixes as --rolling-size, 1 MiB to 16 GiB', () => {
  assert.equal(parseOptions('').queueBytes, 16 * MiB);
  assert.equal(parseOptions('--queue-bytes=1').queueBytes, MiB);
  assert.equal(parseOptions('--queue-bytes=64').queueBytes, 64 * MiB);
  assert.equal(parseOptions('--queue-bytes=1024K').queueBytes, MiB);
  assert.equal(parseOptions('--queue-bytes=512m').queueBytes, 512 * MiB);
  assert.equal(parseOptions('--queue-bytes=16G').queueBytes, 16 * 1024 * MiB);
  assert.equal(parseOptions({ queueBytes: 32 }).queueBytes, 32 * MiB);
  assert.equal(describeOptions('--queue-bytes=2048K').find((r) => r.option === '--queue-bytes').value, '2M');
});

test('rolling-max-count: 0 (keep all) by default, a decimal count', () => {
  assert.equal(parseOptions('').rollingMaxCount, 0);
  assert.equal(parseOptions('--rolling-max-count=7').rollingMaxCount, 7);
  assert.equal(parseOptions({ rollingMaxCount: 3 }).rollingMaxCount, 3);
  assert.deepEqual(parseOptions('--rolling-max-count=3 --rolling-enabled=0').notices, [
    '--rolling-max-count=3 has no effect with --rolling-enabled=0: the log never rolls',
  ]);
  assert.equal(describeOptions('--rolling-max-count=5').find((r) => r.option === '--rolling-max-count').value, '5');
});

test('rolling-size in MiB above 64 GiB: a notice saying it was surely meant as bytes, and which suffix to write', () => {
  assert.deepEqual(parseOptions('--rolling-size=10485760').notices, [
    '--rolling-size=10485760 is in MiB, as in Traffic Server: the file rolls at 10 TiB; for 10485760 bytes write --rolling-size=10M',
  ]);
  assert.deepEqual(parseOptions('--rolling-size=1073741824').notices, [
    '--rolling-size=1073741824 is in MiB, as in Traffic Server: the file rolls at 1024 TiB; for 1073741824 bytes write --rolling-size=1G',
  ]);
  assert.deepEqual(parseOptions('--rolling-size=100000').notices, [
    '--rolling-size=100000 is in MiB, as in Traffic Server: the file rolls at 97.7 GiB; for 100000 bytes write --rolling-size=98K (the least allowed is 10M)',
  ]);
  assert.equal(parseOptions('--rolling-size=10485760').rollingSize, 10485760 * MiB);
  // At 64 GiB, or with a suffix, it is what was meant.
  assert.deepEqual(parseOptions('--rolling-size=65536').notices, []);
  assert.deepEqual(parseOptions('--rolling-size=100G').notices, []);
  assert.deepEqual(parseOptions('--rolling-size=10485760K').notices, []);
});

test('stdout with rolling options: never rolled, and the rolling options given are named as ignored', () => {
  assert.deepEqual(parseOptions('--log-file=stdout --rolling-enabled=3 --rolling-size=100M --rolling-max-count=5').notices, [
    '--log-file=stdout is never rolled: --rolling-enabled, --rolling-size, --rolling-max-count ignored',
  ]);
  assert.deepEqual(parseOptions('--log-file=/dev/stderr -e 1 -S 3600').notices, ['--log-file=stderr is never rolled: --rolling-enabled, --rolling-interval-sec ignored']);
  // The default (rolling by time) is no surprise, nor is rolling turned off.
  assert.deepEqual(parseOptions('--log-file=stdout').notices, []);
  assert.deepEqual(parseOptions('--log-file=stdout --rolling-enabled=0').notices, []);
});

// ---------------------------------------------------------------------------------------------
// describeOptions

test('describeOptions: one row per option, effective values, what the user gave', () => {
  const rows = describeOptions('--log-level=2 -S 7000 -M 2048 --log-dir=/srv');
  assert.deepEqual(
    rows.map((r) => r.option),
    OPTION_SPECS.map((s) => `--${s.long}`),
  );
  const row = (name) => rows.find((r) => r.option === name);
  assert.deepEqual(row('--log-level'), { option: '--log-level', value: '2', isDefault: false, description: OPTION_SPECS[3].description });
  assert.equal(row('--rolling-interval-sec').value, '7200');
  assert.equal(row('--rolling-size').value, '2G');
  assert.equal(row('--log-file').value, '/srv/tcpinfo.log');
  assert.equal(row('--log-file').isDefault, true);
  assert.equal(row('--hooks').value, 'ssn_start,txn_close');
  assert.equal(row('--sample-seed').value, '');
  assert.ok(rows.every((r) => r.description.length > 0));
});

test('describeOptions throws the same error for bad input', () => {
  assert.throws(() => describeOptions('--log-level=3'), TcpinfoConfigError);
});

test('describeOptions of options parseOptions returned', () => {
  const rows = describeOptions(parseOptions({ sampleRate: 5 }));
  assert.equal(rows.find((r) => r.option === '--sample-rate').value, '5');
  assert.equal(rows.find((r) => r.option === '--sample-rate').isDefault, false);
});

test('--explain and --slow-ms: a switch and milliseconds; --explain needs txn_close (or --metrics)', () => {
  assert.equal(parseOptions('--explain').explain, true);
  assert.equal(parseOptions({ explain: true, slowMs: '250' }).slowMs, 250);
  assert.equal(parseOptions('--explain --slow-ms=0').slowMs, 0);
  assert.equal(parseOptions('--hooks=ssn_start --explain --metrics').explain, true);
  const slow = configError('--slow-ms=1.5');
  assert.deepEqual(slow.problems.map((p) => p.option), ['--slow-ms']);
  assert.match(slow.message, /--slow-ms=1\.5.*0 to 3600000/);
  const noClose = configError('--hooks=ssn_start,txn_start --explain');
  assert.equal(noClose.problems[0].option, '--explain');
  assert.match(noClose.message, /needs txn_close in --hooks/);
});
