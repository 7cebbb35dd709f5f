/**
 * The x87 FPU, MMX, SSE, SSE2 (+ SSE3, SSSE3, SSE4.1, SSE4.2) unit of the x86 engine
 * (issue 3). The engine core decodes and routes: D8-DF to execX87, 9B to execFwait,
 * 0F 10-17 28-2F 50-7F C2 C4-C6 D0-FF and the 0F 38 / 0F 3A maps to execSse (after
 * isSseOpcode), 0F AE /0-/3 to execSseControl.
 *
 * Files: state.ts (architectural state, FXSAVE/FXRSTOR images), host.ts (the contract),
 * softfloat.ts (exact BigInt rounding), sse-float.ts (MXCSR arithmetic on bit patterns),
 * packed-int.ts (MMX/SSE2 integer ops), sse-exec.ts (map 0F), sse4.ts (0F 38 / 0F 3A),
 * sse42.ts (PCMPxSTRx, CRC32), x87-arith.ts (80-bit arithmetic), x87.ts (x87 ISA),
 * control.ts (LDMXCSR STMXCSR FXSAVE FXRSTOR FWAIT), kvm-fpu.ts (struct kvm_fpu).
 *
 * Optional FpuSseHost members beyond the contract: fpuIp/fpuCs (FIP/FCS), setStatusFlags
 * (PCMPxSTRx; #UD without it), rex (CRC32 r/m8 byte registers).
 */
export { FpuSseState, MXCSR_RESET, MXCSR_MASK_DEFAULT } from './state';
export type { FpuSseHost } from './host';
export { SSE_HAS_IMM8, isSseOpcode, execSse } from './sse-exec';
export type { SseMap, SsePrefix } from './sse-exec';
export { execSseControl, execFwait } from './control';
export type { SseControlKind } from './control';
export { execX87 } from './x87';
export { toKvmFpu, fromKvmFpu, kvmFpuToBytes, kvmFpuFromBytes, kvmFpuSchema, KVM_FPU_SIZE } from './kvm-fpu';
export type { KvmFpu } from './kvm-fpu';
export {
  FSW_IE, FSW_DE, FSW_ZE, FSW_OE, FSW_UE, FSW_PE, FSW_SF, FSW_ES, FSW_C0, FSW_C1, FSW_C2, FSW_C3, FSW_B,
  MXCSR_DAZ, MXCSR_FTZ,
} from './state';
export {
  EA_REG, X86_VEC_UD, X86_VEC_NM, X86_VEC_GP, X86_VEC_MF, X86_VEC_AC, X86_VEC_XM,
} from './host';
