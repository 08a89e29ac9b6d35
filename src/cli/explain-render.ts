/**
 * The report of `tcpinfo explain`, text for a person or one JSON object, and the evidence for each
 * verdict in words: from the shares the plugin judged by at delivery (src/explain/verdict.ts), or, for a
 * line written before, from the old rule table run again (src/explain/legacy-verdict.ts). What comes from
 * the logs (clients, paths, routes) is printed with its control characters escaped (escape.ts).
 */
import {
  networkLimitedUs,
  rttShowsQueueing,
  transferUs,
  verdictOfRule,
  verdictRule,
  type VerdictRule,
} from '../explain/legacy-verdict.js';
import { EVIDENCE_SHARE, VERDICTS } from '../explain/verdict.js';
import { escapeControls as esc, safeJson } from './escape.js';
import {
  CAUSES,
  VERDICT_ORDER,
  type Cause,
  type ExplainedTransaction,
  type ExplainStats,
  type GroupBy,
  type GroupTotals,
} from './explain-stats.js';
import { fileCount, inputJson, type InputReport } from './log-input.js';
import { BOLD, RESET, table, type Output } from './output.js';
import { bytes, grouped, localTime } from './units.js';

/** What the judgement cannot see, said once under the report's first line. */
export const UNSEEN = [
  'not seen: the TCP handshake and TLS setup before the request (the judged time starts when the request arrived);',
  'a proxy or load balancer in front (then "client" and "network" are its connection to this server);',
  "after delivery: delivered means in the client's kernel, not yet read by its app",
];

/** Milliseconds for a person: one decimal, three below 1 ms. */
function ms(us: number): string {
  if (!Number.isFinite(us)) return '-';
  return us < 1000 ? (us / 1000).toFixed(3) + ' ms' : (us / 1000).toFixed(1) + ' ms';
}

/** A time in words: seconds from 1 s on, whole milliseconds from 10 ms, fewer digits than ms() for sentences. */
function dur(us: number): string {
  if (!Number.isFinite(us)) return '-';
  if (us >= 1_000_000) return (us / 1_000_000).toFixed(2) + ' s';
  if (us >= 10_000) return Math.round(us / 1000) + ' ms';
  if (us >= 1000) return (us / 1000).toFixed(1) + ' ms';
  return (us / 1000).toFixed(us < 10 ? 3 : 2) + ' ms';
}

/** A share in [0, 1]: parts measured apart (a first byte after the end, chronographs) may exceed their whole. */
function share(part: number, whole: number): number {
  return Math.min(1, Math.max(0, part / whole));
}

function pct(part: number, whole: number): string {
  return whole > 0 ? Math.round(100 * share(part, whole)) + '%' : '-';
}

/** A share for --json: rounded (a float sum's 1.0000000000000007 is 1); null without a whole. */
function jsonShare(part: number, whole: number): number | null {
  return whole > 0 ? Math.round(share(part, whole) * 1e6) / 1e6 : null;
}

/** The rule of the old table that gave an old line's verdict, re-run on its columns (without ok: the log lacks the --slow-ms
 * it was judged with). Undefined for a new line, and when the columns do not lead to the logged verdict. */
export function ruleOf(txn: ExplainedTransaction): VerdictRule | undefined {
  if (!txn.legacy) return undefined;
  if (txn.verdict === 'ok') return 'fast';
  const rule = verdictRule(txn.timing, 0);
  return verdictOfRule(rule) === txn.verdict ? rule : undefined;
}

function retransmissions(n: number): string {
  return `${n} retransmission${n === 1 ? '' : 's'}`;
}

function rttWords(t: ExplainedTransaction['timing'], time: (us: number) => string): string {
  if (!Number.isFinite(t.rtt_us)) return '';
  return Number.isFinite(t.min_rtt_us) ? `rtt ${time(t.rtt_us)} against a minimum of ${time(t.min_rtt_us)}` : `rtt ${time(t.rtt_us)}`;
}

/** The evidence of an old line (txn_close with a verdict), from the old rule table. */
function legacyEvidence(txn: ExplainedTransaction): string {
  const t = txn.timing;
  const transfer = transferUs(t);
  const network = networkLimitedUs(t);
  const parts: string[] = [];
  const rtt = rttWords(t, ms);
  switch (ruleOf(txn)) {
    case 'no-baseline':
      parts.push('no TCP_INFO baseline at txn_start: no deltas to judge by');
      break;
    case 'no-chronographs':
      parts.push('the kernel returned no chronographs (busy_time: Linux 4.10+)');
      break;
    case 'fast':
      parts.push(`${ms(t.duration_us)}, under --slow-ms`);
      break;
    case 'ttfb':
      parts.push(`first byte after ${ms(t.ttfb_us)}: ${pct(t.ttfb_us, t.duration_us)} of the transaction was spent before the response began`);
      break;
    case 'short-retrans':
      parts.push(`${retransmissions(t.txn_retrans)} in a transfer of ${ms(transfer)}, too short for the kernel's chronographs`);
      break;
    case 'short':
      parts.push(`transfer of ${ms(transfer)}, too short for the kernel's chronographs; no retransmissions; first byte after ${ms(t.ttfb_us)}`);
      break;
    case 'rwnd':
      parts.push(`receive window limited ${pct(t.txn_rwnd_limited_us, transfer)} of the transfer`);
      if (t.txn_retrans > 0) parts.push(retransmissions(t.txn_retrans));
      break;
    case 'network-limited':
      parts.push(`network limited ${pct(network, transfer)} of the transfer`);
      if (t.txn_retrans > 0) parts.push(retransmissions(t.txn_retrans));
      if (rtt !== '') parts.push(rtt);
      break;
    case 'retrans':
      parts.push(retransmissions(t.txn_retrans), `network limited ${pct(network, transfer)} of the transfer`);
      if (rtt !== '') parts.push(rtt);
      break;
    case 'queueing':
      parts.push(`${rtt}: queueing`);
      if (t.txn_retrans > 0) parts.push(retransmissions(t.txn_retrans));
      break;
    case 'app':
      parts.push(`the app did not feed the socket ${pct(t.txn_app_limited_us, transfer)} of the transfer`);
      if (t.txn_sndbuf_limited_us > 0) parts.push(`send buffer limited ${pct(t.txn_sndbuf_limited_us, transfer)}`);
      break;
    default:
      // mixed, or a verdict the columns do not reproduce: the shares, for a person to weigh.
      if (Number.isFinite(transfer) && Number.isFinite(t.txn_busy_us)) {
        parts.push(
          `first byte ${pct(t.ttfb_us, t.duration_us)} of the time; of the transfer: receive window ${pct(t.txn_rwnd_limited_us, transfer)}, ` +
            `network ${pct(network, transfer)}, app ${pct(t.txn_app_limited_us, transfer)}, send buffer ${pct(t.txn_sndbuf_limited_us, transfer)}`,
        );
      }
      if (t.txn_retrans > 0) parts.push(retransmissions(t.txn_retrans));
      if (rtt !== '') parts.push(rtt);
  }
  if (t.unsent_bytes > 0) parts.push(`${bytes(t.unsent_bytes)} still unsent at close`);
  return parts.join('; ');
}

/** When the app's part ended: its end(), else the hand-off. */
function appEndUs(t: ExplainedTransaction['timing']): number {
  return Number.isFinite(t.end_us) ? t.end_us : t.duration_us;
}

/** What shows a cause's share of a judged-at-delivery transaction, in words; '' when no column shows it. */
function causeWords(cause: Exclude<Cause, 'unsplit'>, txn: ExplainedTransaction): string {
  const t = txn.timing;
  const words: string[] = [];
  switch (cause) {
    case 'server':
      if (t.ttfb_us >= EVIDENCE_SHARE * t.judged_us) words.push(`first byte after ${dur(t.ttfb_us)}`);
      words.push(
        Number.isFinite(t.end_us) ? `the app ended the response after ${dur(t.end_us)}` : `the response was handed to the kernel after ${dur(t.duration_us)}`,
      );
      if (t.txn_sndbuf_limited_us > 0) words.push(`send buffer limited ${dur(t.txn_sndbuf_limited_us)}`);
      break;
    case 'client':
      if (t.upload_us > 0) words.push(`the request body took ${dur(t.upload_us)} to arrive`);
      if (t.txn_rwnd_limited_us > 0) words.push(`receive window limited ${dur(t.txn_rwnd_limited_us)}`);
      if (t.wnd_limited_us > 0) words.push(`the client's window full in the samples for ${dur(t.wnd_limited_us)}`);
      if (t.flow_held_us > 0) words.push(`HTTP/2 flow control held the data ${dur(t.flow_held_us)}`);
      break;
    case 'network': {
      const how: string[] = [];
      if (t.txn_retrans > 0) how.push(retransmissions(t.txn_retrans));
      const rtt = rttWords(t, dur);
      // A queue on the path shows as rtt far above the minimum, but only where the client did not hold its window: a
      // reader that holds it delays its ACKs, which lengthens the rtt as well.
      const queueing = rttShowsQueueing(t.rtt_us, t.min_rtt_us) && t.client_us < EVIDENCE_SHARE * t.judged_us;
      if (rtt !== '') how.push(queueing ? `${rtt}: queueing` : rtt);
      // After end() the client's share (window, flow control) may take part of the drain: then the network's part of it.
      const drain = Math.max(0, t.judged_us - appEndUs(t));
      const draining = t.network_us < 0.95 * drain ? `${dur(t.network_us)} of ${dur(drain)} draining` : `${dur(drain)} draining`;
      words.push(how.length > 0 ? `${draining}: ${how.join(', ')}` : draining);
      break;
    }
  }
  return words.join(', ');
}

/** The evidence of a transaction judged at delivery: every cause above EVIDENCE_SHARE of its judged time, how delivery ended. */
function deliveryEvidence(txn: ExplainedTransaction): string {
  const t = txn.timing;
  const parts: string[] = [];
  if (!t.baseline) {
    parts.push('no TCP_INFO baseline at txn_start: no deltas to judge by');
  } else {
    if (Number.isNaN(t.txn_busy_us)) parts.push('the kernel returned no chronographs (busy_time: Linux 4.10+)');
    const judged = t.judged_us;
    const shares = (['server', 'client', 'network'] as const).map((cause) => ({ cause, us: t[`${cause}_us`] }));
    let named = shares.filter((s) => s.us > EVIDENCE_SHARE * judged);
    // A hand-written line whose shares are all small still names its largest.
    if (named.length === 0 && judged > 0) named = [shares.reduce((a, b) => (b.us > a.us ? b : a))];
    const causes = named.map(({ cause, us }) => {
      const words = causeWords(cause, txn);
      return `${cause} ${pct(us, judged)}${words === '' ? '' : ` (${words})`}`;
    });
    if (causes.length > 0) parts.push(causes.join(', '));
  }
  if (txn.ended === 'gave_up') parts.push(`the client had not acknowledged the last byte after ${dur(txn.timeUs)}: gave up`);
  if (txn.ended === 'closed') parts.push(`the connection closed before the client acknowledged the last byte (after ${dur(txn.timeUs)})`);
  if (txn.shared === true) parts.push("HTTP/2: sibling streams shared the connection, so its counters (retransmissions, chronographs) are theirs too");
  if (t.unsent_bytes > 0) parts.push(`${bytes(t.unsent_bytes)} still unsent at the hand-off`);
  return parts.join('; ');
}

/** The evidence for a transaction's verdict, in words. */
export function evidence(txn: ExplainedTransaction): string {
  return txn.legacy ? legacyEvidence(txn) : deliveryEvidence(txn);
}

/** The timeline of a transaction: ttfb, end, hand-off, delivered, judged (old lines: ttfb and transfer), and its bytes. */
function timeline(txn: ExplainedTransaction): string {
  const t = txn.timing;
  const size = Number.isFinite(t.resp_bytes) ? `, ${bytes(t.resp_bytes)}` : '';
  if (txn.legacy) return `ttfb ${ms(t.ttfb_us)}, transfer ${ms(transferUs(t))}${size}`;
  const parts = [`ttfb ${ms(t.ttfb_us)}`];
  if (Number.isFinite(t.end_us)) parts.push(`end ${ms(t.end_us)}`);
  parts.push(`hand-off ${ms(t.duration_us)}`);
  parts.push(Number.isFinite(t.delivered_us) ? `delivered ${ms(t.delivered_us)}` : `not delivered (${txn.ended ?? '-'})`);
  if (Number.isFinite(t.judged_us)) parts.push(`judged ${ms(t.judged_us)}${t.ack_delay_us > 0 ? ` (less a delayed ACK of ${ms(t.ack_delay_us)})` : ''}`);
  return parts.join(', ') + size;
}

function request(txn: ExplainedTransaction): string {
  const parts = [txn.method, txn.url, txn.status === undefined ? undefined : String(txn.status)].filter((p) => p !== undefined);
  if (txn.route !== undefined && txn.route !== txn.url) parts.push(`(route ${txn.route})`);
  return parts.length > 0 ? ' ' + esc(parts.join(' ')) : '';
}

/** A group's name in text: the route, the network, the verdict; `(no route)` for the transactions without one. */
function groupName(group: GroupTotals): string {
  return group.key === null ? '(no route)' : esc(group.key);
}

/** Why --by=route has no routes to show. */
export const NO_ROUTES = 'no line has a route or a path: routes need JSON lines with the path, written with --format=json --log-url';

const CAUSE_TITLES: Readonly<Record<Cause, string>> = { server: 'server', client: 'client', network: 'network', unsplit: 'not split' };

export function renderExplainText(stats: ExplainStats, report: InputReport, top: number, out: Output, by: GroupBy = 'verdict'): string {
  const heading = (text: string): string => (out.color ? BOLD + text + RESET : text);
  if (stats.transactions === 0) return `${fileCount(report)}, no explained transactions (after filters)\n`;
  const all = stats.all;
  const slowTime = all.slowTimeUs;
  const lines = [
    `${fileCount(report)}, ${grouped(stats.transactions)} explained transactions from ${localTime(stats.first)} to ${localTime(stats.last)}; ` +
      `${grouped(all.slow)} slow or not judged, ${ms(slowTime)} in all`,
    // Old lines were judged at the hand-off: nothing was delivered.
    ...(stats.legacy === stats.transactions ? UNSEEN.slice(0, 2) : UNSEEN).map((line) => '  ' + line),
    '',
  ];
  const rows = [['verdict', 'transactions', 'share of slow time']];
  for (const verdict of VERDICT_ORDER) {
    const totals = stats.verdicts.get(verdict)!;
    rows.push([verdict, grouped(totals.transactions), verdict === 'ok' ? '-' : pct(totals.timeUs, slowTime)]);
  }
  const [title, ...body] = table(rows, [false, true, true]);
  lines.push(heading(title), ...body);

  const causeRows = [['cause', 'share of slow time']];
  for (const cause of CAUSES) {
    if (cause !== 'unsplit' || all.slowCauses.unsplit > 0) causeRows.push([CAUSE_TITLES[cause], pct(all.slowCauses[cause], slowTime)]);
  }
  const [causeTitle, ...causeBody] = table(causeRows, [false, true]);
  lines.push('', heading(causeTitle), ...causeBody);

  const slowest = stats.slowestTransactions();
  if (slowest.length > 0) {
    lines.push('', heading(`the ${slowest.length} slowest`));
    slowest.forEach((txn, i) => {
      lines.push(
        `${i + 1}. ${txn.verdict}  ${ms(txn.timeUs)}  ${localTime(txn.time)}  ${esc(txn.client)}${request(txn)}`,
        `   ${timeline(txn)}`,
        `   ${esc(evidence(txn))}`,
      );
    });
  }

  if (by === 'verdict') {
    const networks = stats.topNetworks(top);
    if (networks.length > 0) {
      lines.push('', heading('client networks with the most network or client verdicts'));
      const netRows = [['network', 'network', 'client', 'transactions']];
      for (const n of networks) netRows.push([esc(n.network), grouped(n.networkVerdicts), grouped(n.clientVerdicts), grouped(n.transactions)]);
      lines.push(...table(netRows, [false, true, true, true]));
    }
  } else if (by === 'route' && stats.routed === 0) {
    lines.push('', NO_ROUTES);
  } else {
    const groups = stats.topGroups(by, top);
    const what = by === 'route' ? 'route' : 'client network';
    lines.push('', heading(`by ${what}, the most slow time first; shares of each one's slow time`));
    const groupRows = [[by === 'route' ? 'route' : 'network', 'transactions', 'slow', 'slow time', 'server', 'client', 'network']];
    for (const g of groups) {
      const slow = g.slowTimeUs;
      groupRows.push([
        groupName(g), grouped(g.transactions), grouped(g.slow), ms(slow),
        pct(g.slowCauses.server, slow), pct(g.slowCauses.client, slow), pct(g.slowCauses.network, slow),
      ]);
    }
    lines.push(...table(groupRows, [false, true, true, true, true, true, true]));
    const more = stats.groupCount(by) - groups.length;
    if (more > 0) lines.push(`(${grouped(more)} more; --top=N shows more)`);
  }
  return lines.join('\n') + '\n';
}

function finiteOrNull(n: number): number | null {
  return Number.isFinite(n) ? n : null;
}

function causeShares(group: GroupTotals): Record<Cause, number | null> {
  const shares = {} as Record<Cause, number | null>;
  for (const cause of CAUSES) shares[cause] = jsonShare(group.slowCauses[cause], group.slowTimeUs);
  return shares;
}

/** The numbers of a transaction in --json, one shape for old and new lines: null for what a line lacks. */
const JSON_TIMING = [
  'ttfb_us', 'end_us', 'duration_us', 'delivered_us', 'judged_us', 'server_us', 'client_us', 'network_us', 'upload_us',
  'ack_delay_us', 'resp_bytes', 'txn_retrans', 'txn_busy_us', 'txn_rwnd_limited_us', 'txn_sndbuf_limited_us',
  'wnd_limited_us', 'flow_held_us', 'unsent_bytes', 'rtt_us', 'min_rtt_us', 'txn_app_limited_us', 'unacked_segs',
] as const;

/** What `explain --json` prints, as an object: `tcpinfo report` shows the same numbers from it. */
export function explainJson(stats: ExplainStats, report: InputReport, top: number, by: GroupBy = 'verdict'): Record<string, unknown> {
  const all = stats.all;
  const slowTime = all.slowTimeUs;
  const verdicts: Record<string, unknown> = {};
  for (const verdict of VERDICTS) {
    const totals = stats.verdicts.get(verdict)!;
    verdicts[verdict] = {
      transactions: totals.transactions,
      time_us: totals.timeUs,
      slow_time_share: verdict === 'ok' ? null : jsonShare(totals.timeUs, slowTime),
    };
  }
  const causes: Record<string, unknown> = {};
  for (const cause of CAUSES) causes[cause] = { time_us: all.slowCauses[cause], share: jsonShare(all.slowCauses[cause], slowTime) };
  const byRoute = by === 'route';
  return {
    ...inputJson(report, 'transactions', stats.transactions, stats.first, stats.last),
    old_format_transactions: stats.legacy,
    slow_transactions: all.slow,
    slow_time_us: slowTime,
    verdicts,
    causes,
    by,
    groups: byRoute && stats.routed === 0 ? [] : stats.topGroups(by, top).map((g) => ({
      [by === 'client' ? 'network' : by]: g.key,
      transactions: g.transactions,
      slow: g.slow,
      slow_time_us: g.slowTimeUs,
      causes: causeShares(g),
    })),
    slowest: stats.slowestTransactions().map((txn) => {
      const timing: Record<string, number | null> = {};
      for (const name of JSON_TIMING) timing[name] = finiteOrNull(txn.timing[name]);
      return {
        time: new Date(txn.time).toISOString(),
        event: txn.event,
        client: txn.client,
        server: txn.server,
        ...(txn.conn === undefined ? {} : { conn: txn.conn }),
        ...(txn.stream === undefined ? {} : { stream: txn.stream }),
        ...(txn.method === undefined ? {} : { method: txn.method }),
        ...(txn.status === undefined ? {} : { status: txn.status }),
        ...(txn.url === undefined ? {} : { url: txn.url }),
        ...(txn.route === undefined ? {} : { route: txn.route }),
        verdict: txn.verdict,
        rule: ruleOf(txn) ?? null,
        evidence: evidence(txn),
        time_us: finiteOrNull(txn.timeUs),
        transfer_us: txn.legacy ? finiteOrNull(transferUs(txn.timing)) : null,
        ...timing,
        ended: txn.ended ?? null,
        shared: txn.shared ?? null,
      };
    }),
    networks: stats.topNetworks(top).map((n) => ({
      network: n.network,
      network_verdicts: n.networkVerdicts,
      client_verdicts: n.clientVerdicts,
      transactions: n.transactions,
    })),
  };
}

export function renderExplainJson(stats: ExplainStats, report: InputReport, top: number, by: GroupBy = 'verdict'): string {
  return safeJson(explainJson(stats, report, top, by), 2) + '\n';
}
