/**
 * SIGNAL PROCESSOR (arch/s390/kvm/sigp.c): orders between the vCPUs of a VM, handled
 * in the kernel. SIGP R1,R3,D2(B2): order code from the second-operand address, CPU
 * address in R3, parameter in R1+1 (odd), status into R1 when cc 1.
 */
import type { S390Vcpu } from './kvm-s390';
import { PGM_PRIVILEGED_OP } from './engine/pgm';
import { PSW_MASK_PSTATE } from './engine/psw';
import { storeStatusAt } from './store-status';

export const SIGP_SENSE = 0x01;
export const SIGP_EXTERNAL_CALL = 0x02;
export const SIGP_EMERGENCY_SIGNAL = 0x03;
export const SIGP_START = 0x04;
export const SIGP_STOP = 0x05;
export const SIGP_RESTART = 0x06;
export const SIGP_STOP_AND_STORE_STATUS = 0x09;
export const SIGP_INITIAL_CPU_RESET = 0x0b;
export const SIGP_CPU_RESET = 0x0c;
export const SIGP_SET_PREFIX = 0x0d;
export const SIGP_STORE_STATUS_AT_ADDRESS = 0x0e;
export const SIGP_SET_ARCHITECTURE = 0x12;
export const SIGP_COND_EMERGENCY_SIGNAL = 0x13;
export const SIGP_SENSE_RUNNING = 0x15;

export const SIGP_CC_ORDER_CODE_ACCEPTED = 0;
export const SIGP_CC_STATUS_STORED = 1;
export const SIGP_CC_BUSY = 2;
export const SIGP_CC_NOT_OPERATIONAL = 3;

export const SIGP_STATUS_INVALID_ORDER = 0x00000002;
export const SIGP_STATUS_CHECK_STOP = 0x00000010;
export const SIGP_STATUS_STOPPED = 0x00000040;
export const SIGP_STATUS_EXT_CALL_PENDING = 0x00000080;
export const SIGP_STATUS_INVALID_PARAMETER = 0x00000100;
export const SIGP_STATUS_INCORRECT_STATE = 0x00000200;
export const SIGP_STATUS_NOT_RUNNING = 0x00000400;

function setStatus(v: S390Vcpu, r1: number, status: number): number {
  v.cpu.gr[2 * r1 + 1] = status >>> 0; // bits 32-63 of R1; the high half is kept
  return SIGP_CC_STATUS_STORED;
}

export function handleSigp(v: S390Vcpu): number {
  const sb = v.sb;
  if ((sb.gpswWord(0) & PSW_MASK_PSTATE) !== 0) { v.injectProgram(PGM_PRIVILEGED_OP, 4); return 1; }
  const c = v.cpu;
  const r1 = (sb.ipa >>> 4) & 15;
  const r3 = sb.ipa & 15;
  const order = c.ea(sb.ipb >>> 28, 0, (sb.ipb >>> 16) & 0xfff) & 0xff;
  const cpuAddr = c.gr[2 * r3 + 1]! & 0xffff;
  const parameter = c.gr[2 * (r1 | 1) + 1]!;
  let cc: number;
  if (order === SIGP_SET_ARCHITECTURE) {
    // z/Architecture is the only mode: ESA/390 (0) is an invalid parameter.
    cc = (parameter & 0xff) === 0 ? setStatus(v, r1, SIGP_STATUS_INVALID_PARAMETER) : SIGP_CC_ORDER_CODE_ACCEPTED;
  } else {
    const dst = v.vm.vcpus.get(cpuAddr);
    if (dst === undefined) cc = SIGP_CC_NOT_OPERATIONAL;
    else cc = sigpOrder(v, dst, order, parameter, r1);
  }
  v.setCc(cc);
  return 1;
}

function sigpOrder(src: S390Vcpu, dst: S390Vcpu, order: number, parameter: number, r1: number): number {
  switch (order) {
    case SIGP_SENSE: {
      let status = 0;
      if (dst.li.extCallSrc >= 0) status |= SIGP_STATUS_EXT_CALL_PENDING;
      if (dst.stopped) status |= SIGP_STATUS_STOPPED;
      return status === 0 ? SIGP_CC_ORDER_CODE_ACCEPTED : setStatus(src, r1, status);
    }
    case SIGP_EXTERNAL_CALL:
      if (dst.li.extCallSrc >= 0) return setStatus(src, r1, SIGP_STATUS_EXT_CALL_PENDING);
      dst.li.extCallSrc = src.id;
      return SIGP_CC_ORDER_CODE_ACCEPTED;
    case SIGP_EMERGENCY_SIGNAL:
      dst.li.emergency.add(src.id);
      return SIGP_CC_ORDER_CODE_ACCEPTED;
    case SIGP_COND_EMERGENCY_SIGNAL: {
      // Only if the target is not in an enabled wait or is running elsewhere: we send it.
      dst.li.emergency.add(src.id);
      return SIGP_CC_ORDER_CODE_ACCEPTED;
    }
    case SIGP_SENSE_RUNNING:
      return dst === src ? SIGP_CC_ORDER_CODE_ACCEPTED : setStatus(src, r1, SIGP_STATUS_NOT_RUNNING);
    case SIGP_START:
      dst.start();
      return SIGP_CC_ORDER_CODE_ACCEPTED;
    case SIGP_STOP:
      dst.li.stop = true;
      return SIGP_CC_ORDER_CODE_ACCEPTED;
    case SIGP_STOP_AND_STORE_STATUS:
      dst.li.stop = true;
      storeStatusAt(dst, 0, true);
      return SIGP_CC_ORDER_CODE_ACCEPTED;
    case SIGP_RESTART:
      dst.li.restart = true;
      dst.start();
      return SIGP_CC_ORDER_CODE_ACCEPTED;
    case SIGP_SET_PREFIX: {
      if (!dst.stopped) return setStatus(src, r1, SIGP_STATUS_INCORRECT_STATE);
      const p = parameter & 0x7fffe000;
      if (!src.cpu.storage.accessible(p, 0x2000)) return setStatus(src, r1, SIGP_STATUS_INVALID_PARAMETER);
      dst.sb.prefix = p;
      return SIGP_CC_ORDER_CODE_ACCEPTED;
    }
    case SIGP_STORE_STATUS_AT_ADDRESS: {
      if (!dst.stopped) return setStatus(src, r1, SIGP_STATUS_INCORRECT_STATE);
      const a = parameter & 0x7ffffe00;
      if (!src.cpu.storage.accessible(a, 512)) return setStatus(src, r1, SIGP_STATUS_INVALID_PARAMETER);
      storeStatusAt(dst, a, false);
      return SIGP_CC_ORDER_CODE_ACCEPTED;
    }
    case SIGP_INITIAL_CPU_RESET:
    case SIGP_CPU_RESET:
      dst.initialReset();
      return SIGP_CC_ORDER_CODE_ACCEPTED;
    default:
      return setStatus(src, r1, SIGP_STATUS_INVALID_ORDER);
  }
}
