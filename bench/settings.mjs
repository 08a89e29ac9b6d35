// How long and how often each section measures: the full run (`npm run bench`) and the smoke run
// (`--smoke`, part of `npm run test:slow`: every section, every figure, in a few seconds, no figure to trust).

export const FULL = {
  mode: 'full',
  read: { iterations: 20_000, rounds: 15, maxMs: 4_000, ssSamples: 40 },
  inRequest: { warmupSeconds: 1, seconds: 5, connections: 10 },
  http: {
    handlers: ['hello', 'json'],
    processPairs: 3,
    pairs: 3,
    warmupSlices: 1,
    warmupSeconds: 0.5,
    seconds: 1.5,
    connections: 10,
  },
  writer: { seconds: 3, chunkLines: 4096 },
  memory: {
    holdSeconds: 2,
    maxSeconds: 15,
    // The line bound reached first; the byte bound reached first; lines of 8 KB paths (--log-url), as a client may send.
    cases: [
      { id: '65536', queueLines: 65_536, queueBytes: '16M' },
      { id: '524288', queueLines: 524_288, queueBytes: '16M' },
      { id: 'url-8k', queueLines: 524_288, queueBytes: '16M', urlBytes: 8192 },
    ],
  },
  multiprocess: { lines: 1_000_000, processes: 4, runs: 3 },
};

export const SMOKE = {
  mode: 'smoke',
  read: { iterations: 2_000, rounds: 3, maxMs: 300, ssSamples: 3 },
  inRequest: { warmupSeconds: 0.1, seconds: 0.3, connections: 4 },
  http: {
    handlers: ['hello'],
    processPairs: 1,
    pairs: 1,
    warmupSlices: 0,
    warmupSeconds: 0.1,
    seconds: 0.25,
    connections: 4,
  },
  writer: { seconds: 0.25, chunkLines: 4096 },
  memory: {
    holdSeconds: 0.2,
    maxSeconds: 6,
    cases: [
      { id: '65536', queueLines: 65_536, queueBytes: '16M' },
      { id: 'url-8k', queueLines: 65_536, queueBytes: '16M', urlBytes: 8192 },
    ],
  },
  multiprocess: { lines: 20_000, processes: 2, runs: 1 },
};
