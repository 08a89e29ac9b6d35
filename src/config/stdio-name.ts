/**
 * The names of the process's own output as a log file: `stdout` and `stderr` (ATS's), and the paths that
 * are symlinks to fd 1 or 2. The option parser refuses `.log` on them; the writer writes the fd (logger/stream-sink.ts).
 */
import path from 'node:path';

export type StdioName = 'stdout' | 'stderr';

const ALIASES = new Map<string, StdioName>([
  ['stdout', 'stdout'],
  ['/dev/stdout', 'stdout'],
  ['/proc/self/fd/1', 'stdout'],
  ['/dev/fd/1', 'stdout'],
  ['stderr', 'stderr'],
  ['/dev/stderr', 'stderr'],
  ['/proc/self/fd/2', 'stderr'],
  ['/dev/fd/2', 'stderr'],
]);

/** `stdout` or `stderr` when `file` names the process's own output, else undefined. */
export function stdioName(file: string): StdioName | undefined {
  return ALIASES.get(file) ?? (path.isAbsolute(file) ? ALIASES.get(path.normalize(file)) : undefined);
}
