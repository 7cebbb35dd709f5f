/** fw_cfg selectors, item encoding and the file directory (docs/specs/fw_cfg.rst). */
import { describe, expect, it } from 'vitest';
import { FW_CFG_FILE_DIR, FW_CFG_FILE_FIRST, FW_CFG_ID, FW_CFG_NB_CPUS, FW_CFG_RAM_SIZE, FW_CFG_SIGNATURE, FwCfg } from '../src/devices/fw-cfg';

function readItem(f: FwCfg, key: number, n: number): number[] {
  f.write(0x510, 0, Uint8Array.of(key & 0xff, key >> 8));
  const out: number[] = [];
  const d = new Uint8Array(1);
  for (let i = 0; i < n; i++) {
    f.read(0x510, 1, d);
    out.push(d[0]!);
  }
  return out;
}

describe('fw_cfg', () => {
  it('has the QEMU signature and the traditional-interface ID', () => {
    const f = new FwCfg();
    expect(String.fromCharCode(...readItem(f, FW_CFG_SIGNATURE, 4))).toBe('QEMU');
    expect(readItem(f, FW_CFG_ID, 4)).toEqual([1, 0, 0, 0]);
  });

  it('numeric items are little-endian; selecting rewinds; reads past the end give 0', () => {
    const f = new FwCfg();
    f.addU64(FW_CFG_RAM_SIZE, 128 * 1024 * 1024);
    f.addU16(FW_CFG_NB_CPUS, 4);
    expect(readItem(f, FW_CFG_RAM_SIZE, 10)).toEqual([0, 0, 0, 8, 0, 0, 0, 0, 0, 0]);
    expect(readItem(f, FW_CFG_NB_CPUS, 2)).toEqual([4, 0]);
    expect(readItem(f, FW_CFG_NB_CPUS, 1)).toEqual([4]); // re-selecting starts over
    expect(readItem(f, 0x7777, 2)).toEqual([0, 0]); // missing item
  });

  it('the file directory is big-endian, sorted by name, 64-byte entries', () => {
    const f = new FwCfg();
    f.addFile('etc/e820', new Uint8Array(40));
    f.addFile('bootorder', new Uint8Array(3));
    const dir = Uint8Array.from(readItem(f, FW_CFG_FILE_DIR, 4 + 2 * 64));
    const dv = new DataView(dir.buffer);
    expect(dv.getUint32(0, false)).toBe(2);
    const entry = (i: number) => ({
      size: dv.getUint32(4 + 64 * i, false),
      select: dv.getUint16(8 + 64 * i, false),
      name: String.fromCharCode(...dir.subarray(12 + 64 * i, 12 + 64 * i + 56)).replace(/\0+$/, ''),
    });
    expect(entry(0)).toEqual({ size: 3, select: FW_CFG_FILE_FIRST + 1, name: 'bootorder' });
    expect(entry(1)).toEqual({ size: 40, select: FW_CFG_FILE_FIRST, name: 'etc/e820' });
    expect(readItem(f, FW_CFG_FILE_FIRST + 1, 3)).toEqual([0, 0, 0]);
  });

  it('rejects duplicate and over-long file names', () => {
    const f = new FwCfg();
    f.addFile('a', new Uint8Array(1));
    expect(() => f.addFile('a', new Uint8Array(1))).toThrow(/already exists/);
    expect(() => f.addFile('x'.repeat(56), new Uint8Array(1))).toThrow(/too long/);
  });

  it('ignores writes to the data port', () => {
    const f = new FwCfg();
    f.write(0x510, 0, Uint8Array.of(FW_CFG_SIGNATURE, 0));
    f.write(0x510, 1, Uint8Array.of(0x99));
    const d = new Uint8Array(1);
    f.read(0x510, 1, d);
    expect(d[0]).toBe(0x51); // 'Q'
  });
});
