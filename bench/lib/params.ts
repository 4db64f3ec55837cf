// Command-line parameters of `npm run bench`. Every size is a flag; the defaults
// are chosen to finish in under 5 minutes on a 2-core machine.
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

export const ROW_NAMES = [
  'pair-write', 'log-write-seq', 'log-write-rand', 'pair-create', 'pair-create-sparse', 'resync',
  'restore-overwrite', 'restore-unique', 'mark-cli', 'restore-rss', 'mark-many', 'mark-list',
  'cli-start', 'restore-early',
  'nbd-write-rand', 'nbd-write-seq', 'nbd-pair-rand', 'nbd-pair-seq', 'nbd-log-rand', 'nbd-log-seq', 'nbd-read-rand',
  'nbd-mark-read-rand', 'nbd-mark-read-seq',
  'wire-ssh-pair-rand', 'wire-ssh-pair-seq', 'wire-tls-pair-rand', 'wire-tls-pair-seq',
  'wire-ssh-log-rand', 'wire-ssh-log-seq', 'wire-tls-log-rand', 'wire-tls-log-seq',
  'wire-delay-pair-rand', 'wire-pair-create',
] as const;
export type RowName = typeof ROW_NAMES[number];

export interface Params {
  /** Parent of the bench's temp directory (same file system for marklog and its baselines). */
  dir: string;
  repeat: number;
  warmup: number;
  only: Set<RowName>;
  /** MiB written per repetition in the 1 MiB sequential write rows (1, 2). */
  writeMib: number;
  /** 4 KiB writes per repetition in the random write row (3). */
  randomOps: number;
  /** Volume capacity for the random write row, MiB. */
  randomVolMib: number;
  /** Volume size of the pair create / resync rows (4, 5, 6). */
  copyMib: number;
  holePct: number;
  dirtyPct: number;
  /** Log data bytes of the overwrite-heavy restore (7), and how often each block is written. */
  overwriteLogMib: number;
  overwrites: number;
  overwriteVolMib: number;
  /** Base volume and log of unique blocks for row 8. */
  uniqueVolMib: number;
  uniqueLogMib: number;
  /** Size of each logged host write in the restore rows. */
  recordKib: number;
  markRuns: number;
  /** Marks already in the group for rows 11 and 12. */
  manyMarks: number;
  rssVolGib: number;
  rssLogMib: number;
  /** Also measure RSS at rssVolGib / rssScaleDown to show (in)dependence of volume size; 0 = off. */
  rssScaleDown: number;
  /** Child runs per volume size in row 10 (each is a fresh process; no warm-up). */
  rssRepeat: number;
  /** Volume (and nbdkit file) of the NBD rows (15-21), MiB. */
  nbdVolMib: number;
  /** MiB each 4 KiB random fio job writes or reads, rows 15, 17, 19, 21. */
  nbdRandMib: number;
  /** MiB each 1 MiB sequential fio job writes, rows 16, 18, 20. */
  nbdSeqMib: number;
  /** MiB the 1 MiB sequential read job of row 23 reads (passes over the volume). */
  nbdMarkSeqMib: number;
  /** 4 KiB host writes logged at random blocks of the mark rows' volume (22, 23); the mark is after half of them. */
  nbdMarkWrites: number;
  /** MiB each 4 KiB random fio job writes in the wire rows 24, 26, 28, 30. */
  wireRandMib: number;
  /** MiB each 1 MiB sequential fio job writes in the wire rows 25, 27, 29, 31. */
  wireSeqMib: number;
  /** Delay each way of row 32's proxy, ms. */
  wireDelayMs: number;
  /** MiB row 32's 4 KiB random fio job writes, and its queue depth. */
  wireDelayMib: number;
  wireDelayIodepth: number;
  /** Dense volume of row 33's pair create over TLS, MiB. */
  wireCopyMib: number;
  /** Multiplies every size (for a quick smoke run, e.g. 0.05). */
  scale: number;
  out: string;
  keep: boolean;
  settle: boolean;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The project root: dist/bench/lib → ../../.. */
export const ROOT = path.resolve(HERE, '..', '..', '..');

const HELP = `npm run bench -- [flags]

  --dir DIR               parent of the temp directory (default: ${os.tmpdir()})
  --repeat N              measured repetitions per figure, median reported (default 5, min 5 unless --scale < 1)
  --warmup N              unmeasured warm-up repetitions per side (default 1)
  --only A,B              rows to run, by name or number: ${ROW_NAMES.map((n, i) => `${i + 1}=${n}`).join(' ')}
  --write-mib N           MiB per repetition, rows 1-2 (default 256; --size-mib is an alias)
  --random-ops N          4 KiB writes per repetition, row 3 (default 8192)
  --random-vol-mib N      volume for rows 2-3 when larger than --write-mib (default 256)
  --copy-mib N            volume of rows 4-6 (default 1024)
  --hole-pct P            holes in the sparse volume, row 5 (default 90)
  --dirty-pct P           dirty chunks for the resync, row 6 (default 1)
  --overwrite-log-mib N   log data of the overwrite-heavy restore, row 7 (default 256)
  --overwrites N          times each block is written, row 7 (default 10)
  --overwrite-vol-mib N   volume of row 7 (default 64)
  --unique-vol-mib N      base volume of row 8 (default 512)
  --unique-log-mib N      log data of unique blocks, row 8 (default 256)
  --record-kib N          size of each logged write, rows 7, 8, 10 (default 64)
  --mark-runs N           runs of \`marklog mark\` and of \`node -e 0\`, rows 9 and 13, and of each side of row 11 (default 15)
  --many-marks N          marks already in the group, rows 11-12 (default 10000)
  --rss-vol-gib N         sparse volume, row 10 (default 8)
  --rss-log-mib N         log data, row 10 (default 256)
  --rss-scale-down N      also measure row 10 with a volume, and with a log, N times smaller (default 8; 0 = off)
  --rss-repeat N          restores (fresh child processes) per volume size in row 10 (default 3)
  --nbd-vol-mib N         volume of the NBD rows 15-23, and nbdkit's file (default 256)
  --nbd-rand-mib N        MiB per 4 KiB random fio job, rows 15, 17, 19, 21, 22 (default 64)
  --nbd-seq-mib N         MiB per 1 MiB sequential fio job, rows 16, 18, 20 (default 256; past the volume it wraps)
  --nbd-mark-seq-mib N    MiB per 1 MiB sequential read job, row 23 (default 1024: four passes over the volume)
  --nbd-mark-writes N     4 KiB writes logged at random blocks before (half) and after (half) the mark, rows 22-23 (default 65536)
  --wire-rand-mib N       MiB per 4 KiB random fio job, wire rows 24, 26, 28, 30 (default 32)
  --wire-seq-mib N        MiB per 1 MiB sequential fio job, wire rows 25, 27, 29, 31 (default 128)
  --wire-delay-ms N       delay each way of row 32's proxy (default 25)
  --wire-delay-mib N      MiB of 4 KiB random writes per fio job through the proxy, row 32 (default 2)
  --wire-delay-iodepth N  queue depth of row 32's fio job (default 32)
  --wire-copy-mib N       dense volume of the pair create over TLS, row 33 (default 1024)
  --scale F               multiply every size by F (smoke runs)
  --out FILE              JSON results (default bench/results/latest.json)
  --no-settle             do not run sync(1) before each timed repetition
  --keep                  keep the temp directory
`;

export function parseParams(argv: string[]): Params {
  const {values} = parseArgs({
    args: argv,
    strict: true,
    options: {
      help: {type: 'boolean'},
      dir: {type: 'string'},
      repeat: {type: 'string'},
      warmup: {type: 'string'},
      only: {type: 'string'},
      'write-mib': {type: 'string'},
      'size-mib': {type: 'string'},
      'random-ops': {type: 'string'},
      'random-vol-mib': {type: 'string'},
      'copy-mib': {type: 'string'},
      'hole-pct': {type: 'string'},
      'dirty-pct': {type: 'string'},
      'overwrite-log-mib': {type: 'string'},
      overwrites: {type: 'string'},
      'overwrite-vol-mib': {type: 'string'},
      'unique-vol-mib': {type: 'string'},
      'unique-log-mib': {type: 'string'},
      'record-kib': {type: 'string'},
      'mark-runs': {type: 'string'},
      'many-marks': {type: 'string'},
      'rss-vol-gib': {type: 'string'},
      'rss-log-mib': {type: 'string'},
      'rss-scale-down': {type: 'string'},
      'rss-repeat': {type: 'string'},
      'nbd-vol-mib': {type: 'string'},
      'nbd-rand-mib': {type: 'string'},
      'nbd-seq-mib': {type: 'string'},
      'nbd-mark-seq-mib': {type: 'string'},
      'nbd-mark-writes': {type: 'string'},
      'wire-rand-mib': {type: 'string'},
      'wire-seq-mib': {type: 'string'},
      'wire-delay-ms': {type: 'string'},
      'wire-delay-mib': {type: 'string'},
      'wire-delay-iodepth': {type: 'string'},
      'wire-copy-mib': {type: 'string'},
      scale: {type: 'string'},
      out: {type: 'string'},
      keep: {type: 'boolean'},
      'no-settle': {type: 'boolean'},
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const num = (name: keyof typeof values, fallback: number, min = 0): number => {
    const text = values[name];
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} ${String(text)}: expected a number ≥ ${min}`);
    return n;
  };
  const scale = num('scale', 1, 0.0001);
  const sized = (name: keyof typeof values, fallback: number, min = 1) => Math.max(min, Math.round(num(name, fallback) * scale));
  const repeat = Math.round(num('repeat', 5, 1));
  if (repeat < 5 && scale >= 1) throw new Error('--repeat must be at least 5 (the issue asks for a median of ≥ 5); use --scale for smoke runs');
  let only = new Set<RowName>(ROW_NAMES);
  if (values.only) {
    only = new Set(values.only.split(',').map(s => s.trim()).filter(Boolean).map(token => {
      const byNumber = /^\d+$/.test(token) ? ROW_NAMES[Number(token) - 1] : undefined;
      const name = byNumber ?? ROW_NAMES.find(n => n === token);
      if (!name) throw new Error(`--only: unknown row "${token}" (known: ${ROW_NAMES.join(', ')})`);
      return name;
    }));
  }
  const writeMib = values['size-mib'] !== undefined ? sized('size-mib', 256) : sized('write-mib', 256);
  return {
    dir: path.resolve(values.dir ?? os.tmpdir()),
    repeat,
    warmup: Math.round(num('warmup', 1)),
    only,
    writeMib,
    randomOps: sized('random-ops', 8192, 16),
    randomVolMib: sized('random-vol-mib', 256, 1),
    copyMib: sized('copy-mib', 1024, 16),
    holePct: num('hole-pct', 90),
    dirtyPct: num('dirty-pct', 1),
    overwriteLogMib: sized('overwrite-log-mib', 256, 2),
    overwrites: Math.round(num('overwrites', 10, 1)),
    overwriteVolMib: sized('overwrite-vol-mib', 64, 2),
    uniqueVolMib: sized('unique-vol-mib', 512, 2),
    uniqueLogMib: sized('unique-log-mib', 256, 1),
    recordKib: Math.round(num('record-kib', 64, 4)),
    markRuns: Math.max(5, Math.round(num('mark-runs', 15, 5))),
    manyMarks: sized('many-marks', 10_000, 1),
    rssVolGib: Math.max(1, Math.round(num('rss-vol-gib', 8, 1) * scale)),
    rssLogMib: sized('rss-log-mib', 256, 1),
    rssScaleDown: Math.round(num('rss-scale-down', 8)),
    rssRepeat: Math.round(num('rss-repeat', 3, 1)),
    nbdVolMib: sized('nbd-vol-mib', 256, 4),
    nbdRandMib: sized('nbd-rand-mib', 64, 1),
    nbdSeqMib: sized('nbd-seq-mib', 256, 1),
    nbdMarkSeqMib: sized('nbd-mark-seq-mib', 1024, 1),
    nbdMarkWrites: sized('nbd-mark-writes', 65_536, 2),
    wireRandMib: sized('wire-rand-mib', 32, 1),
    wireSeqMib: sized('wire-seq-mib', 128, 1),
    wireDelayMs: num('wire-delay-ms', 25),
    wireDelayMib: sized('wire-delay-mib', 2, 1),
    wireDelayIodepth: Math.round(num('wire-delay-iodepth', 32, 1)),
    wireCopyMib: sized('wire-copy-mib', 1024, 16),
    scale,
    out: path.resolve(values.out ?? path.join(ROOT, 'bench', 'results', 'latest.json')),
    keep: Boolean(values.keep),
    settle: !values['no-settle'],
  };
}
