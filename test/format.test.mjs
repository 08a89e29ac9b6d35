// The log format, both ways (issue 16 item 3): what the writer writes, the CLI's reader reads back with
// the same values. A reading is made by hand (every u32 word different, 64-bit fields above 2^32), so
// each column tells where it was read from; no socket, no disk.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseOptions } from '../dist/index.js';
import { FIXED_COLUMNS, LEVEL2_COLUMNS, columnUnit } from '../dist/format/columns.js';
import { createLineFormatter } from '../dist/format/line-format.js';
import { LogLineParser } from '../dist/format/log-record.js';
import { parseRolledName, rolledName, rolledNamesOf } from '../dist/format/rolled-name.js';
import { atsTimestamp, atsTimestampNow, parseAtsTimestamp } from '../dist/format/timestamp.js';
import { TCP_INFO_FIELDS, decodeField, fieldSpec } from '../dist/tcpinfo/layout.js';
import { Reading } from '../dist/tcpinfo/read.js';

// Addresses as Node caches them on a socket (tcpinfo/endpoints.ts reads those before asking a handle).
const SOCKET = { _peername: { address: '192.0.2.1', port: 40001 }, _sockname: { address: '192.0.2.2', port: 8080 } };

function reading(length = 280) {
  const bytes = Buffer.alloc(280);
  for (let i = 0; i < bytes.length / 4; i++) bytes.writeUInt32LE(1000 + i * 7, i * 4);
  // A 64-bit field beyond 2^32 (bytes_acked at 120): its high word counts.
  bytes.writeUInt32LE(3, 124);
  return new Reading(bytes, length);
}

/** What each column should read back as: the value of the struct field it shows. */
function expected(r, name) {
  const level2 = LEVEL2_COLUMNS.find((c) => c.name === name);
  return decodeField(fieldSpec(level2?.field ?? name), r.bytes, r.length) ?? undefined;
}

function formatAndParse(options, r, event = 'txn_close') {
  const formatter = createLineFormatter(parseOptions(options), 280);
  const before = Date.now();
  const line = formatter.format(event, SOCKET, null, r);
  const parser = new LogLineParser();
  if (formatter.header !== '') assert.equal(parser.parse(formatter.header.trimEnd()), undefined, 'the header is no record');
  const record = parser.parse(line.trimEnd());
  assert.ok(record !== undefined, line);
  assert.equal(parser.malformed, 0);
  assert.equal(parser.guessedLines, 0, 'the columns come from the header the writer wrote');
  return { record, line, before };
}

test('a level-2 text line reads back as the values it was formatted from', () => {
  const r = reading();
  const { record, before } = formatAndParse({ logLevel: 2 }, r);
  assert.equal(record.format, 'text');
  assert.deepEqual([record.event, record.client, record.server], ['txn_close', '192.0.2.1', '192.0.2.2']);
  // Text lines have whole seconds: the time read back is the second the line was written in.
  assert.ok(record.time <= Date.now() && record.time > before - 1000, `${record.time} vs ${before}`);
  const names = record.fields().map(([name]) => name);
  assert.deepEqual(names, LEVEL2_COLUMNS.map((c) => c.name));
  for (const name of names) assert.equal(record.number(name), expected(r, name), name);
});

test('text lines with --fields: 64-bit values exact, a field this kernel lacks read back as absent', () => {
  const r = reading(136); // a 4.1 kernel: min_rtt (4.6) and rcv_wnd (6.2) not returned
  const { record } = formatAndParse({ fields: 'rtt,bytes_acked,pacing_rate,state,min_rtt,rcv_wnd' }, r);
  assert.equal(record.number('bytes_acked'), 3 * 2 ** 32 + 1000 + 30 * 7);
  for (const name of ['rtt', 'bytes_acked', 'pacing_rate', 'state']) assert.equal(record.number(name), expected(r, name), name);
  assert.equal(record.number('min_rtt'), undefined);
  assert.deepEqual(record.fields().slice(-2), [['min_rtt', null], ['rcv_wnd', null]]);
});

test('a JSON line (every field) reads back as the values it was formatted from', () => {
  const r = reading();
  const before = Date.now();
  const { record } = formatAndParse({ format: 'json', fields: 'all' }, r, 'ssn_start');
  assert.equal(record.format, 'json');
  assert.deepEqual([record.event, record.client, record.server], ['ssn_start', '192.0.2.1', '192.0.2.2']);
  assert.ok(record.time >= before && record.time <= Date.now());
  for (const spec of TCP_INFO_FIELDS) assert.equal(record.number(spec.name), expected(r, spec.name), spec.name);
});

test('the reader knows the writer\'s columns without a header: level 2 in Traffic Server order', () => {
  const r = reading();
  const line = createLineFormatter(parseOptions({ logLevel: 2 }), 280).format('ssn_close', SOCKET, null, r);
  const parser = new LogLineParser();
  const record = parser.parse(line.trimEnd());
  assert.equal(parser.guessedLines, 1);
  for (const { name } of LEVEL2_COLUMNS) assert.equal(record.number(name), expected(r, name), name);
});

test('timestamps both ways: a time formats and parses back to its second, a timestamp parses and formats back to itself', () => {
  const year = new Date().getFullYear();
  for (const ms of [Date.UTC(2014, 3, 14, 17, 40, 14, 999), Date.UTC(year, 0, 1, 0, 0, 0), Date.UTC(year, 6, 1, 23, 59, 59, 1), Date.now()]) {
    const text = atsTimestamp(ms);
    assert.match(text, /^\d{8}\.\d{2}h\d{2}m\d{2}s$/);
    assert.equal(parseAtsTimestamp(text), ms - (ms % 1000), text);
    assert.equal(atsTimestamp(parseAtsTimestamp(text)), text);
  }
  assert.equal(parseAtsTimestamp(atsTimestampNow()), Math.floor(Date.now() / 1000) * 1000);
  for (const bad of ['20141314.17h40m14s', '2014041.17h40m14s', '20140414.17h40m14', 'timestamp']) assert.ok(Number.isNaN(parseAtsTimestamp(bad)), bad);
});

test('rolled names both ways: the writer\'s name parses back to its log, host, start, end and version', () => {
  const start = new Date(2026, 0, 3, 0, 0, 0).getTime();
  const end = new Date(2026, 0, 3, 5, 30, 0).getTime();
  for (const [host, version] of [['web1', 0], ['pod-7f9c.example.com', 2], ['web_1', 1]]) {
    const path = rolledName('/var/log/tcpinfo.log', host, start, end, version);
    // Any log's names (the CLI's reading) split at the last "_": host names have none (web_1 is read back
    // only by its own log's reader, below).
    const anyLog = host.includes('_') ? [] : [parseRolledName(path), parseRolledName(`${path}.gz`)];
    for (const parsed of anyLog) {
      assert.deepEqual(
        { ...parsed, startText: undefined, endText: undefined },
        { logFile: 'tcpinfo.log', host, start, end, version, startText: undefined, endText: undefined },
        path,
      );
    }
    // Retention reads its own log's names the same way (a host with "_" only when it is its own).
    const own = rolledNamesOf('tcpinfo.log', 'web_1')(path.slice('/var/log/'.length));
    assert.deepEqual([own.host, own.start, own.end, own.version], [host, start, end, version]);
    assert.deepEqual([own.startText, own.endText], [atsTimestamp(start), atsTimestamp(end)]);
  }
  assert.equal(parseRolledName('/var/log/tcpinfo.log'), undefined);
  assert.equal(rolledNamesOf('tcpinfo.log', 'web1')('tcpinfo.log_b.log_web1.20260103.00h00m00s-20260103.05h30m00s.old'), undefined);
});

test('column units come from the struct layout, for level-2 names too', () => {
  assert.deepEqual(FIXED_COLUMNS, ['timestamp', 'event', 'client', 'server']);
  assert.equal(columnUnit('rtt'), 'us');
  assert.equal(columnUnit('last_sent'), 'ms', 'an ATS column name: the unit of last_data_sent');
  assert.equal(columnUnit('all_retrans'), fieldSpec('total_retrans').unit);
  assert.equal(columnUnit('delivery_rate'), 'bytes/s');
  assert.equal(columnUnit('conn'), undefined);
});

test('a text line written as bytes (formatInto, the hot path) is the same line as format\'s string, byte for byte', () => {
  const EVENTS = ['ssn_start', 'txn_start', 'send_resp_hdr', 'txn_close', 'ssn_close', 'periodic', 'txn_delivered'];
  const V6 = { _peername: { address: '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', port: 1 }, _sockname: { address: '::ffff:192.0.2.2', port: 2 } };
  // No address readable (a connection reset before the first read): `-` in both.
  const GONE = { _handle: null };
  const explained = {
    verdict: 'network',
    timing: {
      ttfb_us: 1234, end_us: NaN, duration_us: 98765, delivered_us: 2 ** 40 + 1, judged_us: 0, server_us: 1, client_us: 99,
      network_us: 4294967295, upload_us: 0, ack_delay_us: NaN, resp_bytes: -12, txn_retrans: 0, txn_busy_us: NaN,
      txn_rwnd_limited_us: 10.5, txn_sndbuf_limited_us: 0, wnd_limited_us: 4294967296, flow_held_us: 7, unsent_bytes: NaN,
      min_rtt_us: 3, ended: 'gave_up', shared: true,
    },
  };
  // Values at every digit-count boundary, a seeded mix of them per word.
  const edges = [0, 1, 9, 10, 99, 100, 999, 1000, 65535, 999999, 1_000_000, 2 ** 31 - 1, 2 ** 31, 4294967294, 4294967295];
  let seed = 7;
  const next = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0);
  const cases = [
    [{ logLevel: 1 }, 280],
    [{ logLevel: 2 }, 280],
    [{ logLevel: 2 }, 104], // an old kernel: the level-2 columns it lacks are `-`
    [{ fields: 'rtt,bytes_acked,pacing_rate,state,ca_state,retransmits,min_rtt,rcv_wnd,delivery_rate' }, 136],
    [{ fields: 'all' }, 280],
    [{ logLevel: 2, explain: true }, 280],
  ];
  let compared = 0;
  for (const [options, length] of cases) {
    const formatter = createLineFormatter(parseOptions(options), 280);
    assert.ok(formatter.maxLineBytes > 0, 'text lines have the byte path');
    for (let round = 0; round < 40; round++) {
      const r = reading(length);
      for (let w = 0; w < r.words.length; w++) r.words[w] = round === 0 ? 4294967295 : edges[next() % edges.length];
      const socket = [SOCKET, V6, GONE][round % 3];
      const event = EVENTS[round % EVENTS.length];
      for (const why of options.explain ? [explained, null] : [undefined]) {
        const buf = Buffer.alloc(formatter.maxLineBytes + 8, 0xff);
        for (let tries = 0; tries < 3; tries++) {
          const second = Math.floor(Date.now() / 1000);
          const text = formatter.format(event, socket, null, r, why);
          const end = formatter.formatInto(buf, 3, EVENTS.indexOf(event), socket, null, r, why);
          // Not across a second's turn: the timestamps would differ.
          if (Math.floor(Date.now() / 1000) !== second) continue;
          assert.equal(buf.toString('latin1', 3, end), text, `${JSON.stringify(options)} round ${round}`);
          assert.ok(end - 3 <= formatter.maxLineBytes, `${end - 3} bytes within maxLineBytes ${formatter.maxLineBytes}`);
          assert.equal(buf[2], 0xff, 'nothing written before `at`');
          compared++;
          break;
        }
      }
    }
  }
  assert.ok(compared >= 200, `${compared} lines compared`);
  // JSON lines stay strings (their path is free text).
  assert.equal(createLineFormatter(parseOptions({ format: 'json' }), 280).maxLineBytes, 0);
});
