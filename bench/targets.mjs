// The targets of issues 8 and 18, checked against one run's results. Each gives the measured figure, the limit
// and PASS or FAIL; N/A where the run did not measure what the target needs (a section left out).

/** Memory may grow by the queue's lines, once more for a batch in flight, plus this much for the heap. */
export const MEMORY_SLACK_MIB = 16;

function check(id, target, measured, limit, pass, text) {
  if (measured === null || measured === undefined || !Number.isFinite(measured)) {
    return { id, target, measured: null, limit, status: 'N/A', text: text ?? 'not measured in this run' };
  }
  return { id, target, measured, limit, status: pass(measured) ? 'PASS' : 'FAIL', text };
}

function httpCase(results, caseId) {
  return results.http?.results?.find((r) => r.handler === 'hello' && r.case === caseId);
}

export function checkTargets(results) {
  const targets = [];
  const b = httpCase(results, 'b');
  const c = httpCase(results, 'c');
  const raw = results.read?.rawGetsockoptNs;
  const inRequest = results.inRequest?.readRawNs;

  targets.push(check('b-throughput', '(b) level 2, all hooks, rate 1000: req/s vs bare (hello world)', b?.throughputRatio, 0.85, (x) => x >= 0.85));
  const perEventLimitUs = raw === undefined ? null : (2.5 * raw) / 1000;
  targets.push(
    check(
      'b-cpu-per-event',
      '(b) added server CPU per logged event, us, vs 2.5 x raw getsockopt of this run',
      b?.addedCpuUsPerLoggedEvent,
      perEventLimitUs,
      (x) => perEventLimitUs !== null && x <= perEventLimitUs,
      Number.isFinite(inRequest) ? `one readRaw in a busy server's handler alone: ${(inRequest / 1000).toFixed(2)} us` : undefined,
    ),
  );
  // What (c) is made of, measured in the same run: the hooks alone (h), and the hooks with (c)'s reads but no line (r).
  const parts = [['h', 'the hooks alone (h)'], ['r', "the hooks and (c)'s reads, no line (r)"]]
    .map(([id, what]) => [what, httpCase(results, id)?.throughputRatio])
    .filter(([, ratio]) => Number.isFinite(ratio))
    .map(([what, ratio]) => `${what}: ${ratio.toFixed(3)}`);
  targets.push(
    check('c-throughput', '(c) level 2, all hooks, rate 10: req/s vs bare (hello world)', c?.throughputRatio, 0.97, (x) => x >= 0.97, parts.length > 0 ? parts.join('; ') : undefined),
  );

  for (const w of results.writer?.results ?? []) {
    targets.push(check(`writer-${w.variant}`, `writer, ${w.label}: level-2 lines/s`, w.linesPerSecond, 1_000_000, (x) => x >= 1_000_000));
  }

  for (const m of results.memory?.results ?? []) {
    const limit = 2 * m.boundMiB + MEMORY_SLACK_MIB;
    const what = `--queue-lines=${m.queueLines} --queue-bytes=${m.queueBytes / 2 ** 20}M${m.urlBytes > 0 ? `, ${m.urlBytes}-byte paths` : ''}`;
    targets.push(
      check(
        `memory-${m.id ?? m.queueLines}`,
        `memory, stalled destination, ${what}: RSS growth MiB (limit: 2 x the queue's bytes at its first bound + ${MEMORY_SLACK_MIB} MiB; the bound must be reached)`,
        m.growthMiB,
        limit,
        (x) => m.reachedBound && x <= limit,
        m.reachedBound ? undefined : 'the queue did not fill within the run, so its bound was never tested',
      ),
    );
  }

  // Issue 18: our added CPU per logged line against nginx's with four $tcpinfo_* variables, measured in the same run.
  const nginx = results.http?.nginx;
  const nginxUs = nginx?.addedCpuUsPerLoggedEvent;
  for (const [id, row, what, limit] of [
    ['b', b, 'level 2, all hooks, rate 1000', 1.5],
    ['a', httpCase(results, 'a'), 'level 1, ssn_start,txn_start', 1.5],
    ['d', httpCase(results, 'd'), 'json, all fields, all hooks', 3],
  ]) {
    const ours = row?.addedCpuUsPerLoggedEvent;
    const ratio = Number.isFinite(ours) && Number.isFinite(nginxUs) && nginxUs > 0 ? ours / nginxUs : null;
    const perLine = `ours ${Number.isFinite(ours) ? ours.toFixed(2) : 'n/a'} us, nginx ${Number.isFinite(nginxUs) ? nginxUs.toFixed(2) : 'n/a'} us per line`;
    // A short or noisy run can measure nginx's line at 0 or less: no ratio to take then, and the target says why.
    const text = nginx?.skipped ? nginx.skipped : nginxUs <= 0 ? `${perLine}: nginx's figure is not above 0, no ratio` : perLine;
    targets.push(check(`nginx-${id}`, `(${id}) ${what}: added server CPU per logged line, x nginx's (hello world)`, ratio, limit, (x) => x <= limit, text));
  }

  const hello = (results.http?.results ?? []).filter((r) => r.handler === 'hello' && Number.isFinite(r.addedLoopDelayP99Ms));
  const worst = hello.reduce((w, r) => (w === null || r.addedLoopDelayP99Ms > w.addedLoopDelayP99Ms ? r : w), null);
  targets.push(
    check(
      'loop-delay',
      `added event-loop delay p99, ms, worst hello-world case${worst ? ` (${worst.case})` : ''}`,
      worst?.addedLoopDelayP99Ms,
      1,
      (x) => x < 1,
    ),
  );
  return targets;
}
