/**
 * `--metrics-port`: a tiny HTTP server answering GET /metrics from the registry, for apps that have no
 * metrics endpoint of their own. It listens on --metrics-host (127.0.0.1 by default: metrics describe
 * clients' connections and are not for the open internet).
 */
import http from 'node:http';
import type { Registry } from 'prom-client';

interface Shared {
  server: http.Server;
  users: number;
}

/** One /metrics server per host:port in the process: servers and integrations sharing a port share it. */
const shared = new Map<string, Shared>();
/** The /metrics servers started here: never logged or measured themselves (the preload skips them). */
const ownServers = new WeakSet<http.Server>();

export function isMetricsServer(server: http.Server): boolean {
  return ownServers.has(server);
}

/** The /metrics server for `host:port`, started by its first user, whose registry it serves (port 0: a new one each time).
 * Give it back with `releaseMetricsServer`. */
export function acquireMetricsServer(registry: Registry, port: number, host: string, onError: (err: Error) => void): http.Server {
  const key = `${host}:${port}`;
  const entry = port === 0 ? undefined : shared.get(key);
  if (entry !== undefined) {
    entry.users++;
    return entry.server;
  }
  const server = serveMetrics(registry, port, host, onError);
  if (port !== 0) shared.set(key, { server, users: 1 });
  return server;
}

export function releaseMetricsServer(server: http.Server): void {
  for (const [key, entry] of shared) {
    if (entry.server !== server) continue;
    if (--entry.users > 0) return;
    shared.delete(key);
  }
  server.close();
}

function serveMetrics(registry: Registry, port: number, host: string, onError: (err: Error) => void): http.Server {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(path === '/metrics' ? 405 : 404, { 'content-type': 'text/plain' });
      res.end(path === '/metrics' ? 'use GET\n' : 'not found: try /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (err: Error) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`tcpinfo: metrics failed: ${err.message}\n`);
      },
    );
  });
  server.on('error', onError);
  // Known as ours before listen(), where the preload meets every server.
  ownServers.add(server);
  server.listen(port, host);
  // The app decides when the process ends, not its metrics endpoint.
  server.unref();
  return server;
}
