/**
 * A raw disk image file opened for a drive (QEMU's file protocol + raw format): reads and
 * writes at byte offsets straight into/out of guest-memory views (preadv/pwritev on the
 * libuv thread pool, so the guest keeps running), fdatasync for flushes, and zeroing for
 * discard / write-zeroes (Node has no fallocate(PUNCH_HOLE); zeroes read back the same).
 */
import { closeSync, fdatasync, fstatSync, openSync, readv, writev } from 'node:fs';
import type { BlockDriver } from './block-driver';

export class BlockError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BlockError';
  }
}

/** Zeroes are written in chunks of this size. */
const ZERO_CHUNK = 1 << 20;
let zeroBuffer: Uint8Array | undefined;

export class RawImage implements BlockDriver {
  private fd: number;
  /** Size in bytes at open (the capacity the guest sees). */
  readonly size: number;

  constructor(readonly path: string, readonly readonly: boolean) {
    try {
      this.fd = openSync(path, readonly ? 'r' : 'r+');
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const why = err.code === 'ENOENT' ? 'No such file or directory' : err.code === 'EACCES' ? 'Permission denied' : err.message;
      throw new BlockError(`could not open '${path}': ${why}`);
    }
    const st = fstatSync(this.fd);
    if (!st.isFile()) {
      closeSync(this.fd);
      throw new BlockError(`'${path}' is not a regular file`);
    }
    this.size = st.size;
  }

  /** preadv: fills the views from byte `offset`; short reads past EOF give zeroes. */
  read(offset: number, bufs: Uint8Array[]): Promise<void> {
    return new Promise((resolve, reject) => {
      readv(this.fd, bufs, offset, (err, n) => {
        if (err) return reject(err);
        const total = bufs.reduce((s, b) => s + b.length, 0);
        if (n < total) {
          // Past the end of the file (a sparse tail): zero what was not read.
          let skip = n;
          for (const b of bufs) {
            if (skip >= b.length) skip -= b.length;
            else {
              b.fill(0, skip);
              skip = 0;
            }
          }
        }
        resolve();
      });
    });
  }

  /** pwritev of the views at byte `offset`. */
  write(offset: number, bufs: Uint8Array[]): Promise<void> {
    if (this.readonly) return Promise.reject(new BlockError(`'${this.path}' is read-only`));
    return new Promise((resolve, reject) => {
      writev(this.fd, bufs, offset, (err, n) => {
        if (err) return reject(err);
        const total = bufs.reduce((s, b) => s + b.length, 0);
        if (n !== total) return reject(new BlockError(`short write (${n} of ${total} bytes)`));
        resolve();
      });
    });
  }

  /** fdatasync(2): everything written so far is on stable storage. */
  flush(): Promise<void> {
    return new Promise((resolve, reject) => fdatasync(this.fd, (err) => (err ? reject(err) : resolve())));
  }

  /** Zero [offset, offset+len) (discard and write-zeroes). */
  async zero(offset: number, len: number): Promise<void> {
    zeroBuffer ??= new Uint8Array(ZERO_CHUNK);
    for (let at = offset; at < offset + len; at += ZERO_CHUNK) {
      const n = Math.min(ZERO_CHUNK, offset + len - at);
      await this.write(at, [zeroBuffer.subarray(0, n)]);
    }
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
