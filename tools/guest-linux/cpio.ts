/**
 * The "newc" (SVR4, no CRC) cpio format, which the kernel's initramfs unpacker reads
 * (init/initramfs.c; Documentation/driver-api/early-userspace/buffer-format.rst).
 *
 * Each member: a 110-byte ASCII header "070701" + 13 fields of 8 hex digits, the NUL
 * terminated name padded to a multiple of 4 (counting the header), then the data padded
 * to a multiple of 4. The archive ends with a member named "TRAILER!!!".
 */

/** st_mode file types (include/uapi/linux/stat.h). */
export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const S_IFCHR = 0o020000;

export const CPIO_NEWC_MAGIC = '070701';
export const CPIO_TRAILER = 'TRAILER!!!';

export type CpioEntry =
  | { type: 'dir'; path: string; mode?: number }
  | { type: 'file'; path: string; data: Uint8Array; mode?: number }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'chardev'; path: string; major: number; minor: number; mode?: number };

const HEADER_SIZE = 110;
const pad4 = (n: number) => (4 - (n % 4)) % 4;

function hex8(v: number, field: string): string {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`cpio: field ${field} out of range: ${v}`);
  return v.toString(16).padStart(8, '0');
}

interface Fields {
  ino: number;
  mode: number;
  nlink: number;
  mtime: number;
  filesize: number;
  rdevmajor: number;
  rdevminor: number;
  namesize: number;
}

function header(f: Fields): string {
  // c_ino c_mode c_uid c_gid c_nlink c_mtime c_filesize c_devmajor c_devminor
  // c_rdevmajor c_rdevminor c_namesize c_check
  return (
    CPIO_NEWC_MAGIC +
    hex8(f.ino, 'ino') +
    hex8(f.mode, 'mode') +
    hex8(0, 'uid') +
    hex8(0, 'gid') +
    hex8(f.nlink, 'nlink') +
    hex8(f.mtime, 'mtime') +
    hex8(f.filesize, 'filesize') +
    hex8(0, 'devmajor') +
    hex8(0, 'devminor') +
    hex8(f.rdevmajor, 'rdevmajor') +
    hex8(f.rdevminor, 'rdevminor') +
    hex8(f.namesize, 'namesize') +
    hex8(0, 'check')
  );
}

/**
 * Serialize entries into one newc archive. Paths are relative ("bin/busybox"); parents
 * must come before children (the kernel creates members in order). Owner root, one
 * fixed mtime so the archive is reproducible.
 */
export function writeCpioNewc(entries: readonly CpioEntry[], mtime = 0): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const push = (b: Uint8Array) => {
    chunks.push(b);
    total += b.length;
  };
  const enc = new TextEncoder();
  const seen = new Set<string>();
  const member = (name: string, f: Omit<Fields, 'namesize' | 'filesize'>, data: Uint8Array) => {
    const nameBytes = enc.encode(name);
    const namesize = nameBytes.length + 1;
    push(enc.encode(header({ ...f, filesize: data.length, namesize })));
    const nameBuf = new Uint8Array(namesize + pad4(HEADER_SIZE + namesize));
    nameBuf.set(nameBytes);
    push(nameBuf);
    if (data.length > 0) {
      push(data);
      const p = pad4(data.length);
      if (p) push(new Uint8Array(p));
    }
  };
  let ino = 1;
  for (const e of entries) {
    const path = e.path.replace(/^\/+/, '');
    if (path === '' || path.split('/').some((c) => c === '..' || c === '')) throw new Error(`cpio: bad path '${e.path}'`);
    if (seen.has(path)) throw new Error(`cpio: duplicate path '${path}'`);
    const parent = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
    if (parent !== '' && !seen.has(parent)) throw new Error(`cpio: '${path}' comes before its directory '${parent}'`);
    seen.add(path);
    const common = { ino: ino++, mtime };
    switch (e.type) {
      case 'dir':
        member(path, { ...common, mode: S_IFDIR | (e.mode ?? 0o755), nlink: 2, rdevmajor: 0, rdevminor: 0 }, new Uint8Array(0));
        break;
      case 'file':
        member(path, { ...common, mode: S_IFREG | (e.mode ?? 0o644), nlink: 1, rdevmajor: 0, rdevminor: 0 }, e.data);
        break;
      case 'symlink':
        member(path, { ...common, mode: S_IFLNK | 0o777, nlink: 1, rdevmajor: 0, rdevminor: 0 }, enc.encode(e.target));
        break;
      case 'chardev':
        member(path, { ...common, mode: S_IFCHR | (e.mode ?? 0o600), nlink: 1, rdevmajor: e.major, rdevminor: e.minor }, new Uint8Array(0));
        break;
    }
  }
  member(CPIO_TRAILER, { ino: 0, mode: 0, nlink: 1, mtime: 0, rdevmajor: 0, rdevminor: 0 }, new Uint8Array(0));
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}
