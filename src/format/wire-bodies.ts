// The JSON parts whose shape the protocol itself fixes: HELLO, WELCOME and ERROR
// (docs/WIRE.md §4). Requests and responses carry their method's arguments and
// results, which only the agent and the link interpret. Readers ignore members they
// do not know, so a later protocol version can add members without a new frame type.

/** 16 lowercase hex digits, as site ids are (FORMAT.md §3.2); all zeros asks for a new session. */
export const NEW_SESSION = '0000000000000000';
const HEX16 = /^[0-9a-f]{16}$/;
const SITE_NAME = /^[A-Za-z0-9._-]{1,64}$/;
const ERROR_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;
export const MAX_PROTOCOL = 0xffff;

export interface Hello {
  /** The protocol versions the client speaks, both ends included. */
  protocol: {min: number; max: number};
  /** The session to resume, or NEW_SESSION. */
  session: string;
  /** The id of the site the client acts for. */
  client: string;
  /** The id of the site the client means to reach; '' when it does not know it yet (the first link). */
  site: string;
}

export interface Welcome {
  protocol: number;
  session: string;
  site: {id: string; name: string; role: 'primary' | 'remote'};
}

export type ErrorDetail = string | number | boolean | null;

export interface ErrorBody {
  code: string;
  message: string;
  hint?: string;
  /** The error class's own fields (a MarkIdReusedError's nextFree), for the class rebuilt from the code. */
  details?: Record<string, ErrorDetail>;
}

type Checked<T> = {value: T} | {reason: string};

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isVersion(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_PROTOCOL;
}

function isHex16(value: unknown): value is string {
  return typeof value === 'string' && HEX16.test(value);
}

export function checkHello(value: unknown): Checked<Hello> {
  if (!isObject(value) || !isObject(value.protocol)) return {reason: 'bad hello'};
  const {min, max} = value.protocol;
  if (!isVersion(min) || !isVersion(max) || min > max) return {reason: 'bad hello'};
  const {session, client, site} = value;
  if (!isHex16(session) || !isHex16(client) || !(site === '' || isHex16(site))) return {reason: 'bad hello'};
  return {value: {protocol: {min, max}, session, client, site: site as string}};
}

export function checkWelcome(value: unknown): Checked<Welcome> {
  if (!isObject(value) || !isVersion(value.protocol) || !isHex16(value.session) || value.session === NEW_SESSION) return {reason: 'bad welcome'};
  const site = value.site;
  if (!isObject(site) || !isHex16(site.id) || typeof site.name !== 'string' || !SITE_NAME.test(site.name)) return {reason: 'bad welcome'};
  if (site.role !== 'primary' && site.role !== 'remote') return {reason: 'bad welcome'};
  return {value: {protocol: value.protocol, session: value.session, site: {id: site.id, name: site.name, role: site.role}}};
}

function isDetail(value: unknown): value is ErrorDetail {
  return value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

export function checkErrorBody(value: unknown): Checked<ErrorBody> {
  if (!isObject(value) || typeof value.code !== 'string' || !ERROR_CODE.test(value.code) || typeof value.message !== 'string') return {reason: 'bad error body'};
  if (value.hint !== undefined && typeof value.hint !== 'string') return {reason: 'bad error body'};
  const body: ErrorBody = {code: value.code, message: value.message};
  if (value.hint !== undefined) body.hint = value.hint;
  if (value.details !== undefined) {
    if (!isObject(value.details) || !Object.values(value.details).every(isDetail)) return {reason: 'bad error body'};
    body.details = {...value.details} as Record<string, ErrorDetail>;
  }
  return {value: body};
}
