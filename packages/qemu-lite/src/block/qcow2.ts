/**
 * qcow2 images (QEMU docs/interop/qcow2.txt), versions 2 and 3, as Debian's qemu-img
 * makes them: the big-endian header, the two-level cluster map (L1 -> L2 -> data), zero
 * clusters (v3), deflate-compressed clusters (read; a write copies them out), and
 * allocation on write with the refcounts kept right (so `qemu-img check` stays clean).
 * A write over a compressed cluster copies it to a new cluster without dropping the old
 * one's refcount (qemu-img check then reports a leaked cluster, not corruption).
 * Not supported (refused at open): backing files, encryption, external data files,
 * extended L2 entries, non-zlib compression, snapshots being written, images marked dirty
 * or corrupt. Requests are serialized: metadata updates never interleave.
 */
import { closeSync, fdatasync, fstatSync, openSync, read as fsRead, readSync, write as fsWrite } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { BlockError } from './raw-image';
import type { BlockDriver } from './block-driver';

export const QCOW2_MAGIC = 0x514649fb;
const L1E_OFFSET_MASK = 0x00fffffffffffe00n;
const QCOW_OFLAG_COPIED = 1n << 63n;
const QCOW_OFLAG_COMPRESSED = 1n << 62n;
const QCOW_OFLAG_ZERO = 1n;
const INCOMPAT_DIRTY = 1n;
const INCOMPAT_CORRUPT = 2n;

function ioPromise<T>(fn: (cb: (err: NodeJS.ErrnoException | null, v: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));
}

/** True when the file starts with the qcow2 magic (format probing). */
export function isQcow2(path: string): boolean {
  let fd = -1;
  try {
    fd = openSync(path, 'r');
    const b = Buffer.alloc(4);
    return readSync(fd, b, 0, 4, 0) === 4 && b.readUInt32BE(0) === QCOW2_MAGIC;
  } catch {
    return false;
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

export class Qcow2Image implements BlockDriver {
  private fd: number;
  readonly size: number;
  readonly clusterBits: number;
  readonly clusterSize: number;
  private readonly l1: bigint[];
  private readonly l1Offset: number;
  private readonly refcountTableOffset: number;
  private readonly refcountTable: bigint[];
  private readonly refcountBits: number;
  private readonly l2Entries: number;
  /** Where the next cluster is allocated (end of file, cluster aligned). */
  private fileEnd: number;
  /** Serializes requests (metadata stays consistent). */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly l2Cache = new Map<number, BigUint64Array>();

  constructor(readonly path: string, readonly readonly: boolean) {
    try {
      this.fd = openSync(path, readonly ? 'r' : 'r+');
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new BlockError(`could not open '${path}': ${err.code === 'ENOENT' ? 'No such file or directory' : err.message}`);
    }
    const fail = (why: string): never => {
      closeSync(this.fd);
      throw new BlockError(`'${path}': ${why}`);
    };
    const h = Buffer.alloc(112);
    readSync(this.fd, h, 0, h.length, 0);
    if (h.readUInt32BE(0) !== QCOW2_MAGIC) fail('not a qcow2 image');
    const version = h.readUInt32BE(4);
    if (version !== 2 && version !== 3) fail(`qcow2 version ${version} is not supported`);
    if (h.readBigUInt64BE(8) !== 0n) fail('qcow2 backing files are not supported');
    this.clusterBits = h.readUInt32BE(20);
    if (this.clusterBits < 9 || this.clusterBits > 21) fail(`cluster_bits ${this.clusterBits} is out of range`);
    this.clusterSize = 2 ** this.clusterBits;
    this.size = Number(h.readBigUInt64BE(24));
    if (h.readUInt32BE(32) !== 0) fail('encrypted qcow2 images are not supported');
    const l1Size = h.readUInt32BE(36);
    this.l1Offset = Number(h.readBigUInt64BE(40));
    this.refcountTableOffset = Number(h.readBigUInt64BE(48));
    const rtClusters = h.readUInt32BE(56);
    this.refcountBits = 16;
    if (version === 3) {
      const incompat = h.readBigUInt64BE(72);
      if (incompat & INCOMPAT_CORRUPT) fail('the image is marked corrupt (qemu-img check -r all)');
      if (incompat & INCOMPAT_DIRTY) fail('the image is marked dirty (lazy refcounts; qemu-img check -r all)');
      if (incompat & ~(INCOMPAT_DIRTY | INCOMPAT_CORRUPT)) fail(`unsupported incompatible features 0x${incompat.toString(16)}`);
      this.refcountBits = 2 ** h.readUInt32BE(96);
      if (this.refcountBits !== 16) fail(`refcount width ${this.refcountBits} is not supported (only 16)`);
    }
    this.l2Entries = this.clusterSize / 8;
    const l1 = Buffer.alloc(l1Size * 8);
    readSync(this.fd, l1, 0, l1.length, this.l1Offset);
    this.l1 = [];
    for (let i = 0; i < l1Size; i++) this.l1.push(l1.readBigUInt64BE(8 * i));
    const rt = Buffer.alloc(rtClusters * this.clusterSize);
    readSync(this.fd, rt, 0, rt.length, this.refcountTableOffset);
    this.refcountTable = [];
    for (let i = 0; i < rt.length / 8; i++) this.refcountTable.push(rt.readBigUInt64BE(8 * i));
    this.fileEnd = Math.ceil(fstatSync(this.fd).size / this.clusterSize) * this.clusterSize;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn, fn);
    this.queue = p.catch(() => {});
    return p;
  }

  private async pread(buf: Uint8Array, pos: number): Promise<void> {
    let done = 0;
    while (done < buf.length) {
      const n = await ioPromise<number>((cb) => fsRead(this.fd, buf, done, buf.length - done, pos + done, cb));
      if (n === 0) {
        buf.fill(0, done);
        return;
      }
      done += n;
    }
  }

  private async pwrite(buf: Uint8Array, pos: number): Promise<void> {
    let done = 0;
    while (done < buf.length) done += await ioPromise<number>((cb) => fsWrite(this.fd, buf, done, buf.length - done, pos + done, cb));
  }

  private async l2Table(offset: number): Promise<BigUint64Array> {
    let t = this.l2Cache.get(offset);
    if (t === undefined) {
      const b = new Uint8Array(this.clusterSize);
      await this.pread(b, offset);
      t = new BigUint64Array(this.l2Entries);
      const dv = new DataView(b.buffer);
      for (let i = 0; i < this.l2Entries; i++) t[i] = dv.getBigUint64(8 * i);
      this.l2Cache.set(offset, t);
    }
    return t;
  }

  /** Reads guest bytes [off, off+len) of one cluster into `out`. */
  private async readCluster(vcluster: number, inCluster: number, out: Uint8Array): Promise<void> {
    const l1i = Math.floor(vcluster / this.l2Entries);
    const l1e = this.l1[l1i] ?? 0n;
    const l2off = Number(l1e & L1E_OFFSET_MASK);
    if (l2off === 0) return void out.fill(0);
    const e = (await this.l2Table(l2off))[vcluster % this.l2Entries]!;
    if (e & QCOW_OFLAG_COMPRESSED) {
      const data = await this.decompress(e);
      out.set(data.subarray(inCluster, inCluster + out.length));
      return;
    }
    const host = Number(e & L1E_OFFSET_MASK);
    if (host === 0 || e & QCOW_OFLAG_ZERO) return void out.fill(0);
    await this.pread(out, host + inCluster);
  }

  private async decompress(e: bigint): Promise<Uint8Array> {
    const x = 62n - BigInt(this.clusterBits - 8);
    const offset = Number(e & ((1n << x) - 1n));
    const sectors = Number((e >> x) & ((1n << (62n - x)) - 1n)) + 1;
    const len = sectors * 512 - (offset & 511);
    const buf = new Uint8Array(len);
    await this.pread(buf, offset);
    try {
      const out = inflateRawSync(buf, { finishFlush: 2 /* Z_SYNC_FLUSH */ });
      const c = new Uint8Array(this.clusterSize);
      c.set(out.subarray(0, this.clusterSize));
      return c;
    } catch (err) {
      throw new BlockError(`'${this.path}': bad compressed cluster at 0x${offset.toString(16)}: ${(err as Error).message}`);
    }
  }

  private forEachCluster(offset: number, bufs: Uint8Array[], fn: (vcluster: number, inCluster: number, part: Uint8Array) => Promise<void>): Promise<void> {
    const jobs: [number, number, Uint8Array][] = [];
    let pos = offset;
    for (const b of bufs) {
      let o = 0;
      while (o < b.length) {
        const inCluster = pos % this.clusterSize;
        const n = Math.min(this.clusterSize - inCluster, b.length - o);
        jobs.push([Math.floor(pos / this.clusterSize), inCluster, b.subarray(o, o + n)]);
        o += n;
        pos += n;
      }
    }
    return jobs.reduce((p, [c, i, part]) => p.then(() => fn(c, i, part)), Promise.resolve());
  }

  read(offset: number, bufs: Uint8Array[]): Promise<void> {
    return this.serial(() => this.forEachCluster(offset, bufs, (c, i, part) => this.readCluster(c, i, part)));
  }

  write(offset: number, bufs: Uint8Array[]): Promise<void> {
    if (this.readonly) return Promise.reject(new BlockError(`'${this.path}' is read-only`));
    return this.serial(() => this.forEachCluster(offset, bufs, (c, i, part) => this.writeCluster(c, i, part)));
  }

  /** A fresh cluster at the end of the file, counted in the refcounts. */
  private async allocCluster(): Promise<number> {
    const at = this.fileEnd;
    this.fileEnd += this.clusterSize;
    await this.pwrite(new Uint8Array(this.clusterSize), at);
    await this.setRefcount(at, 1);
    return at;
  }

  private async setRefcount(hostOffset: number, value: number): Promise<void> {
    const cluster = Math.floor(hostOffset / this.clusterSize);
    const perBlock = this.clusterSize / (this.refcountBits / 8);
    const rti = Math.floor(cluster / perBlock);
    if (rti >= this.refcountTable.length) throw new BlockError(`'${this.path}': the refcount table is full (image too large for qemu-lite's qcow2 writer)`);
    let block = Number(this.refcountTable[rti]! & L1E_OFFSET_MASK);
    if (block === 0) {
      // A new refcount block at the end; it describes itself when it falls in its own range.
      block = this.fileEnd;
      this.fileEnd += this.clusterSize;
      await this.pwrite(new Uint8Array(this.clusterSize), block);
      this.refcountTable[rti] = BigInt(block);
      const e = Buffer.alloc(8);
      e.writeBigUInt64BE(BigInt(block));
      await this.pwrite(e, this.refcountTableOffset + 8 * rti);
      if (Math.floor(Math.floor(block / this.clusterSize) / perBlock) !== rti) throw new BlockError(`'${this.path}': refcount block allocation outside its own range is not supported`);
      await this.setRefcount(block, 1);
    }
    const v = Buffer.alloc(2);
    v.writeUInt16BE(value);
    await this.pwrite(v, block + 2 * (cluster % perBlock));
  }

  private async writeCluster(vcluster: number, inCluster: number, part: Uint8Array): Promise<void> {
    if (vcluster * this.clusterSize >= this.size) throw new BlockError('write past the end of the image');
    const l1i = Math.floor(vcluster / this.l2Entries);
    if (l1i >= this.l1.length) throw new BlockError(`'${this.path}': L1 table too small`);
    let l2off = Number(this.l1[l1i]! & L1E_OFFSET_MASK);
    if (l2off === 0) {
      l2off = await this.allocCluster();
      this.l1[l1i] = BigInt(l2off) | QCOW_OFLAG_COPIED;
      const e = Buffer.alloc(8);
      e.writeBigUInt64BE(this.l1[l1i]!);
      await this.pwrite(e, this.l1Offset + 8 * l1i);
      this.l2Cache.set(l2off, new BigUint64Array(this.l2Entries));
    } else if (!(this.l1[l1i]! & QCOW_OFLAG_COPIED)) {
      throw new BlockError(`'${this.path}': shared L2 tables (internal snapshots) cannot be written`);
    }
    const l2 = await this.l2Table(l2off);
    const l2i = vcluster % this.l2Entries;
    const e = l2[l2i]!;
    const host = Number(e & L1E_OFFSET_MASK);
    const compressed = (e & QCOW_OFLAG_COMPRESSED) !== 0n;
    if (!compressed && host !== 0 && !(e & QCOW_OFLAG_COPIED)) throw new BlockError(`'${this.path}': shared clusters (internal snapshots) cannot be written`);
    if (compressed || host === 0 || e & QCOW_OFLAG_ZERO) {
      // Allocate, filling the rest of the cluster with what the guest saw there before.
      const old = new Uint8Array(this.clusterSize);
      if (part.length < this.clusterSize) await this.readCluster(vcluster, 0, old);
      const fresh = await this.allocCluster();
      old.set(part, inCluster);
      await this.pwrite(old, fresh);
      l2[l2i] = BigInt(fresh) | QCOW_OFLAG_COPIED;
      const b = Buffer.alloc(8);
      b.writeBigUInt64BE(l2[l2i]!);
      await this.pwrite(b, l2off + 8 * l2i);
      return;
    }
    await this.pwrite(part, host + inCluster);
  }

  flush(): Promise<void> {
    return this.serial(() => ioPromise<void>((cb) => fdatasync(this.fd, (err) => cb(err, undefined))));
  }

  async zero(offset: number, len: number): Promise<void> {
    const z = new Uint8Array(Math.min(len, 1 << 20));
    for (let at = offset; at < offset + len; at += z.length) await this.write(at, [z.subarray(0, Math.min(z.length, offset + len - at))]);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
