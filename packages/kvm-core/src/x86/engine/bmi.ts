/**
 * The VEX-encoded general-purpose instructions (SDM Vol. 2 2.3 "VEX", 3.1 BMI1/BMI2):
 * BMI1 ANDN, BEXTR, BLSI, BLSMSK, BLSR; BMI2 BZHI, MULX, PDEP, PEXT, RORX, SARX, SHLX,
 * SHRX; and ADX's ADCX/ADOX (legacy-encoded 66/F3 0F 38 F6). No AVX: a VEX prefix for
 * anything else is #UD. 64-bit operands travel as (lo, hi) Int32 halves.
 */
import { mulu64, szp, szp64 } from './alu';
import { FLAG_AF, FLAG_CF, FLAG_OF, FLAG_PF, FLAG_SF, FLAG_ZF, UD_VECTOR } from './constants';
import type { X86Cpu } from './cpu';
import { d, decodeModrm, fetch8, getReg, readRm, setReg } from './decoder';

const ARITH = FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF;
/** Scratch for 64-bit results (no allocation per instruction). */
let tLo = 0;
let tHi = 0;
const mulOut = new Int32Array(4);

/** Logical right shift of a 64-bit (lo, hi) by n (0..63) into tLo/tHi. */
function shr64(lo: number, hi: number, n: number): void {
  if (n === 0) { tLo = lo; tHi = hi; } else if (n < 32) { tLo = (lo >>> n) | (hi << (32 - n)); tHi = hi >>> n; } else { tLo = hi >>> (n - 32); tHi = 0; }
  tLo |= 0; tHi |= 0;
}

function shl64(lo: number, hi: number, n: number): void {
  if (n === 0) { tLo = lo; tHi = hi; } else if (n < 32) { tHi = (hi << n) | (lo >>> (32 - n)); tLo = lo << n; } else { tHi = lo << (n - 32); tLo = 0; }
  tLo |= 0; tHi |= 0;
}

function sar64(lo: number, hi: number, n: number): void {
  if (n === 0) { tLo = lo; tHi = hi; } else if (n < 32) { tLo = (lo >>> n) | (hi << (32 - n)); tHi = hi >> n; } else { tLo = hi >> (n - 32); tHi = hi >> 31; }
  tLo |= 0; tHi |= 0;
}

/** Keep the low n bits (n >= bits keeps all). */
function lowBits64(lo: number, hi: number, n: number): void {
  if (n >= 64) { tLo = lo; tHi = hi; } else if (n >= 32) { tLo = lo; tHi = n === 32 ? 0 : hi & ((1 << (n - 32)) - 1); } else { tLo = n === 0 ? 0 : lo & (n === 32 ? -1 : (1 << n) - 1); tHi = 0; }
  tLo |= 0; tHi |= 0;
}

/** SF/ZF (and CF/OF cleared) for a result of `bytes` size; PF/AF cleared (undefined in the SDM). */
function logicFlags(cpu: X86Cpu, bytes: number, lo: number, hi: number, cf: number): void {
  const zs = bytes === 8 ? szp64(lo, hi) : szp(lo, 4);
  cpu.flags = (cpu.flags & ~ARITH) | (zs & (FLAG_ZF | FLAG_SF)) | cf;
}

/** One bit-deposit/extract pass over 32 bits of mask and source; returns the updated state. */
function pdep32(src: number, srcBit: number, mask: number): number {
  // Deposits the next source bits (from srcBit) at the set bits of mask; result in tLo.
  let r = 0;
  let k = srcBit;
  for (let i = 0; i < 32; i++) {
    if (mask & (1 << i)) {
      if (k < 32 ? (src >>> k) & 1 : 0) r |= 1 << i;
      k++;
    }
  }
  tLo = r | 0;
  return k;
}

/**
 * C4/C5 in protected or long mode with a register-form second byte (always in 64-bit
 * mode): a VEX prefix. Returns false when it is LES/LDS instead.
 */
export function isVexPrefix(cpu: X86Cpu): boolean {
  if (cpu.mode64) return true;
  if (!cpu.pmode) return false;
  const next = fetch8();
  d.ip--;
  return (next & 0xc0) === 0xc0;
}

/** Executes a VEX-encoded instruction; `op` is the C4 or C5 prefix byte. */
export function execVex(cpu: X86Cpu, op: number): void {
  // VEX after 66/F2/F3/REX/LOCK is #UD (SDM 2.3.2).
  if (d.has66 || d.rep !== 0 || d.rex !== 0 || d.lock) cpu.raise(UD_VECTOR);
  const b1 = fetch8();
  let map = 1;
  let w = 0;
  let b2 = b1;
  let rBar = b1 >> 7;
  let xBar = 1;
  let bBar = 1;
  if (op === 0xc4) {
    xBar = (b1 >> 6) & 1;
    bBar = (b1 >> 5) & 1;
    map = b1 & 0x1f;
    b2 = fetch8();
    w = b2 >> 7;
  }
  let vvvv = (~b2 >> 3) & 15;
  const l = (b2 >> 2) & 1;
  const pp = b2 & 3;
  if (cpu.mode64) {
    d.rexR = rBar ? 0 : 8;
    d.rexX = xBar ? 0 : 8;
    d.rexB = bBar ? 0 : 8;
  } else {
    // Outside 64-bit mode the inverted R/X/B and vvvv[3] are ignored, W selects nothing.
    rBar = 1;
    vvvv &= 7;
    w = 0;
    d.rexR = 0; d.rexX = 0; d.rexB = 0;
  }
  const opc = fetch8();
  if (l !== 0) cpu.raise(UD_VECTOR);
  const bytes = w ? 8 : 4;
  d.opsize = bytes;
  const bits = bytes * 8;
  if (map === 3) {
    if (opc !== 0xf0 || pp !== 3 || vvvv !== 0) cpu.raise(UD_VECTOR);
    decodeModrm(1);
    const lo = readRm(bytes); const hi = bytes === 8 ? d.hi : 0;
    const n = fetch8() & (bits - 1);
    // RORX: rotate right, flags untouched.
    if (bytes === 4) setReg(4, d.reg, n === 0 ? lo : (lo >>> n) | (lo << (32 - n)), 0);
    else {
      shr64(lo, hi, n); const rl = tLo, rh = tHi;
      shl64(lo, hi, (64 - n) & 63); setReg(8, d.reg, n === 0 ? lo : rl | tLo, n === 0 ? hi : rh | tHi);
    }
    return;
  }
  if (map !== 2) cpu.raise(UD_VECTOR);
  switch (opc) {
    case 0xf2: { // ANDN r, vvvv, r/m: ~vvvv & r/m
      if (pp !== 0) cpu.raise(UD_VECTOR);
      decodeModrm(0);
      const lo = readRm(bytes); const hi = bytes === 8 ? d.hi : 0;
      const vlo = getReg(bytes, vvvv); const vhi = bytes === 8 ? d.hi : 0;
      const rl = ~vlo & lo; const rh = bytes === 8 ? ~vhi & hi : 0;
      setReg(bytes, d.reg, rl, rh);
      logicFlags(cpu, bytes, rl, rh, 0);
      return;
    }
    case 0xf3: { // group 17: BLSR /1, BLSMSK /2, BLSI /3 -> vvvv
      if (pp !== 0) cpu.raise(UD_VECTOR);
      decodeModrm(0);
      const sub = (d.modrm >> 3) & 7;
      if (sub < 1 || sub > 3) cpu.raise(UD_VECTOR);
      const lo = readRm(bytes); const hi = bytes === 8 ? d.hi : 0;
      const zero = lo === 0 && hi === 0;
      // src - 1 and -src as 64-bit halves (the 32-bit case has hi = 0 and ignores it).
      const mLo = (lo - 1) | 0; const mHi = lo === 0 ? (hi - 1) | 0 : hi;
      const nLo = (-lo) | 0; const nHi = lo === 0 ? (-hi) | 0 : ~hi;
      let rl: number; let rh: number; let cf: number;
      if (sub === 1) { rl = lo & mLo; rh = hi & mHi; cf = zero ? FLAG_CF : 0; } // BLSR
      else if (sub === 2) { rl = lo ^ mLo; rh = hi ^ mHi; cf = zero ? FLAG_CF : 0; } // BLSMSK
      else { rl = lo & nLo; rh = hi & nHi; cf = zero ? 0 : FLAG_CF; } // BLSI
      if (bytes === 4) rh = 0;
      setReg(bytes, vvvv, rl, rh);
      logicFlags(cpu, bytes, rl, rh, cf);
      return;
    }
    case 0xf5: {
      decodeModrm(0);
      if (pp === 0) { // BZHI r, r/m, vvvv: clear bits from index vvvv[7:0]
        const lo = readRm(bytes); const hi = bytes === 8 ? d.hi : 0;
        const n = getReg(4, vvvv) & 0xff;
        lowBits64(lo, bytes === 8 ? hi : 0, n < bits ? n : 64);
        const rl = tLo; const rh = bytes === 8 ? tHi : 0;
        setReg(bytes, d.reg, rl, rh);
        logicFlags(cpu, bytes, rl, rh, n > bits - 1 ? FLAG_CF : 0);
        return;
      }
      if (pp !== 2 && pp !== 3) cpu.raise(UD_VECTOR);
      const mlo = readRm(bytes); const mhi = bytes === 8 ? d.hi : 0;
      const slo = getReg(bytes, vvvv); const shi = bytes === 8 ? d.hi : 0;
      if (pp === 3) { // PDEP: source's low bits to the mask's set bits
        const k = pdep32(slo, 0, mlo); const rl = tLo;
        let rh = 0;
        if (bytes === 8) {
          // Bits of the source beyond 31 come from its high half.
          let r = 0; let kk = k;
          for (let i = 0; i < 32; i++) {
            if (mhi & (1 << i)) {
              const bit = kk < 32 ? (slo >>> kk) & 1 : kk < 64 ? (shi >>> (kk - 32)) & 1 : 0;
              if (bit) r |= 1 << i;
              kk++;
            }
          }
          rh = r | 0;
        }
        setReg(bytes, d.reg, rl, rh);
      } else { // PEXT: the source's bits at the mask's set bits, packed low
        let rl = 0; let rh = 0; let k = 0;
        for (let i = 0; i < bits; i++) {
          const inMask = i < 32 ? (mlo >>> i) & 1 : (mhi >>> (i - 32)) & 1;
          if (!inMask) continue;
          const bit = i < 32 ? (slo >>> i) & 1 : (shi >>> (i - 32)) & 1;
          if (bit) { if (k < 32) rl |= 1 << k; else rh |= 1 << (k - 32); }
          k++;
        }
        setReg(bytes, d.reg, rl | 0, rh | 0);
      }
      return;
    }
    case 0xf6: { // MULX r(hi), vvvv(lo), r/m: unsigned EDX/RDX * r/m, flags untouched
      if (pp !== 3) cpu.raise(UD_VECTOR);
      decodeModrm(0);
      const lo = readRm(bytes); const hi = bytes === 8 ? d.hi : 0;
      const R = d.regs;
      if (bytes === 4) {
        mulu64(lo, 0, R[4]!, 0, mulOut);
        setReg(4, vvvv, mulOut[0]!, 0);
        setReg(4, d.reg, mulOut[1]!, 0);
      } else {
        mulu64(lo, hi, R[4]!, R[5]!, mulOut);
        setReg(8, vvvv, mulOut[0]!, mulOut[1]!);
        setReg(8, d.reg, mulOut[2]!, mulOut[3]!); // same register: the high half wins
      }
      return;
    }
    case 0xf7: {
      decodeModrm(0);
      const lo = readRm(bytes); const hi = bytes === 8 ? d.hi : 0;
      if (pp === 0) { // BEXTR r, r/m, vvvv: start vvvv[7:0], length vvvv[15:8]
        const ctl = getReg(4, vvvv);
        const start = ctl & 0xff; const len = (ctl >> 8) & 0xff;
        if (start >= bits) { tLo = 0; tHi = 0; } else shr64(lo, hi, start);
        lowBits64(tLo, tHi, len);
        const rl = tLo; const rh = bytes === 8 ? tHi : 0;
        setReg(bytes, d.reg, rl, rh);
        logicFlags(cpu, bytes, rl, rh, 0);
        return;
      }
      // SHLX (66) / SARX (F3) / SHRX (F2): count vvvv masked to the operand size, no flags.
      const n = getReg(4, vvvv) & (bits - 1);
      if (bytes === 4) {
        setReg(4, d.reg, pp === 1 ? lo << n : pp === 2 ? lo >> n : lo >>> n, 0);
      } else {
        if (pp === 1) shl64(lo, hi, n); else if (pp === 2) sar64(lo, hi, n); else shr64(lo, hi, n);
        setReg(8, d.reg, tLo, tHi);
      }
      return;
    }
    default:
      cpu.raise(UD_VECTOR);
  }
}

/** ADCX (66 0F 38 F6: carry in and out through CF) and ADOX (F3: through OF); other flags kept. */
export function execAdx(cpu: X86Cpu): void {
  const useOf = d.rep === 0xf3;
  const bytes = d.rexW ? 8 : 4;
  decodeModrm(0);
  const slo = readRm(bytes); const shi = bytes === 8 ? d.hi : 0;
  const alo = getReg(bytes, d.reg); const ahi = bytes === 8 ? d.hi : 0;
  const f = cpu.flags;
  const cin = useOf ? (f & FLAG_OF ? 1 : 0) : f & FLAG_CF;
  const sumLo = (alo >>> 0) + (slo >>> 0) + cin;
  const c1 = sumLo > 0xffffffff ? 1 : 0;
  let cout = c1;
  let rh = 0;
  if (bytes === 8) {
    const sumHi = (ahi >>> 0) + (shi >>> 0) + c1;
    cout = sumHi > 0xffffffff ? 1 : 0;
    rh = sumHi | 0;
  }
  setReg(bytes, d.reg, sumLo | 0, rh);
  cpu.flags = useOf ? (f & ~FLAG_OF) | (cout ? FLAG_OF : 0) : (f & ~FLAG_CF) | cout;
}
