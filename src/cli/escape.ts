/**
 * What the commands print from a log never reaches a terminal as control characters (a `--log-url` path
 * may hold ESC/OSC sequences): C0 (tab and newline too), DEL and C1 are shown escaped; so are the bidi
 * controls (U+202E turns `gpj.exe` around on screen) and the line and paragraph separators U+2028/U+2029.
 */

/** C0, DEL, C1; ALM, LRM, RLM, LS, PS, LRE-RLO, LRI-PDI. */
const CONTROL = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;
const CONTROLS = new RegExp(CONTROL.source, 'g');
/** What JSON.stringify leaves raw: all of those but C0 (it escapes C0 itself). */
const JSON_RAW = /[\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;
const JSON_RAWS = new RegExp(JSON_RAW.source, 'g');

function hex(c: string, digits: number): string {
  return c.charCodeAt(0).toString(16).padStart(digits, '0');
}

/** `text` with each control character written `\xHH` (ESC: `\x1b`), or `\uHHHH` past U+00FF (RLO: `\u202e`). */
export function escapeControls(text: string): string {
  return CONTROL.test(text) ? text.replace(CONTROLS, (c) => (c.charCodeAt(0) > 0xff ? `\\u${hex(c, 4)}` : `\\x${hex(c, 2)}`)) : text;
}

/** JSON.stringify, with DEL, C1, the bidi controls, U+2028 and U+2029 written `\uHHHH` too: nothing raw but printable text. */
export function safeJson(value: unknown, indent?: number): string {
  const text = JSON.stringify(value, null, indent);
  return JSON_RAW.test(text) ? text.replace(JSON_RAWS, (c) => `\\u${hex(c, 4)}`) : text;
}
