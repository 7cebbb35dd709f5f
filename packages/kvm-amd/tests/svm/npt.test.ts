import { describe, expect, it } from 'vitest';
import {
  decodeNpfExitInfo1, NPT_ACCESS_FETCH, NPT_ACCESS_READ, NPT_ACCESS_WRITE, NPT_WALK_FAULT, NPT_WALK_OK, NptBuilder, nptWalk,
  NptWalkResult, PageTablePool,
} from '@kvmts/kvm-amd';

const cfg = { physAddrWidth: 48, nxEnabled: true, gbPages: true };
const GiB = 2 ** 30;

function setup() {
  const pool = new PageTablePool(0x200000000, 64 * 4096);
  const npt = new NptBuilder(pool, () => pool.allocPage());
  return { pool, npt, out: new NptWalkResult() };
}

const walk = (s: ReturnType<typeof setup>, gpa: number, access: number, gpt = false, c = cfg) => nptWalk(s.pool, c, s.npt.ncr3, gpa, access, gpt, s.out);

describe('nested page walk', () => {
  it('translates 4 KiB, 2 MiB and 1 GiB pages', () => {
    const s = setup();
    s.npt.map(0x1000, 0x9000, 0x1000, undefined, false);
    s.npt.map(0x400000, 0x80000000, 0x200000);
    s.npt.map(2 * GiB, 5 * GiB, GiB);
    expect(walk(s, 0x1abc, NPT_ACCESS_READ)).toBe(NPT_WALK_OK);
    expect(s.out).toMatchObject({ hpa: 0x9abc, pageSize: 4096, writable: true, noExecute: false });
    expect(walk(s, 0x5fffff, NPT_ACCESS_WRITE)).toBe(NPT_WALK_OK);
    expect(s.out.hpa).toBe(0x801fffff);
    expect(walk(s, 2 * GiB + 0x123456, NPT_ACCESS_FETCH)).toBe(NPT_WALK_OK);
    expect(s.out).toMatchObject({ hpa: 5 * GiB + 0x123456, pageSize: GiB });
  });

  it('not present: #NPF with P=0, US=1, EXITINFO1 bit 32 for the final translation', () => {
    const s = setup();
    expect(walk(s, 0x1000, NPT_ACCESS_WRITE)).toBe(NPT_WALK_FAULT);
    expect(s.out.exitInfo1Lo).toBe(0x6); // W | US
    expect(s.out.exitInfo1Hi).toBe(0x1); // bit 32
    expect(decodeNpfExitInfo1(s.out.exitInfo1Lo, s.out.exitInfo1Hi)).toMatchObject({ present: false, write: true, user: true, guestFinal: true, guestPageTable: false });
    expect(s.out.faultLevel).toBe(4);
    walk(s, 0x1000, NPT_ACCESS_READ, true);
    expect(s.out.exitInfo1Hi).toBe(0x2); // bit 33: guest page-table access
  });

  it('protection faults: write to read-only, fetch from NX, supervisor-only', () => {
    const s = setup();
    s.npt.map(0x1000, 0x1000, 0x1000, { write: false, user: true, noExecute: true }, false);
    expect(walk(s, 0x1000, NPT_ACCESS_READ)).toBe(NPT_WALK_OK);
    expect(walk(s, 0x1000, NPT_ACCESS_WRITE)).toBe(NPT_WALK_FAULT);
    expect(s.out.exitInfo1Lo).toBe(0x7); // P | W | US
    expect(walk(s, 0x1000, NPT_ACCESS_FETCH)).toBe(NPT_WALK_FAULT);
    expect(s.out.exitInfo1Lo).toBe(0x15); // P | US | ID
    s.npt.map(0x2000, 0x2000, 0x1000, { write: true, user: false, noExecute: false }, false);
    expect(walk(s, 0x2000, NPT_ACCESS_READ)).toBe(NPT_WALK_FAULT);
    expect(s.out.exitInfo1Lo).toBe(0x5);
  });

  it('reserved bits: #NPF with P=1 and RSV', () => {
    const cases: [number, number, number, typeof cfg][] = [
      [1, 0x5000 | 0x7, 0x10000, cfg], // bit 48 beyond MAXPHYADDR 48
      [1, 0x5000 | 0x7, 0x80000000, { ...cfg, nxEnabled: false }], // NX without EFER.NXE
      [2, 0x200000 | 0x87 | 0x2000, 0, cfg], // 2 MiB page with bit 13
      [3, 0x40000000 | 0x87 | 0x200000, 0, cfg], // 1 GiB page with bit 21
      [3, 0x40000000 | 0x87, 0, { ...cfg, gbPages: false }], // 1 GiB page unsupported
    ];
    for (const [level, lo, hi, c] of cases) {
      const s = setup();
      s.npt.setRawEntry(0x40000000 + 0x5000, level, lo, hi);
      expect(walk(s, 0x40000000 + 0x5000, NPT_ACCESS_READ, false, c), `${level} ${lo.toString(16)}`).toBe(NPT_WALK_FAULT);
      expect(s.out.exitInfo1Lo & 0x9, `${level}`).toBe(0x9);
      expect(s.out.faultLevel).toBe(level);
    }
    const s = setup();
    s.pool.writeU32(s.npt.ncr3, 0x9000 | 0x7 | 0x80); // PML4E PS is MBZ
    expect(walk(s, 0x1000, NPT_ACCESS_READ)).toBe(NPT_WALK_FAULT);
    expect(s.out.exitInfo1Lo & 0x8).toBe(0x8);
  });

  it('sets A on every level and D on the leaf for writes', () => {
    const s = setup();
    s.npt.map(0x1000, 0x1000, 0x1000, undefined, false);
    const pte = s.npt.entryAddress(0x1000, 1);
    walk(s, 0x1000, NPT_ACCESS_READ);
    expect(s.pool.readU32(pte) & 0x60).toBe(0x20);
    expect(s.pool.readU32(s.npt.ncr3) & 0x20).toBe(0x20);
    walk(s, 0x1000, NPT_ACCESS_WRITE);
    expect(s.pool.readU32(pte) & 0x60).toBe(0x60);
  });
});
