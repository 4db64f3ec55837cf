// Flags shared by several commands.
import {Flags} from '@oclif/core';

export const ldevFlag = (summary: string) => Flags.integer({summary, required: true, min: 0});
export const pairFlag = Flags.integer({summary: 'Pair number (see `marklog pair display`).', required: true, min: 1});
export const groupFlag = (required: boolean) => Flags.integer({summary: 'Log group number.', required, min: 1});
