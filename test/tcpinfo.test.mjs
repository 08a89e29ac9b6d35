// readTcpInfo(): the kernel's struct, decoded by name, checked against `ss -tin` for the same connection.
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { TCP_INFO_FIELDS, TCP_INFO_FIELD_NAMES, failedReadCount, isSupported, kernelTcpInfoLength, readTcpInfo } from '../dist/index.js';
import { makeCertificate, ssInfo, tempDir } from './support/harness.mjs';

/** A connected pair over loopback: { server (accepted socket), client }. */
async function connectedPair(t, host = '127.0.0.1', secure = null) {
  const accepted = [];
  const server = secure
    ? tls.createServer(secure, (s) => accepted.push(s))
    : net.createServer((s) => accepted.push(s));
  server.listen(0, host);
  await once(server, 'listening');
  const { port } = server.address();
  const client = secure
    ? tls.connect({ host, port, rejectUnauthorized: false })
    : net.connect({ host, port });
  await once(client, secure ? 'secureConnect' : 'connect');
  for (let i = 0; i < 200 && accepted.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
  t.after(() => {
    client.destroy();
    accepted.forEach((s) => s.destroy());
    server.close();
  });
  return { server: accepted[0], client, listener: server };
}

/** Send `bytes` each way, then wait until both sides have everything and acks have settled. */
async function exchange(pair, bytes) {
  const got = { server: 0, client: 0 };
  pair.server.on('data', (d) => (got.server += d.length));
  pair.client.on('data', (d) => (got.client += d.length));
  pair.client.write(Buffer.alloc(bytes, 1));
  pair.server.write(Buffer.alloc(bytes, 2));
  for (let i = 0; i < 400 && (got.server < bytes || got.client < bytes); i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(got.server, bytes);
  assert.equal(got.client, bytes);
  await new Promise((r) => setTimeout(r, 60)); // delayed acks (40 ms) go out; the connection is idle
}

describe('readTcpInfo', () => {
  test('is supported here, and the kernel length gates the fields', () => {
    assert.equal(isSupported(), true);
    const length = kernelTcpInfoLength();
    assert.ok(length >= 104 && length % 8 === 0, `kernel length ${length}`);
  });

  test('every field within the returned length, nothing beyond it, by the reference names', async (t) => {
    const pair = await connectedPair(t);
    const info = readTcpInfo(pair.server);
    assert.ok(info);
    const length = kernelTcpInfoLength();
    const expected = TCP_INFO_FIELDS.filter((f) => f.offset + f.size <= length).map((f) => f.name);
    assert.deepEqual(Object.keys(info), expected);
    assert.ok(TCP_INFO_FIELD_NAMES.includes('bytes_acked') && TCP_INFO_FIELD_NAMES.includes('accecn_opt_seen'));
    assert.equal(info.state, 1, 'ESTABLISHED');
    for (const [k, v] of Object.entries(info)) assert.ok(Number.isInteger(v) && v >= 0, `${k}=${v}`);
  });

  for (const host of ['127.0.0.1', '::1']) {
    test(`matches ss -tin for an idle connection (${host})`, async (t) => {
      const pair = await connectedPair(t, host);
      await exchange(pair, 20_000);
      const info = readTcpInfo(pair.server);
      const ss = await ssInfo(pair.server.localPort, pair.server.remotePort);
      assert.ok(ss, 'ss found the connection');
      // Counters and sizes: equal. ss prints rtt/rttvar/rto/ato/minrtt in ms.
      const same = {
        mss: 'snd_mss', rcvmss: 'rcv_mss', advmss: 'advmss', cwnd: 'snd_cwnd', pmtu: 'pmtu',
        bytes_acked: 'bytes_acked', bytes_received: 'bytes_received', segs_out: 'segs_out', segs_in: 'segs_in',
        data_segs_out: 'data_segs_out', data_segs_in: 'data_segs_in', rcv_space: 'rcv_space', rcv_ssthresh: 'rcv_ssthresh',
        snd_wnd: 'snd_wnd', rcv_wnd: 'rcv_wnd', delivered: 'delivered', bytes_sent: 'bytes_sent',
      };
      let compared = 0;
      for (const [ssName, field] of Object.entries(same)) {
        if (ss[ssName] === undefined || info[field] === undefined) continue;
        assert.equal(info[field], Number(ss[ssName]), `${field} (ss ${ssName})`);
        compared++;
      }
      assert.ok(compared >= 12, `compared ${compared} fields`);
      assert.equal(info.bytes_received, 20_000);
      assert.equal(info.bytes_acked, 20_000);
      assert.ok(Math.abs(info.rtt / 1000 - ss.rtt_ms) < 0.0015, `rtt ${info.rtt}us vs ss ${ss.rtt_ms}ms`);
      assert.ok(Math.abs(info.rttvar / 1000 - ss.rttvar_ms) < 0.0015, `rttvar ${info.rttvar}us vs ss ${ss.rttvar_ms}ms`);
      assert.equal(info.rto / 1000, Number(ss.rto));
      assert.ok(Math.abs(info.min_rtt / 1000 - Number(ss.minrtt)) < 0.0015);
      assert.equal(info.snd_wscale, ss.snd_wscale);
      assert.equal(info.rcv_wscale, ss.rcv_wscale);
    });
  }

  test('TLS sockets read the underlying TCP connection', async (t) => {
    const pair = await connectedPair(t, '127.0.0.1', makeCertificate(tempDir(t)));
    await exchange(pair, 3000);
    const info = readTcpInfo(pair.server);
    assert.ok(info);
    const ss = await ssInfo(pair.server.localPort, pair.server.remotePort);
    assert.equal(info.bytes_received, Number(ss.bytes_received));
    assert.ok(info.bytes_received > 3000, 'TLS records and the handshake add to the plaintext');
  });

  test('a destroyed socket gives null, not an exception', async (t) => {
    const pair = await connectedPair(t);
    pair.server.destroy();
    const failedBefore = failedReadCount();
    assert.equal(readTcpInfo(pair.server), null);
    assert.equal(readTcpInfo(new net.Socket()), null, 'never connected');
    assert.equal(failedReadCount(), failedBefore + 2, 'each failed read is counted');
  });

  test('the fd is taken at each read: after close, a reused fd number is not read through the old socket', async (t) => {
    const first = await connectedPair(t);
    const fd = first.server._handle.fd;
    assert.ok(readTcpInfo(first.server));
    first.server.destroy();
    // The kernel hands out the lowest free fd number: the next connections take the one just freed.
    const next = await connectedPair(t);
    const holder = [next.client, next.server].find((s) => s._handle.fd === fd);
    if (!holder) assert.equal(next.listener._handle.fd, fd, 'the listener took it instead');
    if (holder) assert.ok(readTcpInfo(holder), 'the new owner of the fd reads');
    assert.equal(readTcpInfo(first.server), null, 'the old socket reads nothing, not the new connection');
  });
});
