/**
 * The engine's execution loop: what the SIE instruction does between entry and exit.
 * It runs instructions until an interception condition or the end of the slice, and
 * takes the interruptions SIE delivers itself (program interruptions unless the host
 * asked to intercept them, SVC). Host-owned interrupts (external, I/O, restart) are
 * KVM's to deliver before entry.
 */
import { PGM_ABORT, type S390Cpu } from './cpu';
import { execute } from './exec';
import { ICTL_PINT } from './exec-control';
import {
  LC_DATA_EXC_CODE, LC_PGM_CODE, LC_PGM_ILC, LC_PROGRAM_NEW_PSW, LC_PROGRAM_OLD_PSW, LC_TRANS_EXC_CODE,
} from './lowcore';
import { PGM_DATA, PGM_PROTECTION, pgmIsNullifying } from './pgm';
import { PSW_MASK_DAT, PSW_MASK_WAIT } from './psw';

export const ICPT_PROGI = 0x08;
export const ICPT_EXTREQ = 0x10;
export const ICPT_WAIT = 0x1c;
const ILEN = [2, 4, 4, 6];

/** Run up to `budget` instructions; stops early with cpu.icptcode set. */
export function runCpu(c: S390Cpu, budget: number): void {
  c.icptcode = 0;
  for (let n = 0; n < budget; n++) {
    const m = c.pswMask0;
    if ((m & (PSW_MASK_WAIT | c.interventionMask)) !== 0) {
      if (m & PSW_MASK_WAIT) c.intercept(ICPT_WAIT, 0, 0);
      else c.intercept(ICPT_EXTREQ, 0, 0);
      return;
    }
    const ia = c.pswAddr;
    c.insnAddr = ia;
    c.insnLen = 2;
    try {
      const h0 = c.fetch16(ia);
      const len = ILEN[h0 >>> 14]!;
      c.insnLen = len;
      const h1 = len > 2 ? c.fetch16(c.wrapNum(ia + 2)) : 0;
      const h2 = len > 4 ? c.fetch16(c.wrapNum(ia + 4)) : 0;
      c.pswAddr = c.wrapNum(ia + len);
      execute(c, h0, h1, h2, ia);
    } catch (e) {
      if (e !== PGM_ABORT) throw e;
      c.executing = false;
      if (pgmIsNullifying(c.pgmCode)) c.pswAddr = ia;
      if (c.ictl & ICTL_PINT) {
        c.sliceInsns++;
        c.intercept(ICPT_PROGI, 0, 0);
        return;
      }
      deliverProgramInterruption(c);
    }
    c.sliceInsns++;
    if (c.icptcode !== 0) return;
  }
}

/** The program-interruption PSW swap with the lowcore fields (what __deliver_prog writes). */
export function deliverProgramInterruption(c: S390Cpu): void {
  const code = c.pgmCode;
  c.wrReal(LC_PGM_ILC, 2, c.pgmIlc);
  c.wrReal(LC_PGM_CODE, 2, code);
  if (code === PGM_DATA) c.wrReal(LC_DATA_EXC_CODE, 4, c.dataExcCode);
  if (pgmIsNullifying(code) || (code === PGM_PROTECTION && (c.pswMask0 & PSW_MASK_DAT) !== 0)) {
    // The translation-exception identification (page address | ASCE id).
    c.wrReal(LC_TRANS_EXC_CODE, 4, Math.floor(c.transExcCode / 4294967296) >>> 0);
    c.wrReal(LC_TRANS_EXC_CODE + 4, 4, c.transExcCode >>> 0);
  }
  c.storePsw(LC_PROGRAM_OLD_PSW);
  c.loadPsw(LC_PROGRAM_NEW_PSW);
}
