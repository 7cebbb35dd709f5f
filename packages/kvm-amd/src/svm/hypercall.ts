/**
 * The hypercall instruction of this vendor (kvm_x86_ops.patch_hypercall): KVM rewrites a
 * guest's VMCALL into VMMCALL on AMD, so a guest built for either vendor runs.
 */
/** VMMCALL: 0F 01 D9. */
export const VMMCALL_BYTES: readonly number[] = Object.freeze([0x0f, 0x01, 0xd9]);
/** The other vendor's form, VMCALL: 0F 01 C1. */
export const VMCALL_BYTES: readonly number[] = Object.freeze([0x0f, 0x01, 0xc1]);

/** Writes VMMCALL into `buf` at `offset`, as svm_patch_hypercall does. */
export function svmPatchHypercall(buf: Uint8Array, offset: number): void {
  buf[offset] = 0x0f;
  buf[offset + 1] = 0x01;
  buf[offset + 2] = 0xd9;
}
