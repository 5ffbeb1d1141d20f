/**
 * @module ops
 * Operation codes of the kernel <-> container protocol. Hot operations carry their arguments
 * in the fixed message header (a0..a3) and raw bytes; control operations carry JSON.
 *
 * Down (kernel -> container), requests unless noted:
 *   PING        a0 = value                        -> status = value (benchmarks, liveness)
 *   INIT        json {driver, params, isolation}  -> module_init result
 *   PROBE       json {binding, spec, params}      -> 0 / -errno
 *   REMOVE      a0 = binding
 *   OPEN        a0 = node, a1 = file id, a3 = flags, json cred -> 0 / -errno
 *   RELEASE     a0 = file
 *   READ        a0 = file, a1 = length, a2 = pos  -> status = n, a1 = new pos, payload = data
 *   WRITE       a0 = file, a2 = pos, payload      -> status = n, a1 = new pos
 *   IOCTL       a0 = file, a1 = cmd, a2 = int arg, a3 = 1 if payload is the user buffer
 *                                                 -> status = ret, payload = bytes to copy back
 *   POLL        a0 = file                         -> status = mask
 *   MMAP        a0 = file, a1 = length, a2 = offset -> a1 = region, a2 = offset, a3 = length
 *   LLSEEK      a0 = file, a1 = offset, a2 = pos, a3 = whence -> a1 = new pos
 *   FSYNC       a0 = file
 *   ATTR_SHOW   a0 = attr                         -> payload = text
 *   ATTR_STORE  a0 = attr, payload = text
 *   IRQ         (notify) a0 = line
 *   EXIT        module_exit, then the container stops
 *
 * Up (container -> kernel):
 *   LOG            (notify) a0 = level, a1 = binding, payload = text
 *   REGISTER_NODE  a0 = binding, a1 = node, json NodeSpec -> a1 = major, a2 = minor; for a 'net'
 *                  node payload = the interface name and a2 = its ifindex
 *   UNREGISTER_NODE a0 = node
 *   POLL_NOTIFY    (notify) a0 = node
 *   ADD_ATTR       a0 = binding, a1 = attr, json {name, mode}
 *   REMOVE_ATTR    a0 = attr
 *   REGION         a0 = region, a1 = size, a2 = fd (IC2) -> the kernel maps the region
 *   FREE_REGION    a0 = region
 *   REQUEST_IRQ    a0 = binding, a1 = line
 *   FREE_IRQ       a0 = line
 *   HEARTBEAT      (notify) the runtime is alive (watchdog)
 *   FAULT          (notify) driver code threw: payload = where + stack; the kernel restarts us
 *   EOI            (notify) a0 = line: the IRQ handler returned (level re-check)
 *   DMA_ALLOC      a0 = binding, a1 = size, a3 = dir -> a1 = bus address (IC1: the page window
 *                  arrives by postMessage; IC2: the child maps it from the physical-memory fd)
 *   DMA_FREE       a0 = binding, a1 = bus address
 *   MAP_DEVMEM     a0 = binding, a1 = region, a2 = bus address, a3 = size -> a1 = fd, a2 = offset:
 *                  the kernel's memfd of the device memory; IC1 maps it directly (same process),
 *                  IC2 through /proc/<kernel pid>/fd/<fd>
 *   MASK_IRQ       (notify) a0 = line, a1 = 1 mask / 0 unmask, at the interrupt controller
 */
export const Op = {
  PING: 1, INIT: 2, PROBE: 3, REMOVE: 4, OPEN: 5, RELEASE: 6, READ: 7, WRITE: 8, IOCTL: 9,
  POLL: 10, MMAP: 11, LLSEEK: 12, FSYNC: 13, ATTR_SHOW: 14, ATTR_STORE: 15, IRQ: 16, EXIT: 17,
  LOG: 100, REGISTER_NODE: 101, UNREGISTER_NODE: 102, POLL_NOTIFY: 103, ADD_ATTR: 104,
  REMOVE_ATTR: 105, REGION: 106, FREE_REGION: 107, REQUEST_IRQ: 108, FREE_IRQ: 109, HEARTBEAT: 110,
  FAULT: 111, EOI: 112, DMA_ALLOC: 113, DMA_FREE: 114, MAP_DEVMEM: 115, MASK_IRQ: 116,
} as const;

export type OpName = keyof typeof Op;

const NAMES = new Map<number, string>(Object.entries(Op).map(([k, v]) => [v, k]));
export function opName(op: number): string { return NAMES.get(op) ?? `op${op}`; }

const enc = new TextEncoder();
const dec = new TextDecoder();
export function jsonBytes(v: unknown): Uint8Array { return enc.encode(JSON.stringify(v)); }
export function bytesJson<T>(b: Uint8Array | null): T { return JSON.parse(b ? dec.decode(b) : 'null') as T; }
export function textBytes(s: string): Uint8Array { return enc.encode(s); }
export function bytesText(b: Uint8Array | null): string { return b ? dec.decode(b) : ''; }
