/**
 * What the commands print from a log never reaches a terminal as control characters (a `--log-url` path
 * may hold ESC/OSC sequences): C0 (tab and newline too), DEL and C1 are shown escaped.
 */

const CONTROL = /[\x00-\x1f\x7f-\x9f]/;
const CONTROLS = /[\x00-\x1f\x7f-\x9f]/g;
/** What JSON.stringify leaves raw: DEL and C1 (it escapes C0 itself). */
const JSON_RAW = /[\x7f-\x9f]/;
const JSON_RAWS = /[\x7f-\x9f]/g;

function hex(c: string): string {
  return c.charCodeAt(0).toString(16).padStart(2, '0');
}

/** `text` with each control character written `\xHH` (ESC: `\x1b`). */
export function escapeControls(text: string): string {
  return CONTROL.test(text) ? text.replace(CONTROLS, (c) => `\\x${hex(c)}`) : text;
}

/** JSON.stringify, with DEL and C1 written `\u00HH` too: nothing raw but printable text. */
export function safeJson(value: unknown, indent?: number): string {
  const text = JSON.stringify(value, null, indent);
  return JSON_RAW.test(text) ? text.replace(JSON_RAWS, (c) => `\\u00${hex(c)}`) : text;
}
