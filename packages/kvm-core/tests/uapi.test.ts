/**
 * The uapi constants against shared/KVM-FACTS.md (the project's table of the kernel's
 * names and numbers). Falls back to docs/KVM-FACTS.md, the copy kept in the repository.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KVM_IOCTLS, uapi } from '@kvmts/kvm-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const factsPath = [resolve(root, '../shared/KVM-FACTS.md'), resolve(root, 'docs/KVM-FACTS.md')].find(existsSync)!;
const facts = readFileSync(factsPath, 'utf8');
const constants = uapi as unknown as Record<string, number>;

function section(title: string): string {
  const start = facts.indexOf(title);
  expect(start).toBeGreaterThan(0);
  const end = facts.indexOf('\n## ', start + 1);
  return facts.slice(start, end < 0 ? undefined : end);
}

/** Pairs (number, name) from tables laid out as | # | Name | # | Name | ... */
function numberNamePairs(text: string): [number, string][] {
  const out: [number, string][] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('|')) continue;
    const cells = line.split('|').slice(1, -1).map((c) => c.trim().replace(/\*/g, ''));
    for (let i = 0; i + 1 < cells.length; i += 2) {
      const n = cells[i]!;
      const name = cells[i + 1]!.split(' ')[0]!;
      if (/^\d+$/.test(n) && /^[A-Z0-9_]+$/.test(name)) out.push([Number(n), name]);
    }
  }
  return out;
}

describe('uapi constants match KVM-FACTS.md', () => {
  it('KVM_EXIT_* (all 40)', () => {
    const pairs = numberNamePairs(section('## 3. `KVM_EXIT_*`'));
    expect(pairs.length).toBe(40);
    for (const [n, name] of pairs) expect(constants[`KVM_EXIT_${name}`], name).toBe(n);
    for (const [n, name] of pairs) expect(uapi.KVM_EXIT_NAMES[n]).toBe(name);
  });

  it('KVM_CAP_* that the facts list', () => {
    const text = section('## 6. `KVM_CAP_*`');
    let checked = 0;
    for (const line of text.split('\n')) {
      const cells = line.split('|').slice(1, -1).map((c) => c.trim());
      for (let i = 0; i + 1 < cells.length; i += 2) {
        const names = cells[i]!.split(' / ').map((s) => s.trim());
        const nums = cells[i + 1]!.split(' / ').map((s) => s.trim());
        if (names.length !== nums.length || !nums.every((x) => /^\d+$/.test(x))) continue;
        names.forEach((name, k) => {
          let full = `KVM_CAP_${name}`;
          if (name.startsWith('_')) full = `KVM_CAP_DIRTY_LOG_RING${name}`;
          if (name === 'XCRS') full = 'KVM_CAP_XCRS';
          if (name === 'S390_MEM_OP' || name === 'S390_USER_SIGP' || name === 'S390_IRQCHIP') full = `KVM_CAP_${name}`;
          if (name === 'GET_TSC_KHZ') full = 'KVM_CAP_GET_TSC_KHZ';
          if (name === 'X86_MSR_FILTER') full = 'KVM_CAP_X86_MSR_FILTER';
          expect(constants[full], full).toBe(Number(nums[k]));
          checked++;
        });
      }
    }
    expect(checked).toBeGreaterThan(60);
  });

  it('sub-codes: io direction, system events, internal errors, MP states, memory flags, irqchips', () => {
    const t = section('### Sub-codes');
    const row = (field: string) => t.split('\n').find((l) => l.includes(field))!;
    const assigned = (line: string) => [...line.matchAll(/`?([A-Z][A-Z0-9_]+)`? = ([0-9x]+(?: ?<< ?\d+)?)/g)].map((m) => [m[1]!, m[2]!] as const);
    const value = (v: string) => (v.includes('<<') ? v.split('<<').map((x) => Number(x.trim())).reduce((a, b) => a << b) : Number(v));
    for (const [name, v] of assigned(row('`io.direction`'))) expect(constants[name], name).toBe(value(v));
    for (const [name, v] of [...row('`system_event.type`').matchAll(/([A-Z_]+) = (\d)/g)].map((m) => [m[1]!, m[2]!]))
      expect(constants[`KVM_SYSTEM_EVENT_${name}`], name).toBe(Number(v));
    const internalRest = [...row('`internal.suberror`').matchAll(/`([A-Z_]+)` = (\d)/g)];
    for (const m of internalRest) {
      const full = m[1]!.startsWith('KVM_') ? m[1]! : `KVM_INTERNAL_ERROR_${m[1]}`;
      expect(constants[full], full).toBe(Number(m[2]));
    }
    for (const m of row('`KVM_MP_STATE_*`').matchAll(/([A-Z_]+) (\d+)/g)) expect(constants[`KVM_MP_STATE_${m[1]}`], m[1]).toBe(Number(m[2]));
    for (const [name, v] of assigned(row('memory region flags'))) expect(constants[name], name).toBe(value(v));
    const irq = row('irqchip ids');
    expect(irq).toContain(`\`KVM_IRQCHIP_PIC_MASTER\` ${uapi.KVM_IRQCHIP_PIC_MASTER}`);
    expect(irq).toContain(`\`KVM_IOAPIC_NUM_PINS\` ${uapi.KVM_IOAPIC_NUM_PINS}`);
    expect(irq).toContain(`\`KVM_APIC_REG_SIZE\` 0x${uapi.KVM_APIC_REG_SIZE.toString(16)}`);
    for (const m of row('guest debug').matchAll(/`?(KVM_GUESTDBG_[A-Z_]+)`? (0x[0-9a-f]+)/g)) expect(constants[m[1]!], m[1]).toBe(Number(m[2]));
    for (const m of row('guest debug').matchAll(/(?:x86: |, )([A-Z_]+) (0x[0-9a-f]+)/g)) expect(constants[`KVM_GUESTDBG_${m[1]}`], m[1]).toBe(Number(m[2]));
  });

  it('ioctl request codes', () => {
    const text = section('## 2. Ioctls we implement');
    let checked = 0;
    for (const line of text.split('\n')) {
      const cells = line.split('|').slice(1, -1).map((c) => c.trim());
      if (cells.length !== 6 || !/^0x[0-9A-F]/.test(cells[5]!)) continue;
      const names = cells[0]!.split(' / ');
      const codes = cells[5]!.split(' / ').map((c) => c.split(' ')[0]!);
      names.forEach((name, k) => {
        const info = (KVM_IOCTLS as Record<string, { request: number }>)[name];
        expect(info, name).toBeDefined();
        expect(info!.request, name).toBe(Number(codes[k] ?? codes[0]));
        checked++;
      });
    }
    expect(checked).toBeGreaterThan(45);
    // The anchors the facts call out.
    expect(KVM_IOCTLS.KVM_RUN.request).toBe(0xae80);
    expect(KVM_IOCTLS.KVM_GET_REGS.request).toBe(0x8090ae81);
    expect(KVM_IOCTLS.KVM_SET_USER_MEMORY_REGION.request).toBe(0x4020ae46);
  });

  it('the API version is 12', () => {
    expect(uapi.KVM_API_VERSION).toBe(12);
  });
});
