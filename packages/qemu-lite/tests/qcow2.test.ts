/**
 * qcow2 images made by Debian's qemu-img (qemu-utils): reads of allocated, unallocated,
 * zero and compressed clusters, writes that allocate clusters and L2 tables, and the
 * result checked by qemu-img itself (check: no errors or leaks; convert: the bytes).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isQcow2, Qcow2Image } from '@kvmts/qemu-lite';

const haveQemuImg = existsSync('/usr/bin/qemu-img') && existsSync('/usr/bin/qemu-io');
const dir = mkdtempSync(join(tmpdir(), 'qcow2-'));
const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function toRaw(img: string): Uint8Array {
  const out = join(dir, `out-${Math.random().toString(36).slice(2)}.raw`);
  sh('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', img, out]);
  return new Uint8Array(readFileSync(out));
}

describe.skipIf(!haveQemuImg)('qcow2 (needs qemu-utils)', () => {
  it('reads allocated, unallocated and zero clusters as qemu-img wrote them', async () => {
    const img = join(dir, 'a.qcow2');
    sh('qemu-img', ['create', '-q', '-f', 'qcow2', img, '4M']);
    sh('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x5a 65536 70000', '-c', 'write -z 196608 65536', '-c', 'write -P 0x33 3145728 512', img]);
    expect(isQcow2(img)).toBe(true);
    const q = new Qcow2Image(img, true);
    expect(q.size).toBe(4 * 2 ** 20);
    const buf = new Uint8Array(4 * 2 ** 20);
    await q.read(0, [buf.subarray(0, 1000), buf.subarray(1000)]);
    expect(Buffer.compare(buf, toRaw(img))).toBe(0); // (Buffer.compare: toEqual on MiBs is slow)
    expect(buf[65536]).toBe(0x5a);
    expect(buf[3145728]).toBe(0x33);
    q.close();
  });

  it('reads deflate-compressed clusters (qemu-img convert -c)', async () => {
    const raw = join(dir, 'c.raw');
    const data = new Uint8Array(2 ** 20);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + (i >> 9)) & 0xff;
    writeFileSync(raw, data);
    const img = join(dir, 'c.qcow2');
    sh('qemu-img', ['convert', '-c', '-f', 'raw', '-O', 'qcow2', raw, img]);
    const q = new Qcow2Image(img, true);
    const buf = new Uint8Array(data.length);
    await q.read(0, [buf]);
    expect(Buffer.compare(buf, data)).toBe(0);
    q.close();
  });

  it('writes allocate clusters and L2 tables with correct refcounts: qemu-img check is clean and convert gives the bytes', async () => {
    const img = join(dir, 'w.qcow2');
    sh('qemu-img', ['create', '-q', '-f', 'qcow2', img, '1G']);
    sh('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x11 0 4096', img]);
    const q = new Qcow2Image(img, false);
    const a = new Uint8Array(1000).fill(0xab);
    const b = new Uint8Array(200000).fill(0xcd); // spans four 64 KiB clusters
    await q.write(2048, [a]); // inside the allocated first cluster
    await q.write(600 * 2 ** 20 + 100, [b.subarray(0, 50000), b.subarray(50000)]); // a new L2 table (past 512 MiB)
    await q.flush();
    q.close();
    expect(() => sh('qemu-img', ['check', '-q', img])).not.toThrow();
    const q2 = new Qcow2Image(img, true);
    const back = new Uint8Array(200000);
    await q2.read(600 * 2 ** 20 + 100, [back]);
    expect(Buffer.compare(back, b)).toBe(0);
    const head = new Uint8Array(8192);
    await q2.read(0, [head]);
    expect(head[0]).toBe(0x11);
    expect(head[2048]).toBe(0xab);
    expect(head[3048]).toBe(0x11);
    expect(head[5000]).toBe(0);
    q2.close();
    const out = JSON.parse(sh('qemu-img', ['map', '--output=json', img])) as { start: number; length: number; data: boolean }[];
    expect(out.some((m) => m.data && m.start <= 600 * 2 ** 20 && m.start + m.length >= 600 * 2 ** 20 + 200100)).toBe(true);
  });

  it('refuses what it cannot do safely: backing files, a read-only write', async () => {
    const base = join(dir, 'base.qcow2');
    sh('qemu-img', ['create', '-q', '-f', 'qcow2', base, '1M']);
    const top = join(dir, 'top.qcow2');
    sh('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', base, '-F', 'qcow2', top]);
    expect(() => new Qcow2Image(top, true)).toThrow(/backing files are not supported/);
    const q = new Qcow2Image(base, true);
    await expect(q.write(0, [new Uint8Array(512)])).rejects.toThrow(/read-only/);
    q.close();
  });
});
