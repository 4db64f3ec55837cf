// How a --json document is printed: indented for a person at a terminal, one line
// otherwise, so `marklog mark --json >> marks.jsonl` from cron appends JSON Lines.
// It imports nothing, so the fast path of `mark` can use it.
export function formatJson(value: unknown, stream: {isTTY?: boolean} = process.stdout): string {
  return stream.isTTY ? JSON.stringify(value, null, 2) : JSON.stringify(value);
}
