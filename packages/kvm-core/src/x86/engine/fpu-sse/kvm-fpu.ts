/**
 * struct kvm_fpu (arch/x86/include/uapi/asm/kvm.h), what KVM_GET_FPU / KVM_SET_FPU
 * exchange: KVM copies it from/to the FXSAVE image (kvm_arch_vcpu_ioctl_get_fpu), so
 * fpr[i] is ST(i) (stack order, 10 of 16 bytes used), ftwx is the abridged tag byte and
 * last_ip/last_dp are the 64-bit FIP/FDP of the FXSAVE64 layout (FCS/FDS are not part
 * of the struct). 416 bytes:
 *   fpr[8][16] @0, fcw u16 @128, fsw u16 @130, ftwx u8 @132, pad1 u8 @133,
 *   last_opcode u16 @134, last_ip u64 @136, last_dp u64 @144, xmm[16][16] @152,
 *   mxcsr u32 @408, pad2 u32 @412.
 */
import { z } from 'zod';
import { KvmError } from '../../../errors';
import type { FpuSseState } from './state';

export const KVM_FPU_SIZE = 416;

export interface KvmFpu {
  /** ST(0)..ST(7), 16 bytes each (bytes 10..15 are padding, 0). */
  fpr: number[][];
  fcw: number;
  fsw: number;
  /** Abridged tag word: bit i set when physical register Ri is not empty. */
  ftwx: number;
  lastOpcode: number;
  lastIp: bigint;
  lastDp: bigint;
  /** XMM0..XMM15, 16 bytes each, little endian. */
  xmm: number[][];
  mxcsr: number;
}

const byte = z.number().int().min(0).max(255);
const u16 = z.number().int().min(0).max(0xffff);
const u64 = z.bigint().min(0n).max((1n << 64n) - 1n);
const row16 = z.array(byte).length(16);

export const kvmFpuSchema = z.object({
  fpr: z.array(row16).length(8),
  fcw: u16,
  fsw: u16,
  ftwx: byte,
  lastOpcode: z.number().int().min(0).max(0x7ff),
  lastIp: u64,
  lastDp: u64,
  xmm: z.array(row16).length(16),
  mxcsr: z.number().int().min(0).max(0xffffffff),
}).strict();

function toU64(v: number): bigint {
  return BigInt(v);
}

/** KVM_GET_FPU: the state as struct kvm_fpu. */
export function toKvmFpu(st: FpuSseState): KvmFpu {
  const fpr: number[][] = [];
  for (let i = 0; i < 8; i++) {
    const r = st.st(i);
    const row = new Array<number>(16).fill(0);
    const lo = st.fprMant[2 * r]!;
    const hi = st.fprMant[2 * r + 1]!;
    for (let k = 0; k < 4; k++) { row[k] = (lo >>> (8 * k)) & 0xff; row[4 + k] = (hi >>> (8 * k)) & 0xff; }
    row[8] = st.fprExp[r]! & 0xff;
    row[9] = st.fprExp[r]! >>> 8;
    fpr.push(row);
  }
  const xmm: number[][] = [];
  for (let i = 0; i < 16; i++) {
    const row: number[] = [];
    for (let k = 0; k < 16; k++) row.push((st.xmm[4 * i + (k >> 2)]! >>> (8 * (k & 3))) & 0xff);
    xmm.push(row);
  }
  return {
    fpr, fcw: st.fcw, fsw: st.fsw, ftwx: st.ftwAbridged, lastOpcode: st.fop & 0x7ff,
    lastIp: toU64(st.fip), lastDp: toU64(st.fdp), xmm, mxcsr: st.mxcsr >>> 0,
  };
}

/**
 * KVM_SET_FPU: validates the whole struct first (EINVAL naming the field; nothing is
 * applied on error), then loads it. MXCSR bits outside MXCSR_MASK are rejected (they
 * would make the guest's next FXRSTOR fault).
 */
export function fromKvmFpu(st: FpuSseState, value: unknown): void {
  const r = kvmFpuSchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    const path = issue && issue.path.length > 0 ? `kvm_fpu.${issue.path.join('.')}` : 'kvm_fpu';
    throw new KvmError('EINVAL', `${path}: ${issue?.message ?? 'invalid'}`);
  }
  const f = r.data;
  if ((f.mxcsr & ~st.mxcsrMask) !== 0) {
    throw new KvmError('EINVAL', `kvm_fpu.mxcsr: reserved bits set (0x${f.mxcsr.toString(16)}, MXCSR_MASK 0x${st.mxcsrMask.toString(16)})`);
  }
  const ipMax = (1n << 53n) - 1n;
  st.fcw = f.fcw;
  st.fsw = f.fsw;
  st.ftwAbridged = f.ftwx;
  st.fop = f.lastOpcode;
  // Addresses are kept as numbers (at most 53 bits, like the engine's RIP).
  st.fip = Number(f.lastIp & ipMax);
  st.fdp = Number(f.lastDp & ipMax);
  st.fcs = 0;
  st.fds = 0;
  for (let i = 0; i < 8; i++) {
    const r = st.st(i);
    const row = f.fpr[i]!;
    st.fprMant[2 * r] = (row[0]! | (row[1]! << 8) | (row[2]! << 16) | (row[3]! << 24)) >>> 0;
    st.fprMant[2 * r + 1] = (row[4]! | (row[5]! << 8) | (row[6]! << 16) | (row[7]! << 24)) >>> 0;
    st.fprExp[r] = row[8]! | (row[9]! << 8);
  }
  for (let i = 0; i < 16; i++) {
    const row = f.xmm[i]!;
    for (let d = 0; d < 4; d++) {
      st.xmm[4 * i + d] = (row[4 * d]! | (row[4 * d + 1]! << 8) | (row[4 * d + 2]! << 16) | (row[4 * d + 3]! << 24)) >>> 0;
    }
  }
  st.mxcsr = f.mxcsr;
}

/** The 416-byte uapi layout of a KvmFpu (for ioctl-level users and layout tests). */
export function kvmFpuToBytes(f: KvmFpu): Uint8Array {
  const b = new Uint8Array(KVM_FPU_SIZE);
  const dv = new DataView(b.buffer);
  for (let i = 0; i < 8; i++) b.set(f.fpr[i]!, 16 * i);
  dv.setUint16(128, f.fcw, true);
  dv.setUint16(130, f.fsw, true);
  dv.setUint8(132, f.ftwx);
  dv.setUint16(134, f.lastOpcode, true);
  dv.setBigUint64(136, f.lastIp, true);
  dv.setBigUint64(144, f.lastDp, true);
  for (let i = 0; i < 16; i++) b.set(f.xmm[i]!, 152 + 16 * i);
  dv.setUint32(408, f.mxcsr, true);
  return b;
}

export function kvmFpuFromBytes(b: Uint8Array): KvmFpu {
  if (b.length !== KVM_FPU_SIZE) throw new KvmError('EINVAL', `kvm_fpu: expected ${KVM_FPU_SIZE} bytes, got ${b.length}`);
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  const rows = (off: number, n: number) => Array.from({ length: n }, (_, i) => Array.from(b.subarray(off + 16 * i, off + 16 * i + 16)));
  return {
    fpr: rows(0, 8), fcw: dv.getUint16(128, true), fsw: dv.getUint16(130, true), ftwx: dv.getUint8(132),
    lastOpcode: dv.getUint16(134, true) & 0x7ff, lastIp: dv.getBigUint64(136, true), lastDp: dv.getBigUint64(144, true),
    xmm: rows(152, 16), mxcsr: dv.getUint32(408, true),
  };
}
