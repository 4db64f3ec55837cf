// Temporary two-site setups and the small vocabulary the flow tests share.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type {ExecutionContext} from 'ava';
import {sha256File as sha256} from '../../src/util/file-hash.js';

export {sha256};
import {cli, cliJson} from './cli.js';

export function tempDir(t: ExecutionContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'marklog-test-'));
  t.teardown(() => fs.rmSync(dir, {recursive: true, force: true}));
  return dir;
}

export interface TwoSites {
  root: string;
  primary: string;
  remote: string;
}

/** A primary and a remote site, linked, in a fresh temp directory (through the CLI). */
export function twoSites(t: ExecutionContext): TwoSites {
  const root = tempDir(t);
  const primary = path.join(root, 'primary');
  const remote = path.join(root, 'remote');
  for (const [dir, role] of [[primary, 'primary'], [remote, 'remote']]) {
    const result = cli(['site', 'init', dir, '--role', role]);
    if (result.code !== 0) throw new Error(result.stderr);
  }
  cliJson(['site', 'link', '--site', primary, '--remote', remote]);
  return {root, primary, remote};
}

/** twoSites and a third site the remote is linked to: a cascade's far end. */
export function threeSites(t: ExecutionContext): TwoSites & {third: string} {
  const sites = twoSites(t);
  const third = path.join(sites.root, 'third');
  const result = cli(['site', 'init', third, '--role', 'remote']);
  if (result.code !== 0) throw new Error(result.stderr);
  cliJson(['site', 'link', '--site', sites.remote, '--remote', third]);
  return {...sites, third};
}

export function createVolume(site: string, size: string, extra: string[] = []): number {
  return cliJson<{ldev: number}>(['volume', 'create', '--site', site, '--size', size, ...extra]).ldev;
}

export function imagePath(site: string, ldev: number): string {
  return path.join(site, 'volumes', `ldev-${String(ldev).padStart(4, '0')}.img`);
}


/** Every file under a directory with its size, mode and hash: to prove a command changed nothing. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (at: string) => {
    for (const entry of fs.readdirSync(at, {withFileTypes: true})) {
      const full = path.join(at, entry.name);
      if (entry.isDirectory()) walk(full);
      else {
        const stat = fs.statSync(full);
        out[path.relative(dir, full)] = `${stat.size}:${(stat.mode & 0o777).toString(8)}:${sha256(full)}`;
      }
    }
  };
  walk(dir);
  return out;
}

/** Writes through the CLI. */
export function writeAt(site: string, ldev: number, offset: number, data: Buffer): void {
  cliJson(['write', '--site', site, '--vol', String(ldev), '--offset', String(offset)], {input: data});
}

export function randomBytes(length: number): Buffer {
  return crypto.randomBytes(length);
}
