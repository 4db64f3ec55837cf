// The remote's side of the link, in one table (docs/WIRE.md §7): one function per
// method code of src/format/wire-methods.ts, taking this site, the request's
// arguments as plain data (named after the SiteLink method's parameters) and its
// binary part, and giving back the result as plain data and, for a read, bytes.
// The local transport (src/transport/local-link.ts) and the agent's dispatcher
// (agent.ts) both call it, so a directory and another machine answer alike. A
// method that writes a volume answers with a promise: the write goes on to that
// volume's own pairs (a cascade) through this site's link, which is asynchronous.
//
// Two SiteLink arguments are not plain data. writeRvolFrom's source image becomes
// the bytes of its range (the local transport keeps its in-kernel copy instead);
// receiveImage's file of the far side becomes a stream of extents
// (receiveImageBegin, Chunk, Commit, Abort), and receiveImage itself is served
// only to the local transport, for whom that file is on the same machine.
import {InvalidArgumentError, WireProtocolError} from '../errors.js';
import {MAX_APP_BYTES} from '../format/log-format.js';
import {WireMethod, type WireMethodName} from '../format/wire-methods.js';
import {volumeWithImage} from '../site/same-image.js';
import {appendToLog, prepareLogGroup, recordLogGap, type AppendResult, type PreparedGroup} from '../log/remote-log.js';
import {stopLogAtRemote} from '../log/log-admin.js';
import {marksInLog, type LoggedMark} from '../mark/remote-marks.js';
import type {NewEntry} from '../log/journal.js';
import type {Site} from '../site/site.js';
import type {LinkRow, LogGap, LoggedGap, LogMember, RvolClaim} from '../site/tables.js';
import type {HandedOver, ReservedVolume} from '../site/link.js';
import type {TlsPaths} from '../transport/tls-files.js';
import {allBytes, ByteCursor, flag, list, oneOf, optionalWhole, record, text, whole, type Args, type Bytes} from './args.js';
import * as volumes from './volumes.js';
import * as failback from './failback.js';
import * as image from './receive-image.js';

/** What a method gives back: its result (plain data; undefined for none) and, for a read, bytes. */
export interface Answer<R = unknown> {
  result: R;
  data?: Buffer;
}

export type Method<R = unknown> = (site: Site, args: Args, data: Bytes) => Answer<R> | Promise<Answer<R>>;

const done: Answer<undefined> = {result: undefined};

function answer<R>(result: R): Answer<R> {
  return {result};
}

const CLAIM = {pair: 'whole', primarySite: 'string', mvol: 'whole'} as const;

/** An R-VOL's claim, checked and copied: reserveRvol stores it as the volume's rvolOf, where a member such as `takeover` means something. */
function claimOf(args: Args): RvolClaim {
  const {pair, primarySite, mvol} = record<RvolClaim>(args, 'claim', CLAIM);
  return {pair, primarySite, mvol};
}

/** An entry of appendToLog as it travels: a write names the length of its data, which follows in the binary part. */
export type WireEntry =
  | {kind: 'write'; ldev: number; address: number; length: number}
  | {kind: 'zero'; ldev: number; address: number; length: number}
  | {kind: 'mark'; markId: number; markTime: number; app: string};

/** Splits entries into what the JSON part holds and the binary part's pieces (the write data, uncopied). */
export function entriesToWire(entries: readonly NewEntry[]): {entries: WireEntry[]; data: Uint8Array[]} {
  const data: Uint8Array[] = [];
  const wire = entries.map((entry): WireEntry => {
    if (entry.kind !== 'write') return entry;
    data.push(entry.data);
    return {kind: 'write', ldev: entry.ldev, address: entry.address, length: entry.data.length};
  });
  return {entries: wire, data};
}

/** A log record holds its target LDEV as a u32 (FORMAT.md §4.3, §4.8.3). */
const MAX_LOGGED_LDEV = 0xffff_ffff;

function entriesFromWire(args: Args, data: Bytes): NewEntry[] {
  const cursor = new ByteCursor(data);
  const entries = list(args, 'entries').map((entry, i): NewEntry => {
    const kind = oneOf(entry, 'kind', ['write', 'zero', 'mark'] as const);
    if (kind === 'mark') {
      const app = text(entry, 'app');
      // Longer, the mark record is written but read as damaged (FORMAT.md §4.4).
      if (Buffer.byteLength(app, 'utf8') > MAX_APP_BYTES) throw new InvalidArgumentError(`log entry ${i}: an application name of more than ${MAX_APP_BYTES} bytes does not fit a mark record`);
      return {kind, markId: whole(entry, 'markId'), markTime: whole(entry, 'markTime'), app};
    }
    const ldev = whole(entry, 'ldev');
    if (ldev > MAX_LOGGED_LDEV) throw new InvalidArgumentError(`log entry ${i}: LDEV ${ldev} is above 2^32 - 1, the highest a log record holds`);
    const address = whole(entry, 'address');
    const length = whole(entry, 'length');
    // A record of no bytes is one every log reader reports as damaged (FORMAT.md §4.8.3: at least 1).
    if (length === 0) throw new InvalidArgumentError(`log entry ${i}: a ${kind} of no bytes is not logged`);
    if (kind === 'zero') return {kind, ldev, address, length};
    return {kind, ldev, address, data: cursor.take(length, `write entry ${i}`)};
  });
  cursor.end('appendToLog');
  return entries;
}

/** A request whose arguments name a length must carry exactly those bytes. */
function exactBytes(data: Bytes, length: number, method: string): Uint8Array {
  const bytes = allBytes(data);
  if (bytes.length !== length) throw new InvalidArgumentError(`${method} names ${length} bytes but carries ${bytes.length}`);
  return bytes;
}

const table = {
  registerPeer: async (site, args) => {
    // A row of the peer table: its four members and the way back's TLS files are stored, nothing else the request's object holds.
    const peer = record<LinkRow>(args, 'peer', {remote: 'string', siteId: 'string', name: 'string', linked: 'string'});
    const {remote, siteId, name, linked} = peer;
    const tls = peer.tls === undefined ? undefined : record<TlsPaths>({'peer.tls': peer.tls}, 'peer.tls', {cert: 'string', key: 'string', ca: 'string'});
    await volumes.registerPeer(site, {remote, siteId, name, linked, ...(tls ? {tls: {cert: tls.cert, key: tls.key, ca: tls.ca}} : {})});
    return done;
  },
  reserveRvol: (site, args): Answer<ReservedVolume> =>
    answer(volumes.reserveRvol(site, whole(args, 'ldev'), claimOf(args), whole(args, 'minCapacity'))),
  releaseRvol: (site, args): Answer<{leftGroup: number | null}> => {
    const options = args.options === undefined ? {} : record<Args>(args, 'options');
    return answer(volumes.releaseRvol(site, whole(args, 'ldev'), claimOf(args), {force: flag(options, 'force')}));
  },
  writeRvol: async (site, args, data) => {
    await volumes.writeVolume(site, whole(args, 'ldev'), whole(args, 'offset'), allBytes(data));
    return done;
  },
  // Over the table the copy's source range arrives as its bytes: a write like writeRvol.
  writeRvolFrom: async (site, args, data) => {
    await volumes.writeVolume(site, whole(args, 'ldev'), whole(args, 'offset'), exactBytes(data, whole(args, 'length'), 'writeRvolFrom'));
    return done;
  },
  zeroRvol: async (site, args) => {
    await volumes.zeroVolume(site, whole(args, 'ldev'), whole(args, 'offset'), whole(args, 'length'));
    return done;
  },
  readRvol: (site, args): Answer<undefined> => ({result: undefined, data: volumes.readVolume(site, whole(args, 'ldev'), whole(args, 'offset'), whole(args, 'length'))}),
  prepareLogGroup: (site, args): Answer<PreparedGroup> => {
    const request = record<Args>(args, 'request', {primarySite: 'string'});
    // The members become rows of the log group table: each is checked and copied, so nothing else is stored.
    const members = list(request, 'members').map((member, i): LogMember => {
      const [rvol, mvol, pair] = (['rvol', 'mvol', 'pair'] as const).map(name => whole({[`request.members.${i}.${name}`]: member[name]}, `request.members.${i}.${name}`));
      return {rvol, mvol, pair};
    });
    return answer(prepareLogGroup(site, {group: optionalWhole(request, 'group'), primarySite: request.primarySite as string, members}));
  },
  appendToLog: (site, args, data): Answer<AppendResult> => answer(appendToLog(site, whole(args, 'group'), entriesFromWire(args, data))),
  stopLogGroup: (site, args) => {
    stopLogAtRemote(site, whole(args, 'group'));
    return done;
  },
  recordLogGap: (site, args): Answer<LoggedGap> =>
    answer(recordLogGap(site, record<LogGap>(args, 'gap', {group: 'whole', pair: 'whole', mvol: 'whole', time: 'string', reason: 'string'}))),
  listMarks: (site, args): Answer<LoggedMark[]> => answer(marksInLog(site, whole(args, 'group'))),
  receiveImage: () => {
    throw new WireProtocolError(`receiveImage (${WireMethod.receiveImage}) names a file of the far side and is not served over the wire`,
      `send the image with receiveImageBegin, receiveImageChunk and receiveImageCommit (${WireMethod.receiveImageBegin}-${WireMethod.receiveImageCommit})`);
  },
  readDirtyRanges: async (site, args): Promise<Answer<HandedOver>> => answer(await failback.readDirtyRanges(site, whole(args, 'ldev'), claimOf(args))),
  forgetDirtyRanges: (site, args) => {
    failback.forgetDirtyRanges(site, whole(args, 'ldev'), claimOf(args), whole(args, 'token'));
    return done;
  },
  setDirection: async (site, args): Promise<Answer<HandedOver>> =>
    answer(await failback.setDirection(site, whole(args, 'ldev'), claimOf(args), oneOf(args, 'direction', ['forward', 'reverse'] as const))),
  describeVolume: (site, args) => answer(volumes.describeVolume(site, whole(args, 'ldev'))),
  findImage: (site, args) => answer(volumeWithImage(site, site.tables(), text(args, 'identity'))),
  describePair: (site, args) => answer(volumes.describePair(site, whole(args, 'pair'))),
  flushRvol: (site, args) => {
    volumes.flushVolume(site, whole(args, 'ldev'));
    return done;
  },
  // The session ends; the site stays open until the connection does.
  close: () => done,
  receiveImageBegin: (site, args): Answer<image.ImageTransfer> => answer(image.receiveImageBegin(site, whole(args, 'ldev'), flag(args, 'force'))),
  receiveImageChunk: (site, args, data) => {
    image.receiveImageChunk(site, text(args, 'transfer'), whole(args, 'offset'), allBytes(data));
    return done;
  },
  receiveImageCommit: (site, args) => {
    image.receiveImageCommit(site, text(args, 'transfer'), flag(args, 'force'));
    return done;
  },
  receiveImageAbort: (site, args) => {
    image.receiveImageAbort(site, text(args, 'transfer'));
    return done;
  },
} satisfies Record<WireMethodName, Method>;

type Table = typeof table;

/** The table, each method typed with its own result. */
export const methods: {[K in keyof Table]: Method<Awaited<ReturnType<Table[K]>>['result']>} = table;

/** Methods the agent refuses (they name files of the far side); the local transport calls them. */
export const LOCAL_ONLY: ReadonlySet<WireMethodName> = new Set(['receiveImage']);
