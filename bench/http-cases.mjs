// What the HTTP overhead section runs: the plugin configurations (a case is one entry) and the handlers.

/**
 * The plugin configurations of issue 8, each run against the same server bare. `options` is the options
 * string given to attach() (the bench adds --log-dir/--log-file); a case whose options parseOptions
 * refuses (an option not implemented yet) is skipped with a note rather than failing the run.
 * Three rows, on the hello-world handler only, say where (c)'s cost comes from:
 *   control  bare against bare: how far apart two identical servers measure here, the noise floor of every row
 *   h        (c) with nothing sampled: what the hooks cost on their own, without a read or a line
 *   r        (h), and the server's handler itself calls readRaw in `readShare` of its requests, as many
 *            reads as (c) logs lines (1% of 3 events a request): (c) as it would be if formatting and
 *            writing its lines cost nothing
 * Two more say what stops (a) and (b), the rows whose every event is logged:
 *   ra, rb   no plugin: a consumer of the plugin's event tap reads TCP_INFO at each event (a) or (b) logs, at the
 *            moment the plugin reads, and writes nothing: the row with its lines free, only its getsockopt calls
 * And one over HTTP/2:
 *   h2c      (c) on an h2c server (node:http2, the compatibility API's handler), both sides loaded by h2load
 *            (Debian's nghttp2-client; autocannon speaks HTTP/1 only); skipped with a note without it
 * (be) and (ce) are (b) and (c) with --explain: set beside them, the added cost of explaining; (cm) and
 * (cme) are (c) with --metrics, without and with --explain: the cost of reading every transaction's start; (st) is (c)
 * with --server-timing: a read at every txn_start and a Server-Timing header on every response.
 */
const ALL_HOOKS = '--hooks=ssn_start,txn_start,send_resp_hdr,txn_close';
export const CASES = [
  { id: 'control', label: 'bare vs bare', options: null, helloOnly: true },
  { id: 'a', label: 'level 1, ssn_start,txn_start', options: '--hooks=ssn_start,txn_start --log-level=1' },
  { id: 'b', label: 'level 2, all hooks, rate 1000', options: `${ALL_HOOKS} --log-level=2 --sample-rate=1000` },
  { id: 'h', label: 'level 2, all hooks, rate 0: the hooks alone', options: `${ALL_HOOKS} --log-level=2 --sample-rate=0`, helloOnly: true },
  {
    id: 'r',
    label: "rate 0, and a readRaw in 3% of requests: (c)'s reads, no line",
    options: `${ALL_HOOKS} --log-level=2 --sample-rate=0`,
    readShare: 0.03,
    helloOnly: true,
  },
  { id: 'ra', label: "(a)'s reads alone: a getsockopt at each event (a) logs, no plugin, no line", options: null, readEvents: ['ssn_start', 'txn_start'], helloOnly: true },
  { id: 'rb', label: "(b)'s reads alone: a getsockopt at each event (b) logs, no plugin, no line", options: null, readEvents: ['ssn_start', 'txn_start', 'send_resp_hdr', 'txn_close'], helloOnly: true },
  { id: 'c', label: 'level 2, all hooks, rate 10', options: `${ALL_HOOKS} --log-level=2 --sample-rate=10` },
  // --explain's added cost: (b) and (c) with it (a baseline read at each sampled txn_start, the columns).
  { id: 'be', label: '(b) with --explain', options: `${ALL_HOOKS} --log-level=2 --sample-rate=1000 --explain` },
  { id: 'ce', label: '(c) with --explain', options: `${ALL_HOOKS} --log-level=2 --sample-rate=10 --explain` },
  // --metrics reads every transaction whatever the sampling; with --explain also at its start (the baseline).
  { id: 'cm', label: '(c) with --metrics', options: `${ALL_HOOKS} --log-level=2 --sample-rate=10 --metrics` },
  { id: 'cme', label: '(c) with --metrics --explain', options: `${ALL_HOOKS} --log-level=2 --sample-rate=10 --metrics --explain` },
  // --server-timing reads every transaction at its start and adds a header to every response, whatever the sampling.
  { id: 'st', label: '(c) with --server-timing', options: `${ALL_HOOKS} --log-level=2 --sample-rate=10 --server-timing` },
  { id: 'd', label: 'json, all fields, all hooks', options: `${ALL_HOOKS} --format=json --fields=all` },
  { id: 'h2c', label: 'HTTP/2 (h2c, h2load): level 2, all hooks, rate 10', options: `${ALL_HOOKS} --log-level=2 --sample-rate=10`, helloOnly: true, protocol: 'h2c' },
];

/**
 * Not a plugin configuration: the anchor row of issue 18 (bench/nginx.mjs), nginx serving hello world bare
 * against nginx with four $tcpinfo_* variables in its access log. Runs when nginx is on the PATH.
 */
export const NGINX_CASE = { id: 'nginx', label: 'nginx, $tcpinfo_rtt $tcpinfo_rttvar $tcpinfo_snd_cwnd $tcpinfo_rcv_space in a buffered access log' };

/** A 12-byte body: the worst case for the plugin's relative overhead. */
function hello(req, res) {
  res.setHeader('content-type', 'text/plain');
  res.end('hello world\n');
}

/** About 10 KB of JSON serialized per request, as an API server would. */
const catalog = {
  page: 1,
  items: Array.from({ length: 54 }, (_, i) => ({
    id: 100_000 + i,
    sku: `SKU-${(i * 7919) % 100_000}`,
    name: `Item number ${i} of the catalogue`,
    price: Math.round(((i * 37) % 500) * 100 + 99) / 100,
    tags: ['alpha', 'beta', 'gamma'].slice(0, 1 + (i % 3)),
    stock: { warehouse: `wh-${i % 5}`, count: (i * 13) % 97 },
    updated: new Date(Date.UTC(2026, 0, 1 + (i % 28))).toISOString(),
  })),
};

function json(req, res) {
  const body = JSON.stringify(catalog);
  res.setHeader('content-type', 'application/json');
  res.end(body);
}

export const HANDLERS = {
  hello: { label: 'hello world (12 B)', handler: hello },
  json: { label: `JSON (${(Buffer.byteLength(JSON.stringify(catalog)) / 1024).toFixed(1)} KB)`, handler: json },
};
