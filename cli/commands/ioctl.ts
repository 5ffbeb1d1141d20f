/** `hmdrv ioctl PATH CMD [ARGS...]`: calls a (declared) ioctl and decodes its result. */
import { Args, Flags } from '@oclif/core';
import { AttachCommand } from '../lib/attach-command.js';
import { parseHex } from '../lib/bytes.js';
import { formatIoctlResult, parseArgValues, parseCmd } from '../lib/ioctl-args.js';

export default class Ioctl extends AttachCommand {
  static override args = {
    path: Args.string({ required: true, description: 'device node, e.g. /dev/hmecho' }),
    cmd: Args.string({ required: true, description: 'declared ioctl name (e.g. HMECHO_IOC_GET_COUNT) or command number (0x...)' }),
  };
  static override description = `ARGS are integers (decimal, 0x, 0b, 0o; negative after "--") packed little-endian per the ioctl's declared format, e.g. "u64,u64"; an undeclared ioctl takes one integer. --hex passes the argument buffer as raw bytes instead. Prints ret and the argument buffer after the call, decoded per the format.`;
  static override enableJsonFlag = true;
  static override examples = [
    '<%= config.bin %> ioctl /dev/hmecho HMECHO_IOC_GET_COUNT',
    '<%= config.bin %> ioctl /dev/hmecho HMECHO_IOC_SET_SIZE 8192',
    '<%= config.bin %> ioctl /dev/hmecho 0x80044501 --json',
  ];
  static override flags = {
    hex: Flags.string({ description: 'raw argument bytes in hex (instead of ARGS)', helpValue: 'DATA' }),
  };
  static override strict = false;
  static override usage = '<%= command.id %> PATH CMD [ARGS...] [--hex DATA] [--json] [--socket PATH]';
  static override summary = 'Call an ioctl on a device of the running platform.';

  async run() {
    const { args, argv, flags } = await this.parse(Ioctl);
    const values = (argv as string[]).slice(2);
    if (flags.hex !== undefined && values.length > 0) {
      this.error('give either ARGS or --hex, not both', { exit: 2 });
    }
    let params;
    try {
      params = {
        path: args.path,
        cmd: parseCmd(args.cmd),
        ...(flags.hex !== undefined ? { arg: parseHex(flags.hex).toString('base64') } : {}),
        ...(values.length > 0 ? { argValues: parseArgValues(values) } : {}),
      };
    } catch (e) {
      return this.fail(e);
    }
    const result = await this.attach(flags.socket, (c) => c.call('ioctl', params));
    this.log(formatIoctlResult(result).join('\n'));
    return result;
  }
}
