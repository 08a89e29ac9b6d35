// The comment share of src/ (issue 16 item 8): lines holding only comment text, of the non-blank lines and of
// all lines, found with TypeScript's parser. `node scripts/comment-share.mjs [dir] [-v]` (-v: per file).
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
const root = process.argv.slice(2).find((a) => !a.startsWith('-')) ?? 'src';
const files = fs.readdirSync(root, { recursive: true }).filter((f) => f.endsWith('.ts')).map((f) => path.join(root, f)).sort();
let all = 0, comment = 0, total = 0; const per = [];
for (const file of files) {
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n');
  const code = new Array(lines.length).fill(false), com = new Array(lines.length).fill(false);
  const lineOf = (pos) => ts.getLineAndCharacterOfPosition(sf, pos).line;
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest);
  const mark = (arr, a, b) => { for (let l = lineOf(a); l <= lineOf(Math.max(a, b - 1)); l++) arr[l] = true; };
  const seen = new Set();
  const visit = (node) => {
    if (node.kind >= ts.SyntaxKind.FirstJSDocNode && node.kind <= ts.SyntaxKind.LastJSDocNode) return;
    for (const r of [...(ts.getLeadingCommentRanges(text, node.pos) ?? []), ...(ts.getTrailingCommentRanges(text, node.end) ?? [])]) {
      if (!seen.has(r.pos)) { seen.add(r.pos); mark(com, r.pos, r.end); }
    }
    if (node.getChildCount(sf) === 0 && node.kind !== ts.SyntaxKind.EndOfFileToken) mark(code, node.getStart(sf), node.end);
    node.getChildren(sf).forEach(visit);
  };
  visit(sf);
  let a = 0, c = 0;
  lines.forEach((l, i) => { if (l.trim() === '') return; a++; if (com[i] && !code[i]) c++; });
  all += a; comment += c; total += lines.length - (lines.at(-1) === '' ? 1 : 0); per.push([c, a, file]);
}
if (process.argv.includes('-v')) for (const [c, a, f] of per.sort((x, y) => y[0] - x[0])) console.log(`${String(c).padStart(4)} / ${String(a).padStart(4)} ${(100 * c / a).toFixed(0).padStart(3)}%  ${f}`);
console.log(`${root}: ${comment} comment lines of ${all} non-blank (${(100 * comment / all).toFixed(1)}%), of ${total} in all (${(100 * comment / total).toFixed(1)}%)`);
