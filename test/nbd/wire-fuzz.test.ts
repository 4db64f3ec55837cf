// Issue 14, item 8: the NBD wire fuzzer. One real `marklog serve` over loopback, two
// exports (M-VOLs of a logging pair each), and four fuzzing connections at a time
// sending at least 10,000 frames in all (MARKLOG_FUZZ_SCALE multiplies that): client
// flags, options and requests, well-formed, mutated or random, cut short or followed by
// a disconnect. Every answer is held to the protocol (test/helpers/nbd-model.ts). All
// the while a well-behaved client writes and reads back its own region of the first
// export. At the end the server must still serve, stop on SIGTERM with exit 0, and
// leave both images their size, the second one byte for byte as it was, and every
// byte the well-behaved client had acknowledged in place, also in a restore of a mark
// issued at the end.
import path from 'node:path';
import {cli, cliJson} from '../helpers/cli.js';
import {Rng, caseCount, fuzzSuite, type Ledger} from '../helpers/fuzz.js';
import {digest, imageBytes, loggingSites, restore} from '../helpers/logging.js';
import {NbdClient} from '../helpers/nbd-client.js';
import {serve, stopServe} from '../helpers/serve.js';
import {addTally, fuzzConnection} from '../helpers/nbd-fuzz-case.js';
import type {ExportView} from '../helpers/nbd-model.js';
import {CMD, CMD_FLAG} from '../helpers/nbd-wire.js';
import {imagePath} from '../helpers/sites.js';

const PROPERTIES = [
  'every reply is legal: its magic, the option or cookie echoed, the answer or error number the protocol asks for, a read\'s bytes',
  'every option and request is answered, and a connection ends exactly where the protocol lets the server end it',
  'the well-behaved client on its own connection always succeeds and reads back what it wrote',
  'the server still serves at the end, then stops on SIGTERM with exit 0',
  'nothing lands outside the export: both images keep their size and the second is byte-identical to its start',
  'every byte the well-behaved client had acknowledged is there, on the M-VOL and in a restore of a mark issued at the end',
] as const;
const [LEGAL, ENDINGS, WELL_BEHAVED, SERVES, OUTSIDE, ACKNOWLEDGED] = PROPERTIES;

/** The well-behaved client's region at the start of the first export; the fuzzers write only after it. */
const REGION = 256 * 1024;
const WORKERS = 4;
const ANSWER_MS = 20_000;
/**
 * Writes and zeroes the well-behaved client makes at most: it runs as long as the
 * fuzzers do, and a faster server must not fill the log it is sized with; after
 * them it only reads and flushes.
 */
const CHANGES = caseCount(1500);

/** Writes, zeroes, flushes and reads in its region until the fuzzers are done; its model of the region is `region`. */
async function wellBehaved(port: number, name: string, region: Buffer, rng: Rng, fuzzing: () => boolean, ledger: Ledger): Promise<number> {
  let requests = 0;
  const fail = (detail: string) => ledger.fail(WELL_BEHAVED, requests, detail);
  try {
    const client = await NbdClient.open(port, name);
    const expect = (what: string, got: {error: number; data: Buffer}, data?: Buffer) => {
      if (got.error !== 0) fail(`${what} answered error ${got.error}`);
      else if (data && !got.data.equals(data)) fail(`${what} read back other bytes than it wrote`);
    };
    let changes = 0;
    while (fuzzing() || requests < 40) {
      requests++;
      const length = rng.range(1, 16384);
      const offset = rng.int(REGION - length + 1);
      const drawn = rng.int(10);
      const changing = drawn < 6 || (drawn >= 8 && drawn < 9);
      const op = changing && changes++ >= CHANGES ? 7 : drawn;
      if (op < 6) {
        const data = rng.bytes(length);
        expect(`WRITE ${offset}+${length}`, await client.write(offset, data, rng.chance(0.3) ? CMD_FLAG.fua : 0));
        data.copy(region, offset);
        expect(`READ after WRITE ${offset}+${length}`, await client.read(offset, length), data);
      } else if (op < 8) {
        expect(`READ ${offset}+${length}`, await client.read(offset, length), region.subarray(offset, offset + length));
      } else if (op < 9) {
        expect(`WRITE_ZEROES ${offset}+${length}`, await client.call(CMD.writeZeroes, offset, length, {flags: rng.chance(0.5) ? CMD_FLAG.noHole : 0}));
        region.fill(0, offset, offset + length);
      } else {
        expect('FLUSH', await client.call(CMD.flush, 0, 0));
      }
    }
    expect('READ of the whole region', await client.read(0, REGION), region);
    if ((await client.disconnect()) !== 'eof') fail('DISC did not end the connection');
  } catch (error) {
    fail(`after ${requests} requests: ${(error as Error).message}`);
  }
  return requests;
}

fuzzSuite('NBD wire fuzz against marklog serve', PROPERTIES, async ({seed, ledger, note, t}) => {
  const sites = loggingSites(t, {pairs: 2, size: '1M', logSize: `${caseCount(64)}M`});
  const [fuzzed, kept] = sites.members;
  const keptImage = imagePath(sites.primary, kept.mvol);
  const keptBefore = imageBytes(keptImage);
  const served = await serve(t, sites.primary);
  const names = (ldev: number) => served.exports.find(e => e.ldev === ldev)!.names;
  const capacity = sites.capacity;
  const first: ExportView = {names: names(fuzzed.mvol), capacity, protect: {from: 0, to: REGION}};
  const second: ExportView = {names: names(kept.mvol), capacity, protect: {from: 0, to: capacity}, fixed: keptBefore};
  const free = new Map([[first, {from: REGION, to: capacity}], [second, {from: 0, to: capacity}]]);
  const region = sites.host.now(fuzzed.mvol).subarray(0, REGION);

  const target = caseCount(10_000);
  const started = Date.now();
  let frames = 0;
  let cases = 0;
  let fuzzing = true;
  const tally: Record<string, number> = {};
  const good = wellBehaved(served.port, first.names[0], region, new Rng(seed, 0x7fff_ffff), () => fuzzing, ledger);
  await Promise.all(Array.from({length: WORKERS}, async () => {
    while (frames < target) {
      const index = cases++;
      let result;
      try {
        result = await fuzzConnection(served.port, new Rng(seed, index), [first, second], free, ANSWER_MS);
      } catch (error) {
        ledger.fail(SERVES, index, `a fuzzing connection could not be made: ${(error as Error).message}`);
        return;
      }
      frames += result.frames;
      addTally(tally, result.tally);
      if (!result.violation) continue;
      const {kind, detail} = result.violation;
      ledger.fail(kind === 'reply' ? LEGAL : ENDINGS, index, `${detail}\n      frames: ${result.log.slice(-14).join(' | ')}`, detail.replace(/\d+/g, 'N').slice(0, 60));
    }
  }));
  fuzzing = false;
  const requests = await good;
  ledger.cases = cases;
  note(`${frames} frames over ${cases} fuzzing connections in ${Date.now() - started} ms; the well-behaved client made ${requests} requests meanwhile`);
  note(Object.entries(tally).sort().map(([key, n]) => `${key} ${n}`).join(', '));

  const end = (property: string, ok: boolean, detail: string) => ledger.check(property, cases, ok, () => `at the end: ${detail}`);
  end(SERVES, served.child.exitCode === null && served.child.signalCode === null, 'marklog serve is not running');
  try {
    const late = await NbdClient.open(served.port, second.names[1]);
    const read = await late.read(0, capacity);
    end(SERVES, read.error === 0, `a new connection's READ answered ${read.error}`);
    end(OUTSIDE, read.error !== 0 || read.data.equals(keptBefore), 'the second export reads back changed');
    await late.disconnect();
  } catch (error) {
    end(SERVES, false, `a new connection failed: ${(error as Error).message}`);
  }
  const {markId} = cliJson(['mark', '--site', sites.primary, '--group', String(sites.group), '--app', 'wire-fuzz']);
  const stopped = await stopServe(served);
  end(SERVES, stopped !== 'hung' && stopped.code === 0, `SIGTERM: ${stopped === 'hung' ? 'still running after 30 s' : `exit ${stopped.code ?? stopped.signal}, stderr ${stopped.stderr.slice(0, 400)}`}`);

  const fuzzedImage = imageBytes(imagePath(sites.primary, fuzzed.mvol));
  const keptAfter = imageBytes(keptImage);
  end(OUTSIDE, fuzzedImage.length === capacity, `the fuzzed image is ${fuzzedImage.length} bytes, was ${capacity}`);
  end(OUTSIDE, keptAfter.length === capacity, `the second image is ${keptAfter.length} bytes, was ${capacity}`);
  end(OUTSIDE, keptAfter.equals(keptBefore), 'the second image changed');
  end(ACKNOWLEDGED, fuzzedImage.subarray(0, REGION).equals(region), 'the M-VOL does not hold what the well-behaved client wrote');
  const restored = path.join(sites.root, 'restored.img');
  restore(sites.remote, sites.group, ['--mark', String(markId), '--rvol', String(fuzzed.rvol), '--to', restored]);
  const restoredImage = imageBytes(restored);
  end(ACKNOWLEDGED, restoredImage.subarray(0, REGION).equals(region), 'the restore of the last mark does not hold what the well-behaved client wrote');
  end(ACKNOWLEDGED, digest(restoredImage) === digest(fuzzedImage), 'the restore of the last mark differs from the M-VOL (nothing was written after the mark)');
  end(ACKNOWLEDGED, cli(['verify', '--site', sites.remote]).code === 0, '`marklog verify` at the remote found problems');
  t.true(frames >= target, `${frames} frames sent, ${target} asked for`);
});
