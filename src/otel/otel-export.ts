/**
 * --otel: what --explain finds about a transaction, on OpenTelemetry.
 *
 *   send_resp_hdr  the server span the app handles the request in (the http instrumentation's, through its RPC metadata)
 *   hand-off       that span gets the connection's readings (tcpinfo.*), while it is still open
 *   verdict        a child span `tcpinfo.delivery` from the hand-off to the delivery, and the metrics
 *
 * @opentelemetry/api is an optional peer, loaded here only when --otel is set; none of its types leave this file's
 * internals. Docs: docs/otel.md
 */
import { createRequire } from 'node:module';
import type * as Api from '@opentelemetry/api';
import { withCode } from '../errors.js';
import type { AnyServer } from '../events.js';
import type { TxnReading } from '../explain/transaction-timing.js';
import type { ExplainedTransaction, TransactionState } from '../explain/transaction-state.js';
import { decodeField, fieldSpec } from '../tcpinfo/layout.js';
import type { Reading } from '../tcpinfo/read.js';

type OtelApi = typeof Api;

/** @opentelemetry/core's context key for the server span (createContextKey is Symbol.for): the span stays findable
 * while the app runs inside child spans of its own. */
const RPC_METADATA = Symbol.for('OpenTelemetry SDK Context Key RPC_METADATA');

/** The server span's attributes at the hand-off: attribute name, struct field. */
const SPAN_FIELDS = [
  ['tcpinfo.rtt_us', 'rtt'],
  ['tcpinfo.rttvar_us', 'rttvar'],
  ['tcpinfo.min_rtt_us', 'min_rtt'],
  ['tcpinfo.snd_cwnd', 'snd_cwnd'],
  ['tcpinfo.total_retrans', 'total_retrans'],
  ['tcpinfo.bytes_sent', 'bytes_sent'],
  ['tcpinfo.bytes_retrans', 'bytes_retrans'],
  ['tcpinfo.bytes_received', 'bytes_received'],
  ['tcpinfo.notsent_bytes', 'notsent_bytes'],
].map(([name, field]) => ({ name, spec: fieldSpec(field)! }));

/** The delivery span's number attributes: the verdict line's columns of the same names. */
const DELIVERY_COLUMNS = ['judged_us', 'server_us', 'client_us', 'network_us', 'upload_us', 'ack_delay_us', 'delivered_us', 'duration_us', 'txn_retrans', 'resp_bytes'] as const;

/** The same bounds as tcpinfo_transaction_duration_us (metrics/tcp-metrics.ts), microseconds. */
const DURATION_BOUNDS = [1000, 5000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000, 30_000_000, 60_000_000];

function loadOtelApi(): OtelApi {
  try {
    // Resolved from here, which in an app is the app's own @opentelemetry/api (its providers are global either way).
    return createRequire(import.meta.url)('@opentelemetry/api') as OtelApi;
  } catch (err) {
    throw withCode(
      new Error('tcpinfo: --otel needs @opentelemetry/api; install it with `npm install @opentelemetry/api` (and start an OpenTelemetry SDK to export)', { cause: err }),
      'ERR_TCPINFO_OTEL_API_MISSING',
    );
  }
}

interface Instruments {
  provider: Api.MeterProvider;
  transactions: Api.Counter;
  duration: Api.Histogram;
}

/** The instruments on the global MeterProvider of the moment: it has no proxy, so one registered later is met here. */
let instruments: Instruments | null = null;

function instrumentsOf(api: OtelApi): Instruments {
  const provider = api.metrics.getMeterProvider();
  if (instruments !== null && instruments.provider === provider) return instruments;
  const meter = provider.getMeter('tcpinfo');
  instruments = {
    provider,
    transactions: meter.createCounter('tcpinfo.transactions', {
      unit: '{transaction}',
      description: 'Transactions judged at delivery, by verdict: server, network, client, mixed, unknown or ok.',
    }),
    duration: meter.createHistogram('tcpinfo.transaction.duration', {
      unit: 'us',
      description: 'Judged time of a transaction, from the request to the delivery of its last byte less the client ACK delay.',
      advice: { explicitBucketBoundaries: DURATION_BOUNDS },
    }),
  };
  return instruments;
}

export class OtelExport {
  private readonly api: OtelApi;
  private readonly server: AnyServer;
  /** The server span of each chosen transaction, from its headers to its verdict (keyed by the request). */
  private readonly spans = new WeakMap<object, Api.Span>();
  /** `{ server, verdict }` per verdict, made once. */
  private readonly attributes = new Map<string, Api.Attributes>();
  private serverLabel = '';
  private readonly report: (err: Error) => void;
  private reported = false;
  /** Calls into OpenTelemetry that threw (an SDK's processor or reader): counted, the first reported. */
  faults = 0;

  /** Throws when @opentelemetry/api is missing. `report`: a run-time fault, once. */
  constructor(server: AnyServer, report: (err: Error) => void) {
    this.api = loadOtelApi();
    this.server = server;
    this.report = report;
  }

  /** A chosen transaction's headers go out: the span the app handles it in, if one is recording. */
  headers(key: object): void {
    try {
      const ctx = this.api.context.active();
      const span = (ctx.getValue(RPC_METADATA) as { span?: Api.Span } | undefined)?.span ?? this.api.trace.getSpan(ctx);
      if (span !== undefined && span.isRecording()) this.spans.set(key, span);
    } catch (err) {
      this.fault(err);
    }
  }

  /** The hand-off's reading, on the span while it is open (the http instrumentation ends it at the response's 'close'). */
  handoff(key: object, reading: Reading, base: TxnReading | null): void {
    const span = this.spans.get(key);
    if (span === undefined) return;
    try {
      if (!span.isRecording()) return;
      const { bytes, length } = reading;
      for (const { name, spec } of SPAN_FIELDS) {
        const value = decodeField(spec, bytes, length);
        if (value !== undefined) span.setAttribute(name, value);
      }
      if (base !== null && !Number.isNaN(base.total_retrans)) {
        const now = decodeField(SPAN_FIELDS[4].spec, bytes, length);
        if (now !== undefined) span.setAttribute('tcpinfo.txn_retrans', now - base.total_retrans);
      }
    } catch (err) {
      this.fault(err);
    }
  }

  /** The verdict: the metrics, and the delivery span under the server span. `deliveredUs`: NaN when not delivered. */
  judged(key: object, state: TransactionState, explained: ExplainedTransaction, deliveredUs: number, nowUs: number): void {
    const api = this.api;
    try {
      const verdict = explained.verdict;
      let attributes = this.attributes.get(verdict);
      if (attributes === undefined) this.attributes.set(verdict, (attributes = { server: this.label(), verdict }));
      const { transactions, duration } = instrumentsOf(api);
      transactions.add(1, attributes);
      const judged = explained.timing.judged_us;
      if (!Number.isNaN(judged)) duration.record(judged, attributes);
      const span = this.spans.get(key);
      if (span === undefined) return;
      this.spans.delete(key);
      const spanAttributes: Api.Attributes = { 'tcpinfo.verdict': verdict, 'tcpinfo.ended': explained.timing.ended };
      const timing = explained.timing as unknown as Record<string, number>;
      for (const column of DELIVERY_COLUMNS) {
        const value = timing[column];
        if (typeof value === 'number' && !Number.isNaN(value)) spanAttributes[`tcpinfo.${column}`] = value;
      }
      const endUs = Number.isNaN(deliveredUs) ? nowUs : deliveredUs;
      // An ACK already in at the hand-off's read: a span of no length at the delivery.
      const startUs = Number.isNaN(state.handoffUs) ? endUs : Math.min(state.handoffUs, endUs);
      // Epoch milliseconds: explain's clock is performance.now().
      const origin = performance.timeOrigin;
      const parent = api.trace.setSpan(api.ROOT_CONTEXT, span);
      const tracer = api.trace.getTracer('tcpinfo');
      tracer.startSpan('tcpinfo.delivery', { startTime: origin + startUs / 1000, attributes: spanAttributes }, parent).end(origin + endUs / 1000);
    } catch (err) {
      this.fault(err);
    }
  }

  /** `address:port` the server listens on, as the Prometheus metrics' `server` label. */
  private label(): string {
    if (this.serverLabel === '') {
      const address = this.server.address();
      if (address === null) return 'unknown';
      this.serverLabel = typeof address === 'string' ? address : address.family === 'IPv6' ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`;
    }
    return this.serverLabel;
  }

  private fault(err: unknown): void {
    this.faults++;
    if (this.reported) return;
    this.reported = true;
    const message = `tcpinfo: --otel: a call into OpenTelemetry failed: ${err instanceof Error ? err.message : String(err)}`;
    this.report(Object.assign(new Error(message, { cause: err }), { code: 'TCPINFO_OTEL' }));
  }
}
