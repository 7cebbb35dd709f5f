/**
 * -accel: which vendor module to load into the host, as modprobe picks kvm-intel or
 * kvm-amd from the CPU. The module packages are loaded at run time by name (like
 * modprobe finding a .ko), so qemu-lite has no build-time dependency on any vendor:
 * this file is the only place in qemu-lite that names them (dependency-rules.test.ts).
 */
import { readFileSync } from 'node:fs';
import type { KvmModule } from '@kvmts/kvm-core';
import type { AccelName } from './config';

/** The npm package that provides each accelerator's module (its default export). */
export const ACCEL_PACKAGES: Record<AccelName, string> = {
  'kvm-intel': '@kvmts/kvm-intel',
  'kvm-amd': '@kvmts/kvm-amd',
  'kvm-s390': '@kvmts/kvm-s390',
};

/** The accelerator for this host's CPU, from /proc/cpuinfo's vendor_id (or s390's). */
export function hostAccel(cpuinfo?: string): AccelName {
  let text = cpuinfo;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      throw new Error('cannot read /proc/cpuinfo to pick the accelerator; give -accel kvm-intel|kvm-amd|kvm-s390');
    }
  }
  const vendor = /^vendor_id\s*:\s*(\S+)/m.exec(text)?.[1];
  if (vendor === 'GenuineIntel') return 'kvm-intel';
  if (vendor === 'AuthenticAMD' || vendor === 'HygonGenuine') return 'kvm-amd';
  if (vendor === 'IBM/S390' || /^# processors\s*:/m.test(text)) return 'kvm-s390';
  throw new Error(`host CPU vendor '${vendor ?? 'unknown'}' has no KVM module here; give -accel kvm-intel|kvm-amd|kvm-s390`);
}

/** Loads the module package by name at run time; its default export is the KvmModule. */
export async function loadAccelModule(accel: AccelName): Promise<KvmModule<unknown>> {
  const specifier = ACCEL_PACKAGES[accel];
  let mod: { default?: KvmModule<unknown> };
  try {
    // A computed specifier: bundlers leave it alone, so no vendor code is linked in.
    mod = (await import(/* @vite-ignore */ specifier)) as { default?: KvmModule<unknown> };
  } catch (e) {
    throw new Error(`cannot load accelerator module ${accel} (${specifier}): ${(e as Error).message}`);
  }
  if (mod.default === undefined || typeof mod.default.init !== 'function')
    throw new Error(`${specifier} has no default-exported KVM module`);
  return mod.default;
}
