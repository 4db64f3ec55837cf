// docs/INTEROP.md §2 against the codec: the flag values and the magic the page gives,
// and its worked example decoded byte for byte and written again by the codec.
import fs from 'node:fs';
import {fileURLToPath} from 'node:url';
import test from 'ava';
import {DM_LOG_MAGIC, DmFlag, decodeEntry, decodeSuper, encodeEntry, encodeSuper, entrySpan} from '../../src/format/dm-log-writes.js';

const PAGE = fs.readFileSync(fileURLToPath(new URL('../../../docs/INTEROP.md', import.meta.url)), 'utf8');

/** The hex dumps of §2.1, in order, as bytes. */
function dumps(): Buffer[] {
  const section = PAGE.slice(PAGE.indexOf('### 2.1 Worked example'));
  return [...section.matchAll(/```\n([\s\S]*?)```/g)].slice(0, 3).map(([, block]) => Buffer.from(block.split('\n')
    .filter(line => /^[0-9a-f]{4} {2}/.test(line)).map(line => line.slice(6).replaceAll(' ', '')).join(''), 'hex'));
}

test('INTEROP.md §2 gives the magic and the flag values the codec uses', t => {
  t.true(PAGE.includes(`\`0x${DM_LOG_MAGIC.toString(16)}\``));
  t.true(PAGE.includes(`FLUSH \`${DmFlag.flush}\`, FUA \`${DmFlag.fua}\`, DISCARD \`${DmFlag.discard}\`, MARK \`${DmFlag.mark}\`, METADATA \`${DmFlag.metadata}\``));
});

test('INTEROP.md §2.1: the super block, the write entry and the mark entry decode as the page says, and the codec writes the same bytes', t => {
  const [superBytes, writeBytes, markBytes] = dumps();
  const sector = (bytes: Buffer) => Buffer.concat([bytes, Buffer.alloc(512 - bytes.length)]);
  t.deepEqual(decodeSuper(sector(superBytes)), {nrEntries: 2, sectorSize: 512});
  t.deepEqual(encodeSuper({nrEntries: 2, sectorSize: 512}), sector(superBytes));
  const write = decodeEntry(sector(writeBytes));
  t.deepEqual(write, {sector: 2, nrSectors: 1, flags: 0, dataLen: 0});
  t.deepEqual(encodeEntry({sector: 2, nrSectors: 1, flags: 0, dataLen: 0}, 512), sector(writeBytes));
  t.is(entrySpan(write as {sector: number; nrSectors: number; flags: number; dataLen: number}, 512), 1024, 'a write entry: its header sector and one data sector');
  const mark = decodeEntry(sector(markBytes));
  t.deepEqual(mark, {sector: 0, nrSectors: 0, flags: DmFlag.mark, dataLen: 2});
  t.is(sector(markBytes).toString('ascii', 32, 34), '42');
  t.deepEqual(encodeEntry({sector: 0, nrSectors: 0, flags: DmFlag.mark, dataLen: 2}, 512, Buffer.from('42')), sector(markBytes));
});

test('a super block that is not dm-log-writes, of another version or with an odd sector size is refused with its reason', t => {
  const good = encodeSuper({nrEntries: 1, sectorSize: 4096});
  t.deepEqual(decodeSuper(good), {nrEntries: 1, sectorSize: 4096});
  const bad = (at: number, write: (b: Buffer) => void) => {
    const copy = Buffer.from(good);
    write(copy);
    return decodeSuper(copy);
  };
  t.regex((bad(0, b => b.writeUInt8(0, 0)) as {reason: string}).reason, /bad magic/);
  t.regex((bad(8, b => b.writeBigUInt64LE(2n, 8)) as {reason: string}).reason, /version 2/);
  t.regex((bad(24, b => b.writeUInt32LE(1000, 24)) as {reason: string}).reason, /sector size 1000/);
  t.regex((decodeSuper(Buffer.alloc(10)) as {reason: string}).reason, /shorter/);
});
