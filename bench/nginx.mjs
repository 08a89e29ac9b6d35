// The anchor row of issue 18: what a C server pays per logged line for the same four TCP_INFO fields.
// nginx (Debian's nginx-light), one process serving hello world, bare (no access log) against the same
// with `$tcpinfo_rtt $tcpinfo_rttvar $tcpinfo_snd_cwnd $tcpinfo_rcv_space` in a buffered access log
// (nginx makes one getsockopt(TCP_INFO) per variable: four per line). It runs under the same load
// generator and the same alternation of slices as the plugin's rows, and its window is measured as a
// node server measures its own: the requests it answered (stub_status, read over HTTP at each end of
// the window) and its CPU time (the kernel's, from /proc: nginx cannot report its own).
//
// nginx never touches /etc/nginx or /var: a temp dir is its prefix and holds its config, pid, error log,
// access log and temp paths; it runs in the foreground as a single process (`daemon off; master_process
// off;`), a child of the bench, stopped by its pid.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const INSTALL_HINT = 'nginx is not on the PATH: `apt-get install nginx-light` (Debian, Ubuntu; it installs /usr/sbin/nginx) adds the nginx anchor row';

/** What the logging nginx writes per request: our level-1 line's context (time, client, server) and four TCP_INFO fields. */
export const NGINX_LOG_FORMAT = '$time_local tcpinfo $remote_addr $server_addr $tcpinfo_rtt $tcpinfo_rttvar $tcpinfo_snd_cwnd $tcpinfo_rcv_space';
export const NGINX_ACCESS_LOG = 'buffer=64k flush=1s';
const STATUS_PATH = '/bench-nginx-status';
const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ: /proc/<pid>/stat's unit on every Linux

/** The nginx binary on the PATH, or null. */
export function findNginx(envPath = process.env.PATH ?? '') {
  for (const dir of envPath.split(path.delimiter).filter(Boolean)) {
    const file = path.join(dir, 'nginx');
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return null;
}

function config(dir, port, logged, format) {
  const temp = (name) => `${name}_temp_path ${path.join(dir, name)};`;
  return `# tcpinfo bench: generated, run with -p ${dir}
worker_processes 1;
error_log ${path.join(dir, 'error.log')} warn;
pid ${path.join(dir, 'nginx.pid')};
events { worker_connections 1024; }
http {
  ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp).join('\n  ')}
  log_format tcpinfo '${format}';
  access_log off;
  # node's http server keeps a keep-alive connection for any number of requests; nginx closes it after 1000.
  keepalive_requests 1000000000;
  server {
    listen 127.0.0.1:${port};
    ${logged ? `access_log ${path.join(dir, 'access.log')} tcpinfo ${NGINX_ACCESS_LOG};` : ''}
    location = ${STATUS_PATH} { stub_status; access_log off; }
    location / { default_type text/plain; return 200 "hello world\\n"; }
  }
}
`;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function get(port, urlPath, ms = 5_000) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false, timeout: ms }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${urlPath}: no answer within ${ms} ms`)));
    req.on('error', reject);
  });
}

/** stub_status's count of requests, this one included. */
async function requestsServed(port) {
  const { status, body } = await get(port, STATUS_PATH);
  const counts = /\n\s*(\d+)\s+(\d+)\s+(\d+)\s*\n/.exec(body);
  if (status !== 200 || counts === null) throw new Error(`nginx stub_status: unexpected answer ${status} ${JSON.stringify(body.slice(0, 200))}`);
  return Number(counts[3]);
}

/** /proc/<pid>/stat's utime + stime, in microseconds (steps of a clock tick: 10 ms). */
export function processStatCpuUs(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // from the 3rd field (state) on
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS_PER_SECOND;
}

/**
 * The process's CPU time in microseconds: /proc/<pid>/schedstat's time on CPU (nanoseconds; what
 * process.cpuUsage() reports for a node server, user and system together, comes from the same kernel
 * counter) when the kernel keeps it, else /proc/<pid>/stat's. nginx here is one process of one thread.
 */
export function processCpuUs(pid) {
  try {
    return Number(fs.readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1000;
  } catch {
    return processStatCpuUs(pid);
  }
}

async function startOnce(bin, logged, format) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tcpinfo-bench-nginx-'));
  const port = await freePort();
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(conf, config(dir, port, logged, format));
  const child = spawn(bin, ['-p', `${dir}/`, '-e', path.join(dir, 'error.log'), '-c', conf, '-g', 'daemon off; master_process off;'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    if (stderr.length < 10_000) stderr += d;
  });
  let exited = null;
  const exit = new Promise((resolve) => child.on('exit', (code, signal) => resolve((exited = signal ?? code))));
  child.on('error', (err) => (stderr += err.message));
  const errorLog = () => {
    try {
      return fs.readFileSync(path.join(dir, 'error.log'), 'utf8').slice(-2000);
    } catch {
      return '';
    }
  };
  /** Stops it and removes its dir; returns the access log's lines, whole once nginx wrote its buffer out at exit. */
  const dispose = async () => {
    if (exited === null) {
      child.kill('SIGQUIT'); // graceful: the buffered access log is written out
      const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exit;
      clearTimeout(timer);
    }
    let lines = [];
    try {
      lines = fs.readFileSync(path.join(dir, 'access.log'), 'utf8').split('\n').filter(Boolean);
    } catch {
      // no access log (the bare server), or nginx never started
    }
    fs.rmSync(dir, { recursive: true, force: true });
    return lines;
  };
  const deadline = performance.now() + 10_000;
  for (;;) {
    if (exited !== null) {
      const why = `${stderr}${errorLog()}`.trim();
      await dispose();
      return { retry: /Address already in use/.test(why), error: `nginx exited (${exited}) at start: ${why}` };
    }
    try {
      await requestsServed(port);
      return { server: { bin, dir, port, pid: child.pid, logged, dispose, errorLog } };
    } catch (err) {
      if (performance.now() > deadline) {
        await dispose();
        return { retry: false, error: `nginx did not answer on 127.0.0.1:${port} within 10 s: ${err.message} ${errorLog()}` };
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/**
 * nginx serving hello world on 127.0.0.1, `logged`: with the access log (`format`: the bench's, with its
 * four $tcpinfo_* variables, unless told). Resolves when it answers; a port another process took between
 * choosing it and nginx binding it is retried.
 */
export async function startNginx(bin, { logged, format = NGINX_LOG_FORMAT }) {
  let last;
  for (let attempt = 0; attempt < 3; attempt++) {
    const r = await startOnce(bin, logged, format);
    if (r.server) return r.server;
    last = r.error;
    if (!r.retry) break;
  }
  throw new Error(last);
}

/** The bench's window on an nginx: start() then stop() give what a node server's 'stopped' message gives. */
export function nginxMeter(server) {
  let window = null;
  const mark = async () => {
    const requests = await requestsServed(server.port);
    return { requests, cpuUs: processCpuUs(server.pid), statCpuUs: processStatCpuUs(server.pid), t: process.hrtime.bigint() };
  };
  return {
    async start() {
      window = await mark();
    },
    async stop() {
      const end = await mark();
      // The status request of each end is counted by stub_status; the first one's before the window's CPU.
      const requests = end.requests - window.requests - 1;
      return {
        type: 'stopped',
        seconds: Number(end.t - window.t) / 1e9,
        requests,
        handlerReads: 0,
        cpuUs: end.cpuUs - window.cpuUs,
        statCpuUs: end.statCpuUs - window.statCpuUs,
        loopDelayP99Ms: null,
        // Every request but the status ones is logged: the format has no `if=`.
        plugin: { logged: server.logged ? requests : 0, dropped: 0, failedReads: 0 },
        probesNs: null,
      };
    },
  };
}

export async function nginxVersion(bin) {
  return new Promise((resolve) => {
    const child = spawn(bin, ['-v'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let text = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => (text += d));
    child.on('error', () => resolve('unknown'));
    child.on('exit', () => resolve(/nginx\/(\S+)/.exec(text)?.[1] ?? 'unknown'));
  });
}
