/**
 * CPUID answers of the bare engine, used when CPUID is not intercepted and no
 * cpuidHook is installed (vendors normally answer from the vCPU's KVM_SET_CPUID2 table).
 * The feature bits describe exactly what the engine implements (SDM Vol. 2 "CPUID").
 */
import { CR4_OSXSAVE } from './constants';
import type { X86Cpu } from './cpu';
import { MAXPHYADDR } from './paging';

function str4(s: string, i: number): number {
  return s.charCodeAt(i) | (s.charCodeAt(i + 1) << 8) | (s.charCodeAt(i + 2) << 16) | (s.charCodeAt(i + 3) << 24);
}

// CPUID.1:EDX: FPU VME DE PSE TSC MSR PAE MCE CX8 APIC SEP MTRR PGE MCA CMOV PAT PSE36 CLFSH MMX FXSR SSE SSE2
export const CPUID_1_EDX = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) |
  (1 << 8) | (1 << 9) | (1 << 11) | (1 << 12) | (1 << 13) | (1 << 15) | (1 << 16) | (1 << 17) | (1 << 19) |
  (1 << 23) | (1 << 24) | (1 << 25) | (1 << 26);
// CPUID.1:ECX: CX16 MOVBE POPCNT XSAVE (OSXSAVE mirrors CR4), hypervisor bit 31
export const CPUID_1_ECX = (1 << 13) | (1 << 22) | (1 << 23) | (1 << 26) | (1 << 31);
// CPUID.7.0:EBX: FSGSBASE SMEP SMAP ; ECX: UMIP RDPID
export const CPUID_7_EBX = (1 << 0) | (1 << 7) | (1 << 20);
export const CPUID_7_ECX = (1 << 2) | (1 << 22);
// CPUID.80000001:EDX: SYSCALL NX RDTSCP LM ; ECX: LAHF/SAHF ABM(LZCNT)
export const CPUID_80000001_EDX = (1 << 11) | (1 << 20) | (1 << 27) | (1 << 29);
export const CPUID_80000001_ECX = (1 << 0) | (1 << 5);

export function defaultCpuid(cpu: X86Cpu, leaf: number, sub: number): void {
  const R = cpu.regs;
  let a = 0, b = 0, c = 0, dd = 0;
  const vendor = 'GenuineIntel';
  switch (leaf) {
    case 0: a = 0xd; b = str4(vendor, 0); dd = str4(vendor, 4); c = str4(vendor, 8); break;
    case 1:
      a = 0x000306a9; // family 6
      b = 0x00010800;
      c = CPUID_1_ECX | (cpu.cr4 & CR4_OSXSAVE ? 1 << 27 : 0);
      dd = CPUID_1_EDX;
      break;
    case 7: if (sub === 0) { b = CPUID_7_EBX; c = CPUID_7_ECX; } break;
    case 0xd:
      if (sub === 0) { a = 3; b = 576; c = 576; dd = 0; }
      else if (sub === 1) { a = 0; }
      break;
    case 0x80000000: a = 0x80000008; break;
    case 0x80000001: c = CPUID_80000001_ECX; dd = CPUID_80000001_EDX; break;
    case 0x80000008: a = MAXPHYADDR | (48 << 8); break;
    default: break;
  }
  R[0] = a; R[6] = b; R[2] = c; R[4] = dd;
}
