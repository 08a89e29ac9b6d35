// Child process: autocannon, in a process of its own so it never shares an event loop with the server.
// Each 'run' warms the server up, says 'warm', waits for 'go', then measures with keep-alive connections.
import autocannon from 'autocannon';
import { serveMessages } from './ipc.mjs';

// autocannon stops at its first sample tick after `duration`: ticks of 100 ms rather than its default 1 s
// keep a run's length (and the server's measured window) within 0.1 s of what was asked.
const SAMPLE_MS = 100;

function fire(url, connections, seconds) {
  return autocannon({ url, connections, pipelining: 1, duration: seconds, timeout: 10, sampleInt: SAMPLE_MS });
}

let go = null;

serveMessages({
  async run({ url, connections, seconds, warmupSeconds }) {
    await fire(url, connections, warmupSeconds);
    const started = new Promise((resolve) => (go = resolve));
    process.send({ type: 'warm' });
    await started;
    const r = await fire(url, connections, seconds);
    return {
      type: 'result',
      requests: r.requests.total,
      seconds: r.duration,
      requestsPerSecond: r.requests.total / r.duration,
      latencyP99Ms: r.latency.p99,
      errors: r.errors + r.timeouts + r.non2xx,
    };
  },
  go() {
    go?.();
  },
  exit() {
    process.exit(0);
  },
});
process.send({ type: 'ready' });
