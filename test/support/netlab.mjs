// A network with known faults, for tests that must tell the server's, the client's and the network's part in a
// slow transaction apart (this kernel has no netem). Three namespaces made by the test and removed after it:
//
//   client 10.77.1.2 [nlc] ==TUN== link process ==TUN== [nlr] router [nlv0] --veth-- [nlv1] 10.77.2.2 server
//
// The link (netlab-link.mjs, in the router namespace) delays each direction and loses packets at random,
// seeded. A rate is tbf on the router's egress (nlr toward the client), so its drops are losses to the
// server's TCP, never the back-pressure a qdisc on the sender's own device would be.
//
//   const lab = await makeLab(t, { delayMs: 25, lossPercent: 1, rateMbit: 16, cc: 'reno', seed: 7 });
//   if (lab === null) return; // skipped (t.skip): not root, no /dev/net/tun, no ip or tc
//   const server = lab.spawn('server', [process.execPath, 'app.mjs'], { stdio: 'pipe' }); // killed after the test
//   const { stdout } = await lab.exec('client', [process.execPath, 'get.mjs', `http://${lab.serverAddr}:8080/`]);
//   const { toClient } = await lab.stats(); // { packets, lost, overflow, forwarded, ..., tbf: { dropped, ... } }
//   const { RetransSegs } = await lab.tcpCounters('server'); // the server namespace's /proc/net/snmp Tcp line
//
// Options: delayMs (one way), lossPercent, both in each direction; seed (of the loss); rateMbit, queueBytes
// (the tbf's limit; 50 ms at the rate by default, at least 32 KB), burstBytes, toward the client only;
// toServer / toClient: { delayMs, lossPercent, rateMbit, queueBytes, burstBytes } for one direction. cc: the
// default congestion control of the client's and the server's namespaces (net.ipv4.tcp_congestion_control
// is per namespace; the host's stays). lineBytes: what the link's delay queue holds before it drops (overflow).
import { execFile, spawn as spawnChild } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { findCommand } from './harness.mjs';

const run = promisify(execFile);
const LINK = path.join(path.dirname(fileURLToPath(import.meta.url)), 'netlab-link.mjs');
const PREFIX = 'netlab-';
const ROUTER_MAC = '02:00:0a:4d:02:01';
const SERVER_MAC = '02:00:0a:4d:02:02';
let labs = 0;

/** Why a lab cannot be made here, or null. */
export function labUnavailable() {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, TUN devices)';
  if (!fs.existsSync('/dev/net/tun')) return 'no /dev/net/tun (TUN driver)';
  for (const tool of ['ip', 'tc']) if (findCommand(tool) === null) return `${tool} is not installed (apt-get install iproute2)`;
  return null;
}

/** Namespaces of earlier test processes that died before their clean-up: their names hold the dead pid. */
async function removeStale() {
  const { stdout } = await run('ip', ['netns', 'list']);
  for (const m of stdout.matchAll(new RegExp(`^(${PREFIX}(\\d+)-\\S+)`, 'gm'))) {
    try {
      process.kill(Number(m[2]), 0);
      continue;
    } catch {
      // that test process is gone
    }
    await removeNamespace(m[1]);
  }
}

/** Ends what still runs inside namespace `name` (only a lab's processes can be there), then removes it. */
async function removeNamespace(name) {
  const { stdout: pids } = await run('ip', ['netns', 'pids', name]).catch(() => ({ stdout: '' }));
  for (const pid of pids.split('\n').filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await run('ip', ['netns', 'del', name]).catch(() => {});
}

const SIDE_OPTIONS = ['delayMs', 'lossPercent', 'rateMbit', 'queueBytes', 'burstBytes'];
const OPTIONS = [...SIDE_OPTIONS, 'seed', 'cc', 'lineBytes', 'toServer', 'toClient'];

/** A mistyped option would silently make a lab without the fault the test is about. */
function check(options, allowed, what) {
  for (const [key, value] of Object.entries(options)) {
    if (!allowed.includes(key)) throw new Error(`${what}: unknown option ${key} (allowed: ${allowed.join(', ')})`);
    const numeric = !['cc', 'toServer', 'toClient'].includes(key);
    if (numeric && !(Number.isFinite(value) && value >= 0)) throw new Error(`${what}: ${key} must be a number >= 0, not ${value}`);
  }
  if (options.lossPercent > 100) throw new Error(`${what}: lossPercent must be at most 100, not ${options.lossPercent}`);
}

/** tbf at `rateMbit` on `dev` in `ns`: a burst of 4 ms at the rate (at least 3 packets), a queue of 50 ms. */
function tbf(ns, dev, { rateMbit: mbit, queueBytes, burstBytes }) {
  const bytesPerMs = (mbit * 1e6) / 8 / 1000;
  const burst = burstBytes ?? Math.max(4500, Math.ceil(4 * bytesPerMs));
  const limit = queueBytes ?? Math.max(32 * 1024, Math.ceil(50 * bytesPerMs));
  return ['tc', '-n', ns, 'qdisc', 'add', 'dev', dev, 'root', 'tbf', 'rate', `${mbit}mbit`, 'burst', `${burst}`, 'limit', `${limit}`];
}

/**
 * A lab for this test (null, with the test skipped, where one cannot be made): see the top of this file.
 * Everything it made (namespaces, the link, what spawn() started) is removed after the test, or when
 * makeLab itself fails.
 */
export async function makeLab(t, options = {}) {
  check(options, OPTIONS, 'makeLab');
  for (const side of ['toServer', 'toClient']) if (options[side] !== undefined) check(options[side], SIDE_OPTIONS, side);
  const reason = labUnavailable();
  if (reason !== null) {
    t.skip(reason);
    return null;
  }
  await removeStale();
  const id = `${PREFIX}${process.pid}-${++labs}`;
  const ns = { client: `${id}-c`, router: `${id}-r`, server: `${id}-s` };
  const children = new Set();
  let link = null;
  let closed = null;

  async function close() {
    closed ??= (async () => {
      const exits = [...children].map((child) => {
        if (child.exitCode !== null || child.signalCode !== null) return null;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        return exited;
      });
      await Promise.all(exits);
      for (const name of Object.values(ns)) await removeNamespace(name);
    })();
    return closed;
  }
  t.after(close);

  const inside = (role, argv, opts = {}) => run('ip', ['netns', 'exec', ns[role], ...argv], { timeout: 30_000, maxBuffer: 64 << 20, ...opts });
  const sh = (argv) => run(argv[0], argv.slice(1));

  for (const name of Object.values(ns)) await sh(['ip', 'netns', 'add', name]);
  // No IPv6: router solicitations and the like would cross the link and blur its counters.
  const sysctls = ['net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'];
  for (const role of ['client', 'router', 'server']) {
    const extra = role === 'router' ? ['net.ipv4.ip_forward=1'] : options.cc ? [`net.ipv4.tcp_congestion_control=${options.cc}`] : [];
    await inside(role, ['sysctl', '-qw', ...sysctls, ...extra]).catch((err) => {
      throw new Error(`makeLab: cannot set ${[...sysctls, ...extra].join(' ')} in the ${role} namespace: ${err.stderr || err.message}`);
    });
  }

  // Each direction's own options over the lab's; rateMbit and the like are toward the client only.
  const { toServer: _s, toClient: _c, ...common } = options;
  const toClient = { ...common, ...options.toClient };
  const toServer = { delayMs: common.delayMs, lossPercent: common.lossPercent, ...options.toServer };
  const seed = options.seed ?? 1;
  const config = {
    names: ['nlc', 'nlr'],
    lineBytes: options.lineBytes ?? 16 << 20,
    dirs: [
      { delayMs: toServer.delayMs ?? 0, lossPercent: toServer.lossPercent ?? 0, seed },
      { delayMs: toClient.delayMs ?? 0, lossPercent: toClient.lossPercent ?? 0, seed: (seed ^ 0x9e3779b9) >>> 0 },
    ],
  };
  // Both TUN devices are made in the router namespace, where the link runs; nlc then moves to the client's,
  // its file descriptor still the link's.
  link = spawnChild('ip', ['netns', 'exec', ns.router, process.execPath, LINK, JSON.stringify(config)], {
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  children.add(link);
  let linkErr = '';
  link.stderr.setEncoding('utf8').on('data', (c) => (linkErr += c));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`netlab link not ready in 10 s: ${linkErr}`)), 10_000);
    link.once('message', () => resolve(clearTimeout(timer)));
    link.once('exit', (code) => reject(new Error(`netlab link exited (${code}) before it was ready: ${linkErr}`)));
  });

  const commands = [
    ['ip', '-n', ns.router, 'link', 'set', 'nlc', 'netns', ns.client],
    ['ip', '-n', ns.router, 'link', 'add', 'nlv0', 'address', ROUTER_MAC, 'type', 'veth', 'peer', 'name', 'nlv1', 'address', SERVER_MAC, 'netns', ns.server],
    ['ip', '-n', ns.client, 'addr', 'add', '10.77.1.2', 'peer', '10.77.1.1', 'dev', 'nlc'],
    ['ip', '-n', ns.router, 'addr', 'add', '10.77.1.1', 'peer', '10.77.1.2', 'dev', 'nlr'],
    ['ip', '-n', ns.router, 'addr', 'add', '10.77.2.1/24', 'dev', 'nlv0'],
    ['ip', '-n', ns.server, 'addr', 'add', '10.77.2.2/24', 'dev', 'nlv1'],
  ];
  for (const [role, devs] of [['client', ['lo', 'nlc']], ['router', ['lo', 'nlr', 'nlv0']], ['server', ['lo', 'nlv1']]]) {
    for (const dev of devs) commands.push(['ip', '-n', ns[role], 'link', 'set', dev, 'up']);
  }
  // Known neighbours: the first transaction of a lab waits for no ARP.
  commands.push(['ip', '-n', ns.router, 'neigh', 'replace', '10.77.2.2', 'lladdr', SERVER_MAC, 'dev', 'nlv0', 'nud', 'permanent']);
  commands.push(['ip', '-n', ns.server, 'neigh', 'replace', '10.77.2.1', 'lladdr', ROUTER_MAC, 'dev', 'nlv1', 'nud', 'permanent']);
  commands.push(['ip', '-n', ns.client, 'route', 'add', 'default', 'via', '10.77.1.1', 'dev', 'nlc']);
  commands.push(['ip', '-n', ns.server, 'route', 'add', 'default', 'via', '10.77.2.1', 'dev', 'nlv1']);
  // The router's egress toward each side: nlr toward the client, nlv0 toward the server.
  const shaped = [[toServer, 'nlv0'], [toClient, 'nlr']];
  for (const [side, dev] of shaped) if (side.rateMbit) commands.push(tbf(ns.router, dev, side));
  for (const argv of commands) await sh(argv);

  let asked = 0;
  return {
    clientAddr: '10.77.1.2',
    serverAddr: '10.77.2.2',
    namespaces: ns,
    link,
    /** Runs argv to its end inside `role`'s namespace ('client', 'router', 'server'): { stdout, stderr }. */
    exec: (role, argv, opts) => inside(role, argv, opts),
    /** Starts argv inside `role`'s namespace (child_process.spawn's options); killed when the lab closes. */
    spawn(role, argv, opts = {}) {
      const child = spawnChild('ip', ['netns', 'exec', ns[role], ...argv], opts);
      children.add(child);
      return child;
    },
    /**
     * Per direction (toServer, toClient): the link's counters { packets, bytes, lost, overflow, forwarded,
     * writeErrors, queuedMax }, and with a rate, the tbf's as tbf { packets, bytes, dropped, overlimits }.
     */
    async stats() {
      if (link.exitCode !== null || link.signalCode !== null) throw new Error(`netlab link is gone: ${linkErr}`);
      const statsId = ++asked;
      const { stats } = await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('netlab link did not answer in 5 s')), 5000);
        const onMessage = (message) => {
          if (message.statsId !== statsId) return;
          link.off('message', onMessage);
          resolve(message, clearTimeout(timer));
        };
        link.on('message', onMessage);
        link.send({ statsId });
      });
      const result = { toServer: stats[0], toClient: stats[1] };
      for (const [[side, dev], counters] of shaped.map((s, i) => [s, stats[i]])) {
        if (!side.rateMbit) continue;
        const { stdout } = await sh(['tc', '-n', ns.router, '-s', '-j', 'qdisc', 'show', 'dev', dev]);
        const q = JSON.parse(stdout).find((x) => x.kind === 'tbf');
        counters.tbf = { packets: q.packets, bytes: q.bytes, dropped: q.drops, overlimits: q.overlimits };
      }
      return result;
    },
    /** The Tcp line of /proc/net/snmp in `role`'s namespace: { RetransSegs, OutSegs, ... } as numbers. */
    async tcpCounters(role) {
      const { stdout } = await inside(role, ['cat', '/proc/net/snmp']);
      const [names, values] = stdout.split('\n').filter((l) => l.startsWith('Tcp:')).map((l) => l.split(/\s+/).slice(1));
      return Object.fromEntries(names.map((name, i) => [name, Number(values[i])]));
    },
    close,
  };
}
