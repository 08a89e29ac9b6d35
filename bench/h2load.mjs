// The HTTP/2 row's load generator: h2load (nghttp2's; Debian's nghttp2-client), behind the same messages
// as load-generator.mjs (autocannon, HTTP/1 only), so the row is measured as every other: 'run' starts
// it, 'warm' comes once its warm-up is over, 'result' when it has ended (its failed and errored requests).
import { execFileSync, spawn } from 'node:child_process';

/** Whether h2load is on the PATH. */
export function hasH2load() {
  try {
    execFileSync('h2load', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const H2LOAD_HINT = 'h2load is not installed (Debian: apt-get install nghttp2-client)';

/** A load generator for http-overhead.mjs's measureSlice: `s.connections` h2c sessions of 10 streams each. */
export function h2load() {
  let run = null;
  return {
    send(message) {
      if (message.type === 'run') {
        const ms = (seconds) => `${Math.max(1, Math.round(seconds * 1000))}ms`;
        // A little past the window, which the server times itself; then h2load ends on its own.
        const args = ['-c', String(message.connections), '-m', '10', '-t', '1', `--warm-up-time=${ms(message.warmupSeconds)}`, '-D', ms(message.seconds + 0.3), message.url];
        const child = spawn('h2load', args, { stdio: ['ignore', 'pipe', 'ignore'] });
        let out = '';
        child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
        const ended = new Promise((resolve) => child.on('exit', () => resolve(out)));
        run = { child, ended, warm: new Promise((resolve) => setTimeout(resolve, message.warmupSeconds * 1000 + 100)) };
      } else if (message.type === 'stop' && run !== null) {
        const { child } = run;
        setTimeout(() => child.exitCode === null && child.kill(), 5_000).unref();
      }
    },
    async next(type) {
      if (type === 'warm') return run.warm;
      const out = await run.ended;
      const m = /(\d+) failed, (\d+) errored/.exec(out);
      return { type: 'result', errors: m === null ? 1 : Number(m[1]) + Number(m[2]) };
    },
  };
}
