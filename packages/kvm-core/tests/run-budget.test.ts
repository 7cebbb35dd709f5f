import { describe, expect, it } from 'vitest';
import { kvmAccountInstructions, kvmIrqchipInterruptSource, kvmVcpuInstructionBudget } from '@kvmts/kvm-core';
import { initPics, irqVm } from './irqchip-helpers';

describe('engine glue', () => {
  it('turns runDeadlineNs into an instruction budget on the virtual clock', () => {
    const t = irqVm();
    const v = t.x86[0]!;
    v.runDeadlineNs = t.kvm.clock.nowNs() + 1234;
    expect(kvmVcpuInstructionBudget(v)).toBe(1234);
    expect(kvmVcpuInstructionBudget(v, 100)).toBe(100);
    kvmAccountInstructions(v, 1234);
    expect(kvmVcpuInstructionBudget(v)).toBe(1);
    const host = irqVm({ virtualClock: false });
    expect(kvmVcpuInstructionBudget(host.x86[0]!)).toBe(20_000);
  });

  it('exposes the irqchip as the engine interrupt source (INTR + INTA)', () => {
    const t = irqVm();
    initPics(t);
    const src = kvmIrqchipInterruptSource(t.x86[0]!);
    expect(src.hasInterrupt()).toBe(false);
    t.vm.irqLine(1, 1);
    expect(src.hasInterrupt()).toBe(true);
    expect(src.acknowledge()).toBe(0x21);
    expect(src.hasInterrupt()).toBe(false);
  });
});
