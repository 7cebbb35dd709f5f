/**
 * Control and privileged instructions. The ones SIE interprets run here (LPSW(E),
 * SSM/STNSM/STOSM, LCTL(G)/STCTL(G), the clock instructions, STFLE, IPM, IPTE ...);
 * the ones KVM must see (DIAG, SIGP, SERVC, STSI, STFL, STIDP, SPX/STPX, STAP, SCK,
 * ISKE/SSKE/RRBE, TPROT, the channel-subsystem instructions) stop the engine with an
 * instruction interception (ICPT_INST) after the privilege check, as SIE does.
 */
import type { S390Cpu } from './cpu';
import { PGM_OPERATION, PGM_PRIVILEGED_OP, PGM_SPECIFICATION } from './pgm';
import { PSW_MASK0_INVALID, PSW_MASK_EA, PSW_MASK_BA, PSW_MASK_BIT12 } from './psw';
import { clst, mvst, srst } from './exec-storage';

const TWO32 = 4294967296;
export const ICPT_INST = 0x04;

/** ictl bits (state description 0x48) the engine honours. */
export const ICTL_PINT = 0x20000000;
export const ICTL_LPSW = 0x00400000;
export const ICTL_STCTL = 0x00040000;
export const ICTL_ISKE = 0x00004000;
export const ICTL_SSKE = 0x00002000;
export const ICTL_RRBE = 0x00001000;
export const ICTL_TPROT = 0x00000200;

function privileged(c: S390Cpu): void {
  if (c.problemState) c.pgm(PGM_PRIVILEGED_OP);
}

function intercept(c: S390Cpu, h0: number, h1: number, h2: number): void {
  c.intercept(ICPT_INST, h0, ((h1 << 16) | h2) >>> 0);
}

/** Load a 16-byte PSW (LPSWE) given its four words; specification on invalid bits. */
export function loadPswWords(c: S390Cpu, m0: number, m1: number, ah: number, al: number): void {
  if (m0 & PSW_MASK0_INVALID) c.pgm(PGM_SPECIFICATION);
  const ea = (m0 & PSW_MASK_EA) !== 0;
  const ba = (m1 & PSW_MASK_BA) !== 0;
  if ((m1 & 0x7fffffff) !== 0 || (ea && !ba)) c.pgm(PGM_SPECIFICATION);
  if (!ea && (ah !== 0 || (!ba && (al & 0xff000000) !== 0) || (al & 0x80000000) !== 0)) c.pgm(PGM_SPECIFICATION);
  c.setMask0(m0);
  c.pswMask1 = m1;
  c.pswAddr = ah * TWO32 + al;
}

export function execControl(c: S390Cpu, h0: number, h1: number, h2: number): void {
  const op = h0 >>> 8;
  switch (op) {
    case 0x80: { // SSM
      privileged(c);
      const v = c.rd8(c.ea(h1 >>> 12, 0, h1 & 0xfff));
      if (v & 0xb8) c.pgm(PGM_SPECIFICATION);
      c.pswMask0 = ((c.pswMask0 & 0x00ffffff) | (v << 24)) >>> 0;
      return;
    }
    case 0x82: { // LPSW: an ESA/390 8-byte PSW, converted to the 16-byte format
      privileged(c);
      if (c.ictl & ICTL_LPSW) { intercept(c, h0, h1, 0); return; }
      const a = c.ea(h1 >>> 12, 0, h1 & 0xfff);
      if (a & 7) c.pgm(PGM_SPECIFICATION);
      const w0 = c.rd32(a);
      const w1 = c.rd32(c.wrapNum(a + 4));
      if ((w0 & PSW_MASK_BIT12) === 0) c.pgm(PGM_SPECIFICATION);
      loadPswWords(c, (w0 & ~PSW_MASK_BIT12) >>> 0, (w1 & 0x80000000) >>> 0, 0, w1 & 0x7fffffff);
      return;
    }
    case 0x83: // DIAGNOSE: always intercepted
      privileged(c);
      intercept(c, h0, h1, 0);
      return;
    case 0xac: case 0xad: { // STNSM STOSM
      privileged(c);
      const a = c.ea(h1 >>> 12, 0, h1 & 0xfff);
      const cur = c.getMask0() >>> 24;
      c.wr8(a, cur);
      const i2 = h0 & 0xff;
      const nv = op === 0xac ? cur & i2 : cur | i2;
      if (nv & 0xb8) c.pgm(PGM_SPECIFICATION);
      c.pswMask0 = ((c.pswMask0 & 0x00ffffff) | (nv << 24)) >>> 0;
      return;
    }
    case 0xae: // SIGP: always intercepted
      privileged(c);
      intercept(c, h0, h1, 0);
      return;
    case 0xb1: { // LRA (no DAT: the real address is the logical one)
      privileged(c);
      const r1 = (h0 >>> 4) & 15;
      const a = c.ea(h1 >>> 12, h0 & 15, h1 & 0xfff);
      c.gr[2 * r1 + 1] = c.logicalToReal(a, false, false) >>> 0;
      c.cc = 0;
      return;
    }
    case 0xb6: case 0xb7: { // STCTL LCTL
      privileged(c);
      const r1 = (h0 >>> 4) & 15;
      const r3 = h0 & 15;
      const a = c.ea(h1 >>> 12, 0, h1 & 0xfff);
      if (a & 3) c.pgm(PGM_SPECIFICATION);
      if (op === 0xb6 ? (c.ictl & ICTL_STCTL) !== 0 : lctlIntercepts(c, r1, r3)) { intercept(c, h0, h1, 0); return; }
      for (let i = r1, k = 0; ; i = (i + 1) & 15, k++) {
        const ea = c.wrapNum(a + 4 * k);
        if (op === 0xb6) c.wr32(ea, c.cr[2 * i + 1]!);
        else c.cr[2 * i + 1] = c.rd32(ea);
        if (i === r3) break;
      }
      if (op === 0xb7) c.crChanged();
      return;
    }
    case 0xeb: { // LCTLG (2F) / STCTG (25)
      privileged(c);
      const r1 = (h0 >>> 4) & 15;
      const r3 = h0 & 15;
      const sub = h2 & 0xff;
      if (sub !== 0x2f && sub !== 0x25) { c.pgm(PGM_OPERATION); return; }
      const d = (((h2 >>> 8) << 24) >> 12) | (h1 & 0xfff);
      const a = c.ea(h1 >>> 12, 0, d);
      if (a & 7) c.pgm(PGM_SPECIFICATION);
      if (sub === 0x25 ? (c.ictl & ICTL_STCTL) !== 0 : lctlIntercepts(c, r1, r3)) { intercept(c, h0, h1, h2); return; }
      for (let i = r1, k = 0; ; i = (i + 1) & 15, k++) {
        const ea = c.wrapNum(a + 8 * k);
        if (sub === 0x25) c.wr64(ea, c.cr[2 * i]!, c.cr[2 * i + 1]!);
        else { c.rd64(ea); c.cr[2 * i] = c.r0; c.cr[2 * i + 1] = c.r1; }
        if (i === r3) break;
      }
      if (sub === 0x2f) c.crChanged();
      return;
    }
    case 0xe5: { // TPROT (E501) and other SSE privileged ops
      privileged(c);
      if ((h0 & 0xff) === 0x01) { intercept(c, h0, h1, h2); return; }
      c.pgm(PGM_OPERATION);
      return;
    }
    case 0xb9: {
      // B9 privileged leftovers: IDTE (8E) invalidates DAT entries.
      if ((h0 & 0xff) === 0x8e) { privileged(c); c.dat?.flush(); return; }
      c.pgm(PGM_OPERATION);
      return;
    }
    case 0xb2:
      execB2(c, h0, h1);
      return;
    default:
      c.pgm(PGM_OPERATION);
  }
}

function lctlIntercepts(c: S390Cpu, r1: number, r3: number): boolean {
  if (c.lctl === 0) return false;
  for (let i = r1; ; i = (i + 1) & 15) {
    if (c.lctl & (0x8000 >>> i)) return true;
    if (i === r3) return false;
  }
}

function execB2(c: S390Cpu, h0: number, h1: number): void {
  const g = c.gr;
  const sub = h0 & 0xff;
  const r1 = (h1 >>> 4) & 15;
  const r2 = h1 & 15;
  switch (sub) {
    // ---- intercepted for KVM (privileged ones checked first)
    case 0x02: case 0x04: case 0x10: case 0x11: case 0x12: case 0x20: case 0x7d: case 0xb1:
    case 0x30: case 0x31: case 0x32: case 0x33: case 0x34: case 0x35: case 0x36: case 0x37:
    case 0x38: case 0x39: case 0x3a: case 0x3b: case 0x3c: case 0x5f: case 0x76:
      privileged(c);
      intercept(c, h0, h1, 0);
      return;
    case 0x29: case 0x2a: case 0x2b: { // ISKE RRBE SSKE
      privileged(c);
      const bit = sub === 0x29 ? ICTL_ISKE : sub === 0x2a ? ICTL_RRBE : ICTL_SSKE;
      if (c.ictl & bit) { intercept(c, h0, h1, 0); return; }
      storageKeyOp(c, sub, r1, r2);
      return;
    }
    // ---- interpreted
    case 0x05: case 0x7c: { // STCK STCKF
      const a = c.ea(h1 >>> 12, 0, h1 & 0xfff);
      const tod = c.clock.todAt(c.nowNs()) + c.epoch;
      c.wr64(a, Number((tod >> 32n) & 0xffffffffn), Number(tod & 0xffffffffn));
      c.cc = 0;
      return;
    }
    case 0x78: { // STCKE: epoch index, TOD, then zeros and the TOD programmable field
      const a = c.ea(h1 >>> 12, 0, h1 & 0xfff);
      const tod = c.clock.todAt(c.nowNs()) + c.epoch;
      c.probeWrite(a, 16);
      c.wr8(a, 0);
      const hi = Number((tod >> 32n) & 0xffffffffn);
      const lo = Number(tod & 0xffffffffn);
      c.wr32(c.wrapNum(a + 1), hi);
      c.wr32(c.wrapNum(a + 5), lo);
      for (let i = 9; i < 14; i++) c.wr8(c.wrapNum(a + i), 0);
      c.wr16(c.wrapNum(a + 14), c.todpr & 0xffff);
      c.cc = 0;
      return;
    }
    case 0x06: { // SCKC
      privileged(c);
      const a = c.ea(h1 >>> 12, 0, h1 & 0xfff);
      if (a & 7) c.pgm(PGM_SPECIFICATION);
      c.rd64(a);
      c.setCkc((BigInt(c.r0) << 32n) | BigInt(c.r1));
      return;
    }
    case 0x07: { // STCKC
      privileged(c);
      const a = c.ea(h1 >>> 12, 0, h1 & 0xfff);
      if (a & 7) c.pgm(PGM_SPECIFICATION);
      c.wr64(a, Number((c.ckc >> 32n) & 0xffffffffn), Number(c.ckc & 0xffffffffn));
      return;
    }
    case 0x08: { // SPT
      privileged(c);
      const a = c.ea(h1 >>> 12, 0, h1 & 0xfff);
      if (a & 7) c.pgm(PGM_SPECIFICATION);
      c.rd64(a);
      c.setCputm(BigInt.asIntN(64, (BigInt(c.r0) << 32n) | BigInt(c.r1)));
      return;
    }
    case 0x09: { // STPT
      privileged(c);
      const a = c.ea(h1 >>> 12, 0, h1 & 0xfff);
      if (a & 7) c.pgm(PGM_SPECIFICATION);
      const v = BigInt.asUintN(64, c.getCputm());
      c.wr64(a, Number(v >> 32n), Number(v & 0xffffffffn));
      return;
    }
    case 0x0a: { // SPKA
      const k = (c.ea(h1 >>> 12, 0, h1 & 0xfff) >>> 4) & 15;
      c.pswMask0 = ((c.pswMask0 & ~0x00f00000) | (k << 20)) >>> 0;
      return;
    }
    case 0x0b: // IPK
      g[5] = ((g[5]! & 0xffffff0f) | ((c.pswMask0 >>> 16) & 0xf0)) >>> 0;
      return;
    case 0x0d: // PTLB
      privileged(c);
      c.dat?.flush();
      return;
    case 0x21: { // IPTE: set the page-invalid bit of the PTE, flush
      privileged(c);
      const pto = c.wrapAddr(g[2 * r1]!, g[2 * r1 + 1]!) & ~0x7ff;
      const px = (g[2 * r2 + 1]! >>> 12) & 0xff;
      const abs = c.realToAbs(pto + px * 8 + 4);
      const off = c.storage.lookup(abs, 4);
      if (off >= 0) c.storage.view.setUint32(off, c.storage.view.getUint32(off) | 0x400);
      c.dat?.flush();
      return;
    }
    case 0x22: // IPM
      g[2 * r1 + 1] = ((g[2 * r1 + 1]! & 0x00ffffff) | (c.cc << 28) | (((c.pswMask0 >>> 8) & 15) << 24)) >>> 0;
      return;
    case 0x52: g[2 * r1 + 1] = Math.imul(g[2 * r1 + 1]! | 0, g[2 * r2 + 1]! | 0) >>> 0; return; // MSR
    case 0x4e: c.ar[r1] = g[2 * r2 + 1]!; return; // SAR
    case 0x4f: g[2 * r1 + 1] = c.ar[r2]!; return; // EAR
    case 0x4d: c.ar[r1] = c.ar[r2]!; return; // CPYA
    case 0x55: mvst(c, r1, r2); return; // MVST
    case 0x5d: clst(c, r1, r2); return; // CLST
    case 0x5e: srst(c, r1, r2); return; // SRST
    case 0x9c: { // STFPC
      c.wr32(c.ea(h1 >>> 12, 0, h1 & 0xfff), c.fpc);
      return;
    }
    case 0x9d: { // LFPC
      const v = c.rd32(c.ea(h1 >>> 12, 0, h1 & 0xfff));
      if (v & 0x0707ff0c) c.pgm(PGM_SPECIFICATION);
      c.fpc = v;
      return;
    }
    case 0x99: // SRNM
      c.fpc = ((c.fpc & ~3) | (c.ea(h1 >>> 12, 0, h1 & 0xfff) & 3)) >>> 0;
      return;
    case 0xb8: // SRNMB
      c.fpc = ((c.fpc & ~7) | (c.ea(h1 >>> 12, 0, h1 & 0xfff) & 7)) >>> 0;
      return;
    case 0xb0: { // STFLE
      const a = c.ea(h1 >>> 12, 0, h1 & 0xfff);
      if (a & 7) c.pgm(PGM_SPECIFICATION);
      const have = c.facilities.length >>> 3;
      const want = (g[1]! & 0xff) + 1;
      const n = Math.min(have, want);
      for (let i = 0; i < n * 8; i++) c.wr8(c.wrapNum(a + i), c.facilities[i]!);
      g[1] = ((g[1]! & 0xffffff00) | (have - 1)) >>> 0;
      c.cc = want >= have ? 0 : 3;
      return;
    }
    case 0xb2: { // LPSWE
      privileged(c);
      if (c.ictl & ICTL_LPSW) { intercept(c, h0, h1, 0); return; }
      const a = c.ea(h1 >>> 12, 0, h1 & 0xfff);
      if (a & 7) c.pgm(PGM_SPECIFICATION);
      c.rd64(a);
      const m0 = c.r0;
      const m1 = c.r1;
      c.rd64(c.wrapNum(a + 8));
      loadPswWords(c, m0, m1, c.r0, c.r1);
      return;
    }
    case 0xe8: case 0xfa: // PPA, NIAI: performance hints
      return;
    case 0x41: { // CKSM
      if (r2 & 1) c.specification();
      let sum = g[2 * r1 + 1]!;
      let a = c.wrapAddr(g[2 * r2]!, g[2 * r2 + 1]!);
      let len = c.amode64 ? g[2 * r2 + 2]! * TWO32 + g[2 * r2 + 3]! : g[2 * r2 + 3]!;
      while (len > 0) {
        let w = 0;
        for (let i = 0; i < 4; i++) { w = (w << 8) | (len > i ? c.rd8(c.wrapNum(a + i)) : 0); }
        const step = len < 4 ? len : 4;
        const s = sum + (w >>> 0);
        sum = (s >>> 0) + (s > 0xffffffff ? 1 : 0);
        a = c.wrapNum(a + step);
        len -= step;
      }
      g[2 * r1 + 1] = sum >>> 0;
      if (c.amode64) { const lo = a >>> 0; g[2 * r2] = Math.floor((a - lo) / TWO32) >>> 0; g[2 * r2 + 1] = lo; g[2 * r2 + 2] = 0; g[2 * r2 + 3] = 0; }
      else { g[2 * r2 + 1] = a >>> 0; g[2 * r2 + 3] = 0; }
      c.cc = 0;
      return;
    }
    default:
      c.pgm(PGM_OPERATION);
  }
}

/** ISKE / RRBE / SSKE interpreted on the per-frame key array (when not intercepted). */
export function storageKeyOp(c: S390Cpu, sub: number, r1: number, r2: number): void {
  const g = c.gr;
  const abs = c.realToAbs(c.wrapAddr(g[2 * r2]!, g[2 * r2 + 1]!));
  const frame = Math.floor(abs / 4096);
  const keys = c.storage.skeys;
  if (frame >= keys.length || !c.storage.accessible(abs, 1)) c.pgm(0x05);
  const k = keys[frame]!;
  if (sub === 0x29) g[2 * r1 + 1] = ((g[2 * r1 + 1]! & 0xffffff00) | (k & 0xfe)) >>> 0;
  else if (sub === 0x2b) keys[frame] = g[2 * r1 + 1]! & 0xfe;
  else { // RRBE: cc from R and C, then reset R
    c.cc = ((k >>> 2) & 1) << 1 | ((k >>> 1) & 1);
    keys[frame] = k & ~0x04;
  }
}
