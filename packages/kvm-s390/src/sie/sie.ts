/**
 * The SIE instruction (sie64a): check the state description, load the guest state from
 * it into the engine, run until an interception, and store the guest state and the
 * interception back. GPRs 0-13 travel in the engine's registers (as in the host's
 * registers on real hardware); GPRs 14 and 15 go through gg14/gg15.
 */
import type { S390Cpu } from '../engine/cpu';
import { runCpu } from '../engine/run';
import { LC_SIZE } from '../engine/lowcore';
import {
  CPUSTAT_RUNNING, CPUSTAT_ZARCH, SIE_DXC, SieBlock,
} from './sie-block';

export const ICPT_VALIDITY = 0x20;
/** Validity-intercept reasons (VIR, the high halfword of ipb) as KVM's vsie uses them. */
export const VIR_PREFIX_UNMAPPED = 0x0037;
export const VIR_NOT_ZARCH = 0x1090;

function validity(sb: SieBlock, vir: number): void {
  sb.icptcode = ICPT_VALIDITY;
  sb.ipa = 0;
  sb.ipb = (vir << 16) >>> 0;
}

/** Enter SIE for up to `budget` instructions; the interception is in the block afterwards. */
export function sie64a(sb: SieBlock, c: S390Cpu, budget: number): void {
  // Entry checks: a malformed state description is a validity interception.
  const prefix = sb.prefix & 0x7fffe000;
  if ((sb.cpuflags & CPUSTAT_ZARCH) === 0) { validity(sb, VIR_NOT_ZARCH); return; }
  if (!c.storage.accessible(prefix, LC_SIZE)) { validity(sb, VIR_PREFIX_UNMAPPED); return; }

  // Load the guest state.
  c.prefix = prefix;
  c.setMask0(sb.gpswWord(0));
  c.pswMask1 = sb.gpswWord(1);
  c.pswAddr = sb.gpswWord(2) * 4294967296 + sb.gpswWord(3);
  c.gr[28] = sb.ggWord(14, 0); c.gr[29] = sb.ggWord(14, 1);
  c.gr[30] = sb.ggWord(15, 0); c.gr[31] = sb.ggWord(15, 1);
  for (let n = 0; n < 16; n++) { c.cr[2 * n] = sb.gcrWord(n, 0); c.cr[2 * n + 1] = sb.gcrWord(n, 1); }
  c.ictl = sb.ictl;
  c.lctl = sb.lctl;
  c.todpr = sb.todpr;
  const epoch = sb.epoch;
  if (epoch !== c.epoch) { c.epoch = epoch; c.setCkc(sb.ckc); }
  else if (sb.ckc !== c.ckc) c.setCkc(sb.ckc);
  sb.cpuflags = sb.cpuflags | CPUSTAT_RUNNING;

  runCpu(c, budget);

  // Store the guest state and the interception.
  sb.cpuflags = sb.cpuflags & ~CPUSTAT_RUNNING;
  sb.setGpswWord(0, c.getMask0());
  sb.setGpswWord(1, c.pswMask1);
  const a = c.pswAddr;
  const lo = a >>> 0;
  sb.setGpswWord(2, Math.floor((a - lo) / 4294967296));
  sb.setGpswWord(3, lo);
  sb.setGgWord(14, 0, c.gr[28]!); sb.setGgWord(14, 1, c.gr[29]!);
  sb.setGgWord(15, 0, c.gr[30]!); sb.setGgWord(15, 1, c.gr[31]!);
  for (let n = 0; n < 16; n++) { sb.setGcrWord(n, 0, c.cr[2 * n]!); sb.setGcrWord(n, 1, c.cr[2 * n + 1]!); }
  sb.ckc = c.ckc;
  sb.cputm = c.getCputm();
  sb.icptcode = c.icptcode;
  sb.ipa = c.ipa;
  sb.ipb = c.ipb;
  if (c.icptcode === 0x08) { // ICPT_PROGI: the program-interruption fields for KVM
    sb.pgmilc = c.pgmIlc;
    sb.iprcc = c.pgmCode;
    sb.view.setUint32(SIE_DXC, c.dataExcCode);
  }
}
