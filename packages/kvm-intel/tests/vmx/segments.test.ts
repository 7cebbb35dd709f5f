import { describe, expect, it } from 'vitest';
import type { KvmSegment } from '@kvmts/kvm-core';
import {
  EPT_ACCESS_READ, EPT_ACCESS_WRITE, EPT_WALK_OK, EPT_WALK_VIOLATION, EptBuilder, eptWalk, EptWalkResult, PageTablePool, Vmcs,
  VMCS_FIELDS as F, vmxCapabilities, vmxReadGuestSegment, vmxSegmentAccessRights, vmxWriteGuestSegment,
} from '@kvmts/kvm-intel';

const cs64: KvmSegment = { base: 0n, limit: 0xffffffff, selector: 0x10, type: 11, present: 1, dpl: 0, db: 0, s: 1, l: 1, g: 1, avl: 0, unusable: 0 };

describe('kvm_segment <-> VMCS guest segment', () => {
  it('packs the access rights as SDM table 25-2', () => {
    expect(vmxSegmentAccessRights(cs64)).toBe(0xa09b);
    expect(vmxSegmentAccessRights({ ...cs64, unusable: 1 })).toBe(0x10000);
  });
  it('round-trips through the VMCS, including a kernel FS base', () => {
    const v = new Vmcs({ revisionId: 0x12 });
    const fs: KvmSegment = { ...cs64, selector: 0, type: 3, l: 0, db: 1, base: 0xffff_8880_1234_5000n };
    vmxWriteGuestSegment(v, 'CS', cs64);
    vmxWriteGuestSegment(v, 'FS', fs);
    expect(v.read32(F.GUEST_CS_AR_BYTES)).toBe(0xa09b);
    expect(vmxReadGuestSegment(v, 'CS')).toEqual(cs64);
    expect(vmxReadGuestSegment(v, 'FS')).toEqual(fs);
  });
});

describe('EPT slot mapping', () => {
  it('a read-only slot faults on write', () => {
    const pool = new PageTablePool(0x1000000, 16 * 4096);
    const b = new EptBuilder(pool, () => pool.allocPage());
    b.mapSlot(0xc0000, 0x500000, 0x20000, true);
    b.mapSlot(0, 0x400000, 0x80000, false);
    const out = new EptWalkResult();
    const cfg = { eptCap: vmxCapabilities({ ept: true, vpid: true, unrestricted_guest: true }).eptCap, physAddrWidth: 46 };
    const eptp = b.eptp();
    expect(eptWalk(pool, cfg, eptp, 0, 0xc1234, EPT_ACCESS_READ, true, true, out)).toBe(EPT_WALK_OK);
    expect(out.hpa).toBe(0x501234);
    expect(eptWalk(pool, cfg, eptp, 0, 0xc1234, EPT_ACCESS_WRITE, true, true, out)).toBe(EPT_WALK_VIOLATION);
    expect(out.qualification & 0x3f).toBe(0x2 | 0x8 | 0x20);
    expect(eptWalk(pool, cfg, eptp, 0, 0x7fff0, EPT_ACCESS_WRITE, true, true, out)).toBe(EPT_WALK_OK);
    expect(out.hpa).toBe(0x47fff0);
  });
});
