/** The capability MSRs and the VM-entry control checks must agree bit for bit. */
import { describe, expect, it } from 'vitest';
import { checkVmxControls, VMCS_FIELDS as F, vmEntryChecks, vmxControls as C } from '@kvmts/kvm-intel';
import { caps, validVmcs } from './guest-vmcs';

const c = caps();
const fields = [
  ['PIN_BASED_VM_EXEC_CONTROL', c.truePinBased],
  ['CPU_BASED_VM_EXEC_CONTROL', c.trueProcBased],
  ['SECONDARY_VM_EXEC_CONTROL', c.procBased2],
  ['VM_EXIT_CONTROLS', c.trueExit],
  ['VM_ENTRY_CONTROLS', c.trueEntry],
] as const;

describe('every control bit: allowed-1 passes, the rest fail with error 7', () => {
  for (const [field, cap] of fields) {
    it(field, () => {
      for (let bit = 0; bit < 32; bit++) {
        const m = (1 << bit) >>> 0;
        if (cap.allowed0 & m) continue; // must-be-1 bits are set in the valid VMCS already
        const v = validVmcs('long');
        v.write32(F[field], v.read32(F[field]) | m);
        if (m === C.VM_EXIT_SAVE_VMX_PREEMPTION_TIMER && field === 'VM_EXIT_CONTROLS') {
          v.write32(F.PIN_BASED_VM_EXEC_CONTROL, v.read32(F.PIN_BASED_VM_EXEC_CONTROL) | C.PIN_BASED_VMX_PREEMPTION_TIMER);
        }
        const r = checkVmxControls(v, c);
        if (cap.allowed1 & m) expect(r, `${field} bit ${bit}`).toEqual({ kind: 'ok' });
        else expect(r, `${field} bit ${bit}`).toMatchObject({ kind: 'vmfail', error: 7 });
      }
    });
  }

  it('each must-be-1 bit cleared fails', () => {
    for (const [field, cap] of fields) {
      for (let bit = 0; bit < 32; bit++) {
        const m = (1 << bit) >>> 0;
        if (!(cap.allowed0 & m)) continue;
        const v = validVmcs('long');
        v.write32(F[field], v.read32(F[field]) & ~m);
        expect(checkVmxControls(v, c), `${field} bit ${bit}`).toMatchObject({ kind: 'vmfail', error: 7 });
      }
    }
  });

  it('unrestricted guest: a real-mode CS of type 3 (data, accessed) is accepted', () => {
    const v = validVmcs('real-unrestricted');
    v.write32(F.GUEST_CS_AR_BYTES, 0x93);
    expect(vmEntryChecks(v, c)).toEqual({ kind: 'ok' });
    v.write32(F.GUEST_CS_AR_BYTES, 0xf3); // DPL 3 with type 3
    expect(vmEntryChecks(v, c).kind).toBe('entry-failure');
  });
});
