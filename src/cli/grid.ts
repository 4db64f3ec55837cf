// A table for long listings (thousands of marks). cli-table3 lays out each cell
// against every row before it, which made `mark list` of 10,000 marks take seconds;
// this draws the same frame in one pass, with one line per row and no rule between
// rows. Colours (ANSI sequences) are not counted in a cell's width.
const ANSI = /\u001b\[[0-9;]*m/g;

/** Columns a terminal gives a code point: two for the East Asian wide ranges, else one. */
function columns(codePoint: number): number {
  const wide = (codePoint >= 0x1100 && codePoint <= 0x115f) || (codePoint >= 0x2e80 && codePoint <= 0xa4cf) || (codePoint >= 0xac00 && codePoint <= 0xd7a3)
    || (codePoint >= 0xf900 && codePoint <= 0xfaff) || (codePoint >= 0xfe30 && codePoint <= 0xfe4f) || (codePoint >= 0xff00 && codePoint <= 0xff60)
    || (codePoint >= 0xffe0 && codePoint <= 0xffe6) || (codePoint >= 0x1f300 && codePoint <= 0x1f64f) || (codePoint >= 0x20000 && codePoint <= 0x3fffd);
  return wide ? 2 : 1;
}

export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text.replace(ANSI, '')) width += columns(char.codePointAt(0)!);
  return width;
}

export function grid(head: string[], rows: (string | number)[][]): string {
  const cells = rows.map(row => row.map(String));
  const widths = head.map(h => displayWidth(h));
  const cellWidths = cells.map(row => row.map((cell, i) => {
    const width = displayWidth(cell);
    if (width > widths[i]) widths[i] = width;
    return width;
  }));
  const rule = (left: string, mid: string, right: string) => `${left}${widths.map(w => '─'.repeat(w + 2)).join(mid)}${right}`;
  const line = (row: string[], rowWidths: number[]) => `│${row.map((cell, i) => ` ${cell}${' '.repeat(widths[i] - rowWidths[i])} `).join('│')}│`;
  const out = [rule('┌', '┬', '┐'), line(head, head.map(h => displayWidth(h))), rule('├', '┼', '┤')];
  for (let r = 0; r < cells.length; r++) out.push(line(cells[r], cellWidths[r]));
  out.push(rule('└', '┴', '┘'));
  return out.join('\n');
}
