/** Log files in time order: rolled files by the period in their name, then live files as named. */
import { parseRolledName, type RolledName } from '../format/rolled-name.js';

/** Rolled files oldest first (by start, end, then version), then the others as given. */
export function inTimeOrder(paths: readonly string[]): string[] {
  const rolled: Array<{ path: string; name: RolledName }> = [];
  const live: string[] = [];
  for (const path of paths) {
    const name = parseRolledName(path);
    if (name === undefined) live.push(path);
    else rolled.push({ path, name });
  }
  rolled.sort((a, b) => a.name.start - b.name.start || a.name.end - b.name.end || a.name.version - b.name.version);
  return [...rolled.map((r) => r.path), ...live];
}
