import { describe, expect, it } from 'vitest';
import { parseS390Args } from '@kvmts/qemu-lite';

describe('the s390 machine command line', () => {
  it('parses QEMU options for s390-ccw-virtio', () => {
    expect(parseS390Args(['-M', 's390-ccw-virtio', '-accel', 'kvm-s390', '-kernel', 'g.elf', '-append', 'x y', '-m', '1G', '-smp', '2', '-nographic']))
      .toEqual({ machine: 's390-ccw-virtio', accel: 'kvm-s390', kernel: 'g.elf', append: 'x y', memoryMiB: 1024, smp: 2 });
    expect(parseS390Args(['-machine', 's390-ccw-virtio,accel=kvm', '-kernel', 'k']).memoryMiB).toBe(128);
  });

  it('names the bad option or field', () => {
    expect(() => parseS390Args(['-M', 'pc', '-kernel', 'k'])).toThrow(/machine/);
    expect(() => parseS390Args(['-M', 's390-ccw-virtio'])).toThrow(/kernel/);
    expect(() => parseS390Args(['-M', 's390-ccw-virtio', '-kernel', 'k', '-m', 'lots'])).toThrow(/memoryMiB/);
    expect(() => parseS390Args(['-M', 's390-ccw-virtio', '-kernel', 'k', '-hda', 'x'])).toThrow(/-hda/);
  });
});
