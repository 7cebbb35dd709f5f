/**
 * DAT through kvm-s390: a segment table with an EDAT-1 1 MiB identity segment for the
 * code and a 4 KiB page table mapping 0x400000 -> 0x20000; a store and load through
 * the mapping, then a page-translation exception (nullifying, with the TEID).
 */
import { describe, expect, it } from 'vitest';
import { createHost, uapi } from '@kvmts/kvm-core';
import { kvmS390 } from '@kvmts/kvm-s390';

const PSW64 = 0x0000000180000000n;

describe('kvm-s390 DAT', () => {
  it('translates through segment and page tables and raises page translation', () => {
    const host = createHost();
    host.insmod(kvmS390);
    const vm = host.open('/dev/kvm').createVm();
    const ram = new Uint8Array(1 << 20);
    const dv = new DataView(ram.buffer);
    vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0, memorySize: ram.length, userspaceAddr: ram });
    // Segment table at 0x40000 (one page: TL 0). Entry 0: EDAT-1 1 MiB frame 0 (identity).
    // Entry 4 (0x400000): page table at 0x50000; PTE 0 -> 0x20000, PTE 1 invalid.
    dv.setBigUint64(0x40000 + 0 * 8, 0x400n);
    for (let i = 1; i < 512; i++) dv.setBigUint64(0x40000 + i * 8, 0x20n);
    dv.setBigUint64(0x40000 + 4 * 8, 0x50000n);
    dv.setBigUint64(0x50000 + 0 * 8, 0x20000n);
    for (let i = 1; i < 256; i++) dv.setBigUint64(0x50000 + i * 8, 0x400n);
    dv.setBigUint64(0x310, 0x00800000n); // CR0: EDAT-1
    dv.setBigUint64(0x318, 0x40000n); // CR1: segment-table ASCE
    dv.setBigUint64(0x1d0, PSW64); // program new PSW: DAT off -> DIAG 0x500 at 0x30000
    dv.setBigUint64(0x1d8, 0x30000n);
    ram.set([0x83, 0x00, 0x05, 0x00], 0x30000);
    const code = [
      0xeb, 0x00, 0x03, 0x10, 0x00, 0x2f, // lctlg %c0,%c0,0x310
      0xeb, 0x11, 0x03, 0x18, 0x00, 0x2f, // lctlg %c1,%c1,0x318
      0xad, 0x04, 0x03, 0x00, // stosm 0x300,0x04 (DAT on)
      0xa7, 0x19, 0x12, 0x34, // lghi %r1,0x1234
      0xc0, 0x2f, 0x00, 0x40, 0x00, 0x08, // llilf %r2,0x400008
      0xe3, 0x10, 0x20, 0x00, 0x00, 0x24, // stg %r1,0(%r2)
      0xe3, 0x30, 0x20, 0x00, 0x00, 0x04, // lg %r3,0(%r2)
      0xc0, 0x4f, 0x00, 0x40, 0x10, 0x00, // llilf %r4,0x401000
      0xe3, 0x50, 0x40, 0x00, 0x00, 0x04, // lg %r5,0(%r4): page translation
    ];
    ram.set(code, 0x10000);
    const v = vm.createVcpu(0);
    v.setInitialPsw({ mask: PSW64, addr: 0x10000n });
    const run = v.run();
    expect(run.exitReason).toBe(uapi.KVM_EXIT_S390_SIEIC);
    expect(run.psw.addr).toBe(0x30004n);
    expect(dv.getBigUint64(0x20008)).toBe(0x1234n); // the store went to the mapped frame
    expect(run.s390SyncRegs.gprs[3]).toBe(0x1234n);
    expect(dv.getUint16(0x8e)).toBe(0x11); // page translation
    expect(dv.getBigUint64(0xa8)).toBe(0x401000n); // TEID: page address, primary space
    expect(dv.getBigUint64(0x158)).toBe(BigInt(0x10000 + code.length - 6)); // nullified: old PSW at the lg
    expect(dv.getBigUint64(0x150) & 0x0400000000000000n).not.toBe(0n); // DAT was on
  });
});
