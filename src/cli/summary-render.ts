/** The report of `tcpinfo summary`, as text or JSON; what comes from the logs is escaped (escape.ts). */
import { escapeControls as esc, safeJson } from './escape.js';
import { fileCount, inputJson, type InputReport } from './log-input.js';
import { BOLD, RESET, table, type Output } from './output.js';
import { histogramBuckets, type EventStats, type SummaryStats } from './summary-stats.js';
import { grouped, localTime, microsAsMs } from './units.js';

interface RenderArgs {
  top: number;
  minCount: number;
}

const BAR_WIDTH = 40;
const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

function percent(share: number): string {
  return (share * 100).toFixed(1) + '%';
}

function ms(us: number | undefined): string {
  return us === undefined ? '-' : microsAsMs(us);
}

function bar(count: number, max: number, unicode: boolean): string {
  const eighths = Math.round((count / max) * BAR_WIDTH * 8);
  const whole = Math.floor(eighths / 8);
  if (!unicode) return '#'.repeat(Math.max(count > 0 ? 1 : 0, Math.round(eighths / 8)));
  const text = '█'.repeat(whole) + EIGHTHS[eighths % 8];
  return text === '' && count > 0 ? EIGHTHS[1] : text;
}

/** The edge of a histogram bucket in ms, without trailing zeros. */
function edge(us: number): string {
  return String(us / 1000);
}

function retransCell(stats: EventStats): string {
  const share = stats.retransShare();
  if (share === undefined) return '-';
  return percent(share.share) + (share.field === 'retrans' ? '*' : '');
}

export function renderSummaryText(stats: SummaryStats, report: InputReport, args: RenderArgs, out: Output): string {
  const heading = (text: string): string => (out.color ? BOLD + text + RESET : text);
  const lines: string[] = [];
  if (stats.readings === 0) {
    return `${fileCount(report)}, no readings${report.files.length > 0 ? ' (after filters)' : ''}\n`;
  }
  lines.push(
    `${fileCount(report)}, ${grouped(stats.readings)} readings from ${localTime(stats.first)} to ${localTime(stats.last)}`,
    'times in ms; percentiles are nearest-rank',
    '',
  );

  const events = stats.eventsInOrder().map(([event, s]): [string, EventStats] => [esc(event), s]);
  const rows = [['event', 'readings', 'rtt p50', 'p90', 'p99', 'max', 'rttvar p50', 'retrans', 'cwnd p50']];
  for (const [event, s] of events) {
    const [p50, p90, p99] = s.rtt.percentiles([50, 90, 99]);
    const cwnd = s.cwnd.percentile(50);
    rows.push([
      event, grouped(s.count), ms(p50), ms(p90), ms(p99), ms(s.rtt.max()), ms(s.rttvar.percentile(50)),
      retransCell(s), cwnd === undefined ? '-' : String(cwnd),
    ]);
  }
  const [title, ...body] = table(rows, [false, true, true, true, true, true, true, true, true]);
  lines.push(heading(title), ...body);

  const byField = (field: string): string[] => events.filter(([, s]) => s.retransShare()?.field === field).map(([e]) => e);
  const cumulative = byField('all_retrans');
  const current = byField('retrans');
  const without = events.filter(([, s]) => s.retransShare() === undefined).map(([e]) => e);
  const forSome = (names: string[]): string => (names.length === events.length ? '' : ` (${names.join(', ')})`);
  if (cumulative.length > 0) {
    lines.push(`retrans: share of readings with all_retrans > 0, the connection's cumulative retransmissions${forSome(cumulative)}`);
  }
  if (current.length > 0) {
    lines.push(`retrans*: share of readings with retrans > 0, segments being retransmitted at that moment; no all_retrans in these logs${forSome(current)}`);
  }
  if (without.length > 0) lines.push(`retrans -: no retransmission column in these logs (level 1)${forSome(without)}`);

  if (args.top > 0) {
    const clients = stats.topClients(args.top, args.minCount);
    lines.push('', heading(`top ${clients.length} client${clients.length === 1 ? '' : 's'} by rtt p90${args.minCount > 1 ? ` (at least ${args.minCount} readings)` : ''}`));
    const clientRows = [['client', 'readings', 'rtt p50', 'p90', 'max']];
    for (const c of clients) clientRows.push([esc(c.client), grouped(c.count), ms(c.p50), ms(c.p90), ms(c.max)]);
    lines.push(...table(clientRows, [false, true, true, true, true]));
  }

  const rtt = stats.allRtt();
  const buckets = histogramBuckets(rtt);
  if (buckets.length > 0) {
    lines.push('', heading(`rtt histogram, ms (${grouped(rtt.total)} readings)`));
    const max = Math.max(...buckets.map((b) => b.count));
    const histRows = buckets.map((b) => [
      `${edge(b.from)} - ${edge(b.to)}`,
      bar(b.count, max, out.isTTY),
      grouped(b.count),
      percent(b.count / rtt.total),
    ]);
    lines.push(...table(histRows, [true, false, true, true]));
  }
  return lines.join('\n') + '\n';
}

export function renderSummaryJson(stats: SummaryStats, report: InputReport, args: RenderArgs): string {
  const events: Record<string, unknown> = {};
  for (const [event, s] of stats.eventsInOrder()) {
    const [p50, p90, p99] = s.rtt.percentiles([50, 90, 99]);
    const share = s.retransShare();
    events[event] = {
      readings: s.count,
      rtt_us: { readings: s.rtt.total, p50: p50 ?? null, p90: p90 ?? null, p99: p99 ?? null, max: s.rtt.max() ?? null },
      rttvar_us: { readings: s.rttvar.total, p50: s.rttvar.percentile(50) ?? null },
      retrans:
        share === undefined
          ? null
          : { field: share.field, readings: share.lines, with_retrans: share.withRetrans, share: share.share },
      snd_cwnd: { readings: s.cwnd.total, p50: s.cwnd.percentile(50) ?? null },
    };
  }
  const rtt = stats.allRtt();
  const summary = {
    ...inputJson(report, 'readings', stats.readings, stats.first, stats.last),
    percentiles: 'nearest-rank',
    events,
    clients:
      args.top > 0
        ? stats.topClients(args.top, args.minCount).map((c) => ({
            client: c.client,
            readings: c.count,
            rtt_us: { p50: c.p50, p90: c.p90, max: c.max },
          }))
        : [],
    rtt_histogram_us: histogramBuckets(rtt),
  };
  return safeJson(summary, 2) + '\n';
}
