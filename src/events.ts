/**
 * The events a line can carry, by Traffic Server name and by number, and what wants them: the leaf that
 * the tap (tap/), its consumers (attach.ts, metrics/) and the option parser (config/) share.
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** The points of an HTTP transaction at which TCP_INFO can be read, by their Traffic Server names. */
export const HOOK_NAMES = ['ssn_start', 'txn_start', 'send_resp_hdr', 'txn_close', 'ssn_close'] as const;
export type HookName = (typeof HOOK_NAMES)[number];
/** Every event a line can carry: the hooks, and `periodic` (on when `updatePeriod` > 0). */
export const EVENT_NAMES = [...HOOK_NAMES, 'periodic'] as const;
export type EventName = (typeof EVENT_NAMES)[number];

// The events by number: indices into EVENT_NAMES.
export const SSN_START = 0;
export const TXN_START = 1;
export const SEND_RESP_HDR = 2;
export const TXN_CLOSE = 3;
export const SSN_CLOSE = 4;
export const PERIODIC = 5;

/** The bit of an event in an EventConsumer's eventMask. */
export function eventBit(name: EventName): number {
  return 1 << EVENT_NAMES.indexOf(name);
}

/** Something that wants the events of a server: the logger (attach.ts), the metrics. */
export interface EventConsumer {
  /** Bit `1 << event` set for each event wanted. */
  readonly eventMask: number;
  /** True when it needs the set of open connections and their close (ssn_close, periodic reads). */
  readonly tracksSessions: boolean;
  /** Called synchronously at the event; must not throw. `res` is set for transaction events. */
  onEvent(event: number, socket: Socket, res: ServerResponse | null): void;
}
