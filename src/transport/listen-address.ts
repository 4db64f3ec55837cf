// A TCP address to listen on, as `--listen` gives it to `marklog serve` and
// `marklog agent`: HOST:PORT or [v6]:PORT; port 0 takes any free one.
import {InvalidArgumentError} from '../errors.js';

export function parseListen(text: string, example = '127.0.0.1:10809'): {host: string; port: number} {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) throw new InvalidArgumentError(`listen address "${text}" must be HOST:PORT (for example ${example})`);
  return {host: match[1] ?? match[2], port};
}
