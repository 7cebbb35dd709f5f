import { describe, expect, it } from 'vitest';
import { kvmS390, kvmS390ParamsSchema } from '@kvmts/kvm-s390';
import def from '@kvmts/kvm-s390';

describe('the kvm-s390 module object', () => {
  it('is exported by name and as the default export', () => {
    expect(def).toBe(kvmS390);
    expect(kvmS390.name).toBe('kvm-s390');
    expect(kvmS390ParamsSchema.safeParse({ nested: 1 }).success).toBe(false);
  });
});
