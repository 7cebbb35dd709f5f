/**
 * (b) The instruction exercisers: the host build is the reference; each VMM in the runner
 * matrix must print the same bytes. For QEMU TCG the documented differences
 * (QEMU_TCG_DIFFERENCES) may excuse lines of their named blocks only, and are reported.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { QEMU_TCG_DIFFERENCES, compareOutputs } from '../src/compare';
import { matchHostCpu, runOptionsFor } from '../src/runner';
import { RUNNER_SWITCH, build, knownGap, exercisers, matrix } from './helpers';

const hostOutput = new Map<string, string>();
function host(name: string, path: string): string {
  let out = hostOutput.get(name);
  if (out === undefined) {
    out = execFileSync(path, { encoding: 'latin1', maxBuffer: 64 << 20 });
    hostOutput.set(name, out);
  }
  return out;
}

describe('exercisers on the host', () => {
  for (const entry of exercisers) {
    it(`${entry.name} runs on the host`, { timeout: 120_000 }, () => {
      const out = host(entry.name, build(entry).host!);
      expect(out.startsWith(`${entry.name.replace(/-(32|64)$/, '')} ${entry.mode}-bit\n`)).toBe(true);
      expect(out.endsWith(' done\n')).toBe(true);
    });
  }
});

for (const { runner, enabled } of matrix) {
  const known = runner.name === 'qemu-tcg' ? QEMU_TCG_DIFFERENCES : [];
  describe.skipIf(!enabled)(`exercisers on ${runner.name}${enabled ? '' : ` (off; enable with ${RUNNER_SWITCH})`}`, () => {
    for (const entry of exercisers) {
      if (runner.vendor && !entry.vendors.includes(runner.vendor)) continue;
      const gap = knownGap(entry, runner);
      (gap ? it.fails : it)(`${entry.name}: guest output == host output${gap ? ` (known gap: ${gap})` : ''}`, { timeout: 30_000 + entry.timeoutMs * runner.timeoutScale }, async () => {
        const b = build(entry);
        const reference = host(entry.name, b.host!);
        // The guest's CPU model lacks what the host lacks, so both print the same "skipped" lines.
        const opts = runOptionsFor(entry, b.elf);
        const r = await runner.run({ ...opts, extraArgs: matchHostCpu(opts.extraArgs ?? []) });
        expect(r.timedOut, `${entry.name} timed out\n${r.stderr}`).toBe(false);
        expect(r.status, r.stderr).toBe(entry.exitCode);
        const cmp = compareOutputs(entry.name, reference, r.serial, known);
        const excused = Object.entries(cmp.excused);
        if (excused.length) {
          console.log(`${runner.name} ${entry.name}: ${cmp.lines} lines; known differences excused: ${excused.map(([k, n]) => `${k}=${n}`).join(', ')}`);
        }
        expect(cmp.mismatches.slice(0, 10)).toEqual([]);
      });
    }
  });
}
