// pair create names the R-VOL at the remote; when that volume is taken, the refusal
// says by what, so the operator knows which LDEV to pick or what to release.
import test from 'ava';
import {cliJson} from '../helpers/cli.js';
import {cliFailure, loggingSites} from '../helpers/logging.js';
import {deleteAsOlderMarklogDid} from '../helpers/older-marklog.js';
import {volumeUse} from '../../src/site/remote-endpoint.js';
import type {VolumeRow} from '../../src/site/tables.js';

test('pair create onto a volume in use says what uses it: an R-VOL, a log volume, a pool volume, a member left in a log group', t => {
  const {primary, remote, members, group, logLdev} = loggingSites(t, {pairs: 2});
  const [first, left] = members;
  const pool = cliJson(['volume', 'create', '--site', remote, '--size', '1M', '--pool']).ldev;
  deleteAsOlderMarklogDid(primary, remote, left.pair, left.rvol);
  const cases: [number, RegExp][] = [
    [first.rvol, new RegExp(`R-VOL of pair ${first.pair}\\b`)],
    [logLdev!, new RegExp(`log volume of log group ${group}\\b`)],
    [pool, /in the pool/],
    [left.rvol, new RegExp(`member of log group ${group}\\b`)],
  ];
  for (const [rvol, reason] of cases) {
    const failure = cliFailure(['pair', 'create', '--site', primary, '--mvol', String(left.mvol), '--rvol', String(rvol)]);
    t.is(failure.code, 'VOLUME_IN_USE', `LDEV ${rvol}`);
    t.regex(failure.message, reason);
  }
});

test('every use of a volume has its own words in the refusal, and a free volume has none', t => {
  const free: VolumeRow = {ldev: 4, id: 'naa.x', hostType: 'OPEN-V', pathDefined: true, state: 'NORMAL', reserve: 'none', pairs: [],
    logGroup: null, capacity: 1 << 20, image: 'volumes/ldev-0004.img', rvolOf: null, generation: 0};
  const cases: [Partial<VolumeRow>, string | undefined][] = [
    [{}, undefined],
    [{reserve: 'R-VOL', rvolOf: {pair: 3, primarySite: 'p', mvol: 0}}, 'R-VOL of pair 3'],
    [{reserve: 'R-VOL', rvolOf: {pair: 3, primarySite: 'p', mvol: 0, takeover: {group: 1, since: 'now', bitmap: 'b', chunkSize: 65_536}}}, 'R-VOL of pair 3, taken over'],
    [{reserve: 'LOG', logGroup: 2}, 'log volume of log group 2'],
    [{reserve: 'POOL'}, 'in the pool'],
    [{reserve: 'R-VOL'}, 'reserved as R-VOL'],
    [{pairs: [5]}, 'M-VOL of pair 5'],
    [{pairs: [5, 6]}, 'M-VOL of pairs 5, 6'],
    [{logGroup: 1}, 'member of log group 1'],
  ];
  for (const [change, words] of cases) t.is(volumeUse({...free, ...change}), words, JSON.stringify(change));
});
