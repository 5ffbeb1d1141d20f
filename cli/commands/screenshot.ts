/** `hmdrv screenshot PATH FILE`: what a framebuffer device shows, saved as a PNG. */
import { Args, Flags } from '@oclif/core';
import { writeFile } from 'node:fs/promises';
import { AttachCommand } from '../lib/attach-command.js';

export default class Screenshot extends AttachCommand {
  static override args = {
    path: Args.string({ required: true, description: 'framebuffer device, e.g. /dev/fb0' }),
    file: Args.string({ required: true, description: 'PNG file to write' }),
  };
  static override description = `--source scanout (the default) asks the display model for what is on screen: the frame latched at the last vblank, at the latched pan offset; it fails while the display shows nothing (blanked). --source fb reads the framebuffer memory through the device, as an application would (FBIOGET_VSCREENINFO, FBIOGET_FSCREENINFO, then the visible rectangle at the current pan offset). Right after a pan the two differ until the next vblank.`;
  static override enableJsonFlag = true;
  static override examples = [
    '<%= config.bin %> screenshot /dev/fb0 screen.png',
    '<%= config.bin %> screenshot /dev/fb0 back.png --source fb',
  ];
  static override flags = {
    source: Flags.string({ description: 'what to capture', options: ['scanout', 'fb'], default: 'scanout' }),
  };
  static override summary = 'Save what a framebuffer device shows as a PNG.';

  async run() {
    const { args, flags } = await this.parse(Screenshot);
    const source = flags.source as 'scanout' | 'fb';
    const r = await this.attach(flags.socket, (c) => c.call('screenshot', { path: args.path, source }));
    const png = Buffer.from(r.png, 'base64');
    try {
      await writeFile(args.file, png);
    } catch (e) {
      return this.fail(e);
    }
    const at = r.xoffset !== undefined ? ` at ${r.xoffset},${r.yoffset}, ${r.bpp} bpp` : '';
    this.log(`${args.file}: ${r.width}x${r.height} PNG, ${png.length} bytes (${r.source}${at})`);
    return { file: args.file, source: r.source, width: r.width, height: r.height, bytes: png.length, xoffset: r.xoffset, yoffset: r.yoffset, bpp: r.bpp };
  }
}
