// The marks a log holds, as the site holding the log reports them.
import {Journal} from '../log/journal.js';
import {findGroup} from '../log/remote-log.js';
import type {Site} from '../site/site.js';

export interface LoggedMark {
  markId: number;
  logId: number;
  time: string;
  app: string;
  logLdev: number;
  address: number;
}

export function marksInLog(site: Site, groupNumber: number): LoggedMark[] {
  const tables = site.tables();
  const journal = Journal.open(site, tables, findGroup(site, tables, groupNumber));
  return journal.marks().map(m => ({
    markId: m.markId, logId: m.logId, time: new Date(m.markTime / 1000).toISOString(), app: m.app, logLdev: m.logLdev, address: m.address,
  }));
}
