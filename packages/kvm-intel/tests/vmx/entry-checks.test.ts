import { describe, expect, it } from 'vitest';
import {
  ENTRY_FAIL_NMI, ENTRY_FAIL_PDPTE, ENTRY_FAIL_VMCS_LINK_PTR, EXIT_REASON, hardwareEntryFailureReason, loadEntryMsrs,
  VMCS_FIELDS as F, vmEntryChecks, vmxCapabilities, vmxControls as C, VMXERR, type Vmcs,
} from '@kvmts/kvm-intel';
import { caps, validVmcs, type GuestMode } from './guest-vmcs';

const modes: GuestMode[] = ['real-unrestricted', 'protected', 'long'];

function expectGuestFail(v: Vmcs, qualification = 0, c = caps()) {
  const r = vmEntryChecks(v, c);
  expect(r.kind, JSON.stringify(r)).toBe('entry-failure');
  if (r.kind === 'entry-failure') {
    expect(r.exitReason).toBe(EXIT_REASON.INVALID_STATE);
    expect(r.qualification).toBe(qualification);
  }
  return r;
}

function expectVmfail(v: Vmcs, error: number, c = caps()) {
  const r = vmEntryChecks(v, c);
  expect(r.kind, JSON.stringify(r)).toBe('vmfail');
  if (r.kind === 'vmfail') expect(r.error).toBe(error);
  return r;
}

describe('VM-entry checks pass on valid VMCSes', () => {
  for (const m of modes) {
    it(`${m} guest`, () => {
      expect(vmEntryChecks(validVmcs(m), caps())).toEqual({ kind: 'ok' });
    });
  }
});

describe('VM-entry control checks (error 7)', () => {
  it('a control bit outside allowed-1', () => {
    const v = validVmcs('protected');
    v.write32(F.CPU_BASED_VM_EXEC_CONTROL, v.read32(F.CPU_BASED_VM_EXEC_CONTROL) | C.CPU_BASED_MONITOR_TRAP_FLAG);
    expectVmfail(v, VMXERR.ENTRY_INVALID_CONTROL_FIELD);
  });
  it('a default1 bit cleared', () => {
    const v = validVmcs('protected');
    v.write32(F.PIN_BASED_VM_EXEC_CONTROL, v.read32(F.PIN_BASED_VM_EXEC_CONTROL) & ~0x2);
    expectVmfail(v, 7);
  });
  it('unrestricted guest without EPT, and with the module param off', () => {
    const v = validVmcs('real-unrestricted');
    v.write32(F.SECONDARY_VM_EXEC_CONTROL, C.SECONDARY_EXEC_UNRESTRICTED_GUEST);
    expect(vmEntryChecks(v, caps())).toMatchObject({ kind: 'vmfail', error: 7, reason: 'unrestricted guest without enable EPT' });
    const noUg = vmxCapabilities({ ept: true, vpid: true, unrestricted_guest: false });
    expectVmfail(validVmcs('real-unrestricted'), 7, noUg);
    expect(vmEntryChecks(validVmcs('long', noUg), noUg).kind).toBe('ok');
  });
  it('bad EPTP, VPID 0, misaligned bitmaps, CR3 target count', () => {
    let v = validVmcs('long');
    v.writeNumber(F.EPT_POINTER, 0x20000 + 5 + (3 << 3));
    expectVmfail(v, 7);
    v = validVmcs('long');
    v.writeNumber(F.EPT_POINTER, 0x20000 + 6 + (2 << 3));
    expectVmfail(v, 7);
    v = validVmcs('long');
    v.write32(F.VIRTUAL_PROCESSOR_ID, 0);
    expectVmfail(v, 7);
    v = validVmcs('long');
    v.writeNumber(F.IO_BITMAP_B, 0x11008);
    expectVmfail(v, 7);
    v = validVmcs('long');
    v.write32(F.CR3_TARGET_COUNT, 5);
    expectVmfail(v, 7);
  });
  it('NMI-window exiting needs virtual NMIs', () => {
    const v = validVmcs('long');
    v.write32(F.PIN_BASED_VM_EXEC_CONTROL, caps().truePinBased.allowed0 | C.PIN_BASED_NMI_EXITING);
    v.write32(F.CPU_BASED_VM_EXEC_CONTROL, v.read32(F.CPU_BASED_VM_EXEC_CONTROL) | C.CPU_BASED_NMI_WINDOW_EXITING);
    expectVmfail(v, 7);
  });
  it('event injection validity', () => {
    const bad: [number, number, number][] = [
      [0x80000100 | 32, 0, 0], // type 1 reserved
      [0x80000200 | 3, 0, 0], // NMI with vector 3
      [0x80000300 | 32, 0, 0], // hw exception vector > 31
      [0x80000300 | 13, 0, 0], // #GP without error code in protected mode
      [0x80000b00 | 6, 0, 0], // #UD with error code
      [0x80000b00 | 13, 0x10000, 0], // error code bits 31:16
      [0x80000400 | 0x80, 0, 0], // software interrupt with length 0
      [0x80000400 | 0x80, 0, 16], // length 16
    ];
    for (const [info, ec, len] of bad) {
      const v = validVmcs('protected');
      v.write32(F.VM_ENTRY_INTR_INFO_FIELD, info);
      v.write32(F.VM_ENTRY_EXCEPTION_ERROR_CODE, ec);
      v.write32(F.VM_ENTRY_INSTRUCTION_LEN, len);
      expectVmfail(v, 7);
    }
    const v = validVmcs('protected');
    v.write32(F.VM_ENTRY_INTR_INFO_FIELD, 0x80000b00 | 13);
    v.write32(F.VM_ENTRY_EXCEPTION_ERROR_CODE, 0x18);
    expect(vmEntryChecks(v, caps()).kind).toBe('ok');
    // real mode (unrestricted): no error code for #GP
    const r = validVmcs('real-unrestricted');
    r.write32(F.VM_ENTRY_INTR_INFO_FIELD, 0x80000300 | 13);
    expect(vmEntryChecks(r, caps()).kind).toBe('ok');
    r.write32(F.VM_ENTRY_INTR_INFO_FIELD, 0x80000b00 | 13);
    expectVmfail(r, 7);
  });
});

describe('host-state checks (error 8)', () => {
  const cases: [string, (v: Vmcs) => void][] = [
    ['HOST_CR0 without PE', (v) => v.writeNumber(F.HOST_CR0, 0x80050032)],
    ['HOST_CR4 without VMXE', (v) => v.writeNumber(F.HOST_CR4, 0x20)],
    ['HOST_CS_SELECTOR 0', (v) => v.write32(F.HOST_CS_SELECTOR, 0)],
    ['HOST_SS_SELECTOR with RPL', (v) => v.write32(F.HOST_SS_SELECTOR, 0x1b)],
    ['HOST_TR_SELECTOR 0', (v) => v.write32(F.HOST_TR_SELECTOR, 0)],
    ['non-canonical HOST_RIP', (v) => v.write64(F.HOST_RIP, 0, 0x00008000)],
    ['non-canonical HOST_GS_BASE', (v) => v.write64(F.HOST_GS_BASE, 0, 0x12345678)],
    ['64-bit host without host address-space size', (v) => v.write32(F.VM_EXIT_CONTROLS, v.read32(F.VM_EXIT_CONTROLS) & ~C.VM_EXIT_HOST_ADDR_SPACE_SIZE)],
    ['HOST_IA32_EFER.LMA clear', (v) => v.write64(F.HOST_IA32_EFER, 0x101, 0)],
  ];
  for (const [name, breakIt] of cases) {
    it(name, () => {
      const v = validVmcs('long');
      breakIt(v);
      expectVmfail(v, VMXERR.ENTRY_INVALID_HOST_STATE_FIELD);
    });
  }
});

describe('guest-state checks (exit reason 33)', () => {
  const cases: [string, GuestMode, (v: Vmcs) => void][] = [
    ['CR0.PE clear without unrestricted guest', 'protected', (v) => v.writeNumber(F.GUEST_CR0, 0x00000030)],
    ['CR0.PG set with PE clear even if unrestricted', 'real-unrestricted', (v) => v.writeNumber(F.GUEST_CR0, 0x80000030)],
    ['CR0.NE clear (FIXED0)', 'long', (v) => v.writeNumber(F.GUEST_CR0, 0x80000011)],
    ['CR0[63:32] set', 'long', (v) => v.write64(F.GUEST_CR0, 0x80000031, 1)],
    ['CR4.VMXE clear', 'protected', (v) => v.writeNumber(F.GUEST_CR4, 0x10)],
    ['CR4 bit outside FIXED1 (LA57)', 'long', (v) => v.writeNumber(F.GUEST_CR4, 0x3020)],
    ['IA-32e mode without CR4.PAE', 'long', (v) => v.writeNumber(F.GUEST_CR4, 0x2000)],
    ['EFER.LMA differs from IA-32e mode control', 'long', (v) => v.write64(F.GUEST_IA32_EFER, 0x100, 0)],
    ['CS with L and D in IA-32e mode', 'long', (v) => v.write32(F.GUEST_CS_AR_BYTES, 0xe09b)],
    ['CS type 3 without unrestricted guest', 'protected', (v) => v.write32(F.GUEST_CS_AR_BYTES, 0xc093)],
    ['CS not present', 'protected', (v) => v.write32(F.GUEST_CS_AR_BYTES, 0xc01b)],
    ['CS limit/G inconsistent', 'protected', (v) => v.write32(F.GUEST_CS_LIMIT, 0xffff0)],
    ['SS.RPL != CS.RPL', 'protected', (v) => v.write32(F.GUEST_SS_SELECTOR, 0x13)],
    ['SS type code', 'protected', (v) => v.write32(F.GUEST_SS_AR_BYTES, 0xc09b)],
    ['DS not accessed', 'protected', (v) => v.write32(F.GUEST_DS_AR_BYTES, 0xc092)],
    ['DS reserved AR bits', 'protected', (v) => v.write32(F.GUEST_DS_AR_BYTES, 0xc193)],
    ['TR type 3 in IA-32e mode', 'long', (v) => v.write32(F.GUEST_TR_AR_BYTES, 0x83)],
    ['TR unusable', 'protected', (v) => v.write32(F.GUEST_TR_AR_BYTES, 0x1008b)],
    ['TR with TI set', 'protected', (v) => v.write32(F.GUEST_TR_SELECTOR, 0x1c)],
    ['LDTR usable with wrong type', 'protected', (v) => v.write32(F.GUEST_LDTR_AR_BYTES, 0x83)],
    ['GDTR limit above 16 bits', 'protected', (v) => v.write32(F.GUEST_GDTR_LIMIT, 0x10000)],
    ['RIP[63:32] outside 64-bit mode', 'protected', (v) => v.write64(F.GUEST_RIP, 0, 1)],
    ['non-canonical RIP in 64-bit mode', 'long', (v) => v.write64(F.GUEST_RIP, 0, 0x00008000)],
    ['RFLAGS bit 1 clear', 'protected', (v) => v.writeNumber(F.GUEST_RFLAGS, 0)],
    ['RFLAGS reserved bit 3', 'protected', (v) => v.writeNumber(F.GUEST_RFLAGS, 0xa)],
    ['RFLAGS.VM in long mode', 'long', (v) => v.writeNumber(F.GUEST_RFLAGS, 0x20002)],
    ['activity state shutdown unsupported', 'protected', (v) => v.write32(F.GUEST_ACTIVITY_STATE, 2)],
    ['STI blocking with IF clear', 'protected', (v) => v.write32(F.GUEST_INTERRUPTIBILITY_INFO, 1)],
    ['STI and MOV-SS blocking', 'protected', (v) => { v.writeNumber(F.GUEST_RFLAGS, 0x202); v.write32(F.GUEST_INTERRUPTIBILITY_INFO, 3); }],
    ['external interrupt injected with IF clear', 'protected', (v) => v.write32(F.VM_ENTRY_INTR_INFO_FIELD, 0x80000020)],
    ['pending debug reserved bit', 'protected', (v) => v.writeNumber(F.GUEST_PENDING_DBG_EXCEPTIONS, 0x10)],
    ['SS DPL != 0 in real mode', 'real-unrestricted', (v) => v.write32(F.GUEST_SS_AR_BYTES, 0xf3)],
  ];
  for (const [name, mode, breakIt] of cases) {
    it(`${mode}: ${name}`, () => {
      const v = validVmcs(mode);
      breakIt(v);
      expectGuestFail(v);
    });
  }

  it('HLT activity passes with SS.DPL 0 and fails when injecting #GP', () => {
    const v = validVmcs('protected');
    v.write32(F.GUEST_ACTIVITY_STATE, 1);
    expect(vmEntryChecks(v, caps()).kind).toBe('ok');
    v.write32(F.VM_ENTRY_INTR_INFO_FIELD, 0x80000b0d);
    expectGuestFail(v);
  });

  it('an invalid VMCS link pointer fails with qualification 4', () => {
    const v = validVmcs('long');
    v.writeNumber(F.VMCS_LINK_POINTER, 0x5000);
    expectGuestFail(v, ENTRY_FAIL_VMCS_LINK_PTR);
  });

  it('NMI injection under STI blocking fails with qualification 3', () => {
    const v = validVmcs('protected');
    v.writeNumber(F.GUEST_RFLAGS, 0x202);
    v.write32(F.GUEST_INTERRUPTIBILITY_INFO, 1);
    v.write32(F.VM_ENTRY_INTR_INFO_FIELD, 0x80000202);
    expectGuestFail(v, ENTRY_FAIL_NMI);
  });

  it('a PAE guest with a bad PDPTE fails with qualification 2', () => {
    const v = validVmcs('protected');
    v.writeNumber(F.GUEST_CR4, 0x2020);
    v.write64(F.GUEST_PDPTR0, 0x4001, 0);
    expect(vmEntryChecks(v, caps()).kind).toBe('ok');
    v.write64(F.GUEST_PDPTR1, 0x5003, 0); // bit 1 reserved in a PAE PDPTE
    expectGuestFail(v, ENTRY_FAIL_PDPTE);
  });

  it('virtual-8086 segments must be selector<<4 / FFFF / F3', () => {
    const v = validVmcs('protected');
    v.writeNumber(F.GUEST_RFLAGS, 0x20002);
    expectGuestFail(v);
  });

  it('KVM surfaces an entry failure with bit 31 set', () => {
    expect(hardwareEntryFailureReason(EXIT_REASON.INVALID_STATE)).toBe(0x80000021);
    expect(hardwareEntryFailureReason(EXIT_REASON.MSR_LOAD_FAIL)).toBe(0x80000022);
  });
});

describe('VM-entry MSR loading (exit reason 34)', () => {
  it('reports the 1-based index of the failing entry', () => {
    const written: number[] = [];
    const wrmsr = (i: number) => { written.push(i); return i !== 0x1234; };
    const ok = loadEntryMsrs([{ index: 0x174, reserved: 0, valueLo: 8, valueHi: 0 }], wrmsr);
    expect(ok.kind).toBe('ok');
    const r = loadEntryMsrs(
      [
        { index: 0x174, reserved: 0, valueLo: 8, valueHi: 0 },
        { index: 0xc0000100, reserved: 0, valueLo: 0, valueHi: 0 },
      ],
      wrmsr,
    );
    expect(r).toMatchObject({ kind: 'entry-failure', exitReason: 34, qualification: 2 });
    expect(loadEntryMsrs([{ index: 0x808, reserved: 0, valueLo: 0, valueHi: 0 }], wrmsr)).toMatchObject({ qualification: 1 });
    expect(loadEntryMsrs([{ index: 0x10, reserved: 1, valueLo: 0, valueHi: 0 }], wrmsr)).toMatchObject({ qualification: 1 });
    expect(loadEntryMsrs([{ index: 0x10, reserved: 0, valueLo: 0, valueHi: 0 }, { index: 0x1234, reserved: 0, valueLo: 0, valueHi: 0 }], wrmsr)).toMatchObject({ qualification: 2 });
  });
});
