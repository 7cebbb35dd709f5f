import { describe, expect, it } from 'vitest';
import { kvmAmd, kvmAmdParamsSchema } from '@kvmts/kvm-amd';
import def from '@kvmts/kvm-amd';

describe('the kvm-amd module object', () => {
  it('is exported by name and as the default export', () => {
    expect(def).toBe(kvmAmd);
    expect(kvmAmd.name).toBe('kvm-amd');
  });

  it('takes Linux-style module parameters', () => {
    const p = kvmAmdParamsSchema.parse({ npt: 0, avic: 'n' });
    expect(Object.values(p).filter((v) => v === false).length).toBeGreaterThanOrEqual(2);
    expect(kvmAmdParamsSchema.safeParse({ npt: 2 }).success).toBe(false);
    expect(kvmAmdParamsSchema.safeParse({ nested: 1 }).success).toBe(false);
    expect(kvmAmdParamsSchema.safeParse({ unknown_param: 1 }).success).toBe(false);
  });
});
