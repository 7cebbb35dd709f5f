import { describe, expect, it } from 'vitest';
import {
  controlsValid, MSR_IA32_VMX_BASIC, MSR_IA32_VMX_CR0_FIXED0, MSR_IA32_VMX_CR4_FIXED0, MSR_IA32_VMX_EPT_VPID_CAP,
  MSR_IA32_VMX_MISC, MSR_IA32_VMX_PROCBASED_CTLS, MSR_IA32_VMX_PROCBASED_CTLS2, MSR_IA32_VMX_TRUE_PROCBASED_CTLS,
  MSR_IA32_VMX_VMCS_ENUM, preemptionTimerRemaining, readVmxCapabilityMsr, VMCS_MAX_FIELD_INDEX, vmxCapabilities,
  vmxControls as C, vmxMiscCr3Targets, vmxMiscMaxMsrListEntries,
} from '@kvmts/kvm-intel';

const all = vmxCapabilities({ ept: true, vpid: true, unrestricted_guest: true });

describe('IA32_VMX_* capability MSRs', () => {
  it('IA32_VMX_BASIC: revision id, 4 KiB region, WB, true controls', () => {
    const basic = readVmxCapabilityMsr(all, MSR_IA32_VMX_BASIC)!;
    expect(Number(basic & 0x7fffffffn)).toBe(all.revisionId);
    expect(basic & (1n << 31n)).toBe(0n);
    expect(Number((basic >> 32n) & 0x1fffn)).toBe(4096);
    expect(Number((basic >> 50n) & 0xfn)).toBe(6);
    expect((basic >> 55n) & 1n).toBe(1n);
  });

  it('control MSRs: allowed-0 is a subset of allowed-1, TRUE relaxes only default1 bits', () => {
    for (const k of ['pinBased', 'procBased', 'procBased2', 'exit', 'entry', 'truePinBased', 'trueProcBased', 'trueExit', 'trueEntry'] as const) {
      const c = all[k];
      expect((c.allowed0 & ~c.allowed1) >>> 0, k).toBe(0);
    }
    const proc = readVmxCapabilityMsr(all, MSR_IA32_VMX_PROCBASED_CTLS)!;
    const trueProc = readVmxCapabilityMsr(all, MSR_IA32_VMX_TRUE_PROCBASED_CTLS)!;
    expect(Number(proc & 0xffffffffn)).toBe(C.CPU_BASED_ALWAYSON_WITHOUT_TRUE_MSR);
    expect(Number(trueProc & 0xffffffffn) & C.CPU_BASED_CR3_LOAD_EXITING).toBe(0);
    expect(proc >> 32n).toBe(trueProc >> 32n);
  });

  it('advertise exactly the implemented features', () => {
    const allowed1 = Number(readVmxCapabilityMsr(all, MSR_IA32_VMX_PROCBASED_CTLS)! >> 32n);
    for (const f of [C.CPU_BASED_HLT_EXITING, C.CPU_BASED_UNCOND_IO_EXITING, C.CPU_BASED_USE_IO_BITMAPS, C.CPU_BASED_USE_MSR_BITMAPS,
      C.CPU_BASED_INTR_WINDOW_EXITING, C.CPU_BASED_NMI_WINDOW_EXITING, C.CPU_BASED_RDTSC_EXITING, C.CPU_BASED_USE_TSC_OFFSETTING,
      C.CPU_BASED_INVLPG_EXITING, C.CPU_BASED_ACTIVATE_SECONDARY_CONTROLS]) {
      expect(allowed1 & f).toBe(f);
    }
    for (const f of [C.CPU_BASED_MONITOR_TRAP_FLAG, C.CPU_BASED_TPR_SHADOW, C.CPU_BASED_PAUSE_EXITING, C.CPU_BASED_MOV_DR_EXITING]) {
      expect(allowed1 & f).toBe(0);
    }
    expect(all.pinBased.allowed1 & C.PIN_BASED_VMX_PREEMPTION_TIMER).toBeTruthy();
    expect(all.pinBased.allowed1 & C.PIN_BASED_POSTED_INTR).toBe(0);
    const p2 = Number(readVmxCapabilityMsr(all, MSR_IA32_VMX_PROCBASED_CTLS2)! >> 32n);
    expect(p2).toBe(C.SECONDARY_EXEC_ENABLE_EPT | C.SECONDARY_EXEC_ENABLE_VPID | C.SECONDARY_EXEC_UNRESTRICTED_GUEST | C.SECONDARY_EXEC_ENABLE_RDTSCP);
  });

  it('module params clear EPT / VPID / unrestricted guest (and UG with EPT)', () => {
    const noEpt = vmxCapabilities({ ept: false, vpid: true, unrestricted_guest: true });
    expect(noEpt.procBased2.allowed1 & (C.SECONDARY_EXEC_ENABLE_EPT | C.SECONDARY_EXEC_UNRESTRICTED_GUEST)).toBe(0);
    expect(readVmxCapabilityMsr(noEpt, MSR_IA32_VMX_EPT_VPID_CAP)! & 0xffffffffn).toBe(0n);
    const noVpid = vmxCapabilities({ ept: true, vpid: false, unrestricted_guest: true });
    expect(noVpid.procBased2.allowed1 & C.SECONDARY_EXEC_ENABLE_VPID).toBe(0);
    expect(readVmxCapabilityMsr(noVpid, MSR_IA32_VMX_EPT_VPID_CAP)! >> 32n).toBe(0n);
    const noUg = vmxCapabilities({ ept: true, vpid: true, unrestricted_guest: false });
    expect(noUg.procBased2.allowed1 & C.SECONDARY_EXEC_UNRESTRICTED_GUEST).toBe(0);
    expect(noUg.procBased2.allowed1 & C.SECONDARY_EXEC_ENABLE_EPT).toBeTruthy();
  });

  it('MISC, fixed CR bits, VMCS_ENUM, EPT_VPID_CAP', () => {
    const misc = Number(readVmxCapabilityMsr(all, MSR_IA32_VMX_MISC)!);
    expect(misc & 0x1f).toBe(5);
    expect(vmxMiscCr3Targets(misc)).toBe(4);
    expect(vmxMiscMaxMsrListEntries(misc)).toBe(512);
    expect(misc & (1 << 29)).toBe(0);
    expect(Number(readVmxCapabilityMsr(vmxCapabilities({ ept: true, vpid: true, unrestricted_guest: true, vmwriteAnyField: true }), MSR_IA32_VMX_MISC)!) & (1 << 29)).toBeTruthy();
    expect(readVmxCapabilityMsr(all, MSR_IA32_VMX_CR0_FIXED0)).toBe(0x80000021n);
    expect(readVmxCapabilityMsr(all, MSR_IA32_VMX_CR4_FIXED0)).toBe(0x2000n);
    expect(readVmxCapabilityMsr(all, MSR_IA32_VMX_VMCS_ENUM)).toBe(BigInt(VMCS_MAX_FIELD_INDEX << 1));
    expect(VMCS_MAX_FIELD_INDEX).toBe(0x21); // PID_POINTER_TABLE 0x2042 has index 0x21
    const ept = Number(readVmxCapabilityMsr(all, MSR_IA32_VMX_EPT_VPID_CAP)! & 0xffffffffn);
    expect(ept & (1 << 6)).toBeTruthy(); // 4-level walk
    expect(ept & (1 << 14)).toBeTruthy(); // WB
    expect(ept & (1 << 16) && ept & (1 << 17)).toBeTruthy(); // 2M, 1G
    expect(readVmxCapabilityMsr(all, 0x10)).toBeUndefined();
  });

  it('controlsValid and the preemption-timer rate', () => {
    expect(controlsValid(0x16, all.pinBased)).toBe(true);
    expect(controlsValid(0x14, all.pinBased)).toBe(false);
    expect(controlsValid(0x16 | C.PIN_BASED_POSTED_INTR, all.pinBased)).toBe(false);
    // rate 5: one tick per 32 TSC cycles
    expect(preemptionTimerRemaining(10, 0, 31, all.misc)).toBe(10);
    expect(preemptionTimerRemaining(10, 0, 32, all.misc)).toBe(9);
    expect(preemptionTimerRemaining(10, 0, 32 * 10, all.misc)).toBe(0);
    expect(preemptionTimerRemaining(10, 0, 32 * 100, all.misc)).toBe(0);
  });
});
