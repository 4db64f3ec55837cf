// The check every bad-input row makes: refused with its code and exit status, one
// line on stderr, nothing on stdout in human mode, `{error: {code}}` under --json,
// and the sites exactly as they were.
import test from 'ava';
import {cli} from './cli.js';
import {snapshot} from './sites.js';

export interface BadInvocation<F> {
  args: (f: F) => string[];
  input?: string;
  code: string;
  exitCode: number;
}

// As an administrator's shell runs it: without the NODE_ENV=test that ava sets, under
// which oclif adds development warnings to stderr.
const env = {NODE_ENV: undefined};

export function refusedMacro<F extends {root: string}>(fixture: () => F) {
  return test.macro<[BadInvocation<F>]>({
    exec(t, {args, input = '', code, exitCode}) {
      const f = fixture();
      const before = snapshot(f.root);

      const human = cli(args(f), {input, env});
      t.is(human.code, exitCode, human.stderr);
      t.regex(human.stderr, /^marklog: [^\n]+\n$/, 'one line on stderr');
      t.is(human.stdout, '');

      const json = cli([...args(f), '--json'], {input, env});
      t.is(json.code, exitCode);
      t.is(JSON.parse(json.stdout).error.code, code);

      t.deepEqual(snapshot(f.root), before, 'nothing on disk changed');
    },
    title: (what = '', {code, exitCode}) => `${what} is refused with ${code} (exit ${exitCode}) and changes nothing`,
  });
}
