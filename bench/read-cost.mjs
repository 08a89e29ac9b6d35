// Section 1, read cost: one TCP_INFO read of a live loopback connection through the plugin's FFI binding
// (the bare syscall, with the fd lookup, readRaw, readTcpInfo), and the way the Telegraf plugin reads
// it (fork `ss -tin` for each sample).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as read from '../dist/tcpinfo/read.js';
import { liveConnection } from './live-connection.mjs';
import { nsPerCall } from './stats.mjs';

const IPPROTO_TCP = 6;
const TCP_INFO = 11;

/**
 * `(fd) => length or -1`: one getsockopt(TCP_INFO) and nothing else. Through read.js's own binding when it
 * exports `rawGetsockopt`; otherwise through a binding declared exactly as read.js declares its own (same
 * koffi library handle kind, same prototype), which costs the same per call.
 */
function rawGetsockoptFunction() {
  if (typeof read.rawGetsockopt === 'function') return { fn: read.rawGetsockopt, via: 'read.js rawGetsockopt' };
  const koffi = createRequire(import.meta.url)('koffi');
  const getsockopt = koffi.load(null).func('int getsockopt(int fd, int level, int optname, void *optval, void *optlen)');
  const value = Buffer.alloc(280);
  const length = Buffer.alloc(4);
  const lengthWord = new Uint32Array(length.buffer, length.byteOffset, 1);
  const fn = (fd) => {
    lengthWord[0] = 280;
    return getsockopt(fd, IPPROTO_TCP, TCP_INFO, value, length) === 0 ? lengthWord[0] : -1;
  };
  return { fn, via: 'same koffi declaration as read.js (read.js exports no rawGetsockopt)' };
}

/** Microseconds per `ss -tin` run filtered to one connection: a fork and exec per sample. */
function ssCost(conn, samples) {
  const filter = `( sport = :${conn.serverPort} and dport = :${conn.clientPort} )`;
  const args = ['-tinH', 'state', 'established', filter];
  const first = spawnSync('ss', args, { encoding: 'utf8', timeout: 5000 });
  if (first.error || first.status !== 0 || !/rtt:/.test(first.stdout)) {
    return { usPerSample: null, samples: 0, note: `ss -tin unavailable (${first.error?.code ?? `exit ${first.status}`})` };
  }
  const perSample = [];
  const deadline = performance.now() + 10_000;
  for (let i = 0; i < samples && performance.now() < deadline; i++) {
    const start = process.hrtime.bigint();
    spawnSync('ss', args, { encoding: 'utf8', timeout: 5000 });
    perSample.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  perSample.sort((a, b) => a - b);
  return { usPerSample: perSample[perSample.length >> 1], samples: perSample.length };
}

export async function measureReadCost(settings) {
  if (!read.isSupported()) return { skipped: `TCP_INFO cannot be read here: ${read.unsupportedMessage()}` };
  const conn = await liveConnection();
  try {
    const { socket } = conn;
    const raw = rawGetsockoptFunction();
    const fd = read.socketFd(socket);
    if (raw.fn(fd) < 0 || read.readRaw(socket) < 0) throw new Error('getsockopt(TCP_INFO) failed on a live connection');
    let sink = 0;
    const getsockopt = nsPerCall(() => (sink += raw.fn(fd)), settings);
    const withFdLookup = nsPerCall(() => (sink += raw.fn(read.socketFd(socket))), settings);
    const readRaw = nsPerCall(() => (sink += read.readRaw(socket)), settings);
    const readTcpInfo = nsPerCall(() => (sink += read.readTcpInfo(socket).rtt), settings);
    const fields = Object.keys(read.readTcpInfo(socket)).length;
    // The sum keeps the calls from being optimized away, and says every read succeeded.
    if (!(sink > 0)) throw new Error('a timed read failed');
    const ss = ssCost(conn, settings.ssSamples);
    return {
      rawGetsockoptNs: getsockopt.ns,
      getsockoptWithFdLookupNs: withFdLookup.ns,
      readRawNs: readRaw.ns,
      readTcpInfoNs: readTcpInfo.ns,
      readTcpInfoFields: fields,
      ssUsPerSample: ss.usPerSample,
      ssSamples: ss.samples,
      notes: [`raw getsockopt via ${raw.via}`, ...(ss.note ? [ss.note] : [])],
      iterations: settings.iterations,
      rounds: readRaw.rounds,
    };
  } finally {
    conn.close();
  }
}
