// What marklog prints about a name it did not choose (a path, a file name) must
// not break the line it is on or drive the terminal: a newline would make a
// one-line error two, an escape sequence could recolour or retitle the terminal.
// Control characters become visible escapes, JSON style (\n, \t, \u001b), the
// same spelling a quoted name already has in a message.

const SHORT: Record<string, string> = {'\b': '\\b', '\t': '\\t', '\n': '\\n', '\f': '\\f', '\r': '\\r'};

// C0 controls, DEL, C1 controls, and the two Unicode line and paragraph separators.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

export function oneLine(text: string): string {
  return text.replace(CONTROL, c => SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
