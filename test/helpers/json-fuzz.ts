// Mutations of JSON documents (marklog's tables.json and host-marks.json): structural
// ones on the parsed value (delete, retype, extremes, clone a subtree elsewhere, add
// keys such as "__proto__") and textual ones on the serialized text (truncate,
// insert or delete a character, a byte-order mark, duplicate keys, 1e999, deep nesting).
import type {Rng} from './fuzz.js';

export type Json = null | boolean | number | string | Json[] | {[key: string]: Json};

export type Path = (string | number)[];

/** Every path in `value`, the root's (empty) first. */
export function paths(value: Json, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(value)) value.forEach((v, i) => paths(v, [...at, i], out));
  else if (value !== null && typeof value === 'object') for (const k of Object.keys(value)) paths(value[k], [...at, k], out);
  return out;
}

export function get(root: Json, path: Path): Json {
  let node = root;
  for (const key of path) node = (node as Record<string | number, Json>)[key];
  return node;
}

/** Sets a member as an own property, even one named __proto__. */
export function setOwn(target: Record<string | number, Json>, key: string | number, value: Json): void {
  Object.defineProperty(target, key, {value, enumerable: true, writable: true, configurable: true});
}

function nested(depth: number): Json {
  let value: Json = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

export interface JsonMutation {
  value: Json;
  steps: string[];
}

/** Applies 1..maxSteps structural mutations to a deep copy of `doc`. */
export function mutateJson(rng: Rng, doc: Json, maxSteps = 3): JsonMutation {
  let root = JSON.parse(JSON.stringify(doc)) as Json;
  const steps: string[] = [];
  const n = rng.range(1, maxSteps);
  for (let s = 0; s < n; s++) {
    const all = paths(root);
    const path = rng.pick(all);
    const where = path.length ? path.join('.') : '(root)';
    const node = get(root, path);
    const parent = path.length ? get(root, path.slice(0, -1)) as Record<string | number, Json> : undefined;
    const key = path.at(-1);
    const replace = (value: Json, what: string) => {
      if (parent === undefined) root = value;
      else setOwn(parent, key!, value);
      steps.push(`${where} = ${what}`);
    };
    const kind = rng.int(10);
    if (kind === 0 && parent !== undefined) {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key as string];
      steps.push(`delete ${where}`);
    } else if (kind <= 3) {
      const pool: [Json, string][] = [
        [null, 'null'], [true, 'true'], [false, 'false'], [0, '0'], [-1, '-1'], [1.5, '1.5'], [2 ** 53, '2^53'], [2 ** 53 + 2, '2^53+2'],
        [1e308, '1e308'], [4294967296, '2^32'], ['', '""'], ['x', '"x"'], ['7', '"7"'], ['primary', '"primary"'], ['remote', '"remote"'],
        ['LOG', '"LOG"'], ['PAIR', '"PAIR"'], ['POOL', '"POOL"'], ['R-VOL', '"R-VOL"'], [[], '[]'], [{}, '{}'], [[null], '[null]'],
        [{ldev: 0}, '{ldev:0}'], [nested(64), '64 nested arrays'], ['é'.repeat(300), 'a 600-byte string'],
      ];
      const [value, what] = rng.pick(pool);
      replace(value, what);
    } else if (kind === 4) {
      const other = rng.pick(all);
      replace(JSON.parse(JSON.stringify(get(root, other) ?? null)), `copy of ${other.join('.') || '(root)'}`);
    } else if (kind === 5 && typeof node === 'number') {
      const [value, what] = rng.pick<[number, string]>([[node + 1, '+1'], [node - 1, '-1'], [-node - 1, 'negated'], [node * 2 ** 32, '×2^32'], [node + 0.5, '+0.5'], [Number.MAX_SAFE_INTEGER, 'max safe']]);
      replace(value, `${node} ${what}`);
    } else if (kind === 5 && typeof node === 'string') {
      const [value, what] = rng.pick<[string, string]>([[node.slice(1), 'first char cut'], [`${node}x`, '+x'], [node.toUpperCase(), 'upper case'], [`../${node}`, '"../" prefix'], [`${node}\u0000`, '+NUL']]);
      replace(value, JSON.stringify(what));
    } else if (kind === 6 && Array.isArray(node)) {
      const op = rng.int(3);
      if (op === 0 && node.length) {
        node.push(JSON.parse(JSON.stringify(node[rng.int(node.length)])));
        steps.push(`${where}: duplicate an element`);
      } else if (op === 1) {
        node.push(JSON.parse(JSON.stringify(get(root, rng.pick(all)) ?? null)));
        steps.push(`${where}: push a copy of another node`);
      } else {
        node.length = 0;
        steps.push(`${where}: empty`);
      }
    } else if (kind === 7 && node !== null && typeof node === 'object' && !Array.isArray(node)) {
      const name = rng.pick(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'extra', 'format', 'next']);
      setOwn(node, name, rng.pick<Json>([null, 1, 'x', {}, [], {format: 1}]));
      steps.push(`${where}: add key ${name}`);
    } else if (kind === 8) {
      replace(rng.chance(0.5) ? [node] : {value: node}, 'wrapped');
    } else {
      replace(rng.pick<Json>([null, 0, '', []]), 'emptied');
    }
  }
  return {value: root, steps};
}

/** Textual damage to serialized JSON. */
export function mutateText(rng: Rng, text: string): {text: string; step: string} {
  const at = rng.int(text.length + 1);
  switch (rng.int(10)) {
    case 0:
      return {text: text.slice(0, at), step: `truncate at ${at}`};
    case 1:
      return {text: text.slice(0, at) + text.slice(at + 1), step: `delete char ${at}`};
    case 2: {
      const c = rng.pick(['{', '}', '[', ']', ',', '"', ':', '\\', '\u0000', '\uffff', 'é', ' ']);
      return {text: text.slice(0, at) + c + text.slice(at), step: `insert ${JSON.stringify(c)} at ${at}`};
    }
    case 3:
      return {text: `\ufeff${text}`, step: 'byte-order mark'};
    case 4:
      return {text: text.replace(/^\{/, '{"format": 2, '), step: 'duplicate key "format" (first)'};
    case 5:
      return {text: text.replace(/\d+/, rng.pick(['1e999', '-0', '9007199254740993', '1.0', '0x10', '-1e-7'])), step: 'first number rewritten'};
    case 6:
      return {text: `${'['.repeat(5000)}${text}${']'.repeat(5000)}`, step: '5000 nested arrays'};
    case 7:
      return {text: rng.pick(['', ' ', 'null', '[]', '"x"', '0', 'true', '{}']), step: 'replaced whole'};
    case 8: {
      const i = Math.min(at, text.length - 1);
      const code = text.charCodeAt(i) ^ (1 << rng.int(7));
      return {text: text.slice(0, i) + String.fromCharCode(code) + text.slice(i + 1), step: `flip a bit of char ${i}`};
    }
    default:
      return {text: text + text, step: 'text doubled'};
  }
}
