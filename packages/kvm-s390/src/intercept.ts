/**
 * Interception handling (arch/s390/kvm/intercept.c): after SIE exits, decide from the
 * interception code whether KVM handles it (and re-enters: rc > 0) or userspace must
 * (rc 0, with kvm_run filled). KvmError for what Linux returns as an errno.
 */
import { KvmError } from '@kvmts/kvm-core';
import type { S390Vcpu } from './kvm-s390';
import { handleInstruction } from './priv';
import { deliverProgramInterruption } from './engine/run';
import { CR0_CLOCK_COMPARATOR_SUBMASK, CR0_CPU_TIMER_SUBMASK, extPendingMaskedByPsw, ioPendingMaskedByPsw } from './interrupt';
import { PSW_MASK_EXT, PSW_MASK_IO } from './engine/psw';
import { uapi } from '@kvmts/kvm-core';

export const ICPT_INST = 0x04;
export const ICPT_PROGI = 0x08;
export const ICPT_EXTREQ = 0x10;
export const ICPT_IOREQ = 0x18;
export const ICPT_WAIT = 0x1c;
export const ICPT_VALIDITY = 0x20;
export const ICPT_STOP = 0x28;

export function handleIntercept(v: S390Vcpu, icpt: number): number {
  const sb = v.sb;
  switch (icpt) {
    case ICPT_EXTREQ:
    case ICPT_IOREQ:
      v.stats.exitExternalRequest++;
      return 1; // the pre-run delivers what became deliverable
    case ICPT_INST:
      v.stats.exitInstruction++;
      return handleInstruction(v);
    case ICPT_PROGI: {
      v.stats.exitProgramInterruption++;
      // handle_prog: reinject the program interruption into the guest.
      const c = v.cpu;
      c.pgmCode = sb.iprcc;
      c.pgmIlc = sb.pgmilc;
      loadPsw(v);
      deliverProgramInterruption(c);
      storePsw(v);
      return 1;
    }
    case ICPT_WAIT:
      v.stats.exitWaitState++;
      return handleWait(v);
    case ICPT_VALIDITY: {
      v.stats.exitValidity++;
      const vir = sb.ipb >>> 16;
      v.exitSieic(ICPT_VALIDITY, sb.ipa, sb.ipb);
      throw new KvmError('EINVAL', `validity intercept 0x${vir.toString(16).padStart(4, '0')}: the state description is not valid (prefix 0x${(sb.prefix >>> 0).toString(16)})`);
    }
    default:
      v.exitSieic(icpt, sb.ipa, sb.ipb);
      return 0;
  }
}

function loadPsw(v: S390Vcpu): void {
  const c = v.cpu;
  const sb = v.sb;
  c.setMask0(sb.gpswWord(0));
  c.pswMask1 = sb.gpswWord(1);
  c.pswAddr = sb.gpswWord(2) * 4294967296 + sb.gpswWord(3);
  c.prefix = sb.prefix & 0x7fffe000;
}

function storePsw(v: S390Vcpu): void {
  const c = v.cpu;
  const sb = v.sb;
  sb.setGpswWord(0, c.getMask0());
  sb.setGpswWord(1, c.pswMask1);
  const lo = c.pswAddr >>> 0;
  sb.setGpswWord(2, Math.floor((c.pswAddr - lo) / 4294967296));
  sb.setGpswWord(3, lo);
}

/**
 * kvm_s390_handle_wait: a disabled wait goes to userspace (it can never end); an
 * enabled wait sleeps until an interrupt is deliverable. Time is virtual, so sleeping
 * until the clock comparator or CPU timer fires advances the VM's clock to it.
 */
function handleWait(v: S390Vcpu): number {
  const sb = v.sb;
  loadPsw(v);
  if (v.pswInterruptsDisabled()) {
    v.exitSieic(ICPT_WAIT, sb.ipa, sb.ipb);
    return 0;
  }
  const c = v.cpu;
  const fi = v.vm.fi;
  // Something deliverable now? The next pre-run delivers it.
  if (extPendingMaskedByPsw(c, v.li, fi) && (c.pswMask0 & PSW_MASK_EXT) !== 0) return 1;
  if (ioPendingMaskedByPsw(c, fi) && (c.pswMask0 & PSW_MASK_IO) !== 0) return 1;
  if (v.li.restart || v.li.stop) return 1;
  const cr0 = c.cr[1]!;
  let wake = Infinity;
  if ((c.pswMask0 & PSW_MASK_EXT) !== 0) {
    if (cr0 & CR0_CLOCK_COMPARATOR_SUBMASK) wake = Math.min(wake, c.ckcNs);
    if (cr0 & CR0_CPU_TIMER_SUBMASK) wake = Math.min(wake, c.cputmNs);
  }
  if (wake !== Infinity) {
    const clock = v.vm.clock;
    if (wake > clock.ns) clock.ns = Math.ceil(wake);
    v.stats.haltWakeup++;
    return 1;
  }
  // Nothing can wake this vCPU from inside KVM: return so userspace (or another vCPU's
  // SIGP, or a floating interrupt) can make progress, as a signal would end the sleep.
  v.blocked = true;
  v.run_.exitReason = uapi.KVM_EXIT_INTR;
  return 0;
}
