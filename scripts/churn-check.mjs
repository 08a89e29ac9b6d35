// Shared by scripts/soak.mjs and test/slow/soak.test.mjs: did every line read its own connection?

/**
 * Lines whose bytes_received is not their own connection's request size. Client ports are reused at once
 * (the server closes first, so the client side has no TIME_WAIT), so connections are matched per port,
 * in order: the k-th connection seen from a port is the k-th the client opened from it.
 * Linux counts a received FIN in bytes_received: a reading may be one more. Sizes are 3 apart.
 */
export function wrongReadings(sizes, lines) {
  const sentByPort = new Map();
  for (const [port, size] of sizes) (sentByPort.get(port) ?? sentByPort.set(port, []).get(port)).push(size);
  const connsByPort = new Map();
  let wrong = 0;
  for (const l of lines) {
    const conns = connsByPort.get(l.client_port) ?? connsByPort.set(l.client_port, []).get(l.client_port);
    if (!conns.includes(l.conn)) conns.push(l.conn);
    const expected = sentByPort.get(l.client_port)?.[conns.indexOf(l.conn)];
    if (l.bytes_received !== expected && l.bytes_received !== expected + 1) wrong++;
  }
  return wrong;
}
