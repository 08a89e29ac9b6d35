/**
 * A connection's addresses and ports, read without touching the socket.
 *
 * Node's remoteAddress/localAddress getters cache what they read on the socket (`_peername`, `_sockname`),
 * which changes the socket's hidden class. On a server where only sampled connections get read, hot
 * code of Node's http and net then meets sockets of two shapes on every request: measured, sampling 1%
 * of events cost 6 us per request that way (the bench), for about 0.03 lines per request. So the plugin
 * asks the handle itself, once per connection, and keeps the answer in a WeakMap.
 */
import type { Socket } from 'node:net';

export interface Endpoints {
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
}

interface AddressInfo {
  address?: string;
  port?: number;
}

/** What Node's net.Socket has underneath (undocumented, stable since Node 0.x; TLS sockets' handles proxy both calls). */
interface SocketInternals {
  _handle?: { getpeername?(out: AddressInfo): number; getsockname?(out: AddressInfo): number } | null;
  _peername?: AddressInfo | null;
  _sockname?: AddressInfo | null;
}

const cache = new WeakMap<Socket, Endpoints>();

/**
 * The socket's endpoints: from the cache, else from what Node already cached on it (the app read them),
 * else from its handle. Kept once both ends are known; after the fd is gone only a kept answer has them.
 */
export function endpointsOf(socket: Socket): Endpoints {
  let endpoints = cache.get(socket);
  if (endpoints === undefined) {
    endpoints = readEndpoints(socket);
    if (endpoints.remotePort !== undefined && endpoints.localPort !== undefined) cache.set(socket, endpoints);
  }
  return endpoints;
}

function readEndpoints(socket: Socket & SocketInternals): Endpoints {
  const handle = socket._handle;
  let peer = socket._peername;
  if (peer == null) {
    peer = {};
    if (handle?.getpeername?.(peer) !== 0) peer = {};
  }
  let local = socket._sockname;
  if (local == null) {
    local = {};
    if (handle?.getsockname?.(local) !== 0) local = {};
  }
  return { remoteAddress: peer.address, remotePort: peer.port, localAddress: local.address, localPort: local.port };
}
