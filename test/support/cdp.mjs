// Headless Chromium driven over the DevTools protocol on a pipe (fds 3 and 4, NUL-separated JSON), for the slow tests
// that need a real browser (report-browser, server-timing-browser).
import { spawn } from 'node:child_process';

/**
 * Chromium started by `command` (its path last, after any wrapper: `[unshare, '-n', chromium]`, `[ip, 'netns', 'exec',
 * name, chromium]`), headless with a fresh `profile`, and a DevTools client on its pipe: send(method, params, sessionId)
 * and the events seen. Killed after the test.
 */
export function chromiumCdp(t, command, profile) {
  const child = spawn(
    command[0],
    [...command.slice(1), '--headless', '--no-sandbox', '--disable-gpu', '--remote-debugging-pipe', `--user-data-dir=${profile}`,
      '--no-first-run', '--no-default-browser-check', '--disable-extensions', '--disable-background-networking', 'about:blank'],
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-20_000)));
  t.after(() => child.kill('SIGKILL'));
  const pending = new Map();
  const events = [];
  let waiters = [];
  let buffered = '';
  let nextId = 1;
  child.stdio[4].on('data', (chunk) => {
    buffered += chunk;
    let end;
    while ((end = buffered.indexOf('\0')) >= 0) {
      const message = JSON.parse(buffered.slice(0, end));
      buffered = buffered.slice(end + 1);
      if (message.id !== undefined) {
        const p = pending.get(message.id);
        pending.delete(message.id);
        if (message.error) p.reject(new Error(`${p.method}: ${message.error.message}`));
        else p.resolve(message.result);
      } else {
        events.push(message);
        waiters = waiters.filter((w) => !(w.match(message) && (w.resolve(message), true)));
      }
    }
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  return {
    events,
    send(method, params = {}, sessionId) {
      const id = nextId++;
      child.stdio[3].write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + '\0');
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject, method });
        setTimeout(() => reject(new Error(`${method}: no answer in 30 s\n${stderr}`)), 30_000).unref();
      });
    },
    /** The first event (seen or to come) that `match` accepts, within `ms`. */
    event(match, ms = 30_000) {
      const seen = events.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ match, resolve });
        setTimeout(() => reject(new Error(`no such event in ${ms} ms\n${stderr}`)), ms).unref();
      });
    },
    exited,
  };
}
