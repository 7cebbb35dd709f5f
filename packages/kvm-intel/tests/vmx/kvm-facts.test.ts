/** Cross-checks the exit-reason table against docs/KVM-FACTS.md §7 (the repo's copy of the uapi facts). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EXIT_REASON, exitReasonName, VMX_EXIT_REASONS_FAILED_VMENTRY } from '@kvmts/kvm-intel';

const facts = readFileSync(fileURLToPath(new URL('../../../../docs/KVM-FACTS.md', import.meta.url)), 'utf8');

function section(n: number): string {
  const start = facts.indexOf(`## ${n}.`);
  const end = facts.indexOf(`## ${n + 1}.`);
  return facts.slice(start, end);
}

/** (number, name) pairs from the table cells of §7. */
function exitReasonPairs(): [number, string][] {
  const pairs: [number, string][] = [];
  for (const line of section(7).split('\n')) {
    if (!line.startsWith('|') || line.includes('---')) continue;
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    for (let i = 0; i + 1 < cells.length; i += 2) {
      const nums = cells[i]!.split('/').map((s) => s.trim());
      const names = cells[i + 1]!.replace(/\*\*/g, '').replace(/\(.*\)/, '').split('/').map((s) => s.trim());
      if (!nums.every((s) => /^\d+$/.test(s)) || nums.length !== names.length) continue;
      nums.forEach((s, k) => pairs.push([Number(s), names[k]!]));
    }
  }
  return pairs;
}

describe('VMX exit reasons match KVM-FACTS §7', () => {
  const pairs = exitReasonPairs();
  it('parses the whole table', () => {
    expect(pairs.length).toBe(64);
  });
  it('every number has our name', () => {
    for (const [num, name] of pairs) {
      expect(exitReasonName(num), `${num}`).toBe(name);
      expect(EXIT_REASON[name as keyof typeof EXIT_REASON]).toBe(num);
    }
  });
  it('failed-VM-entry bit', () => {
    expect(section(7)).toContain('`VMX_EXIT_REASONS_FAILED_VMENTRY` (0x80000000)');
    expect(VMX_EXIT_REASONS_FAILED_VMENTRY).toBe(0x80000000);
  });
});
