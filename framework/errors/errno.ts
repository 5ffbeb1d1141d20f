/**
 * @module errno
 * Linux errno numbers and the messages Node's fs layer uses for them (libuv's strings),
 * so that errors from the VFS read like errors from `fs/promises`.
 */

/** Linux errno values (x86-64 / generic). EPROBE_DEFER and friends are kernel-internal. */
export const Errno = {
  EPERM: 1, ENOENT: 2, ESRCH: 3, EINTR: 4, EIO: 5, ENXIO: 6, E2BIG: 7, ENOEXEC: 8, EBADF: 9,
  ECHILD: 10, EAGAIN: 11, ENOMEM: 12, EACCES: 13, EFAULT: 14, ENOTBLK: 15, EBUSY: 16, EEXIST: 17,
  EXDEV: 18, ENODEV: 19, ENOTDIR: 20, EISDIR: 21, EINVAL: 22, ENFILE: 23, EMFILE: 24, ENOTTY: 25,
  ETXTBSY: 26, EFBIG: 27, ENOSPC: 28, ESPIPE: 29, EROFS: 30, EMLINK: 31, EPIPE: 32, EDOM: 33,
  ERANGE: 34, EDEADLK: 35, ENAMETOOLONG: 36, ENOLCK: 37, ENOSYS: 38, ENOTEMPTY: 39, ELOOP: 40,
  ENOMSG: 42, ENODATA: 61, ETIME: 62, ENOLINK: 67, EPROTO: 71, EBADMSG: 74, EOVERFLOW: 75,
  EBADFD: 77, EILSEQ: 84, EMSGSIZE: 90, EOPNOTSUPP: 95, ENOTSUP: 95, EADDRINUSE: 98, EADDRNOTAVAIL: 99,
  ENETDOWN: 100, ENETUNREACH: 101, ENOBUFS: 105, ETIMEDOUT: 110, ECONNREFUSED: 111,
  EHOSTUNREACH: 113, EALREADY: 114, EINPROGRESS: 115, ESTALE: 116, EREMOTEIO: 121,
  EDQUOT: 122, ECANCELED: 125, EOWNERDEAD: 130,
  // kernel-internal (never seen by user space on Linux)
  ERESTARTSYS: 512, EPROBE_DEFER: 517, ENOIOCTLCMD: 515, ENOTSUPP: 524,
} as const;

export type ErrnoName = keyof typeof Errno;

const MESSAGES: Partial<Record<ErrnoName, string>> = {
  EPERM: 'operation not permitted', ENOENT: 'no such file or directory', ESRCH: 'no such process',
  EINTR: 'interrupted system call', EIO: 'i/o error', ENXIO: 'no such device or address',
  E2BIG: 'argument list too long', EBADF: 'bad file descriptor', EAGAIN: 'resource temporarily unavailable',
  ENOMEM: 'not enough memory', EACCES: 'permission denied', EFAULT: 'bad address in system call argument',
  EBUSY: 'resource busy or locked', EEXIST: 'file already exists', ENODEV: 'no such device',
  ENOTDIR: 'not a directory', EISDIR: 'illegal operation on a directory', EINVAL: 'invalid argument',
  ENFILE: 'file table overflow', EMFILE: 'too many open files', ENOTTY: 'inappropriate ioctl for device',
  EFBIG: 'file too large', ENOSPC: 'no space left on device', ESPIPE: 'invalid seek',
  EROFS: 'read-only file system', EPIPE: 'broken pipe', ERANGE: 'result too large',
  EDEADLK: 'resource deadlock avoided', ENAMETOOLONG: 'name too long', ENOSYS: 'function not implemented',
  ENOTEMPTY: 'directory not empty', ELOOP: 'too many symbolic links encountered',
  ENODATA: 'no data available', ETIME: 'timer expired', EPROTO: 'protocol error',
  EOVERFLOW: 'value too large for defined data type', EBADFD: 'file descriptor in bad state',
  EMSGSIZE: 'message too long', EOPNOTSUPP: 'operation not supported on socket',
  EADDRNOTAVAIL: 'address not available', ENOBUFS: 'no buffer space available', ETIMEDOUT: 'connection timed out',
  ENETDOWN: 'network is down', ENETUNREACH: 'network is unreachable', EHOSTUNREACH: 'host is unreachable',
  ECONNREFUSED: 'connection refused', EALREADY: 'connection already in progress',
  EINPROGRESS: 'operation in progress', ESTALE: 'stale file handle', ECANCELED: 'operation canceled',
  EREMOTEIO: 'remote i/o error', ERESTARTSYS: 'restart system call', EPROBE_DEFER: 'probe deferred',
  ENOIOCTLCMD: 'no ioctl command', ENOTSUPP: 'operation not supported',
};

const BY_NUMBER = new Map<number, ErrnoName>();
for (const [name, num] of Object.entries(Errno) as [ErrnoName, number][]) {
  if (!BY_NUMBER.has(num)) BY_NUMBER.set(num, name);
}

/** Name of an errno value; accepts either sign (`-2` and `2` are both `ENOENT`). */
export function errnoName(n: number): ErrnoName | undefined {
  return BY_NUMBER.get(Math.abs(n));
}

/** libuv-style message for an errno name or number. */
export function errnoMessage(e: ErrnoName | number): string {
  const name = typeof e === 'number' ? errnoName(e) : e;
  return (name && MESSAGES[name]) ?? `unknown error ${String(e)}`;
}

/** True for the numbers a kapi function returns as an error (`-EINVAL` etc.). */
export function isErrnoResult(n: number): boolean {
  return n < 0 && n >= -4095;
}
