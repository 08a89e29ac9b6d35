/**
 * A connection id for JSON lines: the same on every event of one connection, different for every
 * connection of this process, and (with the pid in it) across the processes of a cluster sharing a log.
 * Unlike an fd number, it is never reused.
 */
import type { Socket } from 'node:net';

const kConnectionId = Symbol('tcpinfo.connectionId');
const prefix = process.pid.toString(36) + '-';
let next = 0;

export function connectionId(socket: Socket): string {
  const holder = socket as Socket & { [kConnectionId]?: string };
  let id = holder[kConnectionId];
  if (id === undefined) {
    id = prefix + (++next).toString(36);
    holder[kConnectionId] = id;
  }
  return id;
}
