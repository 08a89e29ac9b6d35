// Child process: autocannon, in a process of its own so it never shares an event loop with the server.
// A 'run' opens keep-alive connections and keeps them busy until 'stop': it says 'warm' once
// `warmupSeconds` have passed, so the parent can open the server's measured window on the same
// connections. (A measured window on connections of its own would start with the JIT's reaction to
// new connections: in the first second after they open, a warmed-up server answers about a third less.)
import autocannon from 'autocannon';
import { serveMessages } from './ipc.mjs';

// autocannon checks its duration at each sample tick: ticks of 100 ms rather than its default 1 s.
const SAMPLE_MS = 100;
/** A bound on a run, should 'stop' never come. */
const MAX_EXTRA_SECONDS = 60;

let running = null;

serveMessages({
  async run({ url, connections, seconds, warmupSeconds }) {
    const instance = autocannon({
      url,
      connections,
      pipelining: 1,
      duration: warmupSeconds + seconds + MAX_EXTRA_SECONDS,
      timeout: 10,
      sampleInt: SAMPLE_MS,
    });
    const done = new Promise((resolve, reject) => {
      instance.once('done', resolve);
      instance.once('error', reject);
    });
    running = instance;
    const warm = setTimeout(() => process.send({ type: 'warm' }), warmupSeconds * 1000);
    const r = await done;
    clearTimeout(warm);
    running = null;
    return {
      type: 'result',
      requests: r.requests.total,
      seconds: r.duration,
      errors: r.errors + r.timeouts + r.non2xx,
    };
  },
  stop() {
    running?.stop();
  },
  exit() {
    process.exit(0);
  },
});
process.send({ type: 'ready' });
