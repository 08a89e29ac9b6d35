/**
 * The page of `tcpinfo report`: one self-contained HTML file, charts as inline SVG drawn here, no script and
 * nothing fetched (a Content-Security-Policy says so to the browser). Everything from a log (paths, addresses,
 * routes, event and column names) is escaped for HTML, and its control characters as the text reports show
 * them (escape.ts); the numbers shared with `tcpinfo explain --json` are embedded as JSON that cannot close
 * its element. Hover: SVG <title>s, which browsers show without a script.
 */
import { EVENT_NAMES, HOOK_NAMES } from '../events.js';
import { escapeControls, safeJson } from './escape.js';
import { VERDICT_ORDER } from './explain-stats.js';
import type { InputReport } from './log-input.js';
import { type Bucket, type LogShape, MAX_BUCKETS, type TimeSeries } from './report-stats.js';
import { grouped, localTime } from './units.js';

/** No request of any kind: styles inline, images as data: URLs at most, no script, no form, no base. */
export const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

/** The numbers the page shares with `tcpinfo explain --json`: its object (--by=verdict), and the groups of --by=route and --by=client. */
export interface SharedNumbers {
  explain: Record<string, unknown>;
  routes: unknown[];
  clients: unknown[];
}

export interface ReportPage {
  report: InputReport;
  shape: LogShape;
  series: TimeSeries;
  shared: SharedNumbers;
  /** Readings kept (after the filters), from first to last. */
  readings: number;
  first: number;
  last: number;
  /** The filters as given on the command line, for the header. */
  filters: string[];
  top: number;
  generated: Date;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text from a log (or anywhere) for HTML content and quoted attributes: markup and quotes escaped, controls shown as \xHH. */
export function html(text: string): string {
  return escapeControls(text).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/** JSON inside a <script type="application/json">: no `<` (so no `</script>`, no `<!--`), no `>` or `&`, and safeJson's escapes. */
export function scriptJson(value: unknown): string {
  return safeJson(value).replace(/[<>&]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const VERDICT_COLORS: Record<string, string> = {
  server: '#d9534f',
  network: '#f0ad4e',
  client: '#5b7fd6',
  mixed: '#9b59b6',
  unknown: '#9e9e9e',
  ok: '#5cb85c',
};
const CAUSE_COLORS: Record<string, string> = { server: '#d9534f', client: '#5b7fd6', network: '#f0ad4e', unsplit: '#9e9e9e' };
const CAUSE_TITLES: Record<string, string> = { server: 'server', client: 'client', network: 'network', unsplit: 'not split' };

function ms(us: number | null | undefined): string {
  if (us === null || us === undefined || !Number.isFinite(us)) return '-';
  if (us >= 1_000_000) return (us / 1_000_000).toFixed(2) + ' s';
  return us < 1000 ? (us / 1000).toFixed(3) + ' ms' : (us / 1000).toFixed(1) + ' ms';
}

function percent(share: number | null | undefined): string {
  return share === null || share === undefined ? '-' : (share * 100).toFixed(share < 0.1 ? 1 : 0) + '%';
}

/** A table cell: `value` (JSON's) in data-value, so the page's numbers can be checked against explain --json. */
function cell(key: string, value: unknown, shown: string, numeric = true): string {
  const data = value === undefined ? '' : ` data-value="${html(JSON.stringify(value))}"`;
  return `<td data-key="${key}"${data}${numeric ? ' class="n"' : ''}>${shown}</td>`;
}

// --- charts -----------------------------------------------------------------------------------------------

const W = 960;
const H = 230;
const M = { left: 64, right: 16, top: 12, bottom: 30 };
const PLOT_W = W - M.left - M.right;
const PLOT_H = H - M.top - M.bottom;

function two(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

/** A bucket's start for an axis: the time of day (seconds for buckets under a minute), with the date once the span passes a day. */
function axisTime(ms: number, withDate: boolean, seconds: boolean): string {
  const d = new Date(ms);
  const time = `${two(d.getHours())}:${two(d.getMinutes())}${seconds ? ':' + two(d.getSeconds()) : ''}`;
  return withDate ? `${two(d.getMonth() + 1)}-${two(d.getDate())} ${time}` : time;
}

interface Frame {
  series: Array<{ start: number; bucket: Bucket }>;
  widthMs: number;
  slot: number;
  withDate: boolean;
}

function frameOf(series: TimeSeries): Frame {
  const buckets = series.series();
  const span = buckets.length === 0 ? 0 : buckets[buckets.length - 1].start + series.widthMs - buckets[0].start;
  return { series: buckets, widthMs: series.widthMs, slot: PLOT_W / Math.max(1, buckets.length), withDate: span > 86_400_000 };
}

function bucketTitle(frame: Frame, i: number): string {
  const start = frame.series[i].start;
  return `${localTime(start)} to ${localTime(start + frame.widthMs)}`;
}

/** The x axis: a label every few buckets (about 8 in all). */
function xAxis(frame: Frame): string {
  const n = frame.series.length;
  const every = Math.max(1, Math.ceil(n / 8));
  const parts = [`<line x1="${M.left}" y1="${M.top + PLOT_H}" x2="${M.left + PLOT_W}" y2="${M.top + PLOT_H}" class="axis"/>`];
  for (let i = 0; i < n; i += every) {
    const x = M.left + i * frame.slot;
    parts.push(
      `<line x1="${x.toFixed(1)}" y1="${M.top + PLOT_H}" x2="${x.toFixed(1)}" y2="${M.top + PLOT_H + 4}" class="axis"/>`,
      `<text x="${x.toFixed(1)}" y="${H - 10}" class="tick">${axisTime(frame.series[i].start, frame.withDate, frame.widthMs < 60_000)}</text>`,
    );
  }
  return parts.join('');
}

/** Round steps for a linear axis up to `max`: 1, 2 or 5 times a power of ten. */
function linearTicks(max: number): { top: number; ticks: number[] } {
  if (!(max > 0)) return { top: 1, ticks: [0, 1] };
  const raw = max / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  const top = Math.ceil(max / step) * step;
  const ticks: number[] = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  return { top, ticks };
}

function yGrid(ticks: number[], y: (v: number) => number, label: (v: number) => string): string {
  return ticks
    .map((v) => {
      const py = y(v).toFixed(1);
      return `<line x1="${M.left}" y1="${py}" x2="${M.left + PLOT_W}" y2="${py}" class="grid"/><text x="${M.left - 6}" y="${py}" class="ytick">${label(v)}</text>`;
    })
    .join('');
}

/** A chart; `marks`: the bars, points or segments drawn with data (a chart without any is empty). */
function svg(name: string, label: string, body: string, marks: number): string {
  return `<svg class="chart" data-chart="${name}" data-marks="${marks}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${html(label)}">${body}</svg>`;
}

function legend(items: Array<[string, string]>): string {
  return `<p class="legend">${items.map(([name, color]) => `<span><i style="background:${color}"></i>${html(name)}</span>`).join('')}</p>`;
}

/** Explained transactions per bucket, stacked by verdict. */
function verdictChart(frame: Frame): string {
  const max = Math.max(0, ...frame.series.map(({ bucket }) => bucket.verdicts.reduce((a, b) => a + b, 0)));
  const { top, ticks } = linearTicks(max);
  const y = (v: number): number => M.top + PLOT_H - (v / top) * PLOT_H;
  const bars: string[] = [];
  let marks = 0;
  frame.series.forEach(({ bucket }, i) => {
    const total = bucket.verdicts.reduce((a, b) => a + b, 0);
    if (total === 0) return;
    const x = (M.left + i * frame.slot + frame.slot * 0.1).toFixed(1);
    const w = Math.max(0.5, frame.slot * 0.8).toFixed(1);
    let below = 0;
    const rects: string[] = [];
    const words: string[] = [];
    VERDICT_ORDER.forEach((verdict, v) => {
      const count = bucket.verdicts[v];
      if (count === 0) return;
      words.push(`${verdict} ${grouped(count)}`);
      rects.push(`<rect x="${x}" y="${y(below + count).toFixed(1)}" width="${w}" height="${(y(below) - y(below + count)).toFixed(1)}" fill="${VERDICT_COLORS[verdict]}" data-verdict="${verdict}" data-count="${count}"/>`);
      below += count;
      marks++;
    });
    bars.push(`<g><title>${bucketTitle(frame, i)}: ${html(words.join(', '))}</title>${rects.join('')}</g>`);
  });
  return svg(
    'verdicts',
    'explained transactions over time, by verdict',
    yGrid(ticks, y, (v) => grouped(v)) + xAxis(frame) + bars.join(''),
    marks,
  );
}

/** Log-scale ticks (1, 2, 5 times powers of ten) between `low` and `high` microseconds. */
function logTicks(low: number, high: number): number[] {
  const ticks: number[] = [];
  for (let p = Math.floor(Math.log10(low)); p <= Math.ceil(Math.log10(high)); p++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** p;
      if (v >= low && v <= high) ticks.push(v);
    }
  }
  return ticks;
}

interface Line {
  name: string;
  color: string;
  values: number[];
  dashed?: boolean;
}

/** Lines over the buckets (NaN: no data there, a gap), a hover strip per bucket naming each line's value. */
function lineChart(name: string, label: string, frame: Frame, lines: Line[], y: (v: number) => number, grid: string, show: (v: number) => string): string {
  const parts = [grid, xAxis(frame)];
  let marks = 0;
  for (const line of lines) {
    let path = '';
    let open = false;
    line.values.forEach((v, i) => {
      if (!Number.isFinite(v)) {
        open = false;
        return;
      }
      const x = (M.left + (i + 0.5) * frame.slot).toFixed(1);
      path += `${open ? 'L' : 'M'}${x} ${y(v).toFixed(1)}`;
      open = true;
      marks++;
    });
    // A bucket alone between gaps is a dot.
    line.values.forEach((v, i) => {
      const alone = Number.isFinite(v) && !Number.isFinite(line.values[i - 1]) && !Number.isFinite(line.values[i + 1]);
      if (alone) parts.push(`<circle cx="${(M.left + (i + 0.5) * frame.slot).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2.5" fill="${line.color}"/>`);
    });
    if (path !== '') parts.push(`<path d="${path}" fill="none" stroke="${line.color}" stroke-width="1.8"${line.dashed ? ' stroke-dasharray="5 3"' : ''} data-line="${html(line.name)}"/>`);
  }
  frame.series.forEach((_, i) => {
    const words = lines.filter((l) => Number.isFinite(l.values[i])).map((l) => `${l.name} ${show(l.values[i])}`);
    if (words.length === 0) return;
    parts.push(`<rect x="${(M.left + i * frame.slot).toFixed(1)}" y="${M.top}" width="${frame.slot.toFixed(1)}" height="${PLOT_H}" class="hover"><title>${bucketTitle(frame, i)}: ${html(words.join(', '))}</title></rect>`);
  });
  return svg(name, label, parts.join(''), marks);
}

const RTT_PERCENTILES = [50, 90, 99] as const;

function rttChart(frame: Frame): { chart: string; minRtt: boolean } {
  const values = frame.series.map(({ bucket }) => bucket.rtt?.percentiles(RTT_PERCENTILES) ?? [NaN, NaN, NaN]);
  const minRtt = frame.series.map(({ bucket }) => bucket.minRtt?.percentiles([50])[0] ?? NaN);
  const hasMin = minRtt.some(Number.isFinite);
  const all = [...values.flat(), ...minRtt].filter((v) => Number.isFinite(v));
  if (all.length === 0) return { chart: '<p data-chart="rtt" data-marks="0">No reading has an <code>rtt</code>.</p>', minRtt: false };
  const low = Math.max(1, Math.min(...all));
  const high = Math.max(low * 10, ...all);
  const lo = Math.log10(low) - 0.05;
  const hi = Math.log10(high) + 0.05;
  const y = (v: number): number => M.top + PLOT_H - ((Math.log10(Math.max(1, v)) - lo) / (hi - lo)) * PLOT_H;
  const lines: Line[] = [
    { name: 'p50', color: '#2b6cb0', values: values.map((v) => v[0]) },
    { name: 'p90', color: '#dd8a17', values: values.map((v) => v[1]) },
    { name: 'p99', color: '#c0392b', values: values.map((v) => v[2]) },
  ];
  if (hasMin) lines.push({ name: 'min_rtt p50', color: '#2e7d32', values: minRtt, dashed: true });
  const grid = yGrid(logTicks(10 ** lo, 10 ** hi), y, (v) => ms(v).replace(' ', '\u00a0'));
  return { chart: lineChart('rtt', 'rtt percentiles over time, log scale', frame, lines, y, grid, ms), minRtt: hasMin };
}

function retransChart(frame: Frame): { chart: string; field: string | undefined; transactions: boolean } {
  const cumulative = frame.series.some(({ bucket }) => bucket.cumulativeLines > 0);
  const current = !cumulative && frame.series.some(({ bucket }) => bucket.currentLines > 0);
  const readings = frame.series.map(({ bucket }) => {
    const [lines, withRetrans] = cumulative ? [bucket.cumulativeLines, bucket.cumulativeWith] : [bucket.currentLines, bucket.currentWith];
    return lines > 0 ? withRetrans / lines : NaN;
  });
  const txns = frame.series.map(({ bucket }) => (bucket.txnRetransLines > 0 ? bucket.txnRetransWith / bucket.txnRetransLines : NaN));
  const hasTxns = txns.some(Number.isFinite);
  const field = cumulative ? 'all_retrans' : current ? 'retrans' : undefined;
  const lines: Line[] = [];
  if (field !== undefined) lines.push({ name: `readings with ${field} > 0`, color: '#c0392b', values: readings });
  if (hasTxns) lines.push({ name: 'transactions with txn_retrans > 0', color: '#7b3fa0', values: txns, dashed: true });
  if (lines.length === 0) return { chart: '<p data-chart="retrans" data-marks="0">No reading has a retransmission count.</p>', field, transactions: false };
  const max = Math.max(0, ...lines.flatMap((l) => l.values.filter(Number.isFinite)));
  const { top, ticks } = linearTicks(Math.min(1, Math.max(max, 0.01)) * 100);
  const y = (v: number): number => M.top + PLOT_H - ((v * 100) / top) * PLOT_H;
  const grid = yGrid(ticks, (v) => y(v / 100), (v) => `${v}%`);
  return { chart: lineChart('retrans', 'retransmissions over time', frame, lines, y, grid, (v) => percent(v)), field, transactions: hasTxns };
}

/** The share of slow time by cause: one bar of 100%. */
function causeChart(causes: Record<string, { time_us: number; share: number | null }>): string {
  const width = 900;
  let x = 20;
  const rects: string[] = [];
  for (const [cause, { time_us, share }] of Object.entries(causes)) {
    if (!(share !== null && share > 0)) continue;
    const w = share * width;
    rects.push(
      `<g><title>${CAUSE_TITLES[cause]}: ${percent(share)} of the slow time, ${ms(time_us)}</title>` +
        `<rect x="${x.toFixed(1)}" y="10" width="${w.toFixed(1)}" height="34" fill="${CAUSE_COLORS[cause]}" data-cause="${cause}" data-share="${share}"/>` +
        (w > 110 ? `<text x="${(x + w / 2).toFixed(1)}" y="32" class="barlabel">${CAUSE_TITLES[cause]} ${percent(share)}</text>` : '') +
        '</g>',
    );
    x += w;
  }
  return `<svg class="chart" data-chart="causes" data-marks="${rects.length}" viewBox="0 0 940 54" width="940" height="54" role="img" aria-label="share of slow time by cause">${rects.join('')}</svg>`;
}

// --- tables -----------------------------------------------------------------------------------------------

interface Totals {
  transactions: number;
  time_us: number;
  slow_time_share: number | null;
}

function verdictTable(explain: Record<string, unknown>): string {
  const verdicts = explain.verdicts as Record<string, Totals>;
  const rows = VERDICT_ORDER.map((v) => {
    const t = verdicts[v];
    return (
      `<tr data-verdict="${v}"><td><i class="swatch" style="background:${VERDICT_COLORS[v]}"></i>${v}</td>` +
      cell('transactions', t.transactions, grouped(t.transactions)) +
      cell('time_us', t.time_us, ms(t.time_us)) +
      cell('slow_time_share', t.slow_time_share, v === 'ok' ? '-' : percent(t.slow_time_share)) +
      '</tr>'
    );
  });
  return `<table data-table="verdicts"><thead><tr><th>verdict</th><th>transactions</th><th>time</th><th>share of slow time</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function causeTable(causes: Record<string, { time_us: number; share: number | null }>): string {
  const rows = Object.entries(causes).map(
    ([cause, c]) => `<tr data-cause="${cause}"><td><i class="swatch" style="background:${CAUSE_COLORS[cause]}"></i>${CAUSE_TITLES[cause]}</td>${cell('time_us', c.time_us, ms(c.time_us))}${cell('share', c.share, percent(c.share))}</tr>`,
  );
  return `<table data-table="causes"><thead><tr><th>cause</th><th>slow time</th><th>share</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

interface Group {
  route?: string | null;
  network?: string;
  transactions: number;
  slow: number;
  slow_time_us: number;
  causes: Record<string, number | null>;
}

/** Routes or client networks, the most slow time first, with a bar of each one's slow time split by cause. */
function groupTable(name: 'routes' | 'clients', groups: Group[]): string {
  const key = name === 'routes' ? 'route' : 'network';
  const most = Math.max(1, ...groups.map((g) => g.slow_time_us));
  const rows = groups.map((g) => {
    const id = name === 'routes' ? g.route : g.network;
    const label = id === null || id === undefined ? '<em>(no route)</em>' : `<code>${html(id)}</code>`;
    let x = 0;
    const bar = Object.entries(g.causes)
      .filter(([, share]) => share !== null && share > 0)
      .map(([cause, share]) => {
        const w = (share! * 160 * g.slow_time_us) / most;
        const r = `<rect x="${x.toFixed(1)}" y="2" width="${w.toFixed(1)}" height="12" fill="${CAUSE_COLORS[cause]}"><title>${CAUSE_TITLES[cause]} ${percent(share)}</title></rect>`;
        x += w;
        return r;
      })
      .join('');
    return (
      `<tr><td data-key="${key}" data-value="${html(JSON.stringify(id ?? null))}">${label}</td>` +
      cell('transactions', g.transactions, grouped(g.transactions)) +
      cell('slow', g.slow, grouped(g.slow)) +
      cell('slow_time_us', g.slow_time_us, ms(g.slow_time_us)) +
      ['server', 'client', 'network', 'unsplit'].map((c) => cell(`causes.${c}`, g.causes[c], percent(g.causes[c]))).join('') +
      `<td><svg class="mini" width="160" height="16" viewBox="0 0 160 16">${bar}</svg></td></tr>`
    );
  });
  const title = name === 'routes' ? 'route' : 'client network';
  return (
    `<table data-table="${name}"><thead><tr><th>${title}</th><th>transactions</th><th>slow</th><th>slow time</th>` +
    `<th>server</th><th>client</th><th>network</th><th>not split</th><th>slow time by cause</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
  );
}

interface Slow {
  time: string;
  client: string;
  method?: string;
  url?: string;
  route?: string;
  status?: number;
  verdict: string;
  evidence: string;
  time_us: number | null;
  ttfb_us: number | null;
  ended: string | null;
}

function slowestTable(slowest: Slow[]): string {
  const rows = slowest.map((t, i) => {
    const request = [t.method, t.url, t.status === undefined ? undefined : String(t.status)].filter((p) => p !== undefined).join(' ');
    const route = t.route !== undefined && t.route !== t.url ? ` <span class="muted">(route ${html(t.route)})</span>` : '';
    return (
      `<tr><td class="n">${i + 1}</td>` +
      cell('verdict', t.verdict, `<i class="swatch" style="background:${VERDICT_COLORS[t.verdict] ?? '#999'}"></i>${html(t.verdict)}`, false) +
      cell('time_us', t.time_us, ms(t.time_us)) +
      cell('time', t.time, html(localTime(Date.parse(t.time))), false) +
      cell('client', t.client, `<code class="nowrap">${html(t.client)}</code>`, false) +
      `<td>${request === '' ? '-' : `<code>${html(request)}</code>`}${route}</td>` +
      cell('evidence', t.evidence, html(t.evidence), false) +
      '</tr>'
    );
  });
  return (
    '<table data-table="slowest"><thead><tr><th>#</th><th>verdict</th><th>judged time</th><th>at</th><th>client</th>' +
    `<th>request</th><th>evidence</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
  );
}

// --- the page -----------------------------------------------------------------------------------------------

/** What the lines say of how the logs were written, in sentences. */
function inferred(page: ReportPage): string[] {
  const { shape } = page;
  const items: string[] = [];
  const formats = [];
  if (shape.formats.text > 0) formats.push(`Traffic Server text (${grouped(shape.formats.text)} lines)`);
  if (shape.formats.json > 0) formats.push(`JSON lines, <code>--format=json</code> (${grouped(shape.formats.json)} lines)`);
  items.push(`Format: ${formats.join(' and ') || 'no readings'}.`);
  const level = shape.level();
  const columns = [...shape.columns];
  if (level !== undefined) items.push(`Columns: level ${level}${level === 1 ? ' (<code>rtt</code> only)' : ', the Traffic Server level-2 columns'} (<code>--log-level=${level}</code>).`);
  else if (columns.length > 0) items.push(`Columns: <code>--fields=${html(columns.join(','))}</code>.`);
  const events = [...shape.events].sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
  if (events.length > 0) {
    const hooks = events.map(([e]) => e).filter((e) => (HOOK_NAMES as readonly string[]).includes(e));
    items.push(
      `Events: ${events.map(([e, n]) => `<code>${html(e)}</code> ${grouped(n)}`).join(', ')}${shape.otherEvents > 0 ? `, and ${grouped(shape.otherEvents)} of other events` : ''}` +
        (hooks.length > 0 ? ` (hooks: <code>--hooks=${hooks.join(',')}</code>${shape.events.has('periodic') ? ', and <code>--update-period</code>' : ''}).` : '.'),
    );
  }
  if (shape.explained > 0) {
    const old = shape.oldExplained > 0 ? `, ${grouped(shape.oldExplained)} of them old <code>txn_close</code> verdicts, judged at the hand-off` : '';
    items.push(`<code>--explain</code>: ${grouped(shape.explained)} transactions with a verdict${old}.`);
  } else {
    items.push(`Without <code>--explain</code>${shape.explainColumns ? ' verdicts (the explain columns are there, no line has a verdict)' : ''}.`);
  }
  if (shape.routes > 0) items.push('Routes: the framework\'s route templates (and the paths, <code>--log-url</code>).');
  else if (shape.urls > 0) items.push('Routes: the paths (<code>--log-url</code>), ids folded to <code>:id</code>.');
  else items.push('No paths or routes (they need <code>--format=json --log-url</code>).');
  items.push('The sampling rate (<code>--sample-rate</code>) is not written in a log: the counts are of the lines logged, not of all the traffic.');
  return items;
}

function rank(event: string): number {
  const known: readonly string[] = EVENT_NAMES;
  return known.includes(event) ? known.indexOf(event) : known.length;
}

const MAX_FILES_LISTED = 20;

function header(page: ReportPage): string {
  const { report } = page;
  const files = report.files.slice(0, MAX_FILES_LISTED).map((f) => `<li><code>${html(f)}</code></li>`);
  if (report.files.length > MAX_FILES_LISTED) files.push(`<li>and ${grouped(report.files.length - MAX_FILES_LISTED)} more</li>`);
  const notes: string[] = [];
  if (report.unreadable.length > 0) notes.push(`Could not be read: ${report.unreadable.map((f) => `<code>${html(f)}</code>`).join(', ')}.`);
  if (report.malformed + report.overlong > 0) notes.push(`Skipped ${grouped(report.malformed + report.overlong)} lines that are not tcpinfo readings.`);
  if (report.headerless.length > 0) notes.push(`No header line, the Traffic Server column order assumed: ${report.headerless.map((f) => `<code>${html(f)}</code>`).join(', ')}.`);
  if (page.filters.length > 0) notes.push(`Filters: <code>${html(page.filters.join(' '))}</code>.`);
  const span = page.readings > 0 ? `from ${html(localTime(page.first))} to ${html(localTime(page.last))} (local time, ${utcOffset(page.first)})` : 'no readings';
  return (
    `<header><h1>tcpinfo report</h1>` +
    `<p class="span" data-readings="${page.readings}">${grouped(page.readings)} readings ${span}; made ${html(localTime(page.generated.getTime()))}.</p>` +
    `<details open><summary>${report.files.length} file${report.files.length === 1 ? '' : 's'} read</summary><ul class="files">${files.join('')}</ul></details>` +
    (notes.length > 0 ? `<p class="notes">${notes.join(' ')}</p>` : '') +
    `<h2>How the logs were written, as far as the lines tell</h2><ul class="inferred">${inferred(page).map((i) => `<li>${i}</li>`).join('')}</ul></header>`
  );
}

function utcOffset(ms: number): string {
  const minutes = -new Date(ms).getTimezoneOffset();
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `UTC${sign}${two(Math.floor(abs / 60))}:${two(abs % 60)}`;
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;background:#fff;margin:0 auto;padding:16px 24px;max-width:1000px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:26px 0 6px;border-bottom:1px solid #ddd;padding-bottom:3px}
h3{font-size:15px;margin:18px 0 4px}
code{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-wrap:anywhere}
table{border-collapse:collapse;margin:6px 0 10px;font-size:13px}th,td{padding:3px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
th{font-weight:600;background:#f6f6f6}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.chart{display:block;max-width:100%;height:auto}.axis{stroke:#999}.grid{stroke:#eee}
.tick{font-size:11px;fill:#555;text-anchor:middle}.ytick{font-size:11px;fill:#555;text-anchor:end;dominant-baseline:middle}
.barlabel{font-size:13px;fill:#fff;text-anchor:middle;font-weight:600}.hover{fill:transparent}.hover:hover{fill:rgba(0,0,0,.05)}
.legend span{margin-right:14px;white-space:nowrap}.legend i,.swatch{display:inline-block;width:11px;height:11px;margin-right:5px;vertical-align:-1px;border-radius:2px}
.nowrap{white-space:nowrap;overflow-wrap:normal}.muted,.notes{color:#666}.files{margin:4px 0;columns:2}.note{background:#fff8e1;border-left:3px solid #f0ad4e;padding:8px 12px}
`;

export function renderReportHtml(page: ReportPage): string {
  const frame = frameOf(page.series);
  const explain = page.shared.explain;
  const explained = (explain.transactions as number) > 0;
  const body: string[] = [header(page)];
  const step = frame.widthMs >= 60_000 ? `${frame.widthMs / 60_000} min` : `${frame.widthMs / 1000} s`;
  const note = `${frame.series.length} buckets of ${step} (at most ${MAX_BUCKETS}); hover for the values.`;

  if (explained) {
    body.push(
      '<h2>Transactions by verdict over time</h2>',
      `<p class="muted">Explained transactions per bucket of their verdict line's time, stacked by verdict. ${note}</p>`,
      legend(VERDICT_ORDER.map((v) => [v, VERDICT_COLORS[v]])),
      verdictChart(frame),
      verdictTable(explain),
      '<h2>Slow time by cause</h2>',
      `<p class="muted">The time of the transactions whose verdict is not ok, split by the shares on their lines (server_us, client_us, network_us); ` +
        `"not split" is time with no shares (old lines, no baseline). ${grouped(explain.slow_transactions as number)} slow transactions, ${ms(explain.slow_time_us as number)} in all.</p>`,
      causeChart(explain.causes as Record<string, { time_us: number; share: number | null }>),
      causeTable(explain.causes as Record<string, { time_us: number; share: number | null }>),
    );
  } else {
    body.push(
      '<p class="note" data-no-explain>These logs have no verdict lines. Written with <code>--explain</code> (and the <code>txn_close</code> hook), ' +
        'each transaction gets a <code>txn_delivered</code> line when the client has acknowledged its last byte, with its time split into the server\'s, ' +
        'the client\'s and the network\'s shares and a verdict; this page then also shows the transactions by verdict over time, the slow time by cause, ' +
        'the slowest routes (with <code>--format=json --log-url</code>) and client networks, and the slowest transactions with their evidence. ' +
        'Below: what every reading has.</p>',
    );
  }

  const rtt = rttChart(frame);
  body.push(
    '<h2>RTT over time</h2>',
    `<p class="muted">Percentiles (nearest-rank, within 0.5%) of the <code>rtt</code> of every reading in the bucket, log scale` +
      `${rtt.minRtt ? '; dashed: the median of the readings\' <code>min_rtt</code> (the lowest rtt each connection has seen): the gap above it is queueing' : ''}. ${note}</p>`,
    legend([['p50', '#2b6cb0'], ['p90', '#dd8a17'], ['p99', '#c0392b'], ...(rtt.minRtt ? [['min_rtt p50', '#2e7d32'] as [string, string]] : [])]),
    rtt.chart,
  );
  const retrans = retransChart(frame);
  const basis =
    retrans.field === 'all_retrans'
      ? 'the share of readings whose <code>all_retrans</code> (the connection\'s cumulative retransmissions) is above 0, as <code>tcpinfo summary</code> counts it'
      : retrans.field === 'retrans'
        ? 'the share of readings whose <code>retrans</code> (segments being retransmitted at that moment) is above 0: these logs have no <code>all_retrans</code>'
        : 'no reading has a retransmission count (level 1 has none)';
  body.push(
    '<h2>Retransmissions over time</h2>',
    `<p class="muted">Solid: ${basis}.${retrans.transactions ? ' Dashed: the share of explained transactions that retransmitted (<code>txn_retrans</code> &gt; 0).' : ''} ${note}</p>`,
    retrans.chart,
  );

  if (explained) {
    body.push(
      '<h2>Slowest routes</h2>',
      `<p class="muted">As <code>tcpinfo explain --by=route</code> folds them: the framework's route, else the path with its ids as <code>:id</code>; the most slow time first; shares of each one's slow time.</p>`,
      (page.shared.routes as Group[]).length > 0 && (page.shared.routes as Group[]).some((g) => g.route !== null)
        ? groupTable('routes', page.shared.routes as Group[])
        : '<p data-table="routes">No line has a route or a path: routes need JSON lines with the path, written with <code>--format=json --log-url</code>.</p>',
      '<h2>Client networks by slow time</h2>',
      '<p class="muted">As <code>tcpinfo explain --by=client</code>: /24 for IPv4, /48 for IPv6.</p>',
      groupTable('clients', page.shared.clients as Group[]),
      `<h2>The ${(explain.slowest as Slow[]).length} slowest transactions</h2>`,
      '<p class="muted">The evidence in words, as <code>tcpinfo explain</code> says it.</p>',
      slowestTable(explain.slowest as Slow[]),
    );
  }

  body.push(`<footer class="muted"><p>Made by <code>tcpinfo report</code>. The numbers of the tables are those of <code>tcpinfo explain --json</code> (with <code>--top=${page.top}</code>) on the same logs and filters, embedded below as JSON.</p></footer>`);
  return (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">' +
    `<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">` +
    '<meta name="referrer" content="no-referrer"><meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>tcpinfo report</title><style>${STYLE}</style></head><body>\n` +
    body.join('\n') +
    `\n<script type="application/json" id="tcpinfo-explain">${scriptJson(page.shared)}</script>\n</body></html>\n`
  );
}
