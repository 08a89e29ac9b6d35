// The bench's child processes (server, load generator, stalled writer): forked with an IPC channel,
// spoken to in typed messages, every wait bounded in time, and killed by pid if they overstay.
import { fork } from 'node:child_process';

export class Child {
  constructor(file, args = [], { execArgv = [], name = file } = {}) {
    this.name = name;
    this.stderr = '';
    this.exited = false;
    this.messages = [];
    this.waiters = [];
    this.proc = fork(file, args, { execArgv, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    this.proc.stderr.setEncoding('utf8');
    this.proc.stderr.on('data', (d) => {
      if (this.stderr.length < 20_000) this.stderr += d;
    });
    this.proc.on('message', (msg) => {
      const i = this.waiters.findIndex((w) => w.type === msg.type || msg.type === 'fatal');
      if (i >= 0) this.waiters.splice(i, 1)[0].settle(msg);
      else this.messages.push(msg);
    });
    this.exitedPromise = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        this.exited = true;
        for (const w of this.waiters.splice(0)) w.settle({ type: 'fatal', error: `${this.name} exited (${signal ?? code}) ${this.stderr.trim()}` });
        resolve({ code, signal });
      });
    });
  }

  send(msg) {
    if (!this.exited) this.proc.send(msg);
  }

  /** The next message of `type`, or a rejection after `ms` or when the child reports a fatal error or exits. */
  next(type, ms) {
    const queued = this.messages.findIndex((m) => m.type === type || m.type === 'fatal');
    if (queued >= 0) return settled(this.messages.splice(queued, 1)[0]);
    if (this.exited) return settled({ type: 'fatal', error: `${this.name} has exited: ${this.stderr.trim()}` });
    return new Promise((resolve, reject) => {
      const waiter = {
        type,
        settle: (msg) => {
          clearTimeout(timer);
          settled(msg).then(resolve, reject);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`${this.name}: no '${type}' within ${ms} ms ${this.stderr.trim()}`));
      }, ms);
      this.waiters.push(waiter);
    });
  }

  /** Ask it to exit; SIGKILL (this child's pid only) if it has not within `ms`. */
  async stop(ms = 3000) {
    if (this.exited) return;
    this.send({ type: 'exit' });
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), ms);
    await this.exitedPromise;
    clearTimeout(timer);
  }

  kill() {
    if (!this.exited) this.proc.kill('SIGKILL');
  }
}

function settled(msg) {
  return msg.type === 'fatal' ? Promise.reject(new Error(msg.error)) : Promise.resolve(msg);
}

/** In a child: answer `handlers[msg.type](msg)` with its return value; report failures as 'fatal'. */
export function serveMessages(handlers) {
  process.on('message', async (msg) => {
    try {
      const handler = handlers[msg.type];
      if (handler === undefined) throw new Error(`unknown message ${msg.type}`);
      const reply = await handler(msg);
      if (reply !== undefined) process.send(reply);
    } catch (err) {
      process.send({ type: 'fatal', error: err.stack ?? String(err) });
    }
  });
  process.on('disconnect', () => process.exit(0));
}
