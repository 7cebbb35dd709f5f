/**
 * KvmError: what an ioctl's negative return value is on Linux.
 * `errno` carries the errno name (EINVAL, EEXIST, ...), `errnoValue` its number.
 */
export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ENOSPC: 28,
  ENOTTY: 25,
  ENOSYS: 38,
  EOPNOTSUPP: 95,
} as const;

export type Errno = keyof typeof ERRNO;

export class KvmError extends Error {
  readonly errno: Errno;

  constructor(errno: Errno, message: string) {
    super(`${errno}: ${message}`);
    this.name = 'KvmError';
    this.errno = errno;
  }

  /** The errno number, as the negative ioctl return value would carry it. */
  get errnoValue(): number {
    return ERRNO[this.errno];
  }
}

export function isKvmError(e: unknown, errno?: Errno): e is KvmError {
  return e instanceof KvmError && (errno === undefined || e.errno === errno);
}
