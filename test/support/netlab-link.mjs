// The netlab's link (see netlab.mjs, which starts it inside the router namespace): two TUN devices, and
// between them each IP packet is delayed and, at random (seeded), lost. Not a module to import.
//
// argv[2]: JSON { names: [a, b], lineBytes, dirs: [{ delayMs, lossPercent, seed } (a to b), (b to a)] }.
// Over the IPC channel: sends { ready: true } once both devices exist; answers { statsId } with { statsId, stats: [a to b, b to a] }.
//
// The packets move in a worker thread, in one synchronous loop of libc calls through koffi: ppoll() on both
// non-blocking TUN fds until one is readable or the next delayed packet is due, read() what is there, write()
// what is due. No libuv round trip per packet (blocking fs.read() in the threadpool, tried first, carried
// half as much), and ppoll's timeout is finer than a timer's millisecond. The main thread keeps the event
// loop for IPC and reads the counters from shared memory. Delay is constant per direction, so each
// direction's queue is FIFO and packets keep their order.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { isMainThread, Worker, workerData, parentPort } from 'node:worker_threads';

const FIELDS = ['packets', 'bytes', 'lost', 'overflow', 'forwarded', 'writeErrors', 'queuedMax'];
const [PACKETS, BYTES, LOST, OVERFLOW, FORWARDED, WRITE_ERRORS, QUEUED_MAX] = FIELDS.keys();

if (isMainThread) {
  const counters = new Float64Array(new SharedArrayBuffer(2 * FIELDS.length * 8));
  const worker = new Worker(new URL(import.meta.url), { workerData: { config: JSON.parse(process.argv[2]), counters } });
  const statsOf = (d) => Object.fromEntries(FIELDS.map((name, i) => [name, counters[d * FIELDS.length + i]]));
  worker.once('message', () => process.send({ ready: true }));
  worker.on('error', (err) => {
    console.error(err);
    process.exit(1);
  });
  process.on('message', ({ statsId }) => process.send({ statsId, stats: [statsOf(0), statsOf(1)] }));
  // The lab ends this process; losing the parent (a crashed test) ends it too.
  process.on('disconnect', () => process.exit(0));
} else {
  run(workerData);
}

/** mulberry32: small, seeded, and the same sequence for the same seed on every run. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function run({ config, counters }) {
  const koffi = createRequire(import.meta.url)('koffi');
  const libc = koffi.load(null);
  const ioctl = libc.func('int ioctl(int fd, unsigned long request, ...)');
  const ppoll = libc.func('int ppoll(void *fds, unsigned long nfds, void *timeout, void *sigmask)');
  const read = libc.func('long read(int fd, void *buf, unsigned long count)');
  const write = libc.func('long write(int fd, void *buf, unsigned long count)');
  const TUNSETIFF = 0x400454ca;
  const IFF_TUN = 0x0001;
  const IFF_NO_PI = 0x1000;
  const POLLIN = 0x1;
  const POLLGONE = 0x8 | 0x10 | 0x20; // POLLERR | POLLHUP | POLLNVAL
  // The longest ppoll() with nothing to do: bounds how long an exiting process waits for this thread.
  const IDLE_MS = 100;
  const BATCH = 256;

  function openTun(name) {
    const fd = fs.openSync('/dev/net/tun', fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
    const ifreq = Buffer.alloc(40);
    ifreq.write(name, 0, 15, 'latin1');
    ifreq.writeUInt16LE(IFF_TUN | IFF_NO_PI, 16);
    if (ioctl(fd, TUNSETIFF, 'void *', ifreq) !== 0) throw new Error(`ioctl(TUNSETIFF) failed for ${name}`);
    return fd;
  }

  const fds = config.names.map(openTun);
  const pollfds = Buffer.alloc(16);
  const timespec = new BigInt64Array(2);
  const buffer = Buffer.allocUnsafe(65536);

  function direction(d, from, to, { delayMs, lossPercent, seed }) {
    const base = d * FIELDS.length;
    const rand = random(seed);
    const loss = lossPercent / 100;
    // The delay line: packets[head..] in arrival order, dues[i] when packets[i] leaves.
    let packets = [];
    let dues = [];
    let head = 0;
    let queued = 0;

    function send(packet, length) {
      if (write(to, packet, length) === length) counters[base + FORWARDED]++;
      else counters[base + WRITE_ERRORS]++; // the far device is down or gone: lost, as on a wire
    }

    return {
      nextDue: () => (head < packets.length ? dues[head] : Infinity),
      drain(now) {
        for (let i = 0; i < BATCH; i++) {
          const n = read(from, buffer, buffer.length);
          if (n <= 0) return;
          counters[base + PACKETS]++;
          counters[base + BYTES] += n;
          if (loss > 0 && rand() < loss) counters[base + LOST]++;
          else if (delayMs <= 0) send(buffer, n);
          else if (queued + n > config.lineBytes) counters[base + OVERFLOW]++;
          else {
            packets.push(Buffer.from(buffer.subarray(0, n)));
            dues.push(now + delayMs);
            queued += n;
            if (queued > counters[base + QUEUED_MAX]) counters[base + QUEUED_MAX] = queued;
          }
        }
      },
      flush(now) {
        while (head < packets.length && dues[head] <= now) {
          const packet = packets[head];
          packets[head++] = undefined;
          queued -= packet.length;
          send(packet, packet.length);
        }
        if (head === packets.length) {
          packets = [];
          dues = [];
          head = 0;
        } else if (head > 4096) {
          packets = packets.slice(head);
          dues = dues.slice(head);
          head = 0;
        }
      },
    };
  }

  const dirs = [direction(0, fds[0], fds[1], config.dirs[0]), direction(1, fds[1], fds[0], config.dirs[1])];
  for (let i = 0; i < 2; i++) {
    pollfds.writeInt32LE(fds[i], 8 * i);
    pollfds.writeInt16LE(POLLIN, 8 * i + 4);
  }
  parentPort.postMessage('ready');
  for (;;) {
    let now = performance.now();
    dirs[0].flush(now);
    dirs[1].flush(now);
    const waitMs = Math.max(0, Math.min(IDLE_MS, dirs[0].nextDue() - now, dirs[1].nextDue() - now));
    timespec[1] = BigInt(Math.round(waitMs * 1e6)); // tv_nsec; tv_sec stays 0, as IDLE_MS < 1 s
    if (ppoll(pollfds, 2, timespec, null) <= 0) continue; // timeout, or EINTR
    now = performance.now();
    for (let i = 0; i < 2; i++) {
      const revents = pollfds.readInt16LE(8 * i + 6);
      // A device gone: the lab is being taken down.
      if (revents & POLLGONE) return;
      if (revents & POLLIN) dirs[i].drain(now);
    }
  }
}
