// Damage to one log volume image of a fuzz log (test/helpers/fuzz-sites.ts), and
// what the damage touched, worked out by comparing bytes with the pristine image:
// which records' CRC-covered bytes changed, whether the current header slot changed.
import {Rng, U32_MAX, U64_MAX, SAFE_MAX, mutate, crc32cOf, writeField, type Field} from './fuzz.js';
import {HDR, HDR_END, LOG_HEADER, MAX_DATA, MARK_MIN, REC, specCurrentHeader} from './log-spec.js';
import type {FuzzLog, LogVolumeFile} from './fuzz-sites.js';
import type {SpecRecord} from './log-spec.js';

export type DamageMode = 'raw' | 'field' | 'header' | 'records' | 'file';

export interface Damage {
  mode: DamageMode;
  /** Index of the damaged volume in the fill order. */
  volume: number;
  bytes: Buffer;
  steps: string[];
  /** Records (of the damaged volume) whose header or data bytes differ from the pristine image. */
  changed: SpecRecord[];
  /** The current header slot's meaningful bytes (0..211) differ. */
  headerChanged: boolean;
  /** The other slot's bytes differ. */
  otherSlotChanged: boolean;
  /** The file's length changed. */
  resized: boolean;
}

function recordFields(records: SpecRecord[], rng: Rng, all: SpecRecord[]): Field[] {
  const fields: Field[] = [];
  const logIds = all.map(r => BigInt(r.logId));
  for (let i = 0; i < 3 && records.length; i++) {
    const r = rng.pick(records);
    const o = r.offset;
    const dataLength = r.crcEnd - r.offset - REC.size;
    fields.push(
      {name: `record@${o}.logId`, offset: o + REC.logId, size: 8,
        edges: [0n, ...logIds.slice(0, 4), ...logIds.slice(-4), BigInt(r.logId) - 1n, BigInt(r.logId) + 1n, BigInt(r.logId) + (1n << 40n), SAFE_MAX, SAFE_MAX + 1n, U64_MAX]},
      {name: `record@${o}.dataLength`, offset: o + REC.dataLength, size: 4,
        edges: [0n, 15n, 16n, 25n, 26n, BigInt(MAX_DATA), BigInt(MAX_DATA + 1), U32_MAX, ...[-9, -8, -1, 1, 7, 8, 64, 4096].map(d => BigInt(Math.max(0, dataLength + d)))]},
      {name: `record@${o}.magic`, offset: o + REC.magic, size: 2},
      {name: `record@${o}.type`, offset: o + REC.type, size: 1, edges: [0x57n, 0x4dn]},
      {name: `record@${o}.markFlag`, offset: o + REC.markFlag, size: 1, edges: [0n, 1n]},
      {name: `record@${o}.crc`, offset: o + REC.crc, size: 4},
      {name: `record@${o}.timer`, offset: o + REC.timer, size: 8},
    );
    if (r.kind === 'mark') {
      fields.push({name: `record@${o}.appLength`, offset: o + REC.size + 24, size: 2, edges: [0n, 255n, 256n, 0xffffn, ...[-1, 1].map(d => BigInt(Math.max(0, dataLength - MARK_MIN + d)))]});
    } else {
      fields.push({name: `record@${o}.address`, offset: o + REC.size + 8, size: 8, edges: [0n, SAFE_MAX, SAFE_MAX + 1n, U64_MAX]},
        {name: `record@${o}.ldev`, offset: o + REC.size, size: 4});
    }
  }
  return fields;
}

function headerFields(vol: LogVolumeFile, slot: number): Field[] {
  const base = slot * LOG_HEADER;
  const offsets = vol.records.map(r => BigInt(r.offset));
  const near = (v: number) => [v - 8, v - 1, v, v + 1, v + 8].filter(x => x >= 0).map(BigInt);
  const capacity = vol.pristine.length;
  const positions = [0n, 4096n, 8192n, ...offsets.slice(0, 3), ...offsets.slice(-3), ...near(capacity), BigInt(capacity * 2), SAFE_MAX, U64_MAX];
  const sequence = Number(vol.pristine.readBigUInt64LE(vol.headerSlot * LOG_HEADER + HDR.sequence));
  const fields: Field[] = [];
  for (const name of ['start', 'tail', 'wrap', 'capacity'] as const) fields.push({name: `slot${slot}.${name}`, offset: base + HDR[name], size: 8, edges: positions});
  fields.push({name: `slot${slot}.records`, offset: base + HDR.records, size: 8, edges: [0n, 1n, BigInt(vol.records.length), BigInt(vol.records.length + 1)]});
  fields.push({name: `slot${slot}.sequence`, offset: base + HDR.sequence, size: 8, edges: near(sequence).concat(near(sequence + 2))});
  fields.push({name: `slot${slot}.headerSize`, offset: base + HDR.headerSize, size: 4, edges: [4095n, 4096n, 8192n]});
  fields.push({name: `slot${slot}.newestLogId`, offset: base + HDR.newestLogId, size: 8});
  // Who the volume says it is: a volume of another group, LDEV or site must not be read as this one.
  fields.push({name: `slot${slot}.group`, offset: base + HDR.group, size: 4, edges: [0n, 1n, 2n]});
  fields.push({name: `slot${slot}.ldev`, offset: base + HDR.ldev, size: 4, edges: [0n, 1n, 2n, 3n, 4n]});
  fields.push({name: `slot${slot}.siteId`, offset: base + HDR.siteId, size: 8, edges: [0n, 0x3030303030303030n]});
  return fields;
}

function repairHeaderCrc(bytes: Buffer, slot: number): void {
  const base = slot * LOG_HEADER;
  if (bytes.length >= base + HDR_END) bytes.writeUInt32LE(crc32cOf(bytes.subarray(base, base + HDR.crc)), base + HDR.crc);
}

/**
 * Damages one log volume of `fx`. Modes: raw byte mutations; one record field at an
 * extreme; header fields with a repaired CRC; whole records zeroed, torn, copied or
 * swapped; the file truncated or extended.
 */
export function damageLog(rng: Rng, fx: FuzzLog, modes: Partial<Record<DamageMode, number>>): Damage {
  const volume = rng.int(fx.logVolumes.length);
  const vol = fx.logVolumes[volume];
  const entries = Object.entries(modes) as [DamageMode, number][];
  let roll = rng.u32() / 0x1_0000_0000 * entries.reduce((n, [, w]) => n + w, 0);
  let mode = entries[0][0];
  for (const [m, w] of entries) {
    if ((roll -= w) < 0) {
      mode = m;
      break;
    }
  }
  let bytes: Buffer = Buffer.from(vol.pristine);
  const steps: string[] = [];
  let resized = false;
  if (mode === 'raw') {
    const focus = [...vol.ranges];
    if (rng.chance(0.15) || focus.length === 0) focus.push({from: 0, to: HDR_END}, {from: LOG_HEADER, to: LOG_HEADER + HDR_END});
    const m = mutate(rng, bytes, {fields: recordFields(vol.records, rng, fx.records), focus, resize: false, maxSteps: rng.chance(0.7) ? 1 : 3});
    bytes = m.bytes;
    steps.push(...m.steps);
  } else if (mode === 'field') {
    // One field of one record set to an extreme or just past a limit, the CRC left as it was.
    const r = rng.pick(vol.records);
    const field = rng.pick(recordFields([r], rng, fx.records).filter(f => f.edges?.length));
    const value = rng.pick(field.edges!);
    writeField(bytes, field, value);
    steps.push(`${field.name} = ${value}`);
  } else if (mode === 'header') {
    const slot = rng.chance(0.8) ? vol.headerSlot : 1 - vol.headerSlot;
    const m = mutate(rng, bytes, {fields: headerFields(vol, slot), focus: [{from: slot * LOG_HEADER, to: slot * LOG_HEADER + HDR_END}], resize: false, maxSteps: 2});
    bytes = m.bytes;
    repairHeaderCrc(bytes, slot);
    steps.push(...m.steps, `slot ${slot} CRC repaired`);
  } else if (mode === 'records' && vol.records.length >= 2) {
    const records = vol.records;
    const kind = rng.int(4);
    if (kind === 0) {
      const r = rng.pick(records);
      bytes.fill(0, r.offset, r.offset + r.size);
      steps.push(`zero the record at ${r.offset} (log ID ${r.logId})`);
    } else if (kind === 1 || kind === 2) {
      const bySize = new Map<number, SpecRecord[]>();
      for (const r of records) bySize.set(r.size, [...(bySize.get(r.size) ?? []), r]);
      const groups = [...bySize.values()].filter(g => g.length >= 2);
      if (groups.length) {
        const g = rng.pick(groups);
        const a = g[rng.int(g.length)];
        let b = g[rng.int(g.length)];
        if (a === b) b = g[(g.indexOf(a) + 1) % g.length];
        const copyA = Buffer.from(vol.pristine.subarray(a.offset, a.offset + a.size));
        if (kind === 1) {
          copyA.copy(bytes, b.offset);
          steps.push(`copy the record at ${a.offset} (log ID ${a.logId}) over the one at ${b.offset} (log ID ${b.logId})`);
        } else {
          vol.pristine.copy(bytes, a.offset, b.offset, b.offset + b.size);
          copyA.copy(bytes, b.offset);
          steps.push(`swap the records at ${a.offset} (log ID ${a.logId}) and ${b.offset} (log ID ${b.logId})`);
        }
      } else {
        const r = rng.pick(records);
        bytes.fill(0, r.offset, r.offset + r.size);
        steps.push(`zero the record at ${r.offset} (log ID ${r.logId})`);
      }
    } else {
      // Tear the last record of a range: zero its second half.
      const r = records[records.length - 1];
      const half = r.offset + Math.floor(r.size / 2);
      bytes.fill(0, half, r.offset + r.size);
      steps.push(`tear the last record at ${r.offset} (log ID ${r.logId}) from ${half}`);
    }
  } else {
    if (rng.chance(0.5)) {
      const length = rng.int(bytes.length);
      bytes = bytes.subarray(0, length);
      steps.push(`truncate the file to ${length} bytes`);
    } else {
      const extra = rng.range(1, 8192);
      bytes = Buffer.concat([bytes, rng.bytes(extra)]);
      steps.push(`extend the file by ${extra} random bytes`);
    }
    resized = true;
    mode = 'file';
  }
  return assess(fx, volume, bytes, mode, steps, resized);
}

/** Works out what a damage touched by comparing with the pristine image. */
export function assess(fx: FuzzLog, volume: number, bytes: Buffer, mode: DamageMode, steps: string[], resized = false): Damage {
  const vol = fx.logVolumes[volume];
  const differs = (from: number, to: number) => !bytes.subarray(from, to).equals(vol.pristine.subarray(from, to));
  const current = vol.headerSlot * LOG_HEADER;
  const other = (1 - vol.headerSlot) * LOG_HEADER;
  return {
    mode, volume, bytes, steps, resized,
    changed: vol.records.filter(r => differs(r.offset, r.crcEnd)),
    headerChanged: differs(current, current + HDR_END),
    otherSlotChanged: differs(other, other + HDR_END),
  };
}

const FRAME_FIELDS: [string, number, number][] = [
  ['markFlag', 0, 1], ['type', 1, 2], ['magic', 2, 4], ['reserved', 4, 8], ['logId', 8, 16], ['timer', 16, 24], ['dataLength', 24, 28], ['crc', 28, 32],
];

/** Which parts of each damaged record changed, e.g. "log ID 23 (logId 1→33554455)". */
export function describeChanges(fx: FuzzLog, damage: Damage): string {
  const pristine = fx.logVolumes[damage.volume].pristine;
  return damage.changed.map(r => {
    const parts: string[] = [];
    for (const [name, from, to] of FRAME_FIELDS) {
      const a = pristine.subarray(r.offset + from, r.offset + to);
      const b = damage.bytes.subarray(r.offset + from, r.offset + to);
      if (a.equals(b)) continue;
      if (name === 'logId') parts.push(`logId ${a.readBigUInt64LE(0)}→${b.length === 8 ? b.readBigUInt64LE(0) : '?'}`);
      else if (name === 'dataLength') parts.push(`dataLength ${a.readUInt32LE(0)}→${b.length === 4 ? b.readUInt32LE(0) : '?'}`);
      else parts.push(name);
    }
    if (!pristine.subarray(r.offset + REC.size, r.crcEnd).equals(damage.bytes.subarray(r.offset + REC.size, r.crcEnd))) parts.push('data area');
    return `log ID ${r.logId} at ${r.offset} (${parts.join(', ')})`;
  }).join('; ') || 'no record';
}

/** The header a reader following FORMAT.md should use for the damaged bytes. */
export function effectiveHeader(bytes: Buffer) {
  return specCurrentHeader(bytes.subarray(0, 2 * LOG_HEADER));
}
