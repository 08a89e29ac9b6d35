// How a process that logs ends on a signal, beyond the fast tier's Express + SIGTERM: attach() and the
// Fastify plugin, SIGINT, and PID 1 (a container's entry point), where a signal the process raises
// itself is ignored, so it exits with 128 + the signal's number instead.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, test } from 'node:test';
import { signalAfterRequests } from '../support/lifecycle-apps.mjs';

describe('lifecycle: a signal right after a request, the app having no handler for it', () => {
  for (const [entry, signal] of [['attach()', 'SIGTERM'], ['the Fastify plugin', 'SIGTERM'], ['the Express middleware', 'SIGINT'], ['attach()', 'SIGINT']]) {
    test(`${entry}, ${signal}: every line of the request is in the file, and the process dies of ${signal}`, async (t) => {
      await signalAfterRequests(t, entry, signal);
    });
  }
});

/** True when this machine lets us make a PID namespace (root, or user namespaces allowed). */
function canUnshare() {
  try {
    execFileSync('unshare', ['--pid', '--fork', 'true'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

describe('lifecycle: PID 1 in a container', () => {
  const skip = canUnshare() ? false : 'unshare --pid --fork is not allowed here (needs root or user namespaces)';
  test('SIGTERM to an app that is PID 1 of its PID namespace: the lines are written, and it exits 143 (128 + 15)', { skip }, async (t) => {
    // The app is the child of unshare, PID 1 inside its namespace; signalled by its pid out here.
    const { code } = await signalAfterRequests(t, 'attach()', 'SIGTERM', {
      command: 'unshare',
      args: ['--pid', '--fork', '--kill-child', process.execPath],
      pidOf: (child) => {
        const appPid = Number(fs.readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ')[0]);
        assert.ok(appPid > 1, 'the app is found as the child of unshare');
        assert.match(fs.readFileSync(`/proc/${appPid}/status`, 'utf8'), /^NSpid:\s+\d+\s+1$/m, 'the app is PID 1 of its namespace');
        return appPid;
      },
      expectExit: { code: 143, signal: null },
    });
    assert.equal(code, 143);
  });
});
