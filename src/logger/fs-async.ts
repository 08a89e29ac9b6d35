/**
 * The fs calls the log's files use at run time, as promises on plain descriptors: a LiveFile shares its
 * fd between these and the sync calls of start-up, which `fs/promises` FileHandles cannot.
 */
import * as fs from 'node:fs';
import { promisify } from 'node:util';

export const open = promisify(fs.open);
export const close = promisify(fs.close);
export const fstat = promisify(fs.fstat);
export const fchmod = promisify(fs.fchmod);
export const stat = promisify(fs.stat);
export const lstat = promisify(fs.lstat);
export const rename = promisify(fs.rename);
export const link = promisify(fs.link);
export const unlink = promisify(fs.unlink);
export const read = promisify(fs.read);
export const write = promisify(fs.write);
export const readdir = promisify(fs.readdir);
export const readlink = promisify(fs.readlink);
export const realpath = promisify(fs.realpath.native);

/** For `.catch(ignore)`: a clean-up step whose failure changes nothing (a close, or removing what may be gone). */
export function ignore(): void {}
