/**
 * `hmdrv io DEVICE`: a fio-like load generator, or (with --if/--of) a dd-like copy, run inside
 * the platform over its VFS (so it measures the VFS → driver path, not the control socket).
 */
import { Args, Flags } from '@oclif/core';
import type { CopySummary } from '../../framework/io/copy.js';
import type { IoJobParams } from '../../framework/io/jobs.js';
import { RW_MODES, type LoadResult } from '../../framework/io/loadgen.js';
import { AttachCommand } from '../lib/attach-command.js';
import { describeError } from '../lib/errors.js';
import { buildIoParams } from '../lib/io-args.js';
import { formatCopySummary, formatLoadResult, formatProgress } from '../lib/io-format.js';
import { runIoJob } from '../lib/io-session.js';
import { ProgressLine } from '../lib/progress-line.js';

const load = 'LOAD';
const copy = 'COPY (dd)';

export default class Io extends AttachCommand {
  static override args = {
    device: Args.string({ required: true, description: 'path in the platform, e.g. /dev/sda or /dev/hmecho' }),
  };
  static override description = [
    'Without --if/--of: a load generator like fio. `iodepth` requests stay in flight through the async VFS; offsets are block-aligned, random ones from a seeded PRNG (reproducible). Prints IOPS, bandwidth, and latency min/avg/max with percentiles (within 0.8 %) per direction. --verify writes a pattern derived from offset and seed, reads it back, and reports the first mismatching offset. Exits 1 on I/O errors or verify mismatches.',
    'With --if FILE: copies the host FILE into DEVICE (dd if=FILE of=DEVICE). With --of FILE: copies DEVICE into FILE. --bs, --count, --skip and --seek are in records, as dd.',
    'Progress goes to stderr (one updating line on a terminal). Ctrl-C stops the job and prints what was done; a second Ctrl-C quits at once.',
  ].join('\n\n');
  static override enableJsonFlag = true;
  static override examples = [
    '<%= config.bin %> io /dev/sda --rw randread --bs 4k --iodepth 32 --size 64m --runtime 10',
    '<%= config.bin %> io /dev/sda --rw randwrite --bs 4k --iodepth 8 --io-count 10000 --verify',
    '<%= config.bin %> io /dev/sda --rw randrw --rwmixread 70 --bs 16k --runtime 30s --json',
    '<%= config.bin %> io /dev/hmecho --rw readwrite --bs 256 --io-count 1000 --verify',
    '<%= config.bin %> io /dev/sda --if disk.img --bs 1m --conv fsync',
    '<%= config.bin %> io /dev/sda --of dump.img --bs 1m --count 64',
  ];
  static override flags = {
    rw: Flags.string({ helpGroup: load, description: 'pattern [default: read]', options: [...RW_MODES] }),
    bs: Flags.string({ helpValue: 'SIZE', description: 'block size: 512, 4k, 128k, 1m (1k = 1024) [default: 4k; copy 128k]' }),
    iodepth: Flags.integer({ helpValue: 'N', helpGroup: load, min: 1, description: 'requests in flight at once [default: 1]' }),
    size: Flags.string({ helpValue: 'SIZE', helpGroup: load, description: 'region to load, e.g. 64m [default: to the end of the device]' }),
    offset: Flags.string({ helpValue: 'SIZE', helpGroup: load, description: 'start of the region [default: 0]' }),
    runtime: Flags.string({ helpValue: 'TIME', helpGroup: load, description: 'stop after this long: 10 (seconds), 500ms, 2m' }),
    'io-count': Flags.integer({ helpValue: 'N', helpGroup: load, min: 1, description: 'stop after this many requests [default, without --runtime: one pass over the region]' }),
    rwmixread: Flags.integer({ helpValue: 'PCT', helpGroup: load, min: 0, max: 100, description: 'percent of reads for readwrite/randrw [default: 50]' }),
    seed: Flags.integer({ helpValue: 'N', helpGroup: load, min: 0, description: 'seed of the random offsets and the verify pattern' }),
    verify: Flags.boolean({ helpGroup: load, description: 'write a pattern, read it back and check it (read modes: check a region written with the same --seed)' }),
    direct: Flags.boolean({ helpGroup: load, description: 'open with O_DIRECT' }),
    fsync: Flags.integer({ helpValue: 'N', helpGroup: load, min: 1, description: 'fsync after every N writes (per in-flight slot)' }),
    'end-fsync': Flags.boolean({ helpGroup: load, description: 'fsync once at the end' }),
    'max-errors': Flags.integer({ helpValue: 'N', helpGroup: load, min: 0, description: 'stop after this many I/O errors, 0 = never [default: 1]' }),
    if: Flags.string({ helpGroup: copy, description: 'copy this host file into DEVICE', helpValue: 'FILE' }),
    of: Flags.string({ helpGroup: copy, description: 'copy DEVICE into this host file', helpValue: 'FILE' }),
    count: Flags.integer({ helpValue: 'N', helpGroup: copy, min: 0, description: 'copy at most N records' }),
    skip: Flags.integer({ helpValue: 'N', helpGroup: copy, min: 0, description: 'skip N input records' }),
    seek: Flags.integer({ helpValue: 'N', helpGroup: copy, min: 0, description: 'skip N output records' }),
    conv: Flags.string({ helpValue: 'LIST', helpGroup: copy, description: 'fsync (sync the output at the end), notrunc (keep the rest of an output file), comma-separated' }),
    blocking: Flags.boolean({ helpGroup: copy, description: 'wait for data on an empty character device instead of ending the copy' }),
    quiet: Flags.boolean({ char: 'q', description: 'no progress on stderr' }),
  };
  static override summary = 'Load-test a device (fio-like) or copy to/from it (dd-like).';

  async run(): Promise<LoadResult | CopySummary> {
    const { args, flags } = await this.parse(Io);
    let params: IoJobParams;
    try {
      params = buildIoParams(args.device, flags, process.cwd());
    } catch (e) {
      const { message, suggestions } = describeError(e);
      return this.error(message, { exit: 2, suggestions });
    }
    const line = flags.quiet ? undefined : new ProgressLine(process.stderr);
    const stop = new AbortController();
    const onSignal = () => {
      if (stop.signal.aborted) process.exit(130);
      stop.abort();
    };
    process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
    let st;
    try {
      st = await this.attach(flags.socket, (c) => runIoJob(c, params, {
        signal: stop.signal,
        onStatus: (s) => line?.update(formatProgress(params, s)),
      }));
    } finally {
      line?.done();
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    }
    if (params.mode === 'copy') {
      const s = st.result as CopySummary;
      if (!this.jsonEnabled()) for (const l of formatCopySummary(s)) this.log(l);
      if (s.stopReason === 'aborted') process.exitCode = 130;
      return s;
    }
    const r = st.result as LoadResult;
    if (!this.jsonEnabled()) for (const l of formatLoadResult(r)) this.log(l);
    if (r.stopReason === 'aborted') process.exitCode = 130;
    else if (r.errors > 0 || (r.verify && (r.verify.mismatches > 0 || r.verify.errors > 0))) process.exitCode = 1;
    return r;
  }
}
