// The pure parts of the `tcpinfo` command, in-process: argument values, the record filter, units,
// escaping, value counts and percentiles, summary statistics, and the tail renderers.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UsageError, eventList, nonNegativeDecimal, nonNegativeInteger, pointInTime, usageErrors, verdictList } from '../dist/cli/args.js';
import { escapeControls, safeJson } from '../dist/cli/escape.js';
import { LogLineParser } from '../dist/format/log-record.js';
import { LineSplitter } from '../dist/cli/line-splitter.js';
import { accepts, clientList } from '../dist/cli/record-filter.js';
import { EventStats, SummaryStats, histogramBuckets } from '../dist/cli/summary-stats.js';
import { AlignedRenderer, JsonRenderer, PlainRenderer } from '../dist/cli/tail-render.js';
import { bytes, fieldTitle, grouped, localTime, microsAsMs, readableValue } from '../dist/cli/units.js';
import { ValueCounts } from '../dist/cli/value-counts.js';

const HEADER = 'timestamp event client server rtt rttvar snd_cwnd all_retrans';

/** Records from text lines under `header` (or JSON lines), through the command's own parser. */
function records(lines, header = HEADER) {
  const parser = new LogLineParser();
  return [header, ...lines].map((line) => parser.parse(line)).filter((r) => r !== undefined);
}

/** Nearest-rank percentile, the plain way: sort everything, take rank ceil(p * n / 100). */
function nearestRank(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil((p * sorted.length) / 100)) - 1];
}

describe('cli log lines', () => {
  test('the splitter leaves out empty lines, LF or CRLF, without a string each; lines around them and across chunks intact', () => {
    const splitter = new LineSplitter(16);
    const out = [];
    splitter.push(Buffer.alloc(1 << 20, 10), out);
    assert.deepEqual(out, [], 'a megabyte of newlines is no line');
    splitter.push(Buffer.from('\r\n\r\n\n\na b\r\n\n\r\n\nc'), out);
    splitter.push(Buffer.from('d\n\n\n\r'), out);
    splitter.push(Buffer.from('\n\n\r\nlong line, '), out);
    splitter.push(Buffer.from('over 16\n\n\n'), out);
    splitter.push(Buffer.from('\nx'), out);
    splitter.end(out);
    // A CRLF cut by a chunk boundary is one empty string: once a chunk at most.
    assert.deepEqual(out, ['a b', 'cd', '', 'x']);
    assert.equal(splitter.overlong, 1);
  });

  test('a JSON line whose values nest deeper than 64 is not a reading (counted): showing it would overflow the stack', () => {
    const parser = new LogLineParser();
    const line = (depth) => `{"time":"2026-11-23T10:00:00.000Z","event":"txn_close","rtt":1,"x":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const ok = parser.parse(line(64));
    assert.equal(ok.number('rtt'), 1);
    assert.equal(JSON.stringify(ok.toJSON()).length, line(64).length);
    assert.equal(parser.parse(line(65)), undefined);
    assert.equal(parser.parse(line(500_000)), undefined);
    assert.equal(parser.parse(`{"time":"2026-11-23T10:00:00.000Z","event":"e","x":{"a":[${'{"b":'.repeat(100)}1${'}'.repeat(100)}]}}`), undefined);
    assert.equal(parser.malformed, 3);
  });
});

describe('cli args', () => {
  test('--verdict: a comma list of the verdicts the plugin writes', () => {
    assert.deepEqual([...verdictList('--verdict', 'network, mixed,')], ['network', 'mixed']);
    assert.throws(() => verdictList('--verdict', 'network,slow'), { name: 'UsageError', message: '--verdict=network,slow: unknown verdict slow; allowed: unknown, ok, server, client, network, mixed' });
    assert.throws(() => verdictList('--verdict', ','), /unknown verdict \(none given\)/);
  });

  test('counts and decimals: digits only; anything else is a UsageError naming the option and value', () => {
    assert.equal(nonNegativeInteger('-n', '0'), 0);
    assert.equal(nonNegativeInteger('-n', '250'), 250);
    for (const bad of ['-3', '1.5', '', 'ten', '1e3', '99999999999999999999']) {
      assert.throws(() => nonNegativeInteger('-n', bad), (err) => err instanceof UsageError && err.message === `-n=${bad}: must be a whole number, 0 or more`, bad);
    }
    assert.equal(nonNegativeDecimal('--min-rtt', '2.5'), 2.5);
    assert.equal(nonNegativeDecimal('--min-rtt', '20'), 20);
    for (const bad of ['-1', '.5', '2.', 'fast', '1e2']) {
      assert.throws(() => nonNegativeDecimal('--min-rtt', bad), /^UsageError: --min-rtt=.*: must be a number, 0 or more/, bad);
    }
  });

  test('event lists: known names, spaces and empty items ignored; an unknown one is named with the allowed ones', () => {
    assert.deepEqual([...eventList('--event', 'txn_close, ssn_start,,periodic')], ['txn_close', 'ssn_start', 'periodic']);
    assert.throws(() => eventList('--event', 'txn_clsoe,ssn_start'), /--event=txn_clsoe,ssn_start: unknown event txn_clsoe; allowed: ssn_start, .*periodic/);
    assert.throws(() => eventList('--event', ','), /unknown event \(none given\)/);
  });

  test('points in time: durations ago, the log timestamp, ISO dates (local midnight) and date-times', () => {
    const now = Date.UTC(2026, 10, 23, 12);
    assert.equal(pointInTime('--since', '90s', now), now - 90_000);
    assert.equal(pointInTime('--since', '15m', now), now - 900_000);
    assert.equal(pointInTime('--since', '2h', now), now - 7_200_000);
    assert.equal(pointInTime('--since', '7d', now), now - 7 * 86_400_000);
    assert.equal(pointInTime('--since', '20261123.14h05m09s'), new Date(2026, 10, 23, 14, 5, 9).getTime());
    assert.equal(pointInTime('--since', '2026-11-23'), new Date(2026, 10, 23).getTime());
    assert.equal(pointInTime('--since', '2026-11-23T14:05'), new Date(2026, 10, 23, 14, 5).getTime());
    assert.equal(pointInTime('--since', '2026-11-23 14:05:09'), new Date(2026, 10, 23, 14, 5, 9).getTime());
    assert.equal(pointInTime('--since', '2026-11-23T14:05:09Z'), Date.UTC(2026, 10, 23, 14, 5, 9));
    for (const bad of ['yesterday', '2026-02-30', '2h ago', '20261323.14h05m09s', '3w']) {
      assert.throws(() => pointInTime('--until', bad), (err) => err instanceof UsageError && err.message.startsWith(`--until=${bad}: not a time; use `), bad);
    }
  });

  test('usageErrors: a parse error becomes a UsageError with its first sentence; others pass through', () => {
    const unknown = Object.assign(new TypeError("Unknown option '--bogus'. To specify a positional argument starting with a '-'..."), { code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' });
    assert.throws(() => usageErrors(() => { throw unknown; }), (err) => err instanceof UsageError && err.message === "Unknown option '--bogus'");
    assert.throws(() => usageErrors(() => { throw new Error('first line\nsecond'); }), (err) => err instanceof UsageError && err.message === 'first line');
    assert.equal(usageErrors(() => 42), 42);
  });
});

describe('cli record filter', () => {
  const [a, b, c, d] = records([
    '20261123.10h00m00s ssn_start 10.1.2.3 127.0.0.1 900 10 10 0',
    '20261123.10h00m01s txn_close 10.9.0.1 127.0.0.1 20000 10 10 0',
    '20261123.10h00m02s txn_close 192.168.1.5 127.0.0.1 19999 10 10 0',
    '20261123.10h00m03s txn_close 2001:db8::7 ::1 - 10 10 0',
  ]);

  test('client lists: addresses and CIDR subnets of both families; a bad entry is named', () => {
    const list = clientList('--client', '10.0.0.0/8, ::1,2001:db8::/32');
    assert.equal(list.check('10.200.0.1', 'ipv4'), true);
    assert.equal(list.check('11.0.0.1', 'ipv4'), false);
    assert.equal(list.check('::1', 'ipv6'), true);
    assert.equal(list.check('2001:db8:ffff::1', 'ipv6'), true);
    for (const bad of ['999.1.1.1', '10.0.0.0/33', '::1/129', '10.0.0.0/', '10.0.0.0/8/8', 'host.example', '10.0.0.0/x']) {
      assert.throws(() => clientList('--client', bad), new RegExp(`^UsageError: --client=${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: .* is not an IP address or subnet`), bad);
    }
    assert.throws(() => clientList('--client', ' , '), /give an address or subnet/);
  });

  test('every part must pass: events, clients, rtt at or above (µs), since inclusive, until exclusive', () => {
    const keep = (filter) => [a, b, c, d].filter((r) => accepts(filter, r)).map((r) => r.timeText.slice(-3));
    assert.deepEqual(keep({}), ['00s', '01s', '02s', '03s']);
    assert.deepEqual(keep({ events: new Set(['txn_close']) }), ['01s', '02s', '03s']);
    assert.deepEqual(keep({ clients: clientList('--client', '10.0.0.0/8') }), ['00s', '01s']);
    assert.deepEqual(keep({ clients: clientList('--client', '2001:db8::/32') }), ['03s']);
    // A reading without rtt (`-`) never passes an rtt threshold.
    assert.deepEqual(keep({ minRttUs: 20_000 }), ['01s']);
    assert.deepEqual(keep({ since: b.time, until: d.time }), ['01s', '02s']);
    assert.deepEqual(keep({ events: new Set(['txn_close']), minRttUs: 19_999, clients: clientList('--client', '192.168.0.0/16') }), ['02s']);
  });
});

describe('cli units and escaping', () => {
  test('titles say ms for time fields; values in ms with three decimals, bytes in binary units, rates per second', () => {
    assert.deepEqual(['rtt', 'last_sent', 'snd_cwnd', 'bytes_acked', 'delivery_rate'].map(fieldTitle), ['rtt(ms)', 'last_sent(ms)', 'snd_cwnd', 'bytes_acked', 'delivery_rate']);
    assert.equal(microsAsMs(2500), '2.500');
    assert.equal(microsAsMs(7), '0.007');
    assert.deepEqual([0, 1023, 1024, 1536, 5 * 1024 * 1024, 3 * 1024 ** 4, 2048 * 1024 ** 4].map(bytes), ['0B', '1023B', '1.0KiB', '1.5KiB', '5.0MiB', '3.0TiB', '2048.0TiB']);
    assert.equal(readableValue('rtt', 2500), '2.500');
    assert.equal(readableValue('rtt', '2500'), '2.500');
    assert.equal(readableValue('last_sent', 40), '40', 'already in ms');
    assert.equal(readableValue('bytes_received', 2048), '2.0KiB');
    assert.equal(readableValue('notsent_bytes', 10), '10B');
    assert.equal(readableValue('pacing_rate', 1024 * 1024), '1.0MiB/s');
    assert.equal(readableValue('snd_cwnd', 10), '10');
    assert.equal(readableValue('snd_ssthresh', 0x7fffffff), 'inf');
    assert.equal(readableValue('rcv_ssthresh', 0x7fffffff), String(0x7fffffff));
    assert.equal(readableValue('rtt', null), '-');
    assert.equal(readableValue('rtt', 'n/a'), 'n/a');
    assert.equal(readableValue('rtt', ''), '');
  });

  test('grouped thousands and local time, whatever the locale', () => {
    assert.deepEqual([0, 999, 1000, 12345, 1234567].map(grouped), ['0', '999', '1,000', '12,345', '1,234,567']);
    assert.equal(localTime(new Date(2026, 0, 2, 3, 4, 5).getTime()), '2026-01-02 03:04:05');
    assert.equal(localTime(new Date(2026, 10, 23, 14, 5, 9).getTime()), '2026-11-23 14:05:09');
  });

  test('control characters: C0 (tab, newline too), DEL and C1 escaped as \\xHH; JSON escapes DEL and C1 as \\u00HH', () => {
    assert.equal(escapeControls('plain €'), 'plain €');
    assert.equal(escapeControls('\x1b]0;t\x07\tq\nr\x7f\x9b\x00'), '\\x1b]0;t\\x07\\x09q\\x0ar\\x7f\\x9b\\x00');
    assert.equal(safeJson({ u: 'a\x1b\x7f\x85\x9f€' }), '{"u":"a\\u001b\\u007f\\u0085\\u009f€"}');
    assert.deepEqual(JSON.parse(safeJson({ u: 'a\x1b\x7f\x85\x9f€' })), { u: 'a\x1b\x7f\x85\x9f€' });
    assert.equal(safeJson({ a: 1 }, 2), '{\n  "a": 1\n}');
  });

  test('bidi controls (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) and U+2028/U+2029 escaped as \\uHHHH, in text and JSON', () => {
    const bidi = [0x61c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x2028, 0x2029];
    for (const code of bidi) {
      const c = String.fromCharCode(code);
      const escaped = `\\u${code.toString(16).padStart(4, '0')}`;
      assert.equal(escapeControls(`a${c}b`), `a${escaped}b`);
      assert.equal(safeJson({ u: `a${c}b` }), `{"u":"a${escaped}b"}`);
      assert.deepEqual(JSON.parse(safeJson({ u: `a${c}b` })), { u: `a${c}b` });
    }
    // The file a user sees as "invoice_exe.pdf", and the printable neighbours left as they are.
    assert.equal(escapeControls('invoice_\u202efdp.exe'), 'invoice_\\u202efdp.exe');
    assert.equal(escapeControls('\u200d\u2027\u202f\u2065\u206a\u061b'), '\u200d\u2027\u202f\u2065\u206a\u061b');
    assert.equal(escapeControls('\x1b\u202e'), '\\x1b\\u202e');
  });
});

describe('cli value counts and summary statistics', () => {
  test('nearest-rank percentiles equal sorting every value, for many sizes and repeats', () => {
    for (const n of [1, 2, 3, 7, 10, 99, 100, 101, 1000]) {
      const values = Array.from({ length: n }, (_, i) => (i * 7919) % 97);
      const counts = new ValueCounts();
      for (const v of values) counts.add(v);
      assert.equal(counts.total, n);
      for (const p of [0, 1, 25, 50, 90, 99, 99.9, 100]) assert.equal(counts.percentile(p), nearestRank(values, p), `n=${n} p=${p}`);
      assert.equal(counts.max(), Math.max(...values));
    }
    // Float error does not push an exact rank to the next: 8.8 * 375 / 100 = 33.00000000000001.
    const many = new ValueCounts();
    for (let i = 1; i <= 375; i++) many.add(i);
    assert.equal(many.percentile(8.8), 33);
    assert.deepEqual(new ValueCounts().percentiles([50, 99]), [undefined, undefined]);
    assert.equal(new ValueCounts().max(), undefined);
  });

  test('add with times, addAll, and entries in ascending order', () => {
    const a = new ValueCounts();
    a.add(30, 2);
    a.add(10);
    const b = new ValueCounts();
    b.add(20, 3);
    b.add(10);
    a.addAll(b);
    assert.deepEqual([...a.entries()], [[10, 2], [20, 3], [30, 2]]);
    assert.equal(a.total, 7);
    assert.deepEqual(a.percentiles([50, 100]), [20, 30]);
  });

  test('per event: rtt, rttvar, cwnd; retransmissions by all_retrans or total_retrans, else by retrans', () => {
    const cumulative = new EventStats();
    for (const r of records(['20261123.10h00m00s txn_close 10.0.0.1 127.0.0.1 100 5 10 0', '20261123.10h00m00s txn_close 10.0.0.1 127.0.0.1 300 7 12 2'])) cumulative.add(r);
    assert.equal(cumulative.count, 2);
    assert.deepEqual([cumulative.rtt.percentile(50), cumulative.rttvar.max(), cumulative.cwnd.max()], [100, 7, 12]);
    assert.deepEqual(cumulative.retransShare(), { field: 'all_retrans', lines: 2, withRetrans: 1, share: 0.5 });

    const kernel = new EventStats();
    for (const r of records(['{"time":"2026-11-23T10:00:00Z","event":"txn_close","client":"::1","server":"::1","total_retrans":3}'])) kernel.add(r);
    assert.deepEqual(kernel.retransShare(), { field: 'all_retrans', lines: 1, withRetrans: 1, share: 1 });

    const current = new EventStats();
    const header = 'timestamp event client server rtt retrans';
    for (const r of records(['20261123.10h00m00s ssn_start 10.0.0.1 127.0.0.1 100 0', '20261123.10h00m00s ssn_start 10.0.0.1 127.0.0.1 100 0', '20261123.10h00m00s ssn_start 10.0.0.1 127.0.0.1 100 1', '20261123.10h00m00s ssn_start 10.0.0.1 127.0.0.1 100 -'], header)) current.add(r);
    assert.deepEqual(current.retransShare(), { field: 'retrans', lines: 3, withRetrans: 1, share: 1 / 3 });

    const none = new EventStats();
    for (const r of records(['20261123.10h00m00s ssn_start 10.0.0.1 127.0.0.1 100'], 'timestamp event client server rtt')) none.add(r);
    assert.equal(none.retransShare(), undefined);
  });

  test('the summary: events in transaction order then by name, the time span, all rtt, top clients by p90', () => {
    const stats = new SummaryStats(true);
    const lines = [
      '20261123.10h00m05s txn_close 10.0.0.1 127.0.0.1 100 1 1 0',
      '20261123.10h00m01s zebra 10.0.0.2 127.0.0.1 5000 1 1 0',
      '20261123.10h00m02s ssn_start 10.0.0.2 127.0.0.1 4000 1 1 0',
      '20261123.10h00m03s periodic 10.0.0.3 127.0.0.1 300 1 1 0',
      '20261123.10h00m04s txn_start 10.0.0.3 127.0.0.1 - 1 1 0',
      '20261123.10h00m06s alpha 10.0.0.1 127.0.0.1 200 1 1 0',
    ];
    const recs = records(lines);
    for (const r of recs) stats.add(r);
    assert.equal(stats.readings, 6);
    assert.deepEqual(stats.eventsInOrder().map(([name]) => name), ['ssn_start', 'txn_start', 'txn_close', 'periodic', 'alpha', 'zebra']);
    assert.equal(stats.first, recs[1].time);
    assert.equal(stats.last, recs[5].time);
    assert.deepEqual([...stats.allRtt().entries()].map(([v]) => v), [100, 200, 300, 4000, 5000]);
    assert.deepEqual(stats.topClients(2, 1), [
      { client: '10.0.0.2', count: 2, p50: 4000, p90: 5000, max: 5000 },
      { client: '10.0.0.3', count: 2, p50: 300, p90: 300, max: 300 },
    ]);
    assert.deepEqual(stats.topClients(5, 2).map((c) => c.client), ['10.0.0.2', '10.0.0.1'], 'at least 2 readings with rtt');
    const untracked = new SummaryStats(false);
    for (const r of recs) untracked.add(r);
    assert.equal(untracked.clients.size, 0);
  });

  test('histogram: 1-2-5 edges in µs, from the first bucket with readings to the last, every reading counted once', () => {
    assert.deepEqual(histogramBuckets(new ValueCounts()), []);
    const rtt = new ValueCounts();
    for (const v of [150, 199, 200, 499, 2600, 2600]) rtt.add(v);
    assert.deepEqual(histogramBuckets(rtt), [
      { from: 100, to: 200, count: 2 },
      { from: 200, to: 500, count: 2 },
      { from: 500, to: 1000, count: 0 },
      { from: 1000, to: 2000, count: 0 },
      { from: 2000, to: 5000, count: 2 },
    ]);
    const zero = new ValueCounts();
    zero.add(0);
    assert.deepEqual(histogramBuckets(zero), [{ from: 0, to: 10, count: 1 }]);
  });
});

describe('cli tail renderers', () => {
  const text = records([
    '20261123.14h05m09s txn_close 10.0.0.1 127.0.0.1 2500 120 10 0',
    '20261123.14h05m10s txn_close 10.0.0.22 127.0.0.1 123456 120 10 3',
  ]);

  test('plain: tab-separated, the log values as they are, a title line once and again when the columns change', () => {
    const plain = new PlainRenderer();
    assert.equal(plain.render(text[0]), 'timestamp\tevent\tclient\tserver\trtt\trttvar\tsnd_cwnd\tall_retrans\n20261123.14h05m09s\ttxn_close\t10.0.0.1\t127.0.0.1\t2500\t120\t10\t0\n');
    assert.equal(plain.render(text[1]), '20261123.14h05m10s\ttxn_close\t10.0.0.22\t127.0.0.1\t123456\t120\t10\t3\n');
    const [other] = records(['20261123.14h05m11s ssn_start 10.0.0.1 127.0.0.1 7 -'], 'timestamp event client server rtt min_rtt');
    assert.equal(plain.render(other), 'timestamp\tevent\tclient\tserver\trtt\tmin_rtt\n20261123.14h05m11s\tssn_start\t10.0.0.1\t127.0.0.1\t7\t-\n');
    const only = new PlainRenderer(['all_retrans', 'nope']);
    assert.equal(only.render(text[1]), 'timestamp\tevent\tclient\tserver\tall_retrans\tnope\n20261123.14h05m10s\ttxn_close\t10.0.0.22\t127.0.0.1\t3\t-\n');
  });

  test('json: the record as one object, or the fixed four and the chosen fields (numbers as numbers)', () => {
    const [json] = records(['{"time":"2026-11-23T14:05:09.123Z","event":"txn_close","client":"::1","server":"::1","rtt":2500,"url":"/x\\u001b"}']);
    assert.equal(new JsonRenderer().render(json), '{"time":"2026-11-23T14:05:09.123Z","event":"txn_close","client":"::1","server":"::1","rtt":2500,"url":"/x\\u001b"}\n');
    const chosen = JSON.parse(new JsonRenderer(['rtt', 'all_retrans', 'lost']).render(text[1]));
    assert.deepEqual(chosen, { time: chosen.time, event: 'txn_close', client: '10.0.0.22', server: '127.0.0.1', rtt: 123456, all_retrans: 3, lost: null });
  });

  test('aligned: readable units, columns that line up and only grow, a bold title when colour is on', () => {
    const aligned = new AlignedRenderer(false);
    const out = aligned.render(text[0]) + aligned.render(text[1]);
    const [title, first, second] = out.trimEnd().split('\n');
    assert.match(title, /^time {17}event {10}client {11}server {11}rtt\(ms\) +rttvar\(ms\) +snd_cwnd +all_retrans$/);
    assert.deepEqual(first.split(/ {2,}/), [localTime(text[0].time), 'txn_close', '10.0.0.1', '127.0.0.1', '2.500', '0.120', '10', '0']);
    assert.deepEqual(second.split(/ {2,}/).slice(4), ['123.456', '0.120', '10', '3']);
    const ends = (line) => [...line.matchAll(/\S+/g)].map((m) => m.index + m[0].length);
    assert.deepEqual(ends(first).slice(-4), ends(title).slice(-4));
    assert.deepEqual(ends(second).slice(-3), ends(first).slice(-3));
    assert.ok(new AlignedRenderer(true).render(text[0]).startsWith('\x1b[1mtime'));
  });

  test('aligned on a narrow terminal: the priority fields that fit, the others named once', () => {
    const hidden = [];
    const narrow = new AlignedRenderer(false, undefined, 100, (names) => hidden.push(names));
    const [title] = narrow.render(text[0]).split('\n');
    assert.ok(title.length <= 100, title);
    // 68 columns for time, event, client, server; then rtt(ms) 9, rttvar(ms) 12, snd_cwnd 10: 99.
    assert.match(title, /rtt\(ms\) +rttvar\(ms\) +snd_cwnd$/);
    assert.deepEqual(hidden, [['all_retrans']]);
    narrow.render(text[1]);
    assert.equal(hidden.length, 1, 'told once, not per line');
    // Unknown width, or a pseudo-terminal reporting 0: every column.
    assert.match(new AlignedRenderer(false, undefined, 0).render(text[0]), /all_retrans/);
  });

  test('--explain columns: times in ms as _ms, bytes readable, words as they are; on a narrow terminal they outrank TCP_INFO detail', () => {
    assert.deepEqual(['judged_us', 'min_rtt_us', 'txn_rwnd_limited_us', 'resp_bytes', 'unsent_bytes', 'txn_retrans', 'ended', 'verdict', 'rtt'].map(fieldTitle),
      ['judged_ms', 'min_rtt_ms', 'txn_rwnd_limited_ms', 'resp_bytes', 'unsent_bytes', 'txn_retrans', 'ended', 'verdict', 'rtt(ms)']);
    assert.equal(readableValue('judged_us', '3700000'), '3700.000');
    assert.equal(readableValue('ttfb_us', 25), '0.025');
    assert.equal(readableValue('resp_bytes', '4300000'), '4.1MiB');
    assert.equal(readableValue('txn_retrans', '344'), '344');
    assert.equal(readableValue('verdict', 'network'), 'network');
    assert.equal(readableValue('delivered_us', null), '-');

    const header = 'timestamp event client server rtt rttvar snd_cwnd snd_ssthresh rcv_ssthresh fackets all_retrans judged_us server_us client_us network_us ended shared verdict';
    const [delivered] = records(['20261201.10h00m04s txn_delivered 192.0.2.7 10.0.0.1 7900 50 10 2147483647 64000 0 0 3700000 1500000 0 2200000 acked 0 mixed'], header);
    const hidden = [];
    // 68 for the fixed four; verdict 9, judged_ms 11, server_ms 11, client_ms 11, network_ms 12, ended 9, rtt(ms) 9: 140.
    const [title, row] = new AlignedRenderer(false, undefined, 140, (names) => hidden.push(...names)).render(delivered).trimEnd().split('\n');
    assert.match(title, /server +rtt\(ms\) +judged_ms +server_ms +client_ms +network_ms +ended +verdict$/);
    assert.deepEqual(row.split(/ {2,}/).slice(4), ['7.900', '3700.000', '1500.000', '0.000', '2200.000', 'acked', 'mixed']);
    assert.deepEqual(hidden, ['rttvar', 'snd_cwnd', 'snd_ssthresh', 'rcv_ssthresh', 'fackets', 'all_retrans', 'shared']);
  });

  test('every renderer escapes what the log holds', () => {
    const [evil] = records(['20261123.14h05m09s txn\x1b[2J 10.0.0.1\x07 127.0.0.1 5 1 1 0']);
    for (const renderer of [new PlainRenderer(), new AlignedRenderer(false), new JsonRenderer()]) {
      const out = renderer.render(evil);
      // eslint-disable-next-line no-control-regex -- control characters are what this looks for
      assert.doesNotMatch(out, /[\x00-\x08\x0b-\x1f\x7f-\x9f]/, out);
      assert.ok(out.includes('1b'), out);
    }
  });
});
