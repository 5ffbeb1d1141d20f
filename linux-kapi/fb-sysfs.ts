/**
 * @module drivers/video/fbdev/core/fbsysfs.c
 * The attributes of /sys/class/graphics/fbN, with fbsysfs.c's formats and parsing:
 * bits_per_pixel, blank, mode, modes, name, pan, rotate, state, stride, virtual_size.
 * A store goes through the same fb_set_var / fb_pan_display / fb_blank as the ioctls, under
 * info.lock, with FB_ACTIVATE_FORCE (fbsysfs's activate()).
 *
 * Differs from Linux: `modes` cannot be written (Linux takes an array of binary struct
 * fb_videomode; a text attribute cannot carry it: -EINVAL); fbcon's `console`, `cursor` and the
 * backlight's `bl_curve` are absent (there is no console).
 */
import type { DriverEnv } from '../framework/driver-port.js';
import { EINVAL } from './errno.js';
import { setDriverEnv } from './kernel.js';
import { mutex_lock, mutex_unlock } from './mutex.js';
import { FB_ACTIVATE_FORCE, fb_var_copy, type FbVarScreeninfo } from './fb-uapi.js';
import { fb_mode_string, fb_videomode_to_var } from './fb-modedb.js';
import { FBINFO_STATE_RUNNING, FBINFO_STATE_SUSPENDED, fb_blank, fb_pan_display, fb_set_var, type FbInfo } from './fb-info.js';

/** simple_strtoul(s, &last, 0): the number at the start of `s` (0x.., 0.., decimal) and the rest. */
function strtoul(s: string): [number, string] {
  const m = /^\s*(0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*)/i.exec(s);
  if (!m) return [0, s];
  const t = m[1]!;
  const v = /^0x/i.test(t) ? parseInt(t.slice(2), 16) : t.length > 1 && t[0] === '0' ? parseInt(t, 8) : parseInt(t, 10);
  return [v >>> 0, s.slice(m[0].length)];
}

/** "x,y" as show_virtual / show_pan write it; null when there is no comma. */
function pair(s: string): [number, number] | null {
  const [x, rest] = strtoul(s);
  const comma = rest.indexOf(',');
  if (comma < 0) return null;
  return [x, strtoul(rest.slice(comma + 1))[0]];
}

/** fbsysfs's activate(): fb_set_var with FB_ACTIVATE_FORCE, under the fb lock. */
async function activate(info: FbInfo, v: FbVarScreeninfo): Promise<number> {
  v.activate |= FB_ACTIVATE_FORCE;
  await mutex_lock(info.lock);
  try { return await fb_set_var(info, v); } finally { mutex_unlock(info.lock); }
}

interface Attr { name: string; mode: number; show: () => string; store?: (buf: string) => Promise<number> }

function attributes(info: FbInfo): Attr[] {
  return [
    {
      name: 'bits_per_pixel', mode: 0o644, show: () => `${info.var.bits_per_pixel}\n`,
      store: (buf) => { const v = fb_var_copy(info.var); v.bits_per_pixel = strtoul(buf)[0]; return activate(info, v); },
    },
    {
      name: 'blank', mode: 0o644, show: () => '',
      store: async (buf) => {
        await mutex_lock(info.lock);
        try { return await fb_blank(info, strtoul(buf)[0]); } finally { mutex_unlock(info.lock); }
      },
    },
    {
      name: 'mode', mode: 0o644, show: () => (info.mode ? fb_mode_string(info.mode) : ''),
      store: async (buf) => {
        for (const m of info.modelist) {
          const s = fb_mode_string(m);
          // strncmp(mstr, buf, max(count, i)): the whole line must match (with or without its newline).
          if (s !== buf && s.trimEnd() !== buf.trimEnd()) continue;
          const v = fb_var_copy(info.var);
          fb_videomode_to_var(v, m);
          const err = await activate(info, v);
          if (err) return err;
          info.mode = m;
          return 0;
        }
        return -EINVAL;
      },
    },
    {
      name: 'modes', mode: 0o644, show: () => info.modelist.map(fb_mode_string).join(''),
      store: async () => -EINVAL,
    },
    { name: 'name', mode: 0o444, show: () => `${info.fix.id}\n` },
    {
      name: 'pan', mode: 0o644, show: () => `${info.var.xoffset},${info.var.yoffset}\n`,
      store: async (buf) => {
        const p = pair(buf);
        if (!p) return -EINVAL;
        const v = fb_var_copy(info.var);
        [v.xoffset, v.yoffset] = p;
        await mutex_lock(info.lock);
        try { return await fb_pan_display(info, v); } finally { mutex_unlock(info.lock); }
      },
    },
    {
      name: 'rotate', mode: 0o644, show: () => `${info.var.rotate}\n`,
      store: (buf) => { const v = fb_var_copy(info.var); v.rotate = strtoul(buf)[0]; return activate(info, v); },
    },
    {
      name: 'state', mode: 0o644, show: () => `${info.state}\n`,
      store: async (buf) => {
        const s = strtoul(buf)[0];
        if (s > 1) return -EINVAL;
        info.state = s === 0 ? FBINFO_STATE_RUNNING : FBINFO_STATE_SUSPENDED;
        return 0;
      },
    },
    { name: 'stride', mode: 0o444, show: () => `${info.fix.line_length}\n` },
    { name: 'virtual_size', mode: 0o644, show: () => `${info.var.xres_virtual},${info.var.yres_virtual}\n`,
      store: (buf) => {
        const p = pair(buf);
        if (!p) return Promise.resolve(-EINVAL);
        const v = fb_var_copy(info.var);
        [v.xres_virtual, v.yres_virtual] = p;
        return activate(info, v);
      },
    },
  ];
}

/** Adds the attributes in `dir` (the class device's directory); returns their ids. */
export async function fb_add_sysfs(info: FbInfo, env: DriverEnv, binding: number, dir: string): Promise<number[]> {
  const ids: number[] = [];
  for (const a of attributes(info)) {
    const store = a.store;
    ids.push(await env.addAttribute(binding, {
      name: a.name, mode: a.mode, dir,
      show: () => { setDriverEnv(env); return a.show(); },
      ...(store ? { store: (v: string) => { setDriverEnv(env); return store(v); } } : {}),
    }));
  }
  return ids;
}
