// Reads a V8 .cpuprofile (node --cpu-prof) and ranks frames by self time, and the plugin's entry points
// by total (self + callees) time: what to look at first on the hot path.
//
//   node bench/profile-summary.mjs FILE.cpuprofile [--top=25] [--match=/dist/]
import fs from 'node:fs';
import { parseArgs } from 'node:util';

function frameName(node) {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url === '' ? '' : ` ${url.replace(/^file:\/\//, '').replace(/^.*\/(dist|bench|node_modules)\//, '$1/')}:${lineNumber + 1}`;
  return `${functionName || '(anonymous)'}${file}`;
}

/**
 * { totalMs, frames: [{ name, selfMs, selfShare, totalMs, totalShare, plugin }] } where `plugin` marks
 * frames whose script URL contains `match`. Total time counts a frame once per sample even when recursive.
 */
export function summarizeProfile(profile, match = '/dist/') {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map();
  const totalUs = new Map();
  let totalMs = 0;
  const deltas = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) {
    // A sample's time is the delta to the next sample.
    const dt = i + 1 < deltas.length ? deltas[i + 1] : 0;
    if (dt <= 0) continue;
    totalMs += dt / 1000;
    const leaf = byId.get(profile.samples[i]);
    const leafName = frameName(leaf);
    selfUs.set(leafName, (selfUs.get(leafName) ?? 0) + dt);
    const seen = new Set();
    for (let id = leaf.id; id !== undefined; id = parent.get(id)) {
      const name = frameName(byId.get(id));
      if (seen.has(name)) continue;
      seen.add(name);
      totalUs.set(name, (totalUs.get(name) ?? 0) + dt);
    }
  }
  const frames = [...totalUs.keys()].map((name) => ({
    name,
    selfMs: (selfUs.get(name) ?? 0) / 1000,
    totalMs: totalUs.get(name) / 1000,
    selfShare: (selfUs.get(name) ?? 0) / 1000 / totalMs,
    totalShare: totalUs.get(name) / 1000 / totalMs,
    plugin: name.includes(match.replace(/^\/|\/$/g, '') + '/'),
  }));
  return { totalMs, frames };
}

function pct(x) {
  return `${(x * 100).toFixed(1)}%`.padStart(6);
}

export function printProfile({ totalMs, frames }, top = 25, out = console.log) {
  out(`profile: ${totalMs.toFixed(0)} ms sampled`);
  out('\ntop self time, all frames:');
  for (const f of [...frames].sort((a, b) => b.selfMs - a.selfMs).slice(0, top)) out(`  ${pct(f.selfShare)}  ${f.name}`);
  out('\ntop self time, plugin code (dist/):');
  const plugin = frames.filter((f) => f.plugin);
  for (const f of [...plugin].sort((a, b) => b.selfMs - a.selfMs).slice(0, top)) out(`  ${pct(f.selfShare)}  ${f.name}`);
  out('\ntop total (self + callees) time, plugin code (dist/):');
  for (const f of [...plugin].sort((a, b) => b.totalMs - a.totalMs).slice(0, top)) out(`  ${pct(f.totalShare)}  ${f.name}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' }, match: { type: 'string', default: '/dist/' } } });
  if (positionals.length !== 1) {
    console.error('usage: node bench/profile-summary.mjs FILE.cpuprofile [--top=25] [--match=/dist/]');
    process.exit(2);
  }
  printProfile(summarizeProfile(JSON.parse(fs.readFileSync(positionals[0], 'utf8')), values.match), Number(values.top));
}
