// Level-2 lines for the sections that drive the writer directly, built from real TCP_INFO reads of a
// loopback connection and concatenated at run time the way the plugin's formatter builds its lines
// (number to text, piece by piece), so the writer sees strings of the same length and make-up.
// Built from readTcpInfo (a public API) so the bench does not depend on how the formatter is organized.
import { readTcpInfo } from '../dist/index.js';
import { liveConnection } from './live-connection.mjs';

export const LEVEL2_HEADER =
  'timestamp event client server rtt rttvar last_sent last_recv snd_cwnd snd_ssthresh rcv_ssthresh unacked sacked lost retrans fackets all_retrans data_segs_in data_segs_out\n';

const EVENTS = ['ssn_start', 'txn_start', 'send_resp_hdr', 'txn_close'];

function level2Line(info, event) {
  return (
    '20261123.14h05m09s ' + event + ' 127.0.0.1 127.0.0.1 ' +
    info.rtt + ' ' + info.rttvar + ' ' + info.last_data_sent + ' ' + info.last_data_recv + ' ' + info.snd_cwnd + ' ' +
    info.snd_ssthresh + ' ' + info.rcv_ssthresh + ' ' + info.unacked + ' ' + info.sacked + ' ' + info.lost + ' ' +
    info.retrans + ' ' + info.fackets + ' ' + info.total_retrans + ' ' + info.data_segs_in + ' ' + info.data_segs_out + '\n'
  );
}

/** `count` level-2 lines (with newlines), from `reads` reads of a live connection that carries traffic. */
export async function level2Lines(count, reads = 32) {
  const conn = await liveConnection();
  const infos = [];
  try {
    for (let i = 0; i < reads; i++) {
      await conn.echo(1 + i * 97);
      const info = readTcpInfo(conn.client);
      if (info === null) throw new Error('readTcpInfo failed on a live connection');
      infos.push(info);
    }
  } finally {
    conn.close();
  }
  const lines = [];
  for (let i = 0; i < count; i++) {
    const info = { ...infos[i % reads], rtt: infos[i % reads].rtt + i };
    lines.push(level2Line(info, EVENTS[i % 4]));
  }
  return lines;
}
