/**
 * One writer per log file in the process: servers and integrations that name the same file share it,
 * so its lines never interleave mid-line and only one roller renames it. Different files, different writers.
 */
import type { TcpinfoOptions } from '../config/types.js';
import { withCode } from '../errors.js';
import { LogWriter } from './writer.js';

interface Entry {
  writer: LogWriter;
  users: number;
  /** The settings the file was opened with: a second user must agree with them. */
  signature: string;
}

const writers = new Map<string, Entry>();

/** What lines in one file must agree on: their format and columns, and how the file rolls. */
function signatureOf(options: TcpinfoOptions, header: string): string {
  return JSON.stringify([
    header, options.format, options.fields ?? null, options.logLevel, options.logUrl, options.logFileMode,
    options.rollingEnabled, options.rollingOffsetHr, options.rollingIntervalSec, options.rollingSize,
    options.rollingMaxCount,
  ]);
}

/** The writer for `options.logFile`, opened (header and all) by its first user. */
export function acquireWriter(options: TcpinfoOptions, header: string): LogWriter {
  const signature = signatureOf(options, header);
  const entry = writers.get(options.logFile);
  if (entry !== undefined) {
    if (entry.signature !== signature) {
      throw withCode(new Error(
        `tcpinfo: --log-file=${options.logFile} is already being written in this process with other columns ` +
          '(--log-level, --fields, --format, --log-url), rolling settings or --log-file-mode; give each configuration its own --log-file',
      ), 'ERR_TCPINFO_LOG_FILE_CONFLICT');
    }
    entry.users++;
    return entry.writer;
  }
  const writer = new LogWriter({
    file: options.logFile,
    header,
    queueLines: options.queueLines,
    queueBytes: options.queueBytes,
    rollingEnabled: options.rollingEnabled,
    rollingOffsetHr: options.rollingOffsetHr,
    rollingIntervalSec: options.rollingIntervalSec,
    rollingSize: options.rollingSize,
    fileMode: options.logFileMode,
    rollingMaxCount: options.rollingMaxCount,
  });
  writers.set(options.logFile, { writer, users: 1, signature });
  return writer;
}

/** Give a writer back; the last user's release writes out everything and closes the file. */
export function releaseWriter(writer: LogWriter): Promise<void> {
  const entry = writers.get(writer.file);
  if (entry === undefined || entry.writer !== writer) return writer.close();
  entry.users--;
  if (entry.users > 0) return writer.flush();
  writers.delete(writer.file);
  return writer.close();
}
