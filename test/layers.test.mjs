// Imports between the folders of src/ flow one way (issue 16 item 1): no folder imports, directly or
// through others, a folder that imports it. A file directly in src/ (attach.ts, events.ts, errors.ts,
// index.ts, register.ts) counts as a folder of its own. Imports are read with TypeScript's own scanner
// (static, type-only, re-exports and import()), so a comment or a string never counts as one.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';

const SRC = path.resolve(new URL('../src', import.meta.url).pathname);

function tsFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.join(e.parentPath ?? e.path, e.name));
}

/** The unit a file belongs to: its top folder under `root`, or the file itself when it is directly in root. */
function unitOf(root, file) {
  return path.relative(root, file).split(path.sep)[0];
}

/** Folder-level edges: Map<from, Map<to, 'file -> import'>> (one example import per edge). */
function folderGraph(root) {
  const graph = new Map();
  for (const file of tsFiles(root)) {
    const from = unitOf(root, file);
    if (!graph.has(from)) graph.set(from, new Map());
    for (const { fileName } of ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true).importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const target = path.resolve(path.dirname(file), fileName).replace(/\.js$/, '.ts');
      const to = unitOf(root, target);
      if (to === from || to.startsWith('..')) continue;
      if (!graph.get(from).has(to)) graph.get(from).set(to, `${path.relative(root, file)} imports ${fileName}`);
    }
  }
  return graph;
}

/** A cycle of the graph as [a, b, ..., a], or null when there is none (depth-first, bounded by the graph's size). */
function findCycle(graph) {
  const state = new Map(); // 1: on the current path, 2: done
  const stack = [];
  const visit = (node) => {
    state.set(node, 1);
    stack.push(node);
    for (const next of graph.get(node)?.keys() ?? []) {
      if (state.get(next) === 1) return [...stack.slice(stack.indexOf(next)), next];
      if (state.get(next) === undefined) {
        const found = visit(next);
        if (found !== null) return found;
      }
    }
    stack.pop();
    state.set(node, 2);
    return null;
  };
  for (const node of [...graph.keys()].sort()) {
    if (state.get(node) !== undefined) continue;
    const found = visit(node);
    if (found !== null) return found;
  }
  return null;
}

function describeCycle(graph, cycle) {
  return cycle.slice(0, -1).map((from, i) => `  ${from} -> ${cycle[i + 1]}   (${graph.get(from).get(cycle[i + 1])})`).join('\n');
}

function assertNoCycle(root) {
  const graph = folderGraph(root);
  const cycle = findCycle(graph);
  assert.equal(cycle, null, cycle && `a cycle between the folders of src/: ${cycle.join(' -> ')}\n${describeCycle(graph, cycle)}`);
  return graph;
}

test('no cycle between the folders of src/', () => {
  const graph = assertNoCycle(SRC);
  // The tree was read: every folder of src/ is in the graph, and the composition root reaches the others.
  for (const unit of ['attach.ts', 'events.ts', 'hooks', 'tcpinfo', 'format', 'logger', 'config', 'cli']) assert.ok(graph.has(unit), unit);
  assert.ok(graph.get('attach.ts').has('hooks') && graph.get('hooks').has('events.ts'));
});

test('the check finds a cycle made on purpose, and names it', (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tcpinfo-layers-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const write = (file, text) => {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  };
  write('a/one.ts', "import { two } from '../b/two.js';\nexport const one = two;\n");
  write('b/two.ts', "// import { x } from '../a/one.js' (a comment is no import)\nexport const two = 2;\n");
  write('b/three.ts', "export type T = import('../c/four.js').Four;\n");
  write('c/four.ts', "export type Four = 4;\n");
  write('top.ts', "export { one } from './a/one.js';\n");
  assertNoCycle(root);
  // c -> a closes a -> b -> c -> a, through a type-only import.
  write('c/five.ts', "import type { one } from '../a/one.js';\nexport type Five = typeof one;\n");
  assert.throws(() => assertNoCycle(root), (err) => {
    assert.match(err.message, /a -> b -> c -> a/);
    assert.match(err.message, /c\/five\.ts imports \.\.\/a\/one\.js/);
    return true;
  });
});
