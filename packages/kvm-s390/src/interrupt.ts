/**
 * Interrupt injection and delivery (arch/s390/kvm/interrupt.c): floating interrupts
 * belong to the VM, local ones to a vCPU; delivery is KVM's job, done before SIE entry
 * through the lowcore old/new PSW swap, in priority order, when the guest is enabled.
 */
import type { S390Cpu } from './engine/cpu';
import {
  LC_IO_INT_PARM, LC_IO_INT_WORD, LC_IO_NEW_PSW, LC_IO_OLD_PSW, LC_SUBCHANNEL_ID,
  LC_EXT_CPU_ADDR, LC_EXT_INT_CODE, LC_EXT_PARAMS, LC_EXT_PARAMS2, LC_EXTERNAL_NEW_PSW,
  LC_EXTERNAL_OLD_PSW, LC_RESTART_NEW_PSW, LC_RESTART_OLD_PSW,
} from './engine/lowcore';
import { PSW_MASK_EXT, PSW_MASK_IO } from './engine/psw';

/** External-interruption codes. */
export const EXT_IRQ_EMERGENCY_SIG = 0x1201;
export const EXT_IRQ_EXTERNAL_CALL = 0x1202;
export const EXT_IRQ_CLK_COMP = 0x1004;
export const EXT_IRQ_CPU_TIMER = 0x1005;
export const EXT_IRQ_SERVICE_SIG = 0x2401;
export const EXT_IRQ_CP_SERVICE = 0x2603;

/** CR0 external subclass masks (bits 49-54 of CR0, in its low word). */
export const CR0_EMERGENCY_SIGNAL_SUBMASK = 0x4000;
export const CR0_EXTERNAL_CALL_SUBMASK = 0x2000;
export const CR0_CLOCK_COMPARATOR_SUBMASK = 0x0800;
export const CR0_CPU_TIMER_SUBMASK = 0x0400;
export const CR0_SERVICE_SIGNAL_SUBMASK = 0x0200;

/** Floating (VM-wide) interrupts. */
export class FloatingInterrupts {
  /** Pending service signal and its accumulated parameter (SCCB address | event bits). */
  serviceParm = 0;
  servicePending = false;
  /** Pending virtio (0x2603) interrupts: [parm, parm64] pairs. */
  readonly virtio: { parm: number; parm64: bigint }[] = [];
  /** Pending I/O interrupts (KVM_S390_INT_IO), in arrival order. */
  readonly io: { subchannelId: number; subchannelNr: number; intParm: number; intWord: number }[] = [];

  get anyPending(): boolean {
    return this.servicePending || this.virtio.length > 0;
  }
}

/** Local (per-vCPU) interrupts. */
export class LocalInterrupts {
  /** Emergency signals pending, by source CPU address. */
  readonly emergency = new Set<number>();
  /** External call pending and its source (-1: none). */
  extCallSrc = -1;
  restart = false;
  stop = false;
  stopStoreStatus = false;
  /** SIGP SET PREFIX deferred to the target (-1: none). */
  setPrefix = -1;
  /** A program interruption to inject: code (0 none), ILC. */
  pgmCode = 0;
  pgmIlc = 0;
}

function extEnabled(c: S390Cpu, submask: number): boolean {
  return (c.pswMask0 & PSW_MASK_EXT) !== 0 && (c.cr[1]! & submask) !== 0;
}

function deliverExt(c: S390Cpu, code: number, cpuAddr: number, parm: number, parm64: bigint | null): void {
  c.wrReal(LC_EXT_INT_CODE, 2, code);
  c.wrReal(LC_EXT_CPU_ADDR, 2, cpuAddr);
  if (parm !== 0 || code === EXT_IRQ_SERVICE_SIG || code === EXT_IRQ_CP_SERVICE) c.wrReal(LC_EXT_PARAMS, 4, parm);
  if (parm64 !== null) {
    c.wrReal(LC_EXT_PARAMS2, 4, Number(parm64 >> 32n) >>> 0);
    c.wrReal(LC_EXT_PARAMS2 + 4, 4, Number(parm64 & 0xffffffffn));
  }
  c.storePsw(LC_EXTERNAL_OLD_PSW);
  c.loadPsw(LC_EXTERNAL_NEW_PSW);
}

export function deliverRestart(c: S390Cpu): void {
  c.storePsw(LC_RESTART_OLD_PSW);
  c.loadPsw(LC_RESTART_NEW_PSW);
}

/** Clock comparator condition: TOD >= CKC (its deadline passed on the virtual clock). */
export function ckcPending(c: S390Cpu): boolean {
  return c.nowNs() >= c.ckcNs;
}

export function cputmPending(c: S390Cpu): boolean {
  return c.nowNs() >= c.cputmNs;
}

/**
 * Deliver every deliverable interrupt, highest priority first (each delivery changes
 * the PSW and so the enablement for the next). Returns true if anything was delivered.
 */
export function deliverPendingInterrupts(c: S390Cpu, li: LocalInterrupts, fi: FloatingInterrupts): boolean {
  let delivered = false;
  for (let guard = 0; guard < 16; guard++) {
    if (li.restart) { li.restart = false; deliverRestart(c); delivered = true; continue; }
    if (li.emergency.size > 0 && extEnabled(c, CR0_EMERGENCY_SIGNAL_SUBMASK)) {
      const src = li.emergency.values().next().value as number;
      li.emergency.delete(src);
      deliverExt(c, EXT_IRQ_EMERGENCY_SIG, src, 0, null);
      delivered = true;
      continue;
    }
    if (li.extCallSrc >= 0 && extEnabled(c, CR0_EXTERNAL_CALL_SUBMASK)) {
      const src = li.extCallSrc;
      li.extCallSrc = -1;
      deliverExt(c, EXT_IRQ_EXTERNAL_CALL, src, 0, null);
      delivered = true;
      continue;
    }
    if (ckcPending(c) && extEnabled(c, CR0_CLOCK_COMPARATOR_SUBMASK)) {
      deliverExt(c, EXT_IRQ_CLK_COMP, 0, 0, null);
      delivered = true;
      // The condition stays while TOD >= CKC; the guest must reprogram or mask it.
      break;
    }
    if (cputmPending(c) && extEnabled(c, CR0_CPU_TIMER_SUBMASK)) {
      deliverExt(c, EXT_IRQ_CPU_TIMER, 0, 0, null);
      delivered = true;
      break;
    }
    if (fi.servicePending && extEnabled(c, CR0_SERVICE_SIGNAL_SUBMASK)) {
      const parm = fi.serviceParm;
      fi.servicePending = false;
      fi.serviceParm = 0;
      deliverExt(c, EXT_IRQ_SERVICE_SIG, 0, parm, null);
      delivered = true;
      continue;
    }
    if (fi.virtio.length > 0 && extEnabled(c, CR0_SERVICE_SIGNAL_SUBMASK)) {
      const v = fi.virtio.shift()!;
      deliverExt(c, EXT_IRQ_CP_SERVICE, 0x0d00, v.parm, v.parm64);
      delivered = true;
      continue;
    }
    if (fi.io.length > 0 && deliverIo(c, fi)) { delivered = true; continue; }
    break;
  }
  return delivered;
}

/** The interruption subclass (ISC) of an I/O interruption word. */
function isc(intWord: number): number {
  return (intWord >>> 27) & 7;
}

/** Deliver the first I/O interrupt the guest is enabled for (PSW I/O bit, CR6 ISC mask). */
export function deliverIo(c: S390Cpu, fi: FloatingInterrupts): boolean {
  if ((c.pswMask0 & PSW_MASK_IO) === 0) return false;
  const cr6 = c.cr[13]!;
  for (let i = 0; i < fi.io.length; i++) {
    const io = fi.io[i]!;
    if ((cr6 & (0x80000000 >>> isc(io.intWord))) === 0) continue;
    fi.io.splice(i, 1);
    c.wrReal(LC_SUBCHANNEL_ID, 2, io.subchannelId);
    c.wrReal(LC_SUBCHANNEL_ID + 2, 2, io.subchannelNr);
    c.wrReal(LC_IO_INT_PARM, 4, io.intParm);
    c.wrReal(LC_IO_INT_WORD, 4, io.intWord);
    c.storePsw(LC_IO_OLD_PSW);
    c.loadPsw(LC_IO_NEW_PSW);
    return true;
  }
  return false;
}

/** Is an I/O interrupt pending for an ISC the guest enabled in CR6 (PSW aside)? */
export function ioPendingMaskedByPsw(c: S390Cpu, fi: FloatingInterrupts): boolean {
  const cr6 = c.cr[13]!;
  for (const io of fi.io) if (cr6 & (0x80000000 >>> isc(io.intWord))) return true;
  return false;
}

/** Is an external interrupt pending that the guest has masked only in the PSW? */
export function extPendingMaskedByPsw(c: S390Cpu, li: LocalInterrupts, fi: FloatingInterrupts): boolean {
  const cr0 = c.cr[1]!;
  return (li.emergency.size > 0 && (cr0 & CR0_EMERGENCY_SIGNAL_SUBMASK) !== 0)
    || (li.extCallSrc >= 0 && (cr0 & CR0_EXTERNAL_CALL_SUBMASK) !== 0)
    || (ckcPending(c) && (cr0 & CR0_CLOCK_COMPARATOR_SUBMASK) !== 0)
    || (cputmPending(c) && (cr0 & CR0_CPU_TIMER_SUBMASK) !== 0)
    || (fi.anyPending && (cr0 & CR0_SERVICE_SIGNAL_SUBMASK) !== 0);
}
