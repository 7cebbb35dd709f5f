import { describe, expect, it } from 'vitest';
import {
  decodeVmcsFieldEncoding, isSupportedVmcsEncoding, vmcsFieldName, Vmcs, VmxRootOperation, VMCS_FIELDS as F,
  VMCS_FIELD_ENCODINGS, VMXERR, VMX_INSTRUCTION_ERROR_DESCRIPTIONS,
} from '@kvmts/kvm-intel';

describe('VMCS field encodings (SDM appendix B)', () => {
  it('match the SDM/Linux numbers for anchor fields', () => {
    expect(F.GUEST_ES_SELECTOR).toBe(0x800);
    expect(F.PIN_BASED_VM_EXEC_CONTROL).toBe(0x4000);
    expect(F.CPU_BASED_VM_EXEC_CONTROL).toBe(0x4002);
    expect(F.EXCEPTION_BITMAP).toBe(0x4004);
    expect(F.VM_EXIT_REASON).toBe(0x4402);
    expect(F.EXIT_QUALIFICATION).toBe(0x6400);
    expect(F.GUEST_CR0).toBe(0x6800);
    expect(F.EPT_POINTER).toBe(0x201a);
    expect(F.VMCS_LINK_POINTER).toBe(0x2800);
    expect(F.HOST_RIP).toBe(0x6c16);
    expect(F.GUEST_INTERRUPTIBILITY_INFO).toBe(0x4824);
    expect(F.VMX_PREEMPTION_TIMER_VALUE).toBe(0x482e);
  });

  it('decode width and type from the encoding bits, consistently with the table sections', () => {
    expect(decodeVmcsFieldEncoding(F.GUEST_ES_SELECTOR)).toMatchObject({ width: 'u16', type: 'guest', high: false, index: 0 });
    expect(decodeVmcsFieldEncoding(F.TSC_OFFSET + 1)).toMatchObject({ width: 'u64', type: 'control', high: true, index: 8 });
    expect(decodeVmcsFieldEncoding(F.VM_EXIT_REASON)).toMatchObject({ width: 'u32', type: 'read-only' });
    expect(decodeVmcsFieldEncoding(F.HOST_RIP)).toMatchObject({ width: 'natural', type: 'host' });
    for (const [name, enc] of Object.entries(F)) {
      const d = decodeVmcsFieldEncoding(enc);
      expect(enc & 1, name).toBe(0);
      const readOnly = ['GUEST_PHYSICAL_ADDRESS', 'GUEST_LINEAR_ADDRESS', 'EXIT_QUALIFICATION', 'IO_RCX', 'IO_RSI', 'IO_RDI', 'IO_RIP'];
      const expected = readOnly.includes(name) || (enc >= 0x4400 && enc < 0x4800)
        ? 'read-only'
        : name.startsWith('GUEST_') || name === 'VMCS_LINK_POINTER' || name === 'VMX_PREEMPTION_TIMER_VALUE'
          ? 'guest'
          : name.startsWith('HOST_') ? 'host' : 'control';
      expect(d.type, name).toBe(expected);
      expect(vmcsFieldName(enc)).toBe(name);
    }
    expect(new Set(VMCS_FIELD_ENCODINGS).size).toBe(VMCS_FIELD_ENCODINGS.length);
  });

  it('knows high-access encodings only for 64-bit fields', () => {
    expect(vmcsFieldName(F.EPT_POINTER + 1)).toBe('EPT_POINTER_HIGH');
    expect(isSupportedVmcsEncoding(F.EPT_POINTER + 1)).toBe(true);
    expect(isSupportedVmcsEncoding(F.GUEST_RIP + 1)).toBe(false);
    expect(isSupportedVmcsEncoding(F.GUEST_ES_SELECTOR + 1)).toBe(false);
    expect(isSupportedVmcsEncoding(0x1234)).toBe(false);
  });
});

describe('VMREAD / VMWRITE', () => {
  const vmcs = () => new Vmcs({ revisionId: 0x12 });

  it('truncate to the field width and round-trip', () => {
    const v = vmcs();
    expect(v.vmwrite(F.GUEST_CS_SELECTOR, 0x12345678n)).toBe(0);
    expect(v.vmread(F.GUEST_CS_SELECTOR).value).toBe(0x5678n);
    expect(v.vmwrite(F.GUEST_CS_LIMIT, 0x1_ffff_ffffn)).toBe(0);
    expect(v.vmread(F.GUEST_CS_LIMIT).value).toBe(0xffffffffn);
    expect(v.vmwrite(F.GUEST_RIP, 0xffff_8000_0000_1234n)).toBe(0);
    expect(v.vmread(F.GUEST_RIP)).toEqual({ error: 0, value: 0xffff_8000_0000_1234n });
    expect(v.readNumber(F.GUEST_CS_LIMIT)).toBe(0xffffffff);
  });

  it('handle high-half accesses of 64-bit fields', () => {
    const v = vmcs();
    v.vmwrite(F.TSC_OFFSET, 0x1111_2222_3333_4444n);
    expect(v.vmread(F.TSC_OFFSET + 1).value).toBe(0x1111_2222n);
    expect(v.vmwrite(F.TSC_OFFSET + 1, 0xaaaa_bbbb_cccc_ddddn)).toBe(0);
    expect(v.vmread(F.TSC_OFFSET).value).toBe(0xcccc_dddd_3333_4444n);
  });

  it('in 32-bit mode read only bits 31:0 and clear the high bits on write', () => {
    const v = vmcs();
    v.vmwrite(F.GUEST_RIP, 0xdead_beef_0000_1000n);
    expect(v.vmread(F.GUEST_RIP, 32).value).toBe(0x1000n);
    expect(v.vmwrite(F.GUEST_RIP, 0xffff_ffff_0000_2000n, 32)).toBe(0);
    expect(v.vmread(F.GUEST_RIP).value).toBe(0x2000n);
  });

  it('fail with error 12 for unsupported components and 13 for read-only fields', () => {
    const v = vmcs();
    expect(v.vmread(0x7ffe).error).toBe(VMXERR.UNSUPPORTED_VMCS_COMPONENT);
    expect(v.vmwrite(0x6c01, 1n)).toBe(12);
    expect(v.vmwrite(F.VM_EXIT_REASON, 1n)).toBe(VMXERR.VMWRITE_READ_ONLY_VMCS_COMPONENT);
    expect(v.vmwrite(F.EXIT_QUALIFICATION, 1n)).toBe(13);
    expect(VMX_INSTRUCTION_ERROR_DESCRIPTIONS[13]).toBe('VMWRITE to read-only VMCS component');
    const any = new Vmcs({ revisionId: 0x12, vmwriteAnyField: true });
    expect(any.vmwrite(F.VM_EXIT_REASON, 30n)).toBe(0);
    expect(any.vmread(F.VM_EXIT_REASON).value).toBe(30n);
  });
});

describe('VMCLEAR / VMPTRLD / launch state', () => {
  it('VMLAUNCH needs a clear VMCS (error 4), VMRESUME a launched one (error 5)', () => {
    const cpu = new VmxRootOperation(0x12);
    expect(cpu.vmxon(0x1000).status).toBe('VMsucceed');
    expect(cpu.checkLaunchState(false)).toEqual({ status: 'VMfailInvalid' });
    expect(cpu.vmclear(0x2000).status).toBe('VMsucceed');
    expect(cpu.vmptrld(0x2000).status).toBe('VMsucceed');
    expect(cpu.checkLaunchState(true)).toEqual({ status: 'VMfailValid', error: VMXERR.VMRESUME_NONLAUNCHED_VMCS });
    expect(cpu.currentVmcs!.read32(F.VM_INSTRUCTION_ERROR)).toBe(5);
    expect(cpu.checkLaunchState(false).status).toBe('VMsucceed');
    cpu.currentVmcs!.launchState = 'launched';
    expect(cpu.checkLaunchState(false)).toEqual({ status: 'VMfailValid', error: VMXERR.VMLAUNCH_NONCLEAR_VMCS });
    expect(cpu.checkLaunchState(true).status).toBe('VMsucceed');
    expect(cpu.vmclear(0x2000).status).toBe('VMsucceed');
    expect(cpu.currentVmcs).toBeNull();
    expect(cpu.regionAt(0x2000).launchState).toBe('clear');
  });

  it('checks pointers and the revision identifier', () => {
    const cpu = new VmxRootOperation(0x12);
    cpu.vmxon(0x1000);
    cpu.vmptrld(0x2000);
    expect(cpu.vmptrld(0x2001)).toEqual({ status: 'VMfailValid', error: VMXERR.VMPTRLD_INVALID_ADDRESS });
    expect(cpu.vmptrld(0x1000)).toEqual({ status: 'VMfailValid', error: VMXERR.VMPTRLD_VMXON_POINTER });
    expect(cpu.vmclear(0x1000)).toEqual({ status: 'VMfailValid', error: VMXERR.VMCLEAR_VMXON_POINTER });
    cpu.regionAt(0x3000).revisionId = 0x99;
    expect(cpu.vmptrld(0x3000)).toEqual({ status: 'VMfailValid', error: VMXERR.VMPTRLD_INCORRECT_VMCS_REVISION_ID });
    expect(cpu.vmxon(0x1000)).toEqual({ status: 'VMfailValid', error: VMXERR.VMXON_IN_VMX_ROOT_OPERATION });
  });
});

describe('number accessors for signed canonical addresses', () => {
  it('writeNumber stores negatives as two\'s complement; readSignedNumber reads them back exactly', () => {
    const v = new Vmcs({ revisionId: 0x12 });
    v.writeNumber(F.GUEST_RIP, -0x7f000000); // 0xffffffff81000000
    expect(v.vmread(F.GUEST_RIP).value).toBe(0xffff_ffff_8100_0000n);
    expect(v.readSignedNumber(F.GUEST_RIP)).toBe(-0x7f000000);
    v.writeNumber(F.GUEST_RIP, -(2 ** 47));
    expect(v.vmread(F.GUEST_RIP).value).toBe(0xffff_8000_0000_0000n);
    expect(v.readSignedNumber(F.GUEST_RIP)).toBe(-(2 ** 47));
    v.writeNumber(F.GUEST_RIP, 2 ** 47 - 1);
    expect(v.readSignedNumber(F.GUEST_RIP)).toBe(2 ** 47 - 1);
  });
});
