/**
 * A connection id for JSON lines: the same on every event of one connection, different for every
 * connection of this process, and (with the pid in it) across the processes of a cluster sharing a log.
 * Unlike an fd number, it is never reused. Kept in a WeakMap, not on the socket (see endpoints.ts).
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
