import { describe, expect, it } from 'vitest';
import type { KvmSegment } from '@kvmts/kvm-core';
import {
  NPT_ACCESS_WRITE, NPT_WALK_FAULT, NPT_WALK_OK, NptBuilder, nptWalk, NptWalkResult, PageTablePool, svmReadSegment,
  svmSegmentAttrib, svmWriteSegment, Vmcb, VMCB_SAVE as SAVE,
} from '@kvmts/kvm-amd';

const cs64: KvmSegment = { base: 0n, limit: 0xffffffff, selector: 0x10, type: 11, present: 1, dpl: 0, db: 0, s: 1, l: 1, g: 1, avl: 0, unusable: 0 };

describe('kvm_segment <-> VMCB segment', () => {
  it('packs the 12-bit attrib (descriptor bits 47:40, 55:52)', () => {
    expect(svmSegmentAttrib(cs64)).toBe(0xa9b);
    expect(svmSegmentAttrib({ ...cs64, unusable: 1 })).toBe(0);
  });
  it('round-trips; a non-present segment reads back unusable', () => {
    const v = new Vmcb();
    svmWriteSegment(v, SAVE.CS, cs64);
    expect(v.u16(SAVE.CS + 2)).toBe(0xa9b);
    expect(svmReadSegment(v, SAVE.CS)).toEqual(cs64);
    svmWriteSegment(v, SAVE.GS, { ...cs64, base: 0xffff_8880_0000_0000n, unusable: 1 });
    expect(svmReadSegment(v, SAVE.GS)).toMatchObject({ unusable: 1, present: 0, base: 0xffff_8880_0000_0000n });
  });
});

describe('NPT slot mapping', () => {
  it('a read-only slot faults on write with P|W|US', () => {
    const pool = new PageTablePool(0x1000000, 16 * 4096);
    const b = new NptBuilder(pool, () => pool.allocPage());
    b.mapSlot(0xc0000, 0x500000, 0x20000, true);
    const out = new NptWalkResult();
    const cfg = { physAddrWidth: 48, nxEnabled: true, gbPages: true };
    expect(nptWalk(pool, cfg, b.ncr3, 0xc0010, NPT_ACCESS_WRITE, false, out)).toBe(NPT_WALK_FAULT);
    expect(out.exitInfo1Lo).toBe(0x7);
    b.mapSlot(0, 0x400000, 0x1000, false);
    expect(nptWalk(pool, cfg, b.ncr3, 0x10, NPT_ACCESS_WRITE, false, out)).toBe(NPT_WALK_OK);
    expect(out.hpa).toBe(0x400010);
  });
});
