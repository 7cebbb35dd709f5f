/**
 * The hypercall instruction of this vendor (kvm_x86_ops.patch_hypercall): KVM rewrites a
 * guest's VMMCALL into VMCALL on Intel, so a guest built for either vendor runs.
 */
/** VMCALL: 0F 01 C1. */
export const VMCALL_BYTES: readonly number[] = Object.freeze([0x0f, 0x01, 0xc1]);
/** The other vendor's form, VMMCALL: 0F 01 D9 (what the driver recognises and patches). */
export const VMMCALL_BYTES: readonly number[] = Object.freeze([0x0f, 0x01, 0xd9]);

/** Writes this vendor's hypercall instruction into `buf` at `offset` (3 bytes), as vmx_patch_hypercall does. */
export function vmxPatchHypercall(buf: Uint8Array, offset: number): void {
  buf[offset] = 0x0f;
  buf[offset + 1] = 0x01;
  buf[offset + 2] = 0xc1;
}
