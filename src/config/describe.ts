/**
 * What a configuration does, in one line: the preload's start-up line on stderr, and what a library user
 * can print for attach() or an integration, which print nothing themselves.
 *
 *   logging ssn_start,txn_close (level 2, 1000/1000) to /app/tcpinfo.log
 */
import { parseOptions } from './options.js';
import type { TcpinfoOptions, TcpinfoOptionsInput } from './types.js';

/**
 * One line saying what these options log, how, and where (and where the metrics go, with --metrics).
 * Takes what parseOptions takes (and throws what it throws), or a handle's `options`.
 */
export function describeLogging(input?: string | TcpinfoOptionsInput | TcpinfoOptions | null): string {
  const options = parseOptions(input);
  const events: string[] = [...options.hooks];
  if (options.updatePeriod > 0) events.push(`periodic every ${options.updatePeriod} s`);
  const how: string[] = [options.fields === undefined ? `level ${options.logLevel}` : `fields ${options.fields.join(',')}`];
  if (options.format === 'json') how.push(options.logUrl ? 'json with the path' : 'json');
  how.push(`${options.sampleRate}/1000${options.sampleBy === 'session' ? ' sessions' : ''}`);
  if (options.explain) how.push(`explained, slow from ${options.slowMs} ms`);
  let line = `logging ${events.length > 0 ? events.join(',') : 'no events'} (${how.join(', ')}) to ${options.logFile}`;
  if (options.metrics) {
    const host = hostPart(options.metricsHost);
    if (options.metricsPort === undefined) line += '; metrics on prom-client';
    else if (options.metricsPort === 0) line += `; metrics at http://${host}:<a free port>/metrics`;
    else line += `; metrics at http://${host}:${options.metricsPort}/metrics`;
  }
  return line;
}

function hostPart(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
