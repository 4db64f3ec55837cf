import fs from 'node:fs';
import test from 'ava';
import {loggedPair} from '../helpers/library-sites.js';
import {hostWrite} from '../../src/io/host-io.js';
import {issueMark} from '../../src/mark/mark.js';
import {applyLog} from '../../src/log/apply.js';
import {Journal, type Corruption} from '../../src/log/journal.js';
import {findGroup} from '../../src/log/remote-log.js';
import {Site} from '../../src/site/site.js';
import {stopLogging} from '../../src/log/log-stop.js';
import {startLogging} from '../../src/log/log-start.js';
import {resyncPair} from '../../src/pair/pair-control.js';
import {restoreToMark} from '../../src/restore/restore.js';
import {verifySite} from '../../src/verify/verify.js';

const SLOT = 4096;
const SEQUENCE_AT = 200;
const DATA_START = 8192;
const RECORD = 8 * 1024;
/** A write record of RECORD bytes in the log (format 2, FORMAT.md §4.8): 48-byte header, 24-byte target, a CRC per 4 KiB block, the data. */
const RECORD_SIZE = 48 + 24 + 4 * (RECORD / 4096) + RECORD;

/**
 * A log volume with room for seven 8 KiB records whose last record wrapped to the
 * front: eight writes, a mark after the fourth, an apply up to that mark (which
 * frees the front), then the wrapping write. Returns the log volume's file and the
 * wrapped record's log ID.
 */
async function wrappedLog(t: Parameters<typeof loggedPair>[0]) {
  const logCapacity = DATA_START + 7 * (RECORD + 512);
  const sites = await loggedPair(t, 1024 * 1024, logCapacity);
  const {primary, remote, mvol, group} = sites;
  for (let i = 0; i < 4; i++) await hostWrite(primary, mvol, i * RECORD, Buffer.alloc(RECORD, i + 1));
  const mark = await issueMark(primary, {app: 'roll'});
  applyLog(remote, group, {markId: mark.markId});
  for (let i = 4; i < 7; i++) await hostWrite(primary, mvol, i * RECORD, Buffer.alloc(RECORD, i + 1));
  const wrapped = (await hostWrite(primary, mvol, 7 * RECORD, Buffer.alloc(RECORD, 8))).logged[0].logId;
  const tables = remote.tables();
  const journal = Journal.open(remote, tables, findGroup(remote, tables, group));
  const volume = journal.volumes[0];
  t.not(volume.header.wrap, 0, 'the last record wrapped to the front');
  t.is(volume.header.newestLogAddress, DATA_START);
  return {...sites, file: volume.image.file, wrapped};
}

function readBack(dir: string, group: number) {
  const site = Site.open(dir);
  try {
    const tables = site.tables();
    const journal = Journal.open(site, tables, findGroup(site, tables, group));
    const reports: Corruption[] = [];
    const logIds = [...journal.records(damage => reports.push(damage))].map(r => r.record.logId);
    return {logIds, reports, recovered: journal.volumes[0].recoveredRecords};
  } finally {
    site.close();
  }
}

/** Damages the header slot written last, as a crash in the middle of writing it would. */
function tearNewerSlot(file: string): void {
  tearSlot(file, true);
}

/** Damages one header slot: the one written last, or the one before it. */
function tearSlot(file: string, newer: boolean): void {
  const image = fs.readFileSync(file, {encoding: null}).subarray(0, 2 * SLOT);
  const firstIsNewer = image.readBigUInt64LE(SEQUENCE_AT) > image.readBigUInt64LE(SLOT + SEQUENCE_AT);
  const slot = firstIsNewer === newer ? 0 : SLOT;
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, Buffer.from([image[slot + 60] ^ 0xff]), 0, 1, slot + 60);
  fs.closeSync(fd);
}

test('FORMAT §4.5: a record that wrapped to the front is taken back when the header slot naming it is torn', async t => {
  const {r, group, file, wrapped} = await wrappedLog(t);
  const before = readBack(r, group);
  tearNewerSlot(file);
  const after = readBack(r, group);
  t.deepEqual(after.logIds, before.logIds);
  t.is(after.logIds.at(-1), wrapped);
  t.deepEqual(after.reports, []);
  t.is(after.recovered, 1);
});

test('FORMAT §4.5: a damaged wrapped record that only the torn header slot knew of is reported, not silently dropped', async t => {
  const {r, group, file, wrapped} = await wrappedLog(t);
  tearNewerSlot(file);
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, Buffer.from([0x5a]), 0, 1, DATA_START + 100); // inside the wrapped record's data
  fs.closeSync(fd);
  const after = readBack(r, group);
  t.false(after.logIds.includes(wrapped));
  t.deepEqual(after.reports.map(c => ({reason: c.reason, offset: c.offset, logId: c.logId})), [{reason: 'checksum mismatch', offset: DATA_START, logId: wrapped}]);
});

test('FORMAT §4.5: a log started again keeps nothing of the old one past its header, and with the header slot torn only the one record its update described is taken back', async t => {
  const sites = await loggedPair(t, 1024 * 1024, 16 * 1024 * 1024);
  const {primary, remote, mvol, group} = sites;
  const logFile = () => {
    const now = remote.tables();
    return Journal.open(remote, now, findGroup(remote, now, group)).volumes[0].image.file;
  };
  const span = 3 * RECORD_SIZE;
  // The log before the restart: three records, log IDs 1-3, all the same size.
  for (let i = 0; i < 3; i++) await hostWrite(primary, mvol, i * RECORD, Buffer.alloc(RECORD, 0xa0 + i));
  const oldLog = readAt(logFile(), DATA_START, span);
  await stopLogging(primary, group);
  await resyncPair(primary, 1);
  await startLogging(primary, {pairs: [1], group});
  t.true(readAt(logFile(), DATA_START, span).every(byte => byte === 0), 'log start dropped the old log\'s records, not only its header');
  // The new log: log IDs 1 and 2 again, in the same places. Put the old log ID 3 back
  // right after them, as a file system that cannot drop a range would have kept it.
  await hostWrite(primary, mvol, 0, Buffer.alloc(RECORD, 0xb0));
  await hostWrite(primary, mvol, RECORD, Buffer.alloc(RECORD, 0xb1));
  const file = logFile();
  writeAt(file, DATA_START + 2 * RECORD_SIZE, oldLog.subarray(2 * RECORD_SIZE));
  tearNewerSlot(file);
  const site = Site.open(sites.r);
  try {
    const current = site.tables();
    const records = [...Journal.open(site, current, findGroup(site, current, group)).records()].map(r => r.record);
    t.deepEqual(records.map(r => r.logId), [1, 2]);
    t.is(records[1].kind === 'write' ? records[1].data[0] : undefined, 0xb1, 'the record taken back is the new log ID 2');
  } finally {
    site.close();
  }
});

function readAt(file: string, offset: number, length: number): Buffer {
  const fd = fs.openSync(file, 'r');
  const out = Buffer.alloc(length);
  fs.readSync(fd, out, 0, length, offset);
  fs.closeSync(fd);
  return out;
}

function writeAt(file: string, offset: number, data: Buffer): void {
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, data, 0, data.length, offset);
  fs.closeSync(fd);
}

test('FORMAT §4.8: a whole record of the log before the last log start, with the very next log ID right after the tail, is never taken back: its epoch is older', async t => {
  const sites = await loggedPair(t, 1024 * 1024, DATA_START + 8 * (RECORD + 512));
  const {primary, mvol, group} = sites;
  const logFile = () => {
    const now = sites.remote.tables();
    return Journal.open(sites.remote, now, findGroup(sites.remote, now, group)).volumes[0].image.file;
  };
  for (let i = 0; i < 3; i++) await hostWrite(primary, mvol, i * RECORD, Buffer.alloc(RECORD, 0xa0 + i));
  const oldLog = readAt(logFile(), DATA_START, 3 * RECORD_SIZE);
  await stopLogging(primary, group);
  await resyncPair(primary, 1);
  await startLogging(primary, {pairs: [1], group});
  await hostWrite(primary, mvol, 0, Buffer.alloc(RECORD, 0xb0));
  await hostWrite(primary, mvol, RECORD, Buffer.alloc(RECORD, 0xb1));
  // Old log ID 3, whole, exactly where the new log ID 3 would go (as a file system that
  // cannot drop a range keeps it); and the slot the next header update would use torn,
  // so the reader looks there for a record a lost update might have described.
  const file = logFile();
  writeAt(file, DATA_START + 2 * RECORD_SIZE, oldLog.subarray(2 * RECORD_SIZE));
  tearSlot(file, false);
  const {logIds, reports, recovered} = readBack(sites.r, group);
  t.deepEqual(logIds, [1, 2], 'the old record is not part of the new log');
  t.is(recovered, 0);
  t.deepEqual(reports, []);
});

test('FORMAT §4.5: with the header slot torn, the record after the tail whose log ID field is damaged too is reported, not silently lost (found by the fuzzer, seed 1496000017)', async t => {
  const sites = await loggedPair(t, 1024 * 1024, DATA_START + 8 * (RECORD + 512));
  const {primary, mvol, group} = sites;
  for (let i = 0; i < 3; i++) await hostWrite(primary, mvol, i * RECORD, Buffer.alloc(RECORD, 0xc0 + i));
  const now = sites.remote.tables();
  const file = Journal.open(sites.remote, now, findGroup(sites.remote, now, group)).volumes[0].image.file;
  tearNewerSlot(file);
  const logIdField = Buffer.alloc(8);
  logIdField.writeBigUInt64LE(1n << 63n);
  writeAt(file, DATA_START + 2 * RECORD_SIZE + 8, logIdField);
  const {logIds, reports} = readBack(sites.r, group);
  t.deepEqual(logIds, [1, 2]);
  t.deepEqual(reports.map(r => [r.offset, r.logId, r.reason]), [[DATA_START + 2 * RECORD_SIZE, 3, 'bad record header']]);
});

test('FORMAT §4.5: a mark whose record was lost with a torn header slot and damaged beyond recognition is CORRUPT_LOG for a restore, not MARK_NOT_FOUND, and verify warns of the slot (found by the fuzzer, seed 3063173479)', async t => {
  const sites = await loggedPair(t, 1024 * 1024, DATA_START + 8 * (RECORD + 512));
  const {primary, mvol, group} = sites;
  for (let i = 0; i < 2; i++) await hostWrite(primary, mvol, i * RECORD, Buffer.alloc(RECORD, 0xd0 + i));
  const {markId} = await issueMark(primary, {app: 'lost'});
  const now = sites.remote.tables();
  const file = Journal.open(sites.remote, now, findGroup(sites.remote, now, group)).volumes[0].image.file;
  tearNewerSlot(file);
  writeAt(file, DATA_START + 2 * RECORD_SIZE, Buffer.from([0xde, 0xad, 0xbe, 0xef]));
  const site = Site.open(sites.r);
  try {
    const error = await t.throwsAsync(() => restoreToMark(site, {group, markId, target: {kind: 'file', path: `${sites.r}-at-mark.img`}}));
    t.is((error as {code?: string}).code, 'CORRUPT_LOG');
    const findings = (await verifySite(sites.r)).findings;
    t.true(findings.some(f => f.check === 'header-slot'), JSON.stringify(findings));
  } finally {
    site.close();
  }
});
