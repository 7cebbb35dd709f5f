/**
 * The two x86 vendor modules as the vendor-parameterised suites see them: the module
 * and the few things that differ in what the guest or the VMM observes (the CPUID vendor
 * string, the exit names and exit information of getExitInfo, the hypercall instruction
 * KVM patches in). Everything else in a shared test must behave the same on both.
 */
import type { KvmModule } from '@kvmts/kvm-core';
import { kvmAmd } from '@kvmts/kvm-amd';
import { kvmIntel } from '@kvmts/kvm-intel';

export interface VendorAdapter {
  /** The module's name (kvm-intel, kvm-amd). */
  readonly name: string;
  readonly module: KvmModule<never>;
  /** CPUID leaf 0's vendor string. */
  readonly vendor: string;
  /** getExitInfo after `mov $1, %al; out %al, $0x81`: the exit's name and info1 (VMX qualification / SVM EXITINFO1). */
  readonly ioExit: { readonly reasonName: string; readonly info1: bigint };
  /** The exit of the first MMIO access to a page (no SPTE yet) and of a later one (the MMIO SPTE). */
  readonly mmioFirst: string;
  readonly mmioAgain: string;
  /** This vendor's hypercall instruction, which KVM writes over the other vendor's. */
  readonly ownHypercall: readonly number[];
  /** The other vendor's hypercall mnemonic (what a guest built for the other vendor executes). */
  readonly otherHypercall: string;
}

export const KVM_INTEL: VendorAdapter = {
  name: 'kvm-intel',
  module: kvmIntel as KvmModule<never>,
  vendor: 'GenuineIntel',
  // Exit qualification: size 1 (0), OUT (bit 3 clear), immediate (bit 6 clear), port 0x81 in 31:16.
  ioExit: { reasonName: 'EXIT_REASON_IO_INSTRUCTION', info1: 0x00810000n },
  mmioFirst: 'EXIT_REASON_EPT_VIOLATION',
  mmioAgain: 'EXIT_REASON_EPT_MISCONFIG',
  ownHypercall: [0x0f, 0x01, 0xc1],
  otherHypercall: 'vmmcall',
};

export const KVM_AMD: VendorAdapter = {
  name: 'kvm-amd',
  module: kvmAmd as KvmModule<never>,
  vendor: 'AuthenticAMD',
  // EXITINFO1: OUT (bit 0 clear), SZ8 (bit 4), port 0x81 in 31:16.
  ioExit: { reasonName: 'SVM_EXIT_IOIO', info1: 0x00810010n },
  mmioFirst: 'SVM_EXIT_NPF',
  mmioAgain: 'SVM_EXIT_NPF',
  ownHypercall: [0x0f, 0x01, 0xd9],
  otherHypercall: 'vmcall',
};

/** Both vendors, for describe.each: the test name starts with the module's name. */
export const VENDOR_ADAPTERS: readonly (readonly [string, VendorAdapter])[] = [
  [KVM_INTEL.name, KVM_INTEL],
  [KVM_AMD.name, KVM_AMD],
];

/** Both modules by name, for suites that need nothing vendor-specific but the module. */
export const VENDOR_MODULES: readonly (readonly [string, KvmModule<never>])[] = VENDOR_ADAPTERS.map(([n, a]) => [n, a.module] as const);
