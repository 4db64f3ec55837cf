// Row 32 (issue 15, item 7): 4 KiB random PAIR writes (fio through `marklog serve`)
// with the remote over TLS through a proxy that delays every chunk 25 ms each way
// (bench/lib/delay-proxy.ts), against the pace of one write per round trip: the
// inverse of a round trip through the same proxy to the same agent, measured in
// the same repetition (sequential requests on a wire session of their own). The
// ratio is how many writes the write path keeps on the link at once; it cannot
// pass fio's queue depth (a write is answered once the R-VOL has it), so the row
// runs at --wire-delay-iodepth (32), not row 17's 8. Beside it, once per run: the
// bytes a second through the same kind of proxy (a TLS stream to the TLS sink), to
// set the writes' bytes against the link's bandwidth.
import {createPair} from '../../src/pair/pair-create.js';
import {eachStep} from '../lib/child.js';
import type {Context} from '../lib/context.js';
import {closeSites, twoSites, volume} from '../lib/fixtures.js';
import {now, runPaired, since} from '../lib/measure.js';
import {runFio, startMarklog, type FioJob, type FioResult, type NbdTarget} from '../lib/nbd.js';
import {MiB} from '../lib/params.js';
import {RemoteKit, roundTrip, sendOverTls} from '../lib/remote.js';
import {makeRow, series, type RowResult} from '../lib/result.js';

const TARGET = 20;
/** Requests, one at a time, in each repetition's round-trip measurement. */
const PINGS = 20;
/** Bytes of the bandwidth probe. */
const PROBE_BYTES = 64 * MiB;

export async function wireDelay(ctx: Context): Promise<RowResult> {
  const p = ctx.params;
  const started = now();
  const log = ctx.log('wire-delay');
  const kit = new RemoteKit(`${ctx.root}/wire-delay-kit`);
  let server: NbdTarget | undefined;
  let dir: string | undefined;
  try {
    let ports = {agent: 0, proxy: 0};
    const sites = await twoSites(ctx.root, 'wire-delay', kit.reach('tls', {delayMs: p.wireDelayMs, onPorts: found => (ports = found)}));
    dir = sites.dir;
    const capacity = p.nbdVolMib * MiB;
    const mvol = volume(sites.primary, capacity);
    const {state} = await createPair(sites.primary, {mvol, rvol: volume(sites.remote, capacity)});
    if (state !== 'PAIR') throw new Error(`the pair is ${state} after create`);
    closeSites(sites);
    server = await startMarklog(sites.primaryDir, mvol);
    const credentials = await kit.credentials();
    const job: FioJob = {rw: 'randwrite', bs: 4096, iodepth: p.wireDelayIodepth, size: capacity, ioSize: p.wireDelayMib * MiB, endFsync: true};
    const fio: FioResult[] = [];
    const rtts: number[] = [];
    let keep = false;
    const sides = await runPaired({
      warmup: p.warmup, repeat: p.repeat, settle: p.settle, log, unit: 'ops/s',
      prepare: (_side, rep) => {
        keep = rep >= p.warmup;
      },
      marklog: () => {
        const result = runFio(server!.uri, job);
        if (keep) fio.push(result);
        return result.iops;
      },
      baseline: async () => {
        const rtt = await roundTrip(ports.proxy, credentials, PINGS);
        if (keep) rtts.push(rtt);
        return 1 / rtt;
      },
    });
    // The link's bandwidth: the same proxy program and delay, in front of the TLS sink.
    const probe = await kit.proxy(await kit.sink('/dev/null'), p.wireDelayMs);
    const rtt = series('', rtts).median;
    // From the handshake's end to the answer, less the round trip of the last byte out and the answer back.
    const sent = await sendOverTls(probe, credentials, PROBE_BYTES);
    const linkMiBs = PROBE_BYTES / MiB / Math.max(sent.afterHandshake - rtt, 1e-3);
    const writesMiBs = series('', fio.map(r => r.bytesPerSecond / MiB)).median;
    log(`round trip ${(rtt * 1000).toFixed(1)} ms; link ${linkMiBs.toFixed(0)} MiB/s (${PROBE_BYTES / MiB} MiB in ${sent.afterHandshake.toFixed(3)} s after the handshake); writes ${writesMiBs.toFixed(2)} MiB/s`);
    return makeRow({
      n: 32, name: 'wire-delay-pair-rand', unit: 'ops/s',
      figure: `fio through NBD, 4 KiB random writes, queue depth ${job.iodepth}, PAIR, remote over tls:// with ${p.wireDelayMs} ms each way, against one write per round trip`,
      marklog: series(`fio --ioengine=nbd through marklog serve, PAIR, the agent behind a proxy delaying ${p.wireDelayMs} ms each way`, sides.marklog),
      baseline: series(`1 / round trip: ${PINGS} wire requests one after another through the same proxy to the same agent`, sides.baseline),
      target: {op: '>=', value: TARGET},
      detail: {
        fio: {...job, fsync: 0}, volumeBytes: capacity, delayMsEachWay: p.wireDelayMs,
        roundTripMs: rtts.map(s => s * 1000), marklogMeanLatencyMs: series('', fio.map(r => r.meanLatencyMicros / 1000)).median,
        queueDepthBound: job.iodepth,
        linkBandwidthMiBs: linkMiBs, writesMiBs, linkShare: writesMiBs / linkMiBs,
        bandwidthProbe: `${PROBE_BYTES / MiB} MiB over one TLS connection through the same proxy program to the TLS sink (/dev/null): from the handshake's end to the sink's answer, less one round trip`,
      },
    }, since(started));
  } finally {
    await eachStep([async () => server?.stop(), () => kit.stop(), () => {
      if (dir) ctx.cleanup(dir);
    }, () => ctx.cleanup(kit.dir)]);
  }
}
