// drainedOrGone: the NBD server waits on it before it closes a connection a client
// ended with DISC, and the agent before it reads on. Bytes still queued below the
// high-water mark get no 'drain' event; the wait must end all the same.
import {Writable} from 'node:stream';
import test from 'ava';
import {drainedOrGone} from '../../src/util/drain.js';

/** A stream that takes each write `ms` to hand on, and keeps what it was handed. */
function slowOutput(ms: number): {output: Writable; handed: Buffer[]} {
  const handed: Buffer[] = [];
  const output = new Writable({
    highWaterMark: 1024 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      setTimeout(() => {
        handed.push(chunk);
        callback();
      }, ms);
    },
  });
  return {output, handed};
}

const within = <T>(promise: Promise<T>, ms: number) => Promise.race([promise.then(() => 'settled'), new Promise(resolve => setTimeout(() => resolve('still waiting'), ms))]);

test('a reply queued below the high-water mark (no drain event to come) is waited for until it is handed on, and the wait ends', async t => {
  const {output, handed} = slowOutput(50);
  t.true(output.write(Buffer.from('the last reply')), 'the write was not told to wait: no drain event will follow');
  t.true(output.writableLength > 0);
  t.is(await within(drainedOrGone(output), 2000), 'settled');
  t.is(Buffer.concat(handed).toString(), 'the last reply', 'it ended once the reply was handed on, not before');
});

test('bytes above the high-water mark are waited for through the drain event', async t => {
  const {output, handed} = slowOutput(20);
  t.false(output.write(Buffer.alloc(2 * 1024 * 1024, 1)), 'told to wait');
  t.is(await within(drainedOrGone(output), 2000), 'settled');
  t.is(Buffer.concat(handed).length, 2 * 1024 * 1024);
});

test('a stream destroyed while bytes wait ends the wait', async t => {
  const {output} = slowOutput(10_000);
  output.write(Buffer.from('never handed on'));
  const waiting = drainedOrGone(output);
  output.destroy();
  t.is(await within(waiting, 2000), 'settled');
});
