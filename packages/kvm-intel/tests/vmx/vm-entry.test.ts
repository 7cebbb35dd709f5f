import { describe, expect, it } from 'vitest';
import { VMCS_FIELDS as F, VmxRootOperation, vmxVmEntry, type Vmcs } from '@kvmts/kvm-intel';
import { caps, validVmcs } from './guest-vmcs';

/** Puts a prepared VMCS at 0x2000 and makes it current. */
function cpuWith(v: Vmcs): VmxRootOperation {
  const cpu = new VmxRootOperation(0x12);
  cpu.vmxon(0x1000);
  cpu.vmclear(0x2000);
  const region = cpu.regionAt(0x2000);
  for (const enc of Object.values(F)) region.write64(enc, v.read32(enc), v.readHigh32(enc));
  cpu.vmptrld(0x2000);
  return cpu;
}

describe('VMLAUNCH / VMRESUME', () => {
  it('a valid VMCS enters; VMLAUNCH again fails with error 4; VMRESUME enters', () => {
    const cpu = cpuWith(validVmcs('long'));
    expect(vmxVmEntry(cpu, true, caps())).toMatchObject({ kind: 'vmfail-valid', error: 5 });
    expect(vmxVmEntry(cpu, false, caps())).toEqual({ kind: 'entered' });
    expect(cpu.currentVmcs!.launchState).toBe('launched');
    expect(vmxVmEntry(cpu, false, caps())).toMatchObject({ kind: 'vmfail-valid', error: 4 });
    expect(cpu.currentVmcs!.read32(F.VM_INSTRUCTION_ERROR)).toBe(4);
    expect(vmxVmEntry(cpu, true, caps())).toEqual({ kind: 'entered' });
  });

  it('no current VMCS is VMfailInvalid', () => {
    const cpu = new VmxRootOperation(0x12);
    cpu.vmxon(0x1000);
    expect(vmxVmEntry(cpu, false, caps())).toEqual({ kind: 'vmfail-invalid' });
  });

  it('bad host state is VMfailValid 8 and the VMCS stays clear', () => {
    const v = validVmcs('long');
    v.write32(F.HOST_CS_SELECTOR, 0);
    const cpu = cpuWith(v);
    expect(vmxVmEntry(cpu, false, caps())).toMatchObject({ kind: 'vmfail-valid', error: 8 });
    expect(cpu.currentVmcs!.read32(F.VM_INSTRUCTION_ERROR)).toBe(8);
    expect(cpu.currentVmcs!.launchState).toBe('clear');
  });

  it('bad guest state is KVM_EXIT_FAIL_ENTRY material: reason 0x80000021 recorded in the VMCS', () => {
    const v = validVmcs('protected');
    v.writeNumber(F.GUEST_RFLAGS, 0);
    const cpu = cpuWith(v);
    const r = vmxVmEntry(cpu, false, caps());
    expect(r).toMatchObject({ kind: 'entry-failure', exitReason: 33, hardwareEntryFailureReason: 0x80000021, qualification: 0 });
    expect(cpu.currentVmcs!.read32(F.VM_EXIT_REASON)).toBe(0x80000021);
    expect(cpu.currentVmcs!.launchState).toBe('clear');
  });

  it('a failing MSR-load entry is exit reason 34 with its index', () => {
    const v = validVmcs('long');
    v.write32(F.VM_ENTRY_MSR_LOAD_COUNT, 2);
    v.writeNumber(F.VM_ENTRY_MSR_LOAD_ADDR, 0x9000);
    const cpu = cpuWith(v);
    const loaded: number[] = [];
    const r = vmxVmEntry(cpu, false, caps(), {
      readMsrLoadArea: (addr, count) => {
        expect([addr, count]).toEqual([0x9000, 2]);
        return [
          { index: 0xc0000081, reserved: 0, valueLo: 0, valueHi: 0x00230010 },
          { index: 0xc0000101, reserved: 0, valueLo: 0, valueHi: 0 }, // GS_BASE may not be loaded this way
        ];
      },
      wrmsr: (i) => { loaded.push(i); return true; },
    });
    expect(r).toMatchObject({ kind: 'entry-failure', exitReason: 34, qualification: 2, hardwareEntryFailureReason: 0x80000022 });
    expect(loaded).toEqual([0xc0000081]);
  });
});
