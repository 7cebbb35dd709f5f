/**
 * The deterministic virtual clock (qemu-lite -icount, KVM's 'virtual' clock source): the
 * same guest run twice prints the same bytes, timer interrupt counts and TSC readings
 * included, on each vendor; and both vendors agree (the clock follows retired guest
 * instructions, not the vendor's exits).
 */
import { describe, expect, it } from 'vitest';
import { QemuLiteRunner, runOptionsFor } from '../src/runner';
import { build, manifest } from './helpers';

const det = manifest.find((g) => g.name === 'determinism-32')!;

describe('deterministic virtual clock: same guest, same output', () => {
  it('determinism-32 twice on kvm-intel and twice on kvm-amd: four identical consoles', { timeout: 300_000 }, async () => {
    expect(det.vmmArgs).toContain('-icount');
    const b = build(det);
    const outs: string[] = [];
    for (const vendor of ['intel', 'intel', 'amd', 'amd'] as const) {
      const r = await new QemuLiteRunner(vendor).run(runOptionsFor(det, b.elf));
      expect(r.status, r.serial + r.stderr).toBe(det.exitCode);
      outs.push(r.serial);
    }
    // The output carries the numbers that would vary on host time.
    const m = /PIT ticks (\d+), LAPIC timer ticks (\d+), TSC delta (\d+)/.exec(outs[0]!);
    expect(m, outs[0]).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(0);
    expect(Number(m![2])).toBeGreaterThan(Number(m![1])); // the LAPIC timer runs faster
    expect(outs[1]).toBe(outs[0]);
    expect(outs[2]).toBe(outs[0]);
    expect(outs[3]).toBe(outs[0]);
  });
});
