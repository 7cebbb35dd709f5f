/**
 * qemu-lite's SCLP (s390 machine): READ SCP INFO, WRITE EVENT MASK and WRITE EVENT DATA
 * (ASCII console and line-mode messages) on SCCBs as the guest lays them out.
 */
import { describe, expect, it } from 'vitest';
import { Sclp, loadS390Image } from '@kvmts/qemu-lite';

function sccb(len: number) {
  const b = new Uint8Array(len);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, len);
  return { b, dv };
}

describe('the s390 SCLP', () => {
  it('answers READ SCP INFO with the memory size and CPU entries', () => {
    const s = new Sclp({ memoryBytes: 64 << 20, cpus: 2, output: () => {} });
    const { b, dv } = sccb(4096);
    expect(s.serviceCall(0x00020001, b)).toBe(0);
    expect(dv.getUint16(6)).toBe(0x0010);
    expect(dv.getUint16(8)).toBe(64); // rnmax
    expect(dv.getUint8(10)).toBe(1); // rnsize (MiB)
    expect(dv.getUint16(16)).toBe(2); // entries_cpu
    expect(b[dv.getUint16(18) + 16]).toBe(1); // second CPU's address
    const small = sccb(16);
    s.serviceCall(0x00020001, small.b);
    expect(small.dv.getUint16(6)).toBe(0x0300); // insufficient SCCB length
  });

  it('registers event masks and prints ASCII and line-mode console events', () => {
    let out = '';
    const s = new Sclp({ memoryBytes: 1 << 20, cpus: 1, output: (x) => { out += new TextDecoder().decode(x); } });
    const wem = sccb(12 + 16);
    wem.dv.setUint16(10, 4);
    wem.dv.setUint32(12, 0x40);
    wem.dv.setUint32(16, 0x40000040);
    s.serviceCall(0x00780005, wem.b);
    expect(wem.dv.getUint16(6)).toBe(0x0010);
    expect(wem.dv.getUint32(24) & 0x40).toBe(0x40); // the SCLP receives ASCII console data
    const text = [0x68, 0x69, 0x0a];
    const wed = sccb(8 + 6 + text.length);
    wed.dv.setUint16(8, 6 + text.length);
    wed.b[10] = 0x1a;
    wed.b.set(text, 14);
    s.serviceCall(0x00760005, wed.b);
    expect(out).toBe('hi\n');
    expect(wed.b[11]! & 0x80).toBe(0x80); // buffer accepted
    // Line-mode: MDB header (12) + MTO (10 + EBCDIC "OK")
    const mdb = sccb(8 + 6 + 12 + 12);
    mdb.dv.setUint16(8, 6 + 12 + 12);
    mdb.b[10] = 0x02;
    mdb.dv.setUint16(14, 24);
    mdb.dv.setUint16(26, 12);
    mdb.dv.setUint16(28, 0x0004);
    mdb.b.set([0xd6, 0xd2], 36);
    s.serviceCall(0x00760005, mdb.b);
    expect(out).toBe('hi\nOK\n');
    const bad = sccb(8);
    s.serviceCall(0x12345678, bad.b);
    expect(bad.dv.getUint16(6)).toBe(0x01f0);
  });

  it('loads a raw image with its IPL PSW address at byte 4', () => {
    const img = new Uint8Array(0x20);
    new DataView(img.buffer).setUint32(4, 0x80010000);
    const ram = new Uint8Array(1 << 16);
    expect(loadS390Image(img, ram).entry).toBe(0x10000n);
  });
});
