/**
 * The prebuilt demo guest (guests/demo/demo.elf, no compiler needed): on each VMM of the
 * matrix it reports vendor and mode, enters long mode, takes timer interrupts, brings up
 * 3 APs and powers off through ACPI S5 (exit status 0); without ACPI tables it falls
 * back to isa-debug-exit.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkToolchain, guestCacheKey } from '../src/build';
import { GUESTS_DIR } from '../src/manifest';
import { RUNNER_SWITCH, manifest, matrix } from './helpers';

const DEMO_ELF = join(GUESTS_DIR, 'demo', 'demo.elf');
const entry = manifest.find((g) => g.name === 'demo')!;

describe('prebuilt demo guest', () => {
  it('is committed next to its sources', () => {
    expect(existsSync(DEMO_ELF)).toBe(true);
  });

  // With the compiler it was built with, the sources must still give the recorded key:
  // otherwise demo.elf is stale (npm run build:demo -w @kvmts/guest-tests).
  it('is up to date with its sources', (ctx) => {
    const [compiler, key] = readFileSync(`${DEMO_ELF}.stamp`, 'utf8').split('\n');
    if (compiler !== checkToolchain()) ctx.skip(`built with "${compiler}", this machine has another gcc`);
    expect(guestCacheKey(entry), 'demo.elf is stale: npm run build:demo').toBe(key);
  });
});

for (const { runner, enabled } of matrix) {
  describe.skipIf(!enabled)(`demo on ${runner.name}${enabled ? '' : ` (off; enable with ${RUNNER_SWITCH})`}`, () => {
    it('boots, takes timer interrupts, starts 3 APs, powers off via ACPI S5', { timeout: 30_000 + entry.timeoutMs * runner.timeoutScale }, async () => {
      const r = await runner.run({ kernel: DEMO_ELF, smp: 4, timeoutMs: entry.timeoutMs });
      const ctx = `${r.serial}\n${r.stderr}`;
      expect(r.status, ctx).toBe(0);
      for (const line of entry.expect) expect(r.serial, ctx).toContain(line);
      const vendor = runner.vendor === 'intel' ? 'GenuineIntel' : runner.vendor === 'amd' ? 'AuthenticAMD' : undefined;
      if (vendor) expect(r.serial).toContain(`CPU vendor ${vendor}`);
      expect(r.serial).not.toContain('no ACPI power-off');
    });

    it('falls back to isa-debug-exit without ACPI tables', { timeout: 30_000 + entry.timeoutMs * runner.timeoutScale }, async () => {
      const r = await runner.run({ kernel: DEMO_ELF, smp: 1, machine: 'pc,acpi=off', timeoutMs: entry.timeoutMs });
      expect(r.status, r.serial).toBe(1);
      expect(r.serial).toContain('1 vCPU(s) online');
      expect(r.serial).toContain('no ACPI power-off; exiting through isa-debug-exit');
    });
  });
}
