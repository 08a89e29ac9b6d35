/**
 * The report of `tcpinfo explain`, text for a person or one JSON object, and the evidence for each
 * verdict in words, from the same rule table the plugin judged by (src/explain/verdict.ts). What comes
 * from the logs (clients, paths) is printed with its control characters escaped (escape.ts).
 */
import {
  networkLimitedUs,
  transferUs,
  verdictOfRule,
  verdictRule,
  VERDICTS,
  type VerdictRule,
} from '../explain/legacy-verdict.js';
import { escapeControls as esc, safeJson } from './escape.js';
import type { ExplainedTransaction, ExplainStats } from './explain-stats.js';
import { fileCount, inputJson, type InputReport } from './log-input.js';
import { BOLD, RESET, table, type Output } from './output.js';
import { bytes, grouped, localTime } from './units.js';

/** Milliseconds for a person: one decimal, three below 1 ms. */
function ms(us: number): string {
  if (!Number.isFinite(us)) return '-';
  return us < 1000 ? (us / 1000).toFixed(3) + ' ms' : (us / 1000).toFixed(1) + ' ms';
}

/** A share in [0, 1]: parts measured apart (a first byte after the end, chronographs) may exceed their whole. */
function share(part: number, whole: number): number {
  return Math.min(1, Math.max(0, part / whole));
}

function pct(part: number, whole: number): string {
  return whole > 0 ? Math.round(100 * share(part, whole)) + '%' : '-';
}

/** The rule that gave this verdict, re-run on the line's columns (without ok: the log lacks the --slow-ms it was judged with).
 * Undefined when the columns do not lead to the logged verdict (queueing from a log without min_rtt). */
export function ruleOf(txn: ExplainedTransaction): VerdictRule | undefined {
  if (txn.verdict === 'ok') return 'fast';
  const rule = verdictRule(txn.timing, 0);
  return verdictOfRule(rule) === txn.verdict ? rule : undefined;
}

function retransmissions(n: number): string {
  return `${n} retransmission${n === 1 ? '' : 's'}`;
}

/** The evidence for a transaction's verdict, in words. */
export function evidence(txn: ExplainedTransaction): string {
  const t = txn.timing;
  const transfer = transferUs(t);
  const network = networkLimitedUs(t);
  const parts: string[] = [];
  const rtt = (): string =>
    Number.isFinite(t.rtt_us)
      ? Number.isFinite(t.min_rtt_us)
        ? `rtt ${ms(t.rtt_us)} against a minimum of ${ms(t.min_rtt_us)}`
        : `rtt ${ms(t.rtt_us)}`
      : '';
  switch (ruleOf(txn)) {
    case 'no-baseline':
      parts.push('no TCP_INFO baseline at txn_start: no deltas to judge by');
      break;
    case 'no-chronographs':
      parts.push("the kernel returned no chronographs (busy_time: Linux 4.10+)");
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
      if (rtt() !== '') parts.push(rtt());
      break;
    case 'retrans':
      parts.push(retransmissions(t.txn_retrans), `network limited ${pct(network, transfer)} of the transfer`);
      if (rtt() !== '') parts.push(rtt());
      break;
    case 'queueing':
      parts.push(`${rtt()}: queueing`);
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
      if (rtt() !== '') parts.push(rtt());
  }
  if (t.unsent_bytes > 0) parts.push(`${bytes(t.unsent_bytes)} still unsent at close`);
  return parts.join('; ');
}

function request(txn: ExplainedTransaction): string {
  const parts = [txn.method, txn.url, txn.status === undefined ? undefined : String(txn.status)].filter((p) => p !== undefined);
  return parts.length > 0 ? ' ' + esc(parts.join(' ')) : '';
}

export function renderExplainText(stats: ExplainStats, report: InputReport, top: number, out: Output): string {
  const heading = (text: string): string => (out.color ? BOLD + text + RESET : text);
  if (stats.transactions === 0) return `${fileCount(report)}, no explained transactions (after filters)\n`;
  const slowTime = stats.slowTimeUs();
  const slow = stats.transactions - stats.verdicts.get('ok')!.count;
  const lines = [
    `${fileCount(report)}, ${grouped(stats.transactions)} explained transactions from ${localTime(stats.first)} to ${localTime(stats.last)}; ` +
      `${grouped(slow)} slow or not judged, ${ms(slowTime)} in all`,
    '',
  ];
  const rows = [['verdict', 'transactions', 'share of slow time']];
  for (const verdict of ['server', 'network', 'client', 'mixed', 'unknown', 'ok'] as const) {
    const totals = stats.verdicts.get(verdict)!;
    rows.push([verdict, grouped(totals.count), verdict === 'ok' ? '-' : pct(totals.durationUs, slowTime)]);
  }
  const [title, ...body] = table(rows, [false, true, true]);
  lines.push(heading(title), ...body);

  const slowest = stats.slowestTransactions();
  if (slowest.length > 0) {
    lines.push('', heading(`the ${slowest.length} slowest`));
    slowest.forEach((txn, i) => {
      const t = txn.timing;
      lines.push(
        `${i + 1}. ${txn.verdict}  ${ms(t.duration_us)}  ${localTime(txn.time)}  ${esc(txn.client)}${request(txn)}`,
        `   ttfb ${ms(t.ttfb_us)}, transfer ${ms(transferUs(t))}${Number.isFinite(t.resp_bytes) ? `, ${bytes(t.resp_bytes)}` : ''}`,
        `   ${esc(evidence(txn))}`,
      );
    });
  }

  const networks = stats.topNetworks(top);
  if (networks.length > 0) {
    lines.push('', heading('client networks with the most network or client verdicts'));
    const netRows = [['network', 'network', 'client', 'transactions']];
    for (const n of networks) netRows.push([esc(n.network), grouped(n.networkVerdicts), grouped(n.clientVerdicts), grouped(n.transactions)]);
    lines.push(...table(netRows, [false, true, true, true]));
  }
  return lines.join('\n') + '\n';
}

function finiteOrNull(n: number): number | null {
  return Number.isFinite(n) ? n : null;
}

export function renderExplainJson(stats: ExplainStats, report: InputReport, top: number): string {
  const slowTime = stats.slowTimeUs();
  const verdicts: Record<string, unknown> = {};
  for (const verdict of VERDICTS) {
    const totals = stats.verdicts.get(verdict)!;
    verdicts[verdict] = {
      transactions: totals.count,
      duration_us: totals.durationUs,
      // Rounded: a float sum's 1.0000000000000007 is 1.
      slow_time_share: verdict === 'ok' || slowTime === 0 ? null : Math.round(share(totals.durationUs, slowTime) * 1e6) / 1e6,
    };
  }
  const result = {
    ...inputJson(report, 'transactions', stats.transactions, stats.first, stats.last),
    slow_time_us: slowTime,
    verdicts,
    slowest: stats.slowestTransactions().map((txn) => {
      const t = txn.timing;
      return {
        time: new Date(txn.time).toISOString(),
        client: txn.client,
        server: txn.server,
        ...(txn.conn === undefined ? {} : { conn: txn.conn }),
        ...(txn.method === undefined ? {} : { method: txn.method }),
        ...(txn.status === undefined ? {} : { status: txn.status }),
        ...(txn.url === undefined ? {} : { url: txn.url }),
        verdict: txn.verdict,
        rule: ruleOf(txn) ?? null,
        evidence: evidence(txn),
        ttfb_us: finiteOrNull(t.ttfb_us),
        transfer_us: finiteOrNull(transferUs(t)),
        duration_us: finiteOrNull(t.duration_us),
        resp_bytes: finiteOrNull(t.resp_bytes),
        txn_retrans: finiteOrNull(t.txn_retrans),
        txn_busy_us: finiteOrNull(t.txn_busy_us),
        txn_rwnd_limited_us: finiteOrNull(t.txn_rwnd_limited_us),
        txn_sndbuf_limited_us: finiteOrNull(t.txn_sndbuf_limited_us),
        txn_app_limited_us: finiteOrNull(t.txn_app_limited_us),
        unsent_bytes: finiteOrNull(t.unsent_bytes),
        unacked_segs: finiteOrNull(t.unacked_segs),
      };
    }),
    networks: stats.topNetworks(top).map((n) => ({
      network: n.network,
      network_verdicts: n.networkVerdicts,
      client_verdicts: n.clientVerdicts,
      transactions: n.transactions,
    })),
  };
  return safeJson(result, 2) + '\n';
}
