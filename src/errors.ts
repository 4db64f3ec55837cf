// Every failure marklog reports is one of these classes. The exit code comes from
// the class's category (EXIT_CODES), never from the message text, so scripts can
// branch on `$?` and on `error.code` in --json output. docs/ERRORS.md lists them.

export const EXIT_CODES = {
  internal: 1,
  usage: 2,
  notFound: 3,
  conflict: 4,
  lock: 5,
  remote: 6,
  logFull: 7,
  corruption: 8,
  /** `marklog verify` ran and found problems (not an error of the command itself). */
  findings: 9,
  io: 10,
} as const;

export type ErrorCategory = keyof typeof EXIT_CODES;

export abstract class MarklogError extends Error {
  abstract readonly code: string;
  abstract readonly category: ErrorCategory;
  /** What the operator can do next, shown after the cause. */
  hint?: string;

  constructor(message: string, hint?: string) {
    super(message);
    this.name = new.target.name;
    this.hint = hint;
  }

  get exitCode(): number {
    return EXIT_CODES[this.category];
  }
}

export class InvalidArgumentError extends MarklogError {
  readonly code = 'INVALID_ARGUMENT';
  readonly category = 'usage';
}

export class SiteNotFoundError extends MarklogError {
  readonly code = 'SITE_NOT_FOUND';
  readonly category = 'notFound';
  constructor(dir: string, why = 'no marklog site there') {
    super(`site ${JSON.stringify(dir)}: ${why}`, 'create one with `marklog site init DIR --role primary|remote`');
  }
}

export class SiteExistsError extends MarklogError {
  readonly code = 'SITE_EXISTS';
  readonly category = 'conflict';
  constructor(dir: string) {
    super(`site ${JSON.stringify(dir)} already exists`);
  }
}

export class WrongRoleError extends MarklogError {
  readonly code = 'WRONG_ROLE';
  readonly category = 'conflict';
}

export class NotLinkedError extends MarklogError {
  readonly code = 'NOT_LINKED';
  readonly category = 'conflict';
  constructor(siteName: string) {
    super(`site ${siteName} has no remote site linked`, 'link one with `marklog site link --site PRIMARY --remote REMOTE`');
  }
}

export class VolumeNotFoundError extends MarklogError {
  readonly code = 'VOLUME_NOT_FOUND';
  readonly category = 'notFound';
  constructor(siteName: string, ldev: number) {
    super(`site ${siteName} has no volume with LDEV ${ldev}`, 'see `marklog volume list`');
  }
}

export class PairNotFoundError extends MarklogError {
  readonly code = 'PAIR_NOT_FOUND';
  readonly category = 'notFound';
  constructor(siteName: string, pair: number) {
    super(`site ${siteName} has no pair ${pair}`, 'see `marklog pair display`');
  }
}

export class VolumeInUseError extends MarklogError {
  readonly code = 'VOLUME_IN_USE';
  readonly category = 'conflict';
}

export class CapacityMismatchError extends MarklogError {
  readonly code = 'CAPACITY_MISMATCH';
  readonly category = 'conflict';
}

export class PairStateError extends MarklogError {
  readonly code = 'WRONG_PAIR_STATE';
  readonly category = 'conflict';
}

/** A pair whose R-VOL is the base of a log group's log: deleting it would let that base change unseen. */
export class PairInLogGroupError extends MarklogError {
  readonly code = 'PAIR_IN_LOG_GROUP';
  readonly category = 'conflict';
}

export class OutOfRangeError extends MarklogError {
  readonly code = 'OUT_OF_RANGE';
  readonly category = 'usage';
}

/** The data to write ended before the length the command was given (or the file had when it began). */
export class InputShortError extends MarklogError {
  readonly code = 'INPUT_SHORT';
  readonly category = 'usage';
}

export class LockTimeoutError extends MarklogError {
  readonly code = 'LOCK_HELD';
  readonly category = 'lock';
  constructor(path: string, waitedMs: number) {
    super(`another marklog command holds ${JSON.stringify(path)} (waited ${waitedMs} ms)`, 'retry, or raise MARKLOG_LOCK_TIMEOUT_MS');
  }
}

export class RemoteUnreachableError extends MarklogError {
  readonly code = 'REMOTE_UNREACHABLE';
  readonly category = 'remote';
}

export class CorruptTablesError extends MarklogError {
  readonly code = 'CORRUPT_TABLES';
  readonly category = 'corruption';
}

export class CorruptBitmapError extends MarklogError {
  readonly code = 'CORRUPT_BITMAP';
  readonly category = 'corruption';
}

export class VolumeIoError extends MarklogError {
  readonly code = 'IO_ERROR';
  readonly category = 'io';
}

/**
 * A management file (tables, host mark registry, pair bitmap) could not be
 * replaced: the file system refused the temporary or its rename. The old file is
 * intact and the temporary is gone, so the command can simply be run again.
 */
export class FileNotSavedError extends MarklogError {
  readonly code = 'FILE_NOT_SAVED';
  readonly category = 'io';
  constructor(readonly file: string, cause: unknown) {
    const errno = (cause as NodeJS.ErrnoException)?.code ?? 'error';
    // Node's text after "EFBIG: " is the errno's description ("file too large, write").
    const why = (cause as Error)?.message?.replace(/^[A-Z0-9_]+: /, '').replace(/, \w+( .*)?$/, '') ?? String(cause);
    super(`could not save ${JSON.stringify(file)}: ${errno} (${why}); that file is unchanged`,
      errno === 'ENOSPC' || errno === 'EFBIG' || errno === 'EDQUOT' ? 'free space on that file system (or raise its size limit), then run the command again' : 'run the command again once the cause is fixed');
  }
}

export class LogGroupNotFoundError extends MarklogError {
  readonly code = 'GROUP_NOT_FOUND';
  readonly category = 'notFound';
  constructor(siteName: string, group: number) {
    super(`site ${siteName} has no log group ${group}`, 'see `marklog log status`');
  }
}

export class LogModeError extends MarklogError {
  readonly code = 'WRONG_LOG_MODE';
  readonly category = 'conflict';
}

export class PoolEmptyError extends MarklogError {
  readonly code = 'POOL_EMPTY';
  readonly category = 'conflict';
}

export class LogFullError extends MarklogError {
  readonly code = 'LOG_FULL';
  readonly category = 'logFull';
}

export class MarkNotFoundError extends MarklogError {
  readonly code = 'MARK_NOT_FOUND';
  readonly category = 'notFound';
}

export class CorruptLogError extends MarklogError {
  readonly code = 'CORRUPT_LOG';
  readonly category = 'corruption';
}

export class BaseMismatchError extends MarklogError {
  readonly code = 'BASE_MISMATCH';
  readonly category = 'conflict';
}

export class TargetError extends MarklogError {
  readonly code = 'BAD_TARGET';
  readonly category = 'conflict';
}

export class TakenOverError extends MarklogError {
  readonly code = 'TAKEN_OVER';
  readonly category = 'conflict';
}

/** A takeover recorded its intent and did not finish: the group is neither logging nor taken over. */
export class TakeoverUnfinishedError extends MarklogError {
  readonly code = 'TAKEOVER_UNFINISHED';
  readonly category = 'conflict';
}

export class LogGapError extends MarklogError {
  readonly code = 'LOG_GAP';
  readonly category = 'logFull';
}

/** A restore or apply to a mark placed after a write the log never received. */
export class MarkAfterGapError extends MarklogError {
  readonly code = 'MARK_AFTER_GAP';
  readonly category = 'conflict';
}

export class MarkIdReusedError extends MarklogError {
  readonly code = 'MARK_ID_REUSED';
  readonly category = 'conflict';
  constructor(message: string, readonly nextFree: number) {
    super(message, 'the host mark registry is behind the log (restored or deleted); marklog moves its counter forward');
  }
}

/**
 * A log group has spent its last mark ID: the next one could not be recorded in the
 * host mark registry (docs/FORMAT.md §6.3) or held by a mark record (§4.4).
 */
export class MarkIdsExhaustedError extends MarklogError {
  readonly code = 'MARK_IDS_EXHAUSTED';
  readonly category = 'conflict';
}

/** `marklog serve` asked to listen beyond loopback in plain text: without TLS, anyone reaching it could read and write. */
export class PlaintextListenError extends MarklogError {
  readonly code = 'TLS_REQUIRED';
  readonly category = 'usage';
}

/** Some of --tls-cert, --tls-key and --tls-ca, not all three: mutual TLS needs each of them. */
export class TlsFlagsError extends MarklogError {
  readonly code = 'TLS_FLAGS_INCOMPLETE';
  readonly category = 'usage';
}

/** A certificate, key or CA file that cannot be read: missing, not permitted, a directory. */
export class TlsFileError extends MarklogError {
  readonly code = 'TLS_FILE_UNREADABLE';
  readonly category = 'io';
}

/** Files that were read but do not make credentials: not PEM, a key that is not the certificate's, a certificate out of date. */
export class TlsCredentialsError extends MarklogError {
  readonly code = 'TLS_BAD_CREDENTIALS';
  readonly category = 'usage';
}

/** `marklog agent --listen` without --tls-cert, --tls-key and --tls-ca: the agent never listens in plain text. */
export class AgentPlaintextError extends MarklogError {
  readonly code = 'AGENT_TLS_REQUIRED';
  readonly category = 'usage';
}

/** `marklog agent` with --tls-* files or --json but no --listen: on standard input and output there is no TLS and no readiness line. */
export class AgentStdioFlagError extends MarklogError {
  readonly code = 'AGENT_NOT_LISTENING';
  readonly category = 'usage';
}

/** `marklog serve --socket PATH` where another server already answers. */
export class SocketInUseError extends MarklogError {
  readonly code = 'SOCKET_IN_USE';
  readonly category = 'conflict';
}

/** `marklog serve --socket PATH` where something other than a socket exists: it is never removed. */
export class NotASocketError extends MarklogError {
  readonly code = 'NOT_A_SOCKET';
  readonly category = 'conflict';
}

// The wire protocol to a remote agent (docs/WIRE.md). A stream cannot be trusted past
// a frame that fails its checks, so each of these ends the connection it came from.

/** A frame failed its own checks: magic, a checksum, a field its type does not allow, a body that is not the JSON its type needs. */
export class WireCorruptError extends MarklogError {
  readonly code = 'WIRE_CORRUPT';
  readonly category = 'remote';
  /** One of the fixed reasons of WIRE.md §3.5, and where the frame began in its stream. */
  constructor(readonly reason: string, readonly streamOffset: number, detail?: string) {
    super(`wire frame at byte ${streamOffset} of the connection: ${reason}${detail ? ` (${detail})` : ''}`);
  }
}

/** A frame whose JSON or binary part is longer than WIRE.md §3.4 allows: refused before room is made for it. */
export class WireTooLargeError extends MarklogError {
  readonly code = 'WIRE_TOO_LARGE';
  readonly category = 'remote';
  constructor(readonly part: string, readonly length: number, readonly limit: number) {
    super(`a wire frame's ${part} of ${length} bytes is over its limit of ${limit}`, 'send bulk data in several requests');
  }
}

/** A frame of a layout version this side does not read, or a hello whose protocol range shares no version with the agent's. */
export class WireVersionError extends MarklogError {
  readonly code = 'WIRE_VERSION';
  readonly category = 'remote';
}

/** A well-formed frame the conversation does not allow there: the wrong direction, a request before the welcome, an id out of sequence. */
export class WireProtocolError extends MarklogError {
  readonly code = 'WIRE_PROTOCOL';
  readonly category = 'remote';
}

/** A request for a method code the agent has no method for: it runs an older marklog. */
export class WireUnknownMethodError extends MarklogError {
  readonly code = 'WIRE_UNKNOWN_METHOD';
  readonly category = 'remote';
  constructor(readonly method: number) {
    super(`the agent has no method with code ${method}`, 'run the same marklog version at both sites');
  }
}

/** The agent failed with a code this side has no class for: a bug there (INTERNAL), or a code newer than this marklog. */
export class RemoteInternalError extends MarklogError {
  readonly code = 'REMOTE_INTERNAL';
  readonly category = 'internal';
  constructor(readonly remoteCode: string, message: string, hint?: string) {
    super(`the remote site failed (${remoteCode}): ${message}`, hint);
  }
}
