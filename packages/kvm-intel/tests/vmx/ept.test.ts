import { describe, expect, it } from 'vitest';
import {
  checkEptp, decodeEptp, decodeEptViolationQualification, EPT_ACCESS_FETCH, EPT_ACCESS_READ, EPT_ACCESS_WRITE,
  EPT_WALK_MISCONFIG, EPT_WALK_OK, EPT_WALK_VIOLATION, EptBuilder, eptWalk, EptWalkResult, PageTablePool, vmxCapabilities,
} from '@kvmts/kvm-intel';

const caps = vmxCapabilities({ ept: true, vpid: true, unrestricted_guest: true });
const cfg = { eptCap: caps.eptCap, physAddrWidth: 46 };
const GiB = 1 << 30;

function setup() {
  const pool = new PageTablePool(0x100000000, 64 * 4096); // tables above 4 GiB
  const ept = new EptBuilder(pool, () => pool.allocPage());
  return { pool, ept, out: new EptWalkResult() };
}

function walk(s: ReturnType<typeof setup>, gpa: number, access: number, ad = false, gva = true, translated = true) {
  const eptp = s.ept.eptp(6, ad);
  const lo = eptp % 2 ** 32;
  return eptWalk(s.pool, cfg, lo, (eptp - lo) / 2 ** 32, gpa, access, gva, translated, s.out);
}

describe('EPT pointer', () => {
  it('encodes and validates memory type, walk length, A/D, reserved bits', () => {
    const s = setup();
    const eptp = s.ept.eptp(6, true);
    expect(decodeEptp(eptp % 2 ** 32, Math.floor(eptp / 2 ** 32))).toEqual({ memoryType: 6, pageWalkLength: 4, adEnabled: true, pml4: s.ept.pml4 });
    expect(checkEptp(0x1000 | 0x1e, 0, cfg.eptCap, 46)).toBeUndefined();
    expect(checkEptp(0x1000 | 0x18, 0, cfg.eptCap, 46)).toBeUndefined(); // UC
    expect(checkEptp(0x1000 | 0x1c, 0, cfg.eptCap, 46)).toMatch(/memory type/);
    expect(checkEptp(0x1000 | 0x26, 0, cfg.eptCap, 46)).toMatch(/page-walk/);
    expect(checkEptp(0x1000 | 0x11e, 0, cfg.eptCap, 46)).toMatch(/reserved/);
    expect(checkEptp(0x1000 | 0x1e, 0x4000, cfg.eptCap, 46)).toMatch(/physical-address width/);
  });
});

describe('EPT walk', () => {
  it('translates 4 KiB, 2 MiB and 1 GiB pages', () => {
    const s = setup();
    s.ept.map(0x1000, 0x7000, 0x1000, 7, 6, false);
    s.ept.map(0x200000, 0x40000000, 0x200000, 3);
    s.ept.map(4 * GiB, 8 * GiB, GiB, 5);
    expect(walk(s, 0x1234, EPT_ACCESS_READ)).toBe(EPT_WALK_OK);
    expect(s.out).toMatchObject({ hpa: 0x7234, pageSize: 4096, memoryType: 6, permissions: 7 });
    expect(walk(s, 0x3fffff, EPT_ACCESS_WRITE)).toBe(EPT_WALK_OK);
    expect(s.out).toMatchObject({ hpa: 0x401fffff, pageSize: 0x200000, permissions: 3 });
    expect(walk(s, 4 * GiB + 0x12345678, EPT_ACCESS_FETCH)).toBe(EPT_WALK_OK);
    expect(s.out).toMatchObject({ hpa: 8 * GiB + 0x12345678, pageSize: GiB, permissions: 5 });
  });

  it('identity maps with large pages', () => {
    const s = setup();
    s.ept.identityMap(2 * GiB);
    expect(walk(s, 0x7fffffff, EPT_ACCESS_WRITE)).toBe(EPT_WALK_OK);
    expect(s.out.hpa).toBe(0x7fffffff);
    expect(s.out.pageSize).toBe(GiB);
  });

  it('an unmapped address is an EPT violation with no permissions', () => {
    const s = setup();
    s.ept.map(0, 0, 0x1000, 7, 6, false);
    expect(walk(s, 0x5000, EPT_ACCESS_READ)).toBe(EPT_WALK_VIOLATION);
    expect(s.out.faultLevel).toBe(1);
    expect(decodeEptViolationQualification(s.out.qualification)).toMatchObject({
      read: true, write: false, fetch: false, readable: false, writable: false, executable: false, gvaValid: true, gvaTranslated: true,
    });
    expect(walk(s, 0x80000000, EPT_ACCESS_FETCH, false, false)).toBe(EPT_WALK_VIOLATION);
    expect(s.out.qualification).toBe(0x4); // fetch, no GVA
    expect(s.out.faultLevel).toBe(3);
  });

  it('a write to a read-only page is a violation reporting the page permissions', () => {
    const s = setup();
    s.ept.map(0x2000, 0x2000, 0x1000, 5, 6, false); // R-X
    expect(walk(s, 0x2010, EPT_ACCESS_WRITE, false, true, false)).toBe(EPT_WALK_VIOLATION);
    // write (bit 1), readable (3), executable (5), GVA valid (7), paging-structure access (bit 8 clear)
    expect(s.out.qualification).toBe(0x2 | 0x8 | 0x20 | 0x80);
    expect(walk(s, 0x2010, EPT_ACCESS_READ)).toBe(EPT_WALK_OK);
  });

  it('permissions are the AND over all levels', () => {
    const s = setup();
    s.ept.map(0x3000, 0x3000, 0x1000, 7, 6, false);
    const pdpte = s.ept.entryAddress(0x3000, 3);
    s.pool.writeU32(pdpte, (s.pool.readU32(pdpte) & ~7) | 1); // PDPTE read-only
    expect(walk(s, 0x3000, EPT_ACCESS_FETCH)).toBe(EPT_WALK_VIOLATION);
    expect(s.out.qualification & 0x38).toBe(0x08);
  });

  it('misconfigurations: W without R, reserved bits, bad memory type, execute-only support', () => {
    const cases: [number, number, number][] = [
      [1, 0x5000 | 0x2 | (6 << 3), 0], // write-only
      [1, 0x5000 | 0x7 | (2 << 3), 0], // memory type 2
      [1, 0x5000 | 0x7 | (7 << 3), 0], // memory type 7
      [2, 0x200000 | 0x87 | (6 << 3) | 0x1000, 0], // 2 MiB page with bit 12 set
      [3, 0x40000000 | 0x87 | (6 << 3) | 0x200000, 0], // 1 GiB page with bit 21 set
      [1, 0x5000 | 0x7 | (6 << 3), 0x8000], // address bit 47 beyond MAXPHYADDR 46
      [2, 0x6000 | 0x7 | 0x8, 0], // non-leaf PDE with bit 3
    ];
    for (const [level, lo, hi] of cases) {
      const s = setup();
      s.ept.setRawEntry(0x40000000 + 0x5000, level, lo, hi);
      expect(walk(s, 0x40000000 + 0x5000, EPT_ACCESS_READ), `${level} ${lo.toString(16)}`).toBe(EPT_WALK_MISCONFIG);
      expect(s.out.faultLevel).toBe(level);
    }
    // PML4E bits 7:3 reserved
    const s = setup();
    s.pool.writeU32(s.ept.pml4, 0x9000 | 0x7 | 0x80);
    expect(walk(s, 0x1000, EPT_ACCESS_READ)).toBe(EPT_WALK_MISCONFIG);
    // execute-only: fine with the capability, a misconfiguration without it
    const x = setup();
    x.ept.map(0x1000, 0x1000, 0x1000, 4, 6, false);
    expect(walk(x, 0x1000, EPT_ACCESS_FETCH)).toBe(EPT_WALK_OK);
    expect(walk(x, 0x1000, EPT_ACCESS_READ)).toBe(EPT_WALK_VIOLATION);
    const eptp = x.ept.eptp();
    expect(eptWalk(x.pool, { eptCap: caps.eptCap & ~1, physAddrWidth: 46 }, eptp % 2 ** 32, 1, 0x1000, EPT_ACCESS_FETCH, true, true, x.out)).toBe(EPT_WALK_MISCONFIG);
  });

  it('sets accessed flags on every level and dirty on the leaf when A/D is enabled', () => {
    const s = setup();
    s.ept.map(0x1000, 0x1000, 0x2000, 7, 6, false);
    const pte = s.ept.entryAddress(0x1000, 1);
    const pml4e = s.ept.pml4;
    walk(s, 0x1000, EPT_ACCESS_READ, false);
    expect(s.pool.readU32(pte) & 0x300).toBe(0);
    walk(s, 0x1000, EPT_ACCESS_READ, true);
    expect(s.pool.readU32(pte) & 0x300).toBe(0x100);
    expect(s.pool.readU32(pml4e) & 0x100).toBe(0x100);
    walk(s, 0x1000, EPT_ACCESS_WRITE, true);
    expect(s.pool.readU32(pte) & 0x300).toBe(0x300);
    // with A/D, a guest paging-structure read counts as a write
    const pte2 = s.ept.entryAddress(0x2000, 1);
    expect(walk(s, 0x2000, EPT_ACCESS_READ, true, true, false)).toBe(EPT_WALK_OK);
    expect(s.pool.readU32(pte2) & 0x200).toBe(0x200);
  });
});
