/**
 * The cross-vendor matrix: every bare-engine guest runs through the public KVM API on
 * kvm-intel (EPT) and kvm-amd (NPT), and on each with TDP off, with the engine test's
 * own expectations (console output and final exit).
 */
import { describe, expect, it } from 'vitest';
import { uapi, type KvmModule } from '@kvmts/kvm-core';
import { kvmIntel } from '@kvmts/kvm-intel';
import { kvmAmd } from '@kvmts/kvm-amd';
import { loadEngineGuests } from './engine-guests';
import { assemble, realModeMachine, runToHlt } from './vendor-harness';

const guests = loadEngineGuests();

const VENDORS: [string, KvmModule<never>, object][] = [
  ['kvm-intel ept=1', kvmIntel as KvmModule<never>, {}],
  ['kvm-amd npt=1', kvmAmd as KvmModule<never>, {}],
  ['kvm-amd npt=0', kvmAmd as KvmModule<never>, { npt: 0 }],
];

const EXIT = { HLT: uapi.KVM_EXIT_HLT, TRIPLE_FAULT: uapi.KVM_EXIT_SHUTDOWN } as Record<string, number>;

describe('vendor matrix: the engine guests through the KVM API', () => {
  it('found the engine guests', () => {
    expect(guests.length).toBeGreaterThanOrEqual(5);
  });
  for (const g of guests) {
    for (const [name, mod, params] of VENDORS) {
      it(`${name}: ${g.file} — ${g.title}`, () => {
        const m = realModeMachine(mod, params as never, assemble(g.source, g.org), g.org, 0x400000);
        const r = runToHlt(m);
        if (g.exit !== undefined) expect(r).toBe(EXIT[g.exit]);
        else expect([uapi.KVM_EXIT_HLT, uapi.KVM_EXIT_SHUTDOWN]).toContain(r);
        if (g.console !== undefined) expect(m.console).toBe(g.console);
      });
    }
    // Without EPT there is no unrestricted guest: VMX cannot enter real mode, and this
    // model has no real-mode emulator, so the entry fails as the hardware reports it.
    it(`kvm-intel ept=0: ${g.file} — ${g.title}: real-mode entry fails (INVALID_STATE)`, () => {
      const m = realModeMachine(kvmIntel as KvmModule<never>, { ept: 0 } as never, assemble(g.source, g.org), g.org, 0x400000);
      const run = m.vcpu.run();
      expect(run.exitReason).toBe(uapi.KVM_EXIT_FAIL_ENTRY);
      expect(run.failEntry.hardwareEntryFailureReason).toBe(0x80000021n);
    });
  }
});
