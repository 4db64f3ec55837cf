// Flags shared by several commands.
import {flag, type FlagSpec} from './command-spec.js';

export const siteFlag = flag.string({char: 's', summary: 'Site directory (or set MARKLOG_SITE).', env: 'MARKLOG_SITE', required: true});
export const ldevFlag = (summary: string) => flag.integer({summary, required: true, min: 0});
export const pairFlag = flag.integer({summary: 'Pair number (see `marklog pair display`).', required: true, min: 1});

export function groupFlag(required: true): FlagSpec<number>;
export function groupFlag(required: false): FlagSpec<number | undefined>;
export function groupFlag(required: boolean): FlagSpec<number | undefined> {
  return flag.integer({summary: 'Log group number.', required, min: 1});
}
