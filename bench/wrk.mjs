// The HTTP/1 rows' load generator when wrk is on the PATH (Debian's wrk): a C client, one thread, behind
// the same messages as load-generator.mjs (autocannon), which it replaces. Why: on two cores the load
// generator and the server share the machine, and autocannon spends 25-51 us of CPU per request against
// wrk's 13-23 us (measured in this bench); the server's measured window is cleaner the less of the other
// core the client takes, and nginx's anchor row is measured under the same client as ours.
// 'run' starts wrk; 'warm' comes once its warm-up is over (its connections are open and busy); 'stop' ends
// it with SIGINT (wrk then prints its summary and exits); 'result' reports its socket errors and non-2xx.
import { execFileSync, spawn } from 'node:child_process';

/** Whether wrk is on the PATH. */
export function hasWrk() {
  try {
    // wrk has no --version; -v prints its version and exits 1.
    return /^wrk \S+ \[/m.test(execFileSync('wrk', ['-v'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  } catch (err) {
    return /^wrk \S+ \[/m.test(`${err.stdout ?? ''}${err.stderr ?? ''}`);
  }
}

export const WRK_HINT = 'wrk is not installed (Debian: apt-get install wrk): the HTTP/1 rows use autocannon, a Node client that takes about twice the CPU per request';

/** Errors in wrk's summary: socket errors (connect, read, write, timeout) and non-2xx/3xx answers; null if there is no summary. */
export function wrkErrors(out) {
  if (!/requests in /.test(out)) return null;
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const sum = (m) => (m === null ? 0 : m.slice(1).reduce((n, x) => n + Number(x), 0));
  return sum(socket) + sum(non2xx);
}

/** A load generator for http-overhead.mjs's measureSlice: `connections` keep-alive connections, one thread. */
export function wrk() {
  let run = null;
  return {
    name: 'wrk',
    send(message) {
      if (message.type === 'run') {
        // wrk's duration is whole seconds: a bound well past the window; 'stop' ends it first.
        const bound = Math.ceil(message.warmupSeconds + message.seconds) + 30;
        const args = ['-t1', `-c${message.connections}`, `-d${bound}s`, '--timeout', '10s', message.url];
        const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
        child.stderr.setEncoding('utf8').on('data', (c) => (out += c));
        const ended = new Promise((resolve) => child.on('close', () => resolve(out)));
        run = { child, ended, warm: new Promise((resolve) => setTimeout(resolve, message.warmupSeconds * 1000)) };
      } else if (message.type === 'stop' && run !== null) {
        const { child } = run;
        child.kill('SIGINT');
        setTimeout(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'), 5_000).unref();
      }
    },
    async next(type) {
      if (type === 'warm') return run.warm;
      const errors = wrkErrors(await run.ended);
      run = null;
      return { type: 'result', errors: errors ?? 1 };
    },
    async stop() {
      run?.child.kill('SIGKILL');
    },
  };
}
