/**
 * Linux `struct tcp_info` (x86-64 / arm64, little-endian), in kernel order. A field exists for a read only
 * when it ends within the length getsockopt returned: older kernels return a shorter struct.
 */

export interface FieldSpec<N extends string = string> {
  /** Name as in the kernel header, without the `tcpi_` prefix. */
  readonly name: N;
  /** Byte offset in the struct. */
  readonly offset: number;
  /** Bytes read at `offset`: 1, 2, 4 or 8. */
  readonly size: 1 | 2 | 4 | 8;
  /** For bit fields packed in one byte: the shift and width of the bits. */
  readonly bits?: { readonly shift: number; readonly width: number };
  /** Unit the kernel reports the value in. */
  readonly unit: 'count' | 'us' | 'ms' | 'bytes' | 'bytes/s' | 'segments' | 'enum' | 'flags';
  /** First kernel version with the field. */
  readonly since: string;
}

function f<const N extends string>(
  name: N,
  offset: number,
  size: FieldSpec['size'],
  unit: FieldSpec['unit'],
  since: string,
  bits?: FieldSpec['bits'],
): FieldSpec<N> {
  return bits === undefined ? { name, offset, size, unit, since } : { name, offset, size, unit, since, bits };
}

/** The table with each name's literal type, for TcpInfoFieldName. */
const FIELDS = [
  f('state', 0, 1, 'enum', '2.6'),
  f('ca_state', 1, 1, 'enum', '2.6'),
  f('retransmits', 2, 1, 'count', '2.6'),
  f('probes', 3, 1, 'count', '2.6'),
  f('backoff', 4, 1, 'count', '2.6'),
  f('options', 5, 1, 'flags', '2.6'),
  f('snd_wscale', 6, 1, 'count', '2.6', { shift: 0, width: 4 }),
  f('rcv_wscale', 6, 1, 'count', '2.6', { shift: 4, width: 4 }),
  f('delivery_rate_app_limited', 7, 1, 'flags', '4.9', { shift: 0, width: 1 }),
  f('fastopen_client_fail', 7, 1, 'enum', '5.5', { shift: 1, width: 2 }),
  f('rto', 8, 4, 'us', '2.6'),
  f('ato', 12, 4, 'us', '2.6'),
  f('snd_mss', 16, 4, 'bytes', '2.6'),
  f('rcv_mss', 20, 4, 'bytes', '2.6'),
  f('unacked', 24, 4, 'segments', '2.6'),
  f('sacked', 28, 4, 'segments', '2.6'),
  f('lost', 32, 4, 'segments', '2.6'),
  f('retrans', 36, 4, 'segments', '2.6'),
  f('fackets', 40, 4, 'segments', '2.6'),
  f('last_data_sent', 44, 4, 'ms', '2.6'),
  f('last_ack_sent', 48, 4, 'ms', '2.6'),
  f('last_data_recv', 52, 4, 'ms', '2.6'),
  f('last_ack_recv', 56, 4, 'ms', '2.6'),
  f('pmtu', 60, 4, 'bytes', '2.6'),
  f('rcv_ssthresh', 64, 4, 'bytes', '2.6'),
  f('rtt', 68, 4, 'us', '2.6'),
  f('rttvar', 72, 4, 'us', '2.6'),
  f('snd_ssthresh', 76, 4, 'segments', '2.6'),
  f('snd_cwnd', 80, 4, 'segments', '2.6'),
  f('advmss', 84, 4, 'bytes', '2.6'),
  f('reordering', 88, 4, 'segments', '2.6'),
  f('rcv_rtt', 92, 4, 'us', '2.6'),
  f('rcv_space', 96, 4, 'bytes', '2.6'),
  f('total_retrans', 100, 4, 'segments', '2.6'),
  f('pacing_rate', 104, 8, 'bytes/s', '3.15'),
  f('max_pacing_rate', 112, 8, 'bytes/s', '3.15'),
  f('bytes_acked', 120, 8, 'bytes', '4.1'),
  f('bytes_received', 128, 8, 'bytes', '4.1'),
  f('segs_out', 136, 4, 'segments', '4.2'),
  f('segs_in', 140, 4, 'segments', '4.2'),
  f('notsent_bytes', 144, 4, 'bytes', '4.6'),
  f('min_rtt', 148, 4, 'us', '4.6'),
  f('data_segs_in', 152, 4, 'segments', '4.6'),
  f('data_segs_out', 156, 4, 'segments', '4.6'),
  f('delivery_rate', 160, 8, 'bytes/s', '4.9'),
  f('busy_time', 168, 8, 'us', '4.10'),
  f('rwnd_limited', 176, 8, 'us', '4.10'),
  f('sndbuf_limited', 184, 8, 'us', '4.10'),
  f('delivered', 192, 4, 'segments', '4.18'),
  f('delivered_ce', 196, 4, 'segments', '4.18'),
  f('bytes_sent', 200, 8, 'bytes', '4.19'),
  f('bytes_retrans', 208, 8, 'bytes', '4.19'),
  f('dsack_dups', 216, 4, 'count', '4.19'),
  f('reord_seen', 220, 4, 'count', '4.19'),
  f('rcv_ooopack', 224, 4, 'count', '5.4'),
  f('snd_wnd', 228, 4, 'bytes', '5.4'),
  f('rcv_wnd', 232, 4, 'bytes', '6.2'),
  f('rehash', 236, 4, 'count', '6.2'),
  f('total_rto', 240, 2, 'count', '6.7'),
  f('total_rto_recoveries', 242, 2, 'count', '6.7'),
  f('total_rto_time', 244, 4, 'ms', '6.7'),
  f('received_ce', 248, 4, 'segments', '6.18'),
  f('delivered_e1_bytes', 252, 4, 'bytes', '6.18'),
  f('delivered_e0_bytes', 256, 4, 'bytes', '6.18'),
  f('delivered_ce_bytes', 260, 4, 'bytes', '6.18'),
  f('received_e1_bytes', 264, 4, 'bytes', '6.18'),
  f('received_e0_bytes', 268, 4, 'bytes', '6.18'),
  f('received_ce_bytes', 272, 4, 'bytes', '6.18'),
  f('accecn_fail_mode', 276, 2, 'flags', '6.18'),
  f('accecn_opt_seen', 278, 2, 'flags', '6.18'),
] as const;

export const TCP_INFO_FIELDS: readonly FieldSpec[] = FIELDS;

/** A field's name: what `fields` (an array in the object form) takes. */
export type TcpInfoFieldName = (typeof FIELDS)[number]['name'];

/** The largest struct this table knows: reads ask for this many bytes (the kernel returns at most its own size). */
export const TCP_INFO_MAX_LENGTH = 280;

const BY_NAME = new Map(TCP_INFO_FIELDS.map((spec) => [spec.name, spec]));

export function fieldSpec(name: string): FieldSpec | undefined {
  return BY_NAME.get(name);
}

/** Names of every known field, in struct order. */
export const TCP_INFO_FIELD_NAMES: readonly string[] = TCP_INFO_FIELDS.map((spec) => spec.name);

/** One field's value, or `undefined` beyond the length; 64-bit values round past 2^53 (max_pacing_rate's ~0). */
export function decodeField(spec: FieldSpec, bytes: Buffer, length: number): number | undefined {
  if (spec.offset + spec.size > length) return undefined;
  switch (spec.size) {
    case 1: {
      const byte = bytes[spec.offset];
      return spec.bits === undefined ? byte : (byte >>> spec.bits.shift) & ((1 << spec.bits.width) - 1);
    }
    case 2:
      return bytes.readUInt16LE(spec.offset);
    case 4:
      return bytes.readUInt32LE(spec.offset);
    case 8:
      return bytes.readUInt32LE(spec.offset + 4) * 0x1_0000_0000 + bytes.readUInt32LE(spec.offset);
  }
}

/** Exact decimal text of a field (64-bit values exact at any size), or `-` when the kernel did not return it. */
export function fieldText(spec: FieldSpec, bytes: Buffer, length: number): string {
  if (spec.offset + spec.size > length) return '-';
  if (spec.size === 8) {
    const high = bytes.readUInt32LE(spec.offset + 4);
    if (high >= 0x20_0000) return bytes.readBigUInt64LE(spec.offset).toString();
  }
  return String(decodeField(spec, bytes, length));
}
