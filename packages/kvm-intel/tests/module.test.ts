import { describe, expect, it } from 'vitest';
import { kvmIntel, kvmIntelParamsSchema } from '@kvmts/kvm-intel';
import def from '@kvmts/kvm-intel';

describe('the kvm-intel module object', () => {
  it('is exported by name and as the default export', () => {
    expect(def).toBe(kvmIntel);
    expect(kvmIntel.name).toBe('kvm-intel');
  });

  it('takes Linux-style module parameters', () => {
    const p = kvmIntelParamsSchema.parse({ ept: 'N', vpid: 0 });
    expect(Object.values(p).filter((v) => v === false).length).toBeGreaterThanOrEqual(2);
    expect(kvmIntelParamsSchema.safeParse({ ept: 'maybe' }).success).toBe(false);
    expect(kvmIntelParamsSchema.safeParse({ nested: 1 }).success).toBe(false);
    expect(kvmIntelParamsSchema.safeParse({ unknown_param: 1 }).success).toBe(false);
  });
});
