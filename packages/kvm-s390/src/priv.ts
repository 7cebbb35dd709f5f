/**
 * Intercepted instructions (arch/s390/kvm/priv.c and the ICPT_INST dispatch of
 * intercept.c). Each handler works on the state KVM holds: GPRs in the engine, the
 * PSW and control registers in the state description. What KVM does not handle goes
 * to userspace as KVM_EXIT_S390_SIEIC (SERVC for QEMU's SCLP, the channel subsystem).
 */
import type { S390Vcpu } from './kvm-s390';
import { handleDiag } from './diag';
import { handleSigp } from './sigp';
import { handleStsi } from './stsi';
import { LC_STFL_FAC_LIST } from './engine/lowcore';
import { PGM_ADDRESSING, PGM_PRIVILEGED_OP, PGM_SPECIFICATION } from './engine/pgm';
import { ICTL_ISKE, ICTL_RRBE, ICTL_SSKE } from './engine/exec-control';
import { PSW_MASK_PSTATE } from './engine/psw';

const ICPT_INST = 0x04;

/** Guest CPU id (STIDP): version 0xff (a virtual CPU), the CPU address, machine type 2827. */
export function cpuId(v: S390Vcpu): { hi: number; lo: number } {
  return { hi: (0xff000000 | (v.id & 0xffffff)) >>> 0, lo: 0x28278000 };
}

/** The second-operand address b2/d2 of an S-format instruction from ipb. */
export function sOperand(v: S390Vcpu): number {
  const ipb = v.sb.ipb;
  return v.cpu.ea(ipb >>> 28, 0, (ipb >>> 16) & 0xfff);
}

/** Guest memory helpers for handlers: logical access that turns a fault into a program interrupt. */
export function guestAccessOk(v: S390Vcpu, fn: () => void): boolean {
  try {
    fn();
    return true;
  } catch (e) {
    if (typeof e === 'object' && e !== null && (e as { kind?: string }).kind === 'pgm') {
      v.injectProgram(v.cpu.pgmCode, ilen(v));
      return false;
    }
    throw e;
  }
}

/** Instruction length of the intercepted instruction from ipa's first byte. */
export function ilen(v: S390Vcpu): number {
  return [2, 4, 4, 6][v.sb.ipa >>> 14]!;
}

export function handleInstruction(v: S390Vcpu): number {
  const ipa = v.sb.ipa;
  const op = ipa >>> 8;
  if (op === 0x83) return handleDiag(v);
  if (op === 0xae) return handleSigp(v);
  if (op === 0xb2) return handleB2(v, ipa & 0xff);
  if (op === 0xb7 || (op === 0xeb && (v.sb.ipb & 0xff) === 0x2f)) return handleLctl(v, op === 0xeb);
  if (op === 0xe5 && (ipa & 0xff) === 0x01) return handleTprot(v);
  v.exitSieic(ICPT_INST, ipa, v.sb.ipb);
  return 0;
}

function problemState(v: S390Vcpu): boolean {
  return (v.sb.gpswWord(0) & PSW_MASK_PSTATE) !== 0;
}

function handleB2(v: S390Vcpu, sub: number): number {
  const c = v.cpu;
  if (problemState(v) && sub !== 0x7d) { v.injectProgram(PGM_PRIVILEGED_OP, ilen(v)); return 1; }
  switch (sub) {
    case 0x02: { // STIDP
      const a = sOperand(v);
      if (a & 7) { v.injectProgram(PGM_SPECIFICATION, 4); return 1; }
      const id = cpuId(v);
      guestAccessOk(v, () => c.wr64(a, id.hi, id.lo));
      return 1;
    }
    case 0x04: { // SCK: the guest sets its TOD clock (an epoch difference)
      const a = sOperand(v);
      if (a & 7) { v.injectProgram(PGM_SPECIFICATION, 4); return 1; }
      if (!guestAccessOk(v, () => c.rd64(a))) return 1;
      const tod = (BigInt(c.r0) << 32n) | BigInt(c.r1);
      v.sb.epoch = tod - c.clock.todAt(c.nowNs());
      v.setCc(0);
      return 1;
    }
    case 0x10: { // SPX
      const a = sOperand(v);
      if (a & 3) { v.injectProgram(PGM_SPECIFICATION, 4); return 1; }
      let p = 0;
      if (!guestAccessOk(v, () => { p = c.rd32(a) & 0x7fffe000; })) return 1;
      if (!c.storage.accessible(p, 0x2000)) { v.injectProgram(PGM_ADDRESSING, 4); return 1; }
      v.sb.prefix = p;
      return 1;
    }
    case 0x11: { // STPX
      const a = sOperand(v);
      if (a & 3) { v.injectProgram(PGM_SPECIFICATION, 4); return 1; }
      guestAccessOk(v, () => c.wr32(a, v.sb.prefix & 0x7fffe000));
      return 1;
    }
    case 0x12: { // STAP
      const a = sOperand(v);
      if (a & 1) { v.injectProgram(PGM_SPECIFICATION, 4); return 1; }
      guestAccessOk(v, () => c.wr16(a, v.id));
      return 1;
    }
    case 0x29: case 0x2a: case 0x2b: { // ISKE RRBE SSKE: enable storage keys, retry
      v.vm.skeysEnabled = true;
      v.sb.ictl = v.sb.ictl & ~(ICTL_ISKE | ICTL_SSKE | ICTL_RRBE);
      v.rewindPsw(4);
      return 1;
    }
    case 0x7d: // STSI
      return handleStsi(v);
    case 0xb1: { // STFL: the first facility word into the lowcore
      const f = v.vm.facilities;
      c.wrReal(LC_STFL_FAC_LIST, 4, ((f[0]! << 24) | (f[1]! << 16) | (f[2]! << 8) | f[3]!) >>> 0);
      return 1;
    }
    default:
      // SERVC (SCLP) and the channel-subsystem instructions are userspace's.
      v.exitSieic(ICPT_INST, v.sb.ipa, v.sb.ipb);
      return 0;
  }
}

/** LCTL / LCTLG intercepted (lctl was set to see CR0 changes): emulate the load. */
function handleLctl(v: S390Vcpu, g64: boolean): number {
  const c = v.cpu;
  const sb = v.sb;
  const r1 = (sb.ipa >>> 4) & 15;
  const r3 = sb.ipa & 15;
  const ipb = sb.ipb;
  const d = g64 ? ((((ipb & 0xff00) >>> 8) << 24) >> 12) | ((ipb >>> 16) & 0xfff) : (ipb >>> 16) & 0xfff;
  const a = c.ea(ipb >>> 28, 0, d);
  if (a & (g64 ? 7 : 3)) { v.injectProgram(PGM_SPECIFICATION, g64 ? 6 : 4); return 1; }
  guestAccessOk(v, () => {
    for (let i = r1, k = 0; ; i = (i + 1) & 15, k++) {
      if (g64) {
        c.rd64(c.wrapNum(a + 8 * k));
        sb.setGcrWord(i, 0, c.r0);
        sb.setGcrWord(i, 1, c.r1);
      } else sb.setGcrWord(i, 1, c.rd32(c.wrapNum(a + 4 * k)));
      if (i === r3) break;
    }
  });
  return 1;
}

/** TPROT: without key protection every backed address is fetch- and store-accessible. */
function handleTprot(v: S390Vcpu): number {
  const c = v.cpu;
  const ipb = v.sb.ipb;
  const a = c.ea(ipb >>> 28, 0, (ipb >>> 16) & 0xfff);
  let real = 0;
  if (!guestAccessOk(v, () => { real = c.logicalToReal(a, false, false); })) return 1;
  const abs = c.realToAbs(real);
  if (!c.storage.accessible(abs, 1)) { v.injectProgram(PGM_ADDRESSING, 6); return 1; }
  c.storage.lookup(abs, 1);
  v.setCc(c.storage.readonly ? 1 : 0);
  return 1;
}
