/** (c) The system-test guests: each VMM in the runner matrix must give the expected exit status and lines. */
import { describe, expect, it } from 'vitest';
import { runOptionsFor } from '../src/runner';
import { RUNNER_SWITCH, build, knownGap, matrix, systemGuests } from './helpers';

for (const { runner, enabled } of matrix) {
  describe.skipIf(!enabled)(`system guests on ${runner.name}${enabled ? '' : ` (off; enable with ${RUNNER_SWITCH})`}`, () => {
    for (const entry of systemGuests) {
      if (runner.vendor && !entry.vendors.includes(runner.vendor)) continue;
      if (runner.vendor === null && !entry.tcg) continue;
      const gap = knownGap(entry, runner);
      (gap ? it.fails : it)(`${entry.name}${gap ? ` (known gap: ${gap})` : ''}`, { timeout: 30_000 + entry.timeoutMs * runner.timeoutScale }, async () => {
        const b = build(entry);
        const r = await runner.run(runOptionsFor(entry, b.elf));
        const ctx = `${entry.name} on ${runner.name}:\n${r.serial}\n${r.stderr}`;
        expect(r.timedOut, ctx).toBe(false);
        const known = runner.name === 'qemu-tcg' ? entry.qemuTcgKnownFailures : [];
        const failures = [...r.serial.matchAll(/^FAIL: (.*)$/gm)].map((m) => m[1]!);
        const unexpected = failures.filter((f) => !known.some((k) => f.startsWith(k)));
        expect(unexpected, ctx).toEqual([]);
        if (failures.length) console.log(`${runner.name} ${entry.name}: known failures: ${failures.join('; ')}`);
        // A run whose only failures are known ones exits as a failing run: (1 << 1) | 1.
        expect(r.status, ctx).toBe(failures.length ? 3 : entry.exitCode);
        if (!entry.expect.some((e) => e.startsWith('Unhandled exception'))) expect(r.serial, ctx).not.toMatch(/Unhandled exception/);
        for (const line of entry.expect) expect(r.serial, ctx).toContain(line);
        if (runner.vendor) for (const line of entry.qemuLiteExpect) expect(r.serial, ctx).toContain(line);
      });
    }
  });
}
