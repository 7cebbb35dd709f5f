/**
 * The SSE control instructions of group 15 (0F AE /0../3: FXSAVE FXRSTOR LDMXCSR STMXCSR)
 * and WAIT/FWAIT (9B).
 */
import type { FpuSseHost } from './host';
import { CR0_MP, CR0_NE, CR0_TS, X86_VEC_GP, X86_VEC_MF, X86_VEC_NM } from './host';
import type { FpuSseState } from './state';
import { FSW_ES } from './state';

export type SseControlKind = 'ldmxcsr' | 'stmxcsr' | 'fxsave' | 'fxrstor';

const image = new Uint8Array(512);

export function execSseControl(st: FpuSseState, host: FpuSseHost, kind: SseControlKind, ea: number): void {
  switch (kind) {
    case 'ldmxcsr': {
      const v = host.read32(ea) >>> 0;
      // Reserved bits (those outside MXCSR_MASK) set: #GP(0), MXCSR unchanged.
      if ((v & ~st.mxcsrMask) !== 0) host.raise(X86_VEC_GP, 0);
      st.mxcsr = v;
      return;
    }
    case 'stmxcsr':
      host.probeWrite(ea, 4);
      host.write32(ea, st.mxcsr);
      return;
    case 'fxsave': {
      if ((ea & 15) !== 0) host.raise(X86_VEC_GP, 0);
      const n = 160 + (host.mode64 ? 256 : 128);
      host.probeWrite(ea, 512);
      st.fxsave(image, 0, host.mode64);
      for (let i = 0; i < n; i += 4) {
        host.write32(ea + i, image[i]! | (image[i + 1]! << 8) | (image[i + 2]! << 16) | (image[i + 3]! << 24));
      }
      return;
    }
    case 'fxrstor': {
      if ((ea & 15) !== 0) host.raise(X86_VEC_GP, 0);
      for (let i = 0; i < 512; i += 4) {
        const v = host.read32(ea + i);
        image[i] = v; image[i + 1] = v >>> 8; image[i + 2] = v >>> 16; image[i + 3] = v >>> 24;
      }
      if (!st.fxrstor(image, 0, host.mode64)) host.raise(X86_VEC_GP, 0);
      return;
    }
  }
}

/** WAIT/FWAIT: #NM when CR0.MP and CR0.TS; #MF when an unmasked x87 exception is pending and CR0.NE. */
export function execFwait(st: FpuSseState, host: FpuSseHost): void {
  const cr0 = host.cr0;
  if ((cr0 & CR0_MP) !== 0 && (cr0 & CR0_TS) !== 0) host.raise(X86_VEC_NM);
  if ((st.fswBits & FSW_ES) !== 0 && (cr0 & CR0_NE) !== 0) host.raise(X86_VEC_MF);
}
