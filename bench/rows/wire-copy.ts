// Row 33 (issue 15, item 7): pair create of a dense 1 GiB M-VOL (random data) with the
// remote over tls:// (`marklog agent --listen` on 127.0.0.1), against a `cp` over the
// same kind of connection: the image's bytes streamed by this process through a
// mutual-TLS socket on loopback to the TLS sink (bench/lib/tls-sink.ts), which writes
// them to a file and answers once it is closed. Both sides run here (createPair, as
// row 4 calls it, and the sender) with their receiver another process, start with a
// new TLS connection (the link is reopened before each pair create) and end when
// the far end has every byte. The R-VOL and the sink's file are emptied, untimed,
// before each run; both are compared with the M-VOL at the end.
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {createPair} from '../../src/pair/pair-create.js';
import {deletePair} from '../../src/pair/pair-control.js';
import {eachStep} from '../lib/child.js';
import type {Context} from '../lib/context.js';
import {closeSites, fillImage, imageOf, randomPool, reopen, twoSites, volume, type Sites} from '../lib/fixtures.js';
import {now, runPaired, since, timedAsync} from '../lib/measure.js';
import {MiB} from '../lib/params.js';
import {RemoteKit, sendOverTls} from '../lib/remote.js';
import {makeRow, rates, series, type RowResult} from '../lib/result.js';

const TARGET = 0.7;

function same(a: string, b: string): boolean {
  return spawnSync('cmp', ['-s', a, b]).status === 0;
}

export async function wireCopy(ctx: Context): Promise<RowResult> {
  const p = ctx.params;
  const started = now();
  const capacity = p.wireCopyMib * MiB;
  const kit = new RemoteKit(`${ctx.root}/wire-copy-kit`);
  let sites: Sites | undefined;
  try {
    sites = await twoSites(ctx.root, 'wire-copy', kit.reach('tls'));
    const s = sites;
    const mvol = volume(s.primary, capacity);
    const rvol = volume(s.remote, capacity);
    const mvolImage = imageOf(s.primary, mvol);
    const rvolImage = imageOf(s.remote, rvol);
    fillImage(mvolImage, capacity, randomPool(32 * MiB));
    const received = path.join(s.dir, 'sink.img');
    const sink = await kit.sink(received);
    const credentials = await kit.credentials();
    let pair: number | undefined;
    let copiedBytes = 0;
    ctx.log('wire-copy')(`fixture ready in ${since(started).toFixed(1)} s`);
    const sides = await runPaired({
      warmup: p.warmup, repeat: p.repeat, settle: p.settle, log: ctx.log('wire-copy'),
      prepare: async side => {
        if (side === 'baseline') {
          fs.writeFileSync(received, '');
          return;
        }
        if (pair !== undefined) await deletePair(s.primary, pair);
        pair = undefined;
        // A new link (and TLS connection) for each pair create, as the command starts with.
        reopen(s);
        fs.truncateSync(rvolImage, 0);
        fs.truncateSync(rvolImage, capacity);
      },
      marklog: () => timedAsync(async () => {
        const result = await createPair(s.primary, {mvol, rvol});
        if (result.state !== 'PAIR') throw new Error(`pair ${result.pair} is ${result.state} after create`);
        pair = result.pair;
        copiedBytes = result.copiedBytes;
      }),
      baseline: async () => (await sendOverTls(sink, credentials, capacity, mvolImage)).seconds,
    });
    if (!same(mvolImage, rvolImage)) throw new Error('the R-VOL differs from the M-VOL after pair create over TLS');
    if (!same(mvolImage, received)) throw new Error('the TLS sink\'s file differs from the M-VOL');
    return makeRow({
      n: 33, name: 'wire-pair-create', unit: 'MiB/s',
      figure: `pair create, dense ${p.wireCopyMib} MiB, remote over tls:// against the image streamed over TLS`,
      marklog: series(`createPair of a dense ${p.wireCopyMib} MiB M-VOL, the R-VOL at marklog agent --listen on 127.0.0.1`, rates(p.wireCopyMib, sides.marklog)),
      baseline: series('the image file streamed through a mutual-TLS socket on loopback to a process writing it to a file', rates(p.wireCopyMib, sides.baseline)),
      target: {op: '>=', value: TARGET},
      detail: {copiedBytes, rvolIdentical: true, sinkIdentical: true},
    }, since(started));
  } finally {
    const s = sites;
    await eachStep([() => {
      if (s) closeSites(s);
    }, () => kit.stop(), () => {
      if (s) ctx.cleanup(s.dir);
    }, () => ctx.cleanup(kit.dir)]);
  }
}
