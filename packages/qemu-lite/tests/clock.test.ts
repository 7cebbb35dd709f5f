/** Device time bases. */
import { KvmError } from '@kvmts/kvm-core';
import { describe, expect, it } from 'vitest';
import { KvmClock } from '../src/clock';

describe('KvmClock', () => {
  it('reads KVM_GET_CLOCK when the VM has it', () => {
    let ns = 1234n;
    const c = new KvmClock({ getClock: () => ({ clock: ns }) });
    expect(c.usesKvmClock).toBe(true);
    ns = 5_000_000_000n;
    expect(c.nowNs()).toBe(5e9);
  });

  it('falls back to monotonic host time when KVM_GET_CLOCK is not there (ENOTTY)', () => {
    const c = new KvmClock({ getClock: () => { throw new KvmError('ENOTTY', 'getClock is not supported'); } });
    expect(c.usesKvmClock).toBe(false);
    const a = c.nowNs();
    const b = c.nowNs();
    expect(b).toBeGreaterThanOrEqual(a);
  });
});
