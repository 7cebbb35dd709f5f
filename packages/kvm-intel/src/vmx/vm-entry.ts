/**
 * VMLAUNCH / VMRESUME up to the first guest instruction (SDM vol. 3C ch. 26), in order:
 * launch state (31.3), control and host-state checks (VMfailValid 7/8), guest-state
 * checks and MSR loading (VM-entry failure, exit reason 33/34 with bit 31), then the
 * launch state becomes "launched" (VMLAUNCH only, and only on success).
 * The result says what KVM reports: nothing (the guest runs), a VM-instruction error, or
 * KVM_EXIT_FAIL_ENTRY with hardware_entry_failure_reason.
 */
import type { VmxCapabilities } from './capabilities';
import { hardwareEntryFailureReason, loadEntryMsrs, vmEntryChecks, type VmEntryEnvironment, type VmxMsrEntry } from './entry-checks';
import { VMCS_FIELDS as F } from './vmcs-fields';
import type { VmxRootOperation } from './vmcs';
import { vmxRecordEntryFailure } from './vm-exit';

export type VmxEntryOutcome =
  | { kind: 'entered' }
  | { kind: 'vmfail-invalid' }
  | { kind: 'vmfail-valid'; error: number; reason: string }
  | { kind: 'entry-failure'; exitReason: number; qualification: number; hardwareEntryFailureReason: number; reason: string };

export interface VmxEntryHooks extends VmEntryEnvironment {
  /** Reads `count` 16-byte entries of the VM-entry MSR-load area at guest-physical `addr`. */
  readMsrLoadArea?: (addr: number, count: number) => readonly VmxMsrEntry[];
  /** WRMSR at CPL 0; false when it would #GP. */
  wrmsr?: (index: number, lo: number, hi: number) => boolean;
}

export function vmxVmEntry(cpu: VmxRootOperation, resume: boolean, caps: VmxCapabilities, hooks: VmxEntryHooks = {}): VmxEntryOutcome {
  const launch = cpu.checkLaunchState(resume);
  if (launch.status === 'VMfailInvalid') return { kind: 'vmfail-invalid' };
  if (launch.status === 'VMfailValid') return { kind: 'vmfail-valid', error: launch.error, reason: resume ? 'VMRESUME with non-launched VMCS' : 'VMLAUNCH with non-clear VMCS' };
  const v = cpu.currentVmcs!;
  let r = vmEntryChecks(v, caps, hooks);
  if (r.kind === 'ok') {
    const count = v.read32(F.VM_ENTRY_MSR_LOAD_COUNT);
    if (count > 0) {
      if (!hooks.readMsrLoadArea || !hooks.wrmsr) throw new Error('vmxVmEntry: an MSR-load area needs readMsrLoadArea and wrmsr hooks');
      r = loadEntryMsrs(hooks.readMsrLoadArea(v.readNumber(F.VM_ENTRY_MSR_LOAD_ADDR), count), hooks.wrmsr);
    }
  }
  switch (r.kind) {
    case 'vmfail':
      v.write32(F.VM_INSTRUCTION_ERROR, r.error);
      return { kind: 'vmfail-valid', error: r.error, reason: r.reason };
    case 'entry-failure':
      vmxRecordEntryFailure(v, r);
      return {
        kind: 'entry-failure',
        exitReason: r.exitReason,
        qualification: r.qualification,
        hardwareEntryFailureReason: hardwareEntryFailureReason(r.exitReason),
        reason: r.reason,
      };
    default:
      v.launchState = 'launched';
      return { kind: 'entered' };
  }
}
