/**
 * @module linux/errno.h
 * Error numbers as Linux spells them. Kapi functions return `-EINVAL` etc., as in C.
 */
import { Errno } from '../framework/errors/errno.js';

export const {
  EPERM, ENOENT, EINTR, EIO, ENXIO, EBADF, EAGAIN, ENOMEM, EACCES, EFAULT, EBUSY, EEXIST, ENODEV,
  EINVAL, ENOTTY, ENOSPC, ESPIPE, EPIPE, ERANGE, ENOSYS, ETIMEDOUT, EOPNOTSUPP, ERESTARTSYS,
  EPROBE_DEFER, ENOIOCTLCMD, ENETDOWN, EMSGSIZE, ENOBUFS, EADDRNOTAVAIL,
} = Errno;
export const EWOULDBLOCK = Errno.EAGAIN;

/** ERR_PTR/IS_ERR/PTR_ERR: in TypeScript an error "pointer" is just a negative number. */
export const IS_ERR = (v: unknown): v is number => typeof v === 'number' && v < 0 && v >= -4095;
export const PTR_ERR = (v: number): number => v;
export const ERR_PTR = (e: number): number => e;
