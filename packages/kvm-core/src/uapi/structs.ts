/**
 * The uapi structs as TypeScript shapes (field names camelCased, order and meaning as in
 * arch/x86/include/uapi/asm/kvm.h and include/uapi/linux/kvm.h). 64-bit register fields
 * are bigint at this boundary; the engine never sees bigint.
 */

/** struct kvm_regs */
export interface KvmRegs {
  rax: bigint; rbx: bigint; rcx: bigint; rdx: bigint;
  rsi: bigint; rdi: bigint; rsp: bigint; rbp: bigint;
  r8: bigint; r9: bigint; r10: bigint; r11: bigint;
  r12: bigint; r13: bigint; r14: bigint; r15: bigint;
  rip: bigint; rflags: bigint;
}

/** The order of struct kvm_regs, which is also the order of VCPU_REGS_* but for rip/rflags. */
export const KVM_REGS_FIELDS = [
  'rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rsp', 'rbp',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip', 'rflags',
] as const satisfies readonly (keyof KvmRegs)[];

/** struct kvm_segment */
export interface KvmSegment {
  base: bigint;
  limit: number;
  selector: number;
  type: number;
  present: number;
  dpl: number;
  db: number;
  s: number;
  l: number;
  g: number;
  avl: number;
  unusable: number;
}

/** struct kvm_dtable */
export interface KvmDtable {
  base: bigint;
  limit: number;
}

/** struct kvm_sregs */
export interface KvmSregs {
  cs: KvmSegment; ds: KvmSegment; es: KvmSegment; fs: KvmSegment;
  gs: KvmSegment; ss: KvmSegment; tr: KvmSegment; ldt: KvmSegment;
  gdt: KvmDtable; idt: KvmDtable;
  cr0: bigint; cr2: bigint; cr3: bigint; cr4: bigint; cr8: bigint;
  efer: bigint;
  apicBase: bigint;
  /** (KVM_NR_INTERRUPTS + 63) / 64 words: the pending external interrupt, if any. */
  interruptBitmap: [bigint, bigint, bigint, bigint];
}

export const KVM_SREGS_SEGMENTS = ['cs', 'ds', 'es', 'fs', 'gs', 'ss', 'tr', 'ldt'] as const;

/** struct kvm_userspace_memory_region; userspaceAddr is the mapping itself. */
export interface KvmUserspaceMemoryRegion {
  slot: number;
  flags: number;
  guestPhysAddr: number;
  memorySize: number;
  userspaceAddr: Uint8Array;
}

/** struct kvm_cpuid_entry2 */
export interface KvmCpuidEntry2 {
  function: number;
  index: number;
  flags: number;
  eax: number;
  ebx: number;
  ecx: number;
  edx: number;
}

/** kvm_cpuid_entry2.flags */
export const KVM_CPUID_FLAG_SIGNIFCANT_INDEX = 1 << 0;

/** struct kvm_msr_entry */
export interface KvmMsrEntry {
  index: number;
  data: bigint;
}

/** struct kvm_mp_state */
export interface KvmMpState {
  mpState: number;
}
