/**
 * A guest reset without -no-reboot (issue 6): port92-32 sets a CMOS NVRAM marker and
 * pulses port 0x92 bit 0; the machine must start again (a fresh boot of the same
 * kernel) with the NVRAM kept, so the guest reports its second start and exits. With
 * -no-reboot the same guest ends the VMM with status 0 (system.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { runOptionsFor } from '../src/runner';
import { RUNNER_SWITCH, build, manifest, matrix } from './helpers';

const entry = manifest.find((g) => g.name === 'port92-32')!;

for (const { runner, enabled } of matrix) {
  describe.skipIf(!enabled)(`machine reset through port 0x92 on ${runner.name}${enabled ? '' : ` (off; ${RUNNER_SWITCH})`}`, () => {
    it('without -no-reboot the machine starts again and the guest sees its second start', { timeout: 30_000 + entry.timeoutMs * runner.timeoutScale }, async () => {
      const r = await runner.run({ ...runOptionsFor(entry, build(entry).elf), reboot: true });
      const ctx = `${runner.name}:\n${r.serial}\n${r.stderr}`;
      expect(r.timedOut, ctx).toBe(false);
      expect(r.serial, ctx).not.toMatch(/FAIL/);
      const starts = [...r.serial.matchAll(/^port92: (first|second) start$/gm)].map((m) => m[1]);
      expect(starts, ctx).toEqual(['first', 'second']);
      expect(r.serial, ctx).toContain('PASS: the machine started again after the port 0x92 reset');
      expect(r.serial, ctx).toContain('PASS: after the reset port 0x92 reads A20 on, reset bit clear (2)');
      expect(r.status, ctx).toBe(1);
    });
  });
}
