// Section 1, in a busy server: what one read costs inside a request handler of a bare server under load
// (the HTTP rows' client: wrk, or autocannon), where the HTTP work between two reads has evicted what a
// tight loop keeps in the caches.
// Each request times one call, in turn: nothing (the timer's own cost, subtracted), a no-op C call
// through koffi (the FFI's own cost), and readRaw of the request's socket.
import { measureSlice, spawnServer, startLoad } from './http-overhead.mjs';

export async function measureReadInRequest(s) {
  const { name: loadGenerator, load } = await startLoad(s, () => {});
  try {
    const server = spawnServer({ handler: 'hello', options: null, probe: true });
    let run;
    try {
      run = await measureSlice(load, server.meter, await server.ready, s);
    } finally {
      await server.dispose();
    }
    const { timer, koffiNoop, readRaw } = run.probesNs;
    return {
      readRawNs: readRaw - timer,
      koffiNoopNs: koffiNoop - timer,
      timerNs: timer,
      requestsPerSecond: run.requestsPerSecond,
      loadGenerator,
    };
  } finally {
    await load.stop();
  }
}
