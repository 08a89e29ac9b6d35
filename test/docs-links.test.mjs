// Every relative link in README.md and docs/*.md leads somewhere: to a file of the repository, and to a
// heading of it when the link names one (GitHub's anchors, made by github-slugger as GitHub makes them).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import GithubSlugger from 'github-slugger';

const ROOT = path.resolve(new URL('..', import.meta.url).pathname);

/** The markdown files the links are checked in: the README and every page of docs/. */
function pages() {
  return ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
}

/** Markdown text without its fenced code blocks (a `[x](y)` in code is not a link). */
function prose(text) {
  return text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[ \t]*$/gm, '');
}

/** The anchors GitHub gives the headings of a markdown file. */
function anchors(text) {
  const slugger = new GithubSlugger();
  const out = new Set();
  for (const line of prose(text).split('\n')) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (m) out.add(slugger.slug(m[1].replace(/`/g, '').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')));
  }
  return out;
}

/** Every link target `[text](target)` in prose, with its line number. */
export function links(text) {
  const out = [];
  prose(text)
    .split('\n')
    .forEach((line, i) => {
      for (const m of line.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) out.push({ target: m[1], line: i + 1 });
    });
  return out;
}

/** Problems with the relative links of one page: files that do not exist, anchors no heading has. */
export function brokenLinks(page, text, read = (p) => fs.readFileSync(path.join(ROOT, p), 'utf8')) {
  const problems = [];
  for (const { target, line } of links(text)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:: not ours to check here
    const [file, anchor] = target.split('#');
    const resolved = file === '' ? page : path.posix.normalize(path.posix.join(path.posix.dirname(page), file));
    const where = `${page}:${line}: ${target}`;
    if (resolved.startsWith('..') || !fs.existsSync(path.join(ROOT, resolved))) {
      problems.push(`${where}: no file ${resolved}`);
      continue;
    }
    if (anchor !== undefined) {
      if (!resolved.endsWith('.md')) problems.push(`${where}: an anchor into a file that is not markdown`);
      else if (!anchors(file === '' ? text : read(resolved)).has(anchor)) problems.push(`${where}: ${resolved} has no heading #${anchor}`);
    }
  }
  return problems;
}

test('every relative link in README.md and docs/*.md resolves to a file, and to a heading when it names one', () => {
  const problems = pages().flatMap((page) => brokenLinks(page, fs.readFileSync(path.join(ROOT, page), 'utf8')));
  assert.deepEqual(problems, []);
});

test('the link check catches a missing file and a missing heading', () => {
  const text = '[a](docs/options.md#hooks-string--string) [b](docs/nope.md) [c](docs/options.md#nope) [d](#here) [e](#there)\n\n## Here\n';
  assert.deepEqual(brokenLinks('README.md', text), [
    'README.md:1: docs/nope.md: no file docs/nope.md',
    'README.md:1: docs/options.md#nope: docs/options.md has no heading #nope',
    'README.md:1: #there: README.md has no heading #there',
  ]);
});

/** `docs/<page>.md[#anchor]` pointers in source comments (`// Why: docs/design.md#several-processes-the-roll-claim`), as links. */
export function sourcePointers(text) {
  return [...text.matchAll(/\bdocs\/[\w.-]+\.md(?:#[\w-]+)?/g)].map((m) => `[x](${m[0]})`).join('\n');
}

test('every docs/ pointer in a comment of src/ leads to a file, and to a heading when it names one', () => {
  const files = fs.readdirSync(path.join(ROOT, 'src'), { recursive: true }).filter((f) => f.endsWith('.ts'));
  // The pointers are relative to the repository's root, as from a page there.
  const problems = files.flatMap((f) =>
    brokenLinks('ROOT', sourcePointers(fs.readFileSync(path.join(ROOT, 'src', f), 'utf8'))).map((p) => `src/${f}: ${p.replace(/^ROOT:\d+: /, '')}`),
  );
  assert.ok(files.length > 0);
  assert.deepEqual(problems, []);
});
