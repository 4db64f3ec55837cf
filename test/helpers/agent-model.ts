// What the agent fuzz test expects of `marklog agent`. Which frames of a stream it
// acts on: the page's own reading of the stream (wire-spec.ts, §3.5) and, on top,
// the conversation rules of docs/WIRE.md §2, §4.5, §5 and §7.4 (a request whose id
// is not the next one, a HELLO or an ERROR after the WELCOME end the connection; a
// PING is answered; BYE ends it cleanly). And a model of the remote's volumes built
// from the requests it answered with RESPONSE, with the verify findings those
// requests explain (a base a write changed, a gap a client reported) and the ones
// they call for (a base that a write or an image changed after the log began).
import {WireMethod} from '../../src/format/wire-methods.js';
import type {WireFrame} from '../../src/format/wire-frame.js';
import type {Volume} from './agent-requests.js';
import type {Answer} from './wire-client.js';
import {specRead} from './wire-spec.js';

export interface SentRequest {
  id: number;
  method: number;
  json: unknown;
  binary: Buffer;
}

export interface Reading {
  /** The requests the agent must answer, in id order. */
  requests: SentRequest[];
  /** The tokens of the PINGs it must answer. */
  pings: number[];
  /** The code of the ERROR with id 0 that ends the connection; undefined for a clean end. */
  code?: string;
}

/** What the agent makes of the client's bytes after the HELLO, the last request before them being `lastId`. */
export function agentReading(stream: Buffer, lastId: number): Reading {
  const spec = specRead(stream, 'client');
  const reading: Reading = {requests: [], pings: []};
  let last = lastId;
  for (const frame of spec.frames as WireFrame[]) {
    switch (frame.type) {
      case 'request':
        // §5: ids go up by one, with no gap.
        if (frame.id !== last + 1) return {...reading, code: 'WIRE_PROTOCOL'};
        last = frame.id;
        reading.requests.push({id: frame.id, method: frame.method, json: frame.json, binary: Buffer.from(frame.binary ?? [])});
        break;
      case 'ping':
        reading.pings.push(frame.id);
        break;
      case 'pong':
        break;
      case 'bye':
        return reading;
      default:
        // A second HELLO, or an ERROR about the connection from the client: not allowed after the WELCOME (§2).
        return {...reading, code: 'WIRE_PROTOCOL'};
    }
  }
  return {...reading, code: spec.code};
}

function plain(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A flag member as WIRE.md §7.1 lets it be: absent (or null), or true or false. */
function flagOk(value: unknown): boolean {
  return value === undefined || value === null || typeof value === 'boolean';
}

export class VolumeModel {
  private readonly bytes = new Map<number, Buffer>();
  /** Open image transfers: the volume each overwrites and its staging bytes. */
  private readonly staging = new Map<string, {ldev: number; bytes: Buffer}>();
  /** The members of each log group, as the prepares answered with RESPONSE set them. */
  private readonly members = new Map<number, Set<number>>();
  /** Verify findings the answered requests explain: `base-changed G X`, `log-gap G`. */
  readonly explained = new Set<string>();
  /**
   * The `base-changed G X` findings verify must show: a write or an image landed on R-VOL
   * X after group G's log began on it (a zero may not, as it changes nothing on a hole).
   */
  readonly baseChanges = new Set<string>();
  /** Requests answered with RESPONSE that changed a log or pool volume's bytes: the suspects when verify finds its log damaged. */
  readonly logVolumeChanges: string[] = [];

  constructor(volumes: readonly Volume[]) {
    // Log volumes are the site's own format, which verify checks; the others hold what was written.
    for (const v of volumes) if (!v.pool) this.bytes.set(v.ldev, Buffer.alloc(v.capacity));
  }

  get ldevs(): number[] {
    return [...this.bytes.keys()];
  }

  expected(ldev: number): Buffer {
    return this.bytes.get(ldev)!;
  }

  /** One answered request, in id order; says what a read got that the model does not hold. */
  take(request: SentRequest, answer: Answer): string | undefined {
    const args = plain(request.json) ? request.json : {};
    if (answer.type === 'error') {
      // A commit whose arguments are right removes its staging file whether it succeeded or not (WIRE.md §7.3).
      if (request.method === WireMethod.receiveImageCommit && typeof args.transfer === 'string' && flagOk(args.force)) this.staging.delete(args.transfer);
      if (request.method === WireMethod.appendToLog && answer.error.code === 'LOG_FULL') this.explained.add(`log-gap ${args.group}`);
      return undefined;
    }
    const ldev = args.ldev as number;
    const offset = args.offset as number;
    switch (request.method) {
      case WireMethod.writeRvol:
      case WireMethod.writeRvolFrom:
        this.write(request, ldev, offset, request.binary);
        this.changed(ldev, true);
        return undefined;
      case WireMethod.zeroRvol:
        this.write(request, ldev, offset, Buffer.alloc(args.length as number));
        this.changed(ldev, false);
        return undefined;
      case WireMethod.readRvol: {
        const held = this.bytes.get(ldev)?.subarray(offset, offset + (args.length as number));
        const got = Buffer.from(answer.binary ?? []);
        if (held === undefined || held.equals(got)) return undefined;
        const at = [...held].findIndex((b, i) => got[i] !== b);
        return `readRvol of LDEV ${ldev} at ${offset} got ${got.length} bytes, the model holds ${held.length}; first difference at +${at}`;
      }
      case WireMethod.receiveImageBegin: {
        const result = answer.json as {transfer: string; capacity: number};
        this.staging.set(result.transfer, {ldev, bytes: Buffer.alloc(result.capacity)});
        return undefined;
      }
      case WireMethod.receiveImageChunk: {
        const staged = this.staging.get(args.transfer as string);
        if (!staged) return `receiveImageChunk of transfer ${JSON.stringify(args.transfer)}, which the model holds no open transfer for, was answered RESPONSE`;
        request.binary.copy(staged.bytes, offset);
        return undefined;
      }
      case WireMethod.receiveImageCommit: {
        const staged = this.staging.get(args.transfer as string);
        this.staging.delete(args.transfer as string);
        if (!staged) return `receiveImageCommit of transfer ${JSON.stringify(args.transfer)}, which the model holds no open transfer for, was answered RESPONSE`;
        if (this.bytes.has(staged.ldev)) this.bytes.set(staged.ldev, staged.bytes);
        else this.logVolumeChanges.push(`request ${request.id}: an image of ${staged.bytes.length} bytes onto LDEV ${staged.ldev}`);
        this.changed(staged.ldev, true);
        return undefined;
      }
      case WireMethod.receiveImageAbort:
        this.staging.delete(args.transfer as string);
        return undefined;
      case WireMethod.prepareLogGroup: {
        const {group} = answer.json as {group: number};
        const members = (args.request as {members: {rvol: number}[]}).members;
        this.members.set(group, new Set(members.map(m => m.rvol)));
        // A new base: what changed the old one no longer counts.
        for (const key of this.baseChanges) if (key.startsWith(`base-changed ${group} `)) this.baseChanges.delete(key);
        return undefined;
      }
      case WireMethod.releaseRvol: {
        const {leftGroup} = answer.json as {leftGroup: number | null};
        if (leftGroup !== null) {
          this.members.get(leftGroup)?.delete(ldev);
          this.baseChanges.delete(`base-changed ${leftGroup} ${ldev}`);
        }
        return undefined;
      }
      case WireMethod.recordLogGap:
        this.explained.add(`log-gap ${(args.gap as {group: number}).group}`);
        return undefined;
      default:
        return undefined;
    }
  }

  /** The agent ended: it removed the staging files of the transfers it had open. */
  sessionEnded(): void {
    this.staging.clear();
  }

  private write(request: SentRequest, ldev: number, offset: number, data: Buffer): void {
    const volume = this.bytes.get(ldev);
    if (volume) data.copy(volume, offset);
    else this.logVolumeChanges.push(`request ${request.id}: method ${request.method}, ${data.length} bytes at ${offset} of LDEV ${ldev}`);
  }

  private changed(ldev: number, surely: boolean): void {
    for (const [group, rvols] of this.members) {
      if (!rvols.has(ldev)) continue;
      this.explained.add(`base-changed ${group} ${ldev}`);
      if (surely) this.baseChanges.add(`base-changed ${group} ${ldev}`);
    }
  }
}
