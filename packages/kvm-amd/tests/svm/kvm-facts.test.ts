/** Cross-checks the SVM exit codes against docs/KVM-FACTS.md §8. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SVM_EXIT, svmExitName } from '@kvmts/kvm-amd';

const facts = readFileSync(fileURLToPath(new URL('../../../../docs/KVM-FACTS.md', import.meta.url)), 'utf8');
const sec = facts.slice(facts.indexOf('## 8.'), facts.indexOf('## 9.'));

/** (code, name) pairs from single-code cells and "a / b" cells of the §8 table. */
function pairs(): [number, string][] {
  const out: [number, string][] = [];
  for (const line of sec.split('\n')) {
    if (!line.startsWith('|') || line.includes('---')) continue;
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    for (let i = 0; i + 1 < cells.length; i += 2) {
      const codes = cells[i]!.split('/').map((s) => s.trim());
      const names = cells[i + 1]!.replace(/\*\*/g, '').replace(/\(.*\)/, '').split('/').map((s) => s.trim());
      if (codes.length !== names.length) continue;
      codes.forEach((c, k) => {
        const n = names[k]!;
        if (/^0x[0-9a-f]+$/i.test(c) && /^[A-Z0-9_]+$/.test(n)) out.push([Number(c), n]);
        if (c === '−1' || c === '-1') out.push([-1, n]);
      });
    }
  }
  return out;
}

describe('SVM exit codes match KVM-FACTS §8', () => {
  const p = pairs();
  it('parses the table', () => {
    expect(p.length).toBe(43);
  });
  it('every code has our name and value', () => {
    for (const [code, name] of p) {
      expect(SVM_EXIT[name as keyof typeof SVM_EXIT], name).toBe(code);
    }
  });
  it('ranges: CR/DR reads and writes, exceptions', () => {
    expect(sec).toContain('0x040–0x05f | EXCP_BASE + vector (e.g. #PF = 0x04e, #GP = 0x04d, #UD = 0x046)');
    expect(svmExitName(0x04e)).toBe('EXCP_PF');
    expect(svmExitName(0x04d)).toBe('EXCP_GP');
    expect(svmExitName(0x046)).toBe('EXCP_UD');
    expect(svmExitName(0x003)).toBe('READ_CR3');
    expect(svmExitName(0x018)).toBe('WRITE_CR8');
    expect(svmExitName(0x03f)).toBe('WRITE_DR15');
    expect(svmExitName(0xffffffff)).toBe('ERR');
    expect(sec).toContain('0x066–0x069 | IDTR/GDTR/LDTR/TR_READ');
    expect([SVM_EXIT.IDTR_READ, SVM_EXIT.GDTR_READ, SVM_EXIT.LDTR_READ, SVM_EXIT.TR_READ]).toEqual([0x66, 0x67, 0x68, 0x69]);
    expect(sec).toContain('0x06a–0x06d | IDTR/GDTR/LDTR/TR_WRITE');
    expect([SVM_EXIT.IDTR_WRITE, SVM_EXIT.GDTR_WRITE, SVM_EXIT.LDTR_WRITE, SVM_EXIT.TR_WRITE]).toEqual([0x6a, 0x6b, 0x6c, 0x6d]);
  });
});
