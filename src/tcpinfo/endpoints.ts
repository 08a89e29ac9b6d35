/**
 * A connection's addresses and ports, read from the handle, not Node's caching getters (which change the
 * socket's hidden class: 6 us per request at 1% sampling, measured). Why: docs/design.md#how-the-events-are-hooked
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

/** The socket's endpoints: from our cache, else Node's (the app read them), else its handle. */
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
