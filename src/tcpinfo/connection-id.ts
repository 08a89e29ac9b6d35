/**
 * A connection id for JSON lines: one per connection, never reused (unlike an fd), unique across a
 * cluster's processes (the pid is in it). Kept in a WeakMap, not on the socket (see endpoints.ts).
 */
import type { Socket } from 'node:net';

const ids = new WeakMap<Socket, string>();
const prefix = process.pid.toString(36) + '-';
let next = 0;

export function connectionId(socket: Socket): string {
  let id = ids.get(socket);
  if (id === undefined) {
    id = prefix + (++next).toString(36);
    ids.set(socket, id);
  }
  return id;
}
