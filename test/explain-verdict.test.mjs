// The verdict judged at delivery, on its own (pure functions, no sockets): the judged time split into the
// server's, the client's and the network's shares, each class of cause of docs/explain.md with its numbers,
// the `mixed` threshold on both sides, and the columns from the readings.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ACK_DELAY_MAX_US, DEFAULT_SLOW_MS, SECOND_CAUSE_SHARE, judge, largestShare } from '../dist/explain/verdict.js';
import { readingFromStruct, streamEnd, transactionTiming, windowLimited } from '../dist/explain/transaction-timing.js';

/** A transaction on a quiet path: ended at 5 ms, handed off at 6 ms, acknowledged at 10 ms; override what a case needs. */
function input(over = {}) {
  return {
    baseline: true, until_us: 10_000, ack_delay_us: 0, end_us: 5_000, handoff_us: 6_000, upload_us: 0, backlog_us: 0,
    flow_held_us: 0, busy_us: 5_000, rwnd_limited_us: 0, sndbuf_limited_us: 0, wnd_limited_us: 0, ...over,
  };
}

function sumOf(j) {
  return j.server_us + j.client_us + j.network_us;
}

test('the shares always sum to the judged time', () => {
  const cases = [
    input(), input({ until_us: 2_000_000, end_us: 1_500_000, busy_us: 400_000, rwnd_limited_us: 100_000 }),
    input({ until_us: 3_000_000, upload_us: 2_000_000, end_us: 2_100_000 }), input({ ack_delay_us: 40_000, until_us: 45_000 }),
    input({ until_us: 900_000, end_us: 100, wnd_limited_us: 500_000, busy_us: 899_000, rwnd_limited_us: 300_000 }),
  ];
  for (const c of cases) {
    const j = judge(c);
    assert.equal(sumOf(j), j.judged_us, JSON.stringify(c));
  }
});

test('ok below --slow-ms, strictly; unknown without a baseline or chronographs', () => {
  assert.equal(DEFAULT_SLOW_MS, 100);
  assert.equal(judge(input({ until_us: 99_999, end_us: 99_000 })).verdict, 'ok');
  assert.equal(judge(input({ until_us: 100_000, end_us: 99_000 })).verdict, 'server');
  assert.equal(judge(input({ until_us: 40_000, end_us: 39_000 }), 30).verdict, 'server');
  assert.equal(judge(input({ baseline: false })).verdict, 'unknown');
  assert.equal(judge(input({ busy_us: NaN, until_us: 5_000_000 })).verdict, 'unknown');
});

test('a slow handler: the time before end() with no backlog is the server\'s', () => {
  const j = judge(input({ until_us: 305_000, end_us: 300_000, handoff_us: 300_100, busy_us: 4_000 }));
  assert.equal(j.verdict, 'server');
  assert.equal(j.server_us, 300_000);
});

test('a slow producer at a real RTT is the server\'s, though the chunks kept data in flight (busy) all along', () => {
  // Five chunks 100 ms apart over a 50 ms RTT: busy about half of the time, the last ACK one RTT after end().
  const j = judge(input({ until_us: 550_000, end_us: 500_000, handoff_us: 500_200, busy_us: 300_000 }));
  assert.equal(j.verdict, 'server');
  assert.ok(j.network_us <= 50_000, JSON.stringify(j));
});

test('round trips are the network\'s: 1 KB over a 100 ms RTT is slow and `network`', () => {
  const j = judge(input({ until_us: 103_000, end_us: 3_000, handoff_us: 3_100, busy_us: 100_000 }));
  assert.equal(j.verdict, 'network');
  assert.equal(j.network_us, 100_000);
});

test('the client\'s delayed ACK is taken off, up to ACK_DELAY_MAX_US: a quick answer on a quiet link stays ok', () => {
  const j = judge(input({ until_us: 141_500, ack_delay_us: 40_000, end_us: 500, handoff_us: 600, busy_us: 41_000 }));
  assert.equal(j.judged_us, 101_500);
  assert.equal(judge(input({ until_us: 41_500, ack_delay_us: 40_000, end_us: 500, handoff_us: 600, busy_us: 41_000 })).verdict, 'ok');
  const quick = judge(input({ until_us: 41_500, ack_delay_us: 40_000, end_us: 500, handoff_us: 600, busy_us: 41_000 }), 1);
  assert.equal(quick.judged_us, 1_500);
  assert.equal(ACK_DELAY_MAX_US, 200_000);
  assert.equal(judge(input({ until_us: 1_000_000, ack_delay_us: 900_000 })).judged_us, 800_000);
});

test('a slow reader: the receive window\'s share of the transfer is the client\'s', () => {
  const j = judge(input({ until_us: 1_500_000, end_us: 200, handoff_us: 5_000, busy_us: 1_490_000, rwnd_limited_us: 1_200_000 }));
  assert.equal(j.verdict, 'client');
  assert.ok(j.client_us > 1_100_000, JSON.stringify(j));
});

test('under BBR the window samples stand in for a receive-window chronograph that pacing hid', () => {
  const base = { until_us: 2_000_000, end_us: 100, handoff_us: 1_000_000, busy_us: 1_990_000, rwnd_limited_us: 700_000 };
  assert.equal(judge(input(base)).verdict, 'mixed', '35% rwnd alone: network ahead, client a second cause');
  const j = judge(input({ ...base, wnd_limited_us: 1_800_000 }));
  assert.equal(j.verdict, 'client');
});

test('an upload is the client\'s; the app\'s time after it the server\'s', () => {
  const j = judge(input({ until_us: 4_050_000, upload_us: 4_000_000, end_us: 4_010_000, handoff_us: 4_010_100 }));
  assert.equal(j.verdict, 'client');
  assert.equal(j.server_us, 10_000);
});

test('waiting on a drain before end() is transfer, judged as the drain is', () => {
  // The app piped a file to a slow reader: end() came at 2 s, 1.9 s of which it waited on drains.
  const j = judge(input({ until_us: 2_100_000, end_us: 2_000_000, backlog_us: 1_900_000, busy_us: 2_050_000, rwnd_limited_us: 1_800_000 }));
  assert.equal(j.verdict, 'client');
  assert.ok(j.server_us <= 100_000, JSON.stringify(j));
});

test('HTTP/2 flow control: data held in Node after end() with the connection idle is the client\'s', () => {
  const j = judge(input({ until_us: 1_020_000, end_us: 15_000, handoff_us: 1_000_000, flow_held_us: 950_000, busy_us: 40_000 }));
  assert.equal(j.verdict, 'client');
});

test('a second cause: mixed when the second share is at least a third of the judged time, on both sides', () => {
  assert.equal(SECOND_CAUSE_SHARE, 1 / 3);
  // A 1.5 s handler, then a 2.2 s transfer limited by the network.
  const both = judge(input({ until_us: 3_700_000, end_us: 1_500_000, handoff_us: 1_510_000, busy_us: 2_200_000 }));
  assert.equal(both.verdict, 'mixed');
  assert.equal(largestShare(350, 400, 250, 1000), 'mixed');
  assert.equal(largestShare(300, 400, 300, 1000), 'client');
  assert.equal(largestShare(332, 668, 0, 1000), 'client');
  assert.equal(largestShare(333.4, 666.6, 0, 1000), 'mixed');
  assert.equal(largestShare(0, 100, 900, 1000), 'network');
});

test('the send buffer\'s share is the server\'s', () => {
  const j = judge(input({ until_us: 1_000_000, end_us: 100, handoff_us: 900_000, busy_us: 999_000, sndbuf_limited_us: 900_000 }));
  assert.equal(j.verdict, 'server');
});

/** A struct with the given fields set (everything else 0), as the kernel returns it. */
function struct(fields) {
  const bytes = Buffer.alloc(280);
  const at = { bytes_sent: 200, bytes_retrans: 208, bytes_acked: 120, notsent_bytes: 144, snd_wnd: 228, snd_cwnd: 80, snd_mss: 16, busy_time: 168, rwnd_limited: 176, sndbuf_limited: 184, total_retrans: 100, dsack_dups: 216, last_data_recv: 52, last_data_sent: 44, last_ack_recv: 56, rtt: 68, min_rtt: 148, sacked: 28 };
  for (const [name, value] of Object.entries(fields)) {
    if ([200, 208, 120, 168, 176, 184].includes(at[name])) bytes.writeBigUInt64LE(BigInt(value), at[name]);
    else bytes.writeUInt32LE(value, at[name]);
  }
  return readingFromStruct(bytes, 280);
}

test('delivery by position: the stream offset past everything handed to the kernel', () => {
  assert.equal(streamEnd(struct({ bytes_sent: 5_000, bytes_retrans: 1_000, notsent_bytes: 3_000 })), 7_000);
});

test('window limited: data waiting, and the window below the congestion window', () => {
  const full = { bytes_sent: 200_000, bytes_acked: 136_000, notsent_bytes: 50_000, snd_wnd: 65_536, snd_cwnd: 100, snd_mss: 1_448 };
  assert.equal(windowLimited(struct(full)), true);
  assert.equal(windowLimited(struct({ ...full, notsent_bytes: 0 })), false, 'nothing waiting');
  assert.equal(windowLimited(struct({ ...full, snd_wnd: 4_000_000 })), false, 'a wide window');
  assert.equal(windowLimited(struct({ ...full, snd_cwnd: 40 })), false, 'the congestion window is the smaller');
  assert.equal(windowLimited(struct({ ...full, sacked: 3 })), false, 'segments SACKed: the window holds data past a loss');
  // BBR paces a round trip's flight out: the window part full at the read (the explain-truth suite's slow reader
  // under bbr: 60 KB in flight of an 80 KB window, cwnd 205 KB, 640 KB waiting) still caps the round trip.
  assert.equal(windowLimited(struct({ ...full, bytes_acked: 190_000 })), true, 'the window part full under pacing');
});

test('columns: retransmissions less DSACKs, the upload from last_data_recv, delivery and the shares', () => {
  const base = struct({ total_retrans: 2, dsack_dups: 1, busy_time: 1_000 });
  const handoff = struct({ total_retrans: 2, busy_time: 2_000, last_data_recv: 40, rtt: 1_000, min_rtt: 900 });
  const last = struct({ total_retrans: 12, dsack_dups: 5, busy_time: 201_000, rwnd_limited: 100_000, last_data_sent: 10, last_ack_recv: 0 });
  const facts = {
    base, handoff, last, startUs: 1_000_000, headerUs: 1_050_000, endUs: 1_049_000, handoffUs: 1_050_500, lastUs: 1_300_000,
    deliveredUs: 1_299_000, ended: 'acked', hasBody: true, backlogUs: 0, sampledUs: 0, wndLimitedUs: 0, respBytes: 2_000,
    shared: false, http2: false,
  };
  const t = transactionTiming(facts, 100);
  assert.equal(t.txn_retrans, 6, '10 retransmissions, 4 of them shown spurious by DSACKs');
  assert.equal(t.upload_us, 10_500, 'the body\'s last bytes 40 ms before the hand-off\'s reading');
  assert.equal(t.delivered_us, 299_000);
  assert.equal(t.ttfb_us, 50_000);
  assert.equal(t.end_us, 49_000);
  assert.equal(t.duration_us, 50_500);
  assert.equal(t.txn_busy_us, 200_000);
  // The last data left 10 ms before the last reading, its ACK 9 ms later: one RTT (1 ms) of it the path's, 8 ms a delayed ACK.
  assert.equal(t.ack_delay_us, 8_000);
  assert.equal(t.judged_us, 299_000 - 8_000);
  assert.equal(t.server_us + t.client_us + t.network_us, t.judged_us);
  assert.equal(t.ended, 'acked');
  const noBase = transactionTiming({ ...facts, base: null }, 100);
  assert.equal(noBase.verdict, 'unknown');
  assert.ok(Number.isNaN(noBase.txn_busy_us));
  const gaveUp = transactionTiming({ ...facts, ended: 'gave_up', deliveredUs: NaN }, 100);
  assert.equal(gaveUp.judged_us, 300_000, 'judged until the last reading');
  assert.ok(Number.isNaN(gaveUp.ack_delay_us));
});

test('the delayed ACK is measured from the last data\'s send, never before the hand-off (last_data_sent ticks in jiffies)', () => {
  // The explain-truth suite's long RTT: 1 KB on an open connection over 100 ms RTT, handed off at 0.9 ms, its ACK
  // at 109.4 ms; a 4 ms jiffy put the last data 3 ms before txn_start, and the ack delay came out 11.4 ms: ok at 98 ms.
  const handoff = struct({ rtt: 101_000, min_rtt: 100_300, busy_time: 0 });
  const last = struct({ busy_time: 110_000, last_data_sent: 112, last_ack_recv: 0 });
  const t = transactionTiming({
    base: struct({ busy_time: 0 }), handoff, last, startUs: 0, headerUs: 500, endUs: 400, handoffUs: 900, lastUs: 109_400,
    deliveredUs: 109_400, ended: 'acked', hasBody: false, backlogUs: 0, sampledUs: 0, wndLimitedUs: 0, respBytes: 1_200,
    shared: false, http2: false,
  }, 100);
  assert.equal(t.ack_delay_us, 109_400 - 900 - 101_000);
  assert.equal(t.judged_us, 101_900);
  assert.equal(t.verdict, 'network');
});

