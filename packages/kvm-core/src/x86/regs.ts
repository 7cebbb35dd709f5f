/**
 * x86 register indices (arch/x86/include/asm/kvm_vcpu_regs.h) and the register file
 * layout shared by kvm-core, the vendors and the engine: 64-bit registers as pairs of
 * 32-bit halves in an Int32Array (lo at 2*i, hi at 2*i+1), no bigint on the hot path.
 */
export const VCPU_REGS_RAX = 0;
export const VCPU_REGS_RCX = 1;
export const VCPU_REGS_RDX = 2;
export const VCPU_REGS_RBX = 3;
export const VCPU_REGS_RSP = 4;
export const VCPU_REGS_RBP = 5;
export const VCPU_REGS_RSI = 6;
export const VCPU_REGS_RDI = 7;
export const VCPU_REGS_R8 = 8;
export const VCPU_REGS_R9 = 9;
export const VCPU_REGS_R10 = 10;
export const VCPU_REGS_R11 = 11;
export const VCPU_REGS_R12 = 12;
export const VCPU_REGS_R13 = 13;
export const VCPU_REGS_R14 = 14;
export const VCPU_REGS_R15 = 15;
export const VCPU_REGS_RIP = 16;
export const NR_VCPU_REGS = 17;

/** Segment register indices (VCPU_SREG_*), the order of the SDM's segment encoding. */
export const VCPU_SREG_ES = 0;
export const VCPU_SREG_CS = 1;
export const VCPU_SREG_SS = 2;
export const VCPU_SREG_DS = 3;
export const VCPU_SREG_FS = 4;
export const VCPU_SREG_GS = 5;
export const VCPU_SREG_TR = 6;
export const VCPU_SREG_LDTR = 7;
export type VcpuSreg = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** A register file: NR_VCPU_REGS 64-bit registers as lo/hi Int32 pairs. */
export function createRegisterFile(): Int32Array {
  return new Int32Array(2 * NR_VCPU_REGS);
}

export function readReg64(file: Int32Array, reg: number): bigint {
  return (BigInt(file[2 * reg + 1]! >>> 0) << 32n) | BigInt(file[2 * reg]! >>> 0);
}

export function writeReg64(file: Int32Array, reg: number, value: bigint): void {
  file[2 * reg] = Number(value & 0xffffffffn) | 0;
  file[2 * reg + 1] = Number((value >> 32n) & 0xffffffffn) | 0;
}

/** A register as a JS number when it fits 53 bits (addresses); low 53 bits otherwise. */
export function readRegNumber(file: Int32Array, reg: number): number {
  return (file[2 * reg + 1]! >>> 0) * 0x1_0000_0000 + (file[2 * reg]! >>> 0);
}

export function writeRegNumber(file: Int32Array, reg: number, value: number): void {
  file[2 * reg] = value | 0;
  file[2 * reg + 1] = Math.floor(value / 0x1_0000_0000) | 0;
}
