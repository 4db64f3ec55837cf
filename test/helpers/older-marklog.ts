// States that only an older marklog could leave on disk, made by editing the tables
// as it did, so a test can show what this one makes of them.
import fs from 'node:fs';
import path from 'node:path';

/** Reads a site's tables.json, lets `change` edit it, writes it back. */
export function editTables(site: string, change: (tables: any) => void): void {
  const file = path.join(site, 'tables.json');
  const tables = JSON.parse(fs.readFileSync(file, 'utf8'));
  change(tables);
  fs.writeFileSync(file, JSON.stringify(tables));
}

/** What `pair delete` did before it checked log groups: the pair gone, its R-VOL released and left in its group. */
export function deleteAsOlderMarklogDid(primary: string, remote: string, pair: number, rvol: number): void {
  editTables(remote, tables => {
    const row = tables.volumes.find((v: any) => v.ldev === rvol);
    Object.assign(row, {reserve: 'none', pathDefined: true, rvolOf: null});
  });
  editTables(primary, tables => {
    const row = tables.pairs.find((p: any) => p.pair === pair);
    tables.pairs = tables.pairs.filter((p: any) => p.pair !== pair);
    const mvol = tables.volumes.find((v: any) => v.ldev === row.mvol);
    mvol.pairs = mvol.pairs.filter((p: number) => p !== pair);
    fs.rmSync(path.join(primary, row.bitmap));
  });
}
