// The library: what a program may import from 'marklog'. Everything here is the same
// code the CLI runs (each command is a thin wrapper around one of these calls);
// docs/API.md shows them in use. Nothing here loads oclif or the terminal renderers.
// Importing the library plugs in the link transports, as a command does.
import './transport/transports.js';
export {Site} from './site/site.js';
export {initSite, linkSites, showSite, type SiteInitOptions, type SiteSummary, type SiteView} from './site/site-admin.js';
export {createVolume, importVolume, listVolumes, type CreatedVolume, type VolumeSummary} from './volume/volume-admin.js';
export {createPair, DEFAULT_CHUNK_SIZE, type PairCreateOptions, type PairCreateResult} from './pair/pair-create.js';
export {suspendPair, resyncPair, deletePair, type PairStateChange, type ResyncResult} from './pair/pair-control.js';
export {displayPairs, type PairView} from './pair/pair-display.js';
export type {CopyProgress} from './pair/copy.js';
export {hostWrite, hostRead, type HostWriteOptions, type HostWriteResult} from './io/host-io.js';
export {HostWriter, DEFAULT_HOLD_MS, type HostWriterOptions} from './io/host-writer.js';
export {startLogging, type LogStartOptions, type LogStartResult} from './log/log-start.js';
export {logStatus, extendLog, configureLog, type LogGroupStatus, type LogConfig} from './log/log-admin.js';
export {applyLog, type ApplyResult} from './log/apply.js';
export {issueMark, type MarkOptions, type MarkResult} from './mark/mark.js';
export {listMarks, type MarkList, type MarkListRow} from './mark/mark-list.js';
export {restoreToMark, parseTarget, type RestoreOptions, type RestoreResult, type RestoreTarget, type RestoredVolume} from './restore/restore.js';
export {takeover, type TakeoverOptions, type TakeoverResult} from './takeover/takeover.js';
export {verifySite, type VerifyOptions, type VerifyResult} from './verify/verify.js';
export type {Finding} from './verify/finding.js';
export {parseSize, parseCapacity, formatBytes} from './util/units.js';
export * from './errors.js';
export type {Tables, VolumeRow, PairRow, LogGroupRow, PairState, SiteRole} from './site/tables.js';
