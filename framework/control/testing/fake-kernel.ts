/**
 * @module control/testing/fake-kernel
 * An IKernel for tests of the control socket and the CLI, before (and independently of) the
 * real device manager: two devices (echo0 bound to "hmecho" in IC1 with /dev/echo0, uart0
 * unbound), a /sys attribute and symlink, a /proc file, registered in the kernel's own Vfs
 * (or any IVfs passed in) through the IVfs registration calls.
 *
 * @example
 * const kernel = createFakeKernel();
 * const server = await ControlServer.listen(kernel, sock);
 */
import { HmError } from '../../errors/hm-error.js';
import type { ContainerInfo, DeviceInfo, DriverInfo, IKernel } from '../../kernel-api.js';
import type { IoctlDecl, PlatformSpec } from '../../platform/types.js';
import type { IVfs } from '../../vfs/api.js';
import { Vfs } from '../../vfs/vfs.js';
import { ECHO_IOCTLS, EchoDevice } from './echo-device.js';

export interface FakeKernel extends IKernel {
  readonly readyMs: number;
  readonly echo: EchoDevice;
  shutdownCalls: number;
}

const IPC_ZERO = { calls: 0, upcalls: 0, notifications: 0, errors: 0, spinHits: 0, sleeps: 0, wakeups: 0, inflight: 0 };

export function createFakeKernel(vfs: IVfs = new Vfs()): FakeKernel {
  const echo = new EchoDevice(() => vfs.notifyPoll('/dev/echo0'));
  vfs.mkdirp('/dev');
  vfs.mknod('/dev/echo0', { major: 240, minor: 0, mode: 0o666, ops: echo });
  vfs.mkdirp('/sys/devices/platform/echo0');
  vfs.addAttribute('/sys/devices/platform/echo0/buffered', { show: () => `${echo.buffered}\n` });
  vfs.mkdirp('/sys/class/hmecho');
  vfs.symlink('../../devices/platform/echo0', '/sys/class/hmecho/echo0');
  vfs.mkdirp('/proc');
  vfs.addGeneratedFile('/proc/version', () => 'hmdrv fake kernel\n');

  const devices: DeviceInfo[] = [
    {
      name: 'echo0', compatible: ['hmdrv,echo'], reg: [{ base: 0x1000_0000, size: 0x1000 }], irqs: [5],
      state: 'bound', driver: 'hmecho', isolation: 'ic1', container: 'hmecho-0', nodes: ['/dev/echo0'],
    },
    { name: 'uart0', compatible: ['ns16550a'], reg: [{ base: 0x1000_1000, size: 0x100 }], irqs: [6], state: 'unbound', nodes: [] },
  ];
  const drivers: DriverInfo[] = [
    { name: 'hmecho', description: 'echo device', compatible: ['hmdrv,echo'], kind: 'native', isolation: 'ic1', devices: ['echo0'], ioctls: ECHO_IOCTLS },
  ];
  const containers: ContainerInfo[] = [
    { id: 'hmecho-0', driver: 'hmecho', isolation: 'ic1', state: 'running', threadId: 1, restarts: 0, devices: ['echo0'], ipc: { ...IPC_ZERO } },
  ];
  const platform: PlatformSpec = {
    name: 'fake', source: '<fake>', drivers: [], driverPaths: [], options: {},
    devices: devices.map((d, i) => ({ name: d.name, compatible: d.compatible, reg: d.reg, interrupts: d.irqs, properties: {}, where: `devices[${i}]` })),
  };
  const find = (name: string): DeviceInfo => {
    const d = devices.find((x) => x.name === name);
    if (!d) throw new HmError('ENODEV', `no device named '${name}'`, { suggestions: devices.map((x) => x.name) });
    return d;
  };

  const log = [
    { seq: 1, time: 0.001, level: 6, source: 'kernel', message: 'booting fake platform' },
    { seq: 2, time: 0.002, level: 3, source: 'ns16550 uart0', message: 'fake error' },
  ];
  const kernel: FakeKernel = {
    vfs, platform, echo, readyMs: 12, shutdownCalls: 0,
    devices: () => structuredClone(devices),
    drivers: () => structuredClone(drivers),
    containers: () => structuredClone(containers),
    dmesg: (since = 0) => log.filter((r) => r.seq > since),
    exportNbd: async () => { throw new HmError('ENOTBLK', 'the fake kernel has no block devices'); },
    nbdExports: () => [],
    waitLog: async () => undefined,
    async bind(name, driver) {
      const d = find(name);
      if (d.state === 'bound') throw new HmError('EBUSY', `${name} is already bound to ${d.driver}`, { suggestions: [`hmdrv unbind ${name}`] });
      Object.assign(d, { state: 'bound', driver: driver ?? 'ns16550' });
    },
    async unbind(name) {
      const d = find(name);
      if (d.state !== 'bound') throw new HmError('EINVAL', `${name} is not bound`);
      d.state = 'unbound';
      delete d.driver;
    },
    async ioctlsFor(path): Promise<IoctlDecl[]> {
      return (await vfs.realpath(path).catch(() => path)) === '/dev/echo0' ? ECHO_IOCTLS : [];
    },
    async shutdown() { kernel.shutdownCalls++; },
  };
  return kernel;
}
