/**
 * The hooks' core, shared by the HTTP/1 and HTTP/2 sides: each tapped server's consumers and their join tickets, the
 * dispatch of an event to the consumers that want it, and the connections seen (first sight, catch-up, open sessions).
 * Why join tickets: docs/design.md#how-the-events-are-hooked
 */
import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { SSN_START, type EventConsumer, type Transaction } from '../events.js';
import { endpointsOf } from '../tcpinfo/endpoints.js';
import { beginEvent } from '../tcpinfo/read.js';

export const kTap = Symbol('tcpinfo.serverTap');
/**
 * Only while some consumer joined late: per connection or transaction, the last join ticket issued at its ssn_start or
 * txn_start. A WeakMap, like all per-connection state: a property would change the object's shape (tcpinfo/endpoints.ts).
 */
const seenAt = new WeakMap<object, number>();

export interface ServerTap {
  consumers: EventConsumer[];
  /** Each consumer's join ticket (same index); 0 for one that joined before the server had connections. */
  tickets: number[];
  mask: number;
  sessionEvent: 'connection' | 'secureConnection';
  /** Open connections seen since a consumer that tracks sessions arrived; null while none does. */
  sessions: Set<Socket> | null;
  /** The highest ticket among the consumers that joined late; 0 when none did (then nothing is stamped). */
  lateTicket: number;
  /** The server's emit before this tap's: what emitWithEvents hands every event on to. */
  emit: (this: Server, event: string | symbol, ...args: unknown[]) => boolean;
  /** Whether that emit was the server's own property (else it is inherited, and deleting ours restores it). */
  ownEmit: boolean;
  /** Pipelined responses waiting behind the one on their connection (Node's queue is out of reach), in order, and their
   * count, so connections without any pay one comparison. Null until the server's first. */
  queued: WeakMap<Socket, ServerResponse[]> | null;
  queuedCount: number;
  /** An HTTP/2 server: its streams are transactions (http2.ts). */
  http2: boolean;
}

export type TappedServer = Server & { [kTap]?: ServerTap };
export type ServerSocket = Socket & {
  server?: TappedServer;
  /** Node's: the response being written on this connection, until its end detaches it. */
  _httpMessage?: ServerResponse | null;
};

/** Join tickets, issued in order to the late consumers of every server. */
let lastTicket = 0;

/** A consumer joins a server late: its ticket. */
export function issueTicket(): number {
  return ++lastTicket;
}

/** `event` to the consumers that want it; with `since`, only to those that joined late after it (a catch-up). */
export function dispatch(tap: ServerTap, event: number, socket: Socket, res: Transaction | null, since = -1): void {
  const bit = 1 << event;
  if ((tap.mask & bit) === 0) return;
  beginEvent();
  const consumers = tap.consumers;
  const tickets = tap.tickets;
  for (let i = 0; i < consumers.length; i++) {
    if (tickets[i] > since && (consumers[i].eventMask & bit) !== 0) consumers[i].onEvent(event, socket, res);
  }
}

export function tapOf(socket: Socket): ServerTap | undefined {
  return (socket as ServerSocket).server?.[kTap];
}

export function onSession(tap: ServerTap, socket: Socket): void {
  if (tap.lateTicket !== 0) seenAt.set(socket, lastTicket);
  if (tap.sessions !== null) trackSession(tap.sessions, socket);
  dispatch(tap, SSN_START, socket, null);
}

/** First sight of a connection opened before some consumer joined: it starts now, for them. */
export function catchUpSession(tap: ServerTap, socket: Socket): void {
  const since = seenAt.get(socket) ?? 0;
  seenAt.set(socket, lastTicket);
  if (tap.sessions !== null && !tap.sessions.has(socket)) trackSession(tap.sessions, socket);
  dispatch(tap, SSN_START, socket, null, since);
}

/** Count a connection among the open ones (ssn_close and periodic reads need them). */
export function trackSession(sessions: Set<Socket>, socket: Socket): void {
  // After the peer has gone (an ssn_close after a reset) getpeername fails: read them while it is here.
  endpointsOf(socket);
  sessions.add(socket);
}

/**
 * A transaction starts while a consumer that joined late is there: stamped with the ticket, and its connection, first seen
 * here, has its ssn_start for those who missed it.
 */
export function stampTransaction(tap: ServerTap, socket: Socket, txn: object): void {
  if (tap.lateTicket === 0) return;
  seenAt.set(txn, lastTicket);
  if ((seenAt.get(socket) ?? 0) < tap.lateTicket) catchUpSession(tap, socket);
}

/** The ticket `txn` (or a connection) was last seen at; 0: never. */
export function lastSeen(txn: object): number {
  return seenAt.get(txn) ?? 0;
}

/** `txn` is seen now (a catch-up). */
export function markSeen(txn: object): void {
  seenAt.set(txn, lastTicket);
}

/** Whether `socket` was first seen before the latest consumer joined (its ssn_start is still to come for it). */
export function unseenSession(tap: ServerTap, socket: Socket): boolean {
  return (seenAt.get(socket) ?? 0) < tap.lateTicket;
}

/**
 * Whether the transaction `res` was under way before `consumer` joined its server: it had no txn_start, and its txn_close is
 * its first event. Two comparisons while no consumer of the server joined late.
 */
export function startedBeforeJoin(consumer: EventConsumer, socket: Socket, res: Transaction): boolean {
  const tap = tapOf(socket);
  if (tap === undefined || tap.lateTicket === 0) return false;
  const ticket = tap.tickets[tap.consumers.indexOf(consumer)] ?? 0;
  return ticket !== 0 && (seenAt.get(res) ?? 0) < ticket;
}

/**
 * The emit a tapped server's events go on to: the server's own one from before the tap, else its prototype's as it is
 * now, so an instrumentation that wraps the prototype's emit after attach (OpenTelemetry's http one) still sees them.
 */
export function baseEmit(server: TappedServer, tap: ServerTap): ServerTap['emit'] {
  return tap.ownEmit ? tap.emit : (Object.getPrototypeOf(server) as { emit: ServerTap['emit'] }).emit;
}
