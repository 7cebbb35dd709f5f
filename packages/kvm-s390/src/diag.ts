/**
 * DIAGNOSE (arch/s390/kvm/diag.c). DIAG R1,R3,D2(B2): the function code is the
 * second-operand address's low 16 bits.
 */
import { s390uapi, uapi } from '@kvmts/kvm-core';
import type { S390Vcpu } from './kvm-s390';
import { PGM_PRIVILEGED_OP, PGM_SPECIFICATION } from './engine/pgm';
import { PSW_MASK_PSTATE } from './engine/psw';
import { guestAccessOk } from './priv';

const ICPT_INST = 0x04;
/** gpr 1 function code of DIAG 0x500 for a virtio-ccw queue notification. */
const KVM_S390_VIRTIO_CCW_NOTIFY = 3;
/** Pfault token state per vCPU (DIAG 0x258). */
const pfaultTokens = new WeakMap<S390Vcpu, bigint>();

export function handleDiag(v: S390Vcpu): number {
  const sb = v.sb;
  if ((sb.gpswWord(0) & PSW_MASK_PSTATE) !== 0) { v.injectProgram(PGM_PRIVILEGED_OP, 4); return 1; }
  const c = v.cpu;
  const code = c.ea(sb.ipb >>> 28, 0, (sb.ipb >>> 16) & 0xfff) & 0xffff;
  const rx = (sb.ipa >>> 4) & 15;
  const ry = sb.ipa & 15;
  switch (code) {
    case 0x10: // release pages: nothing to give back
    case 0x44: // time-slice end: yield
    case 0x9c: // directed yield
      return 1;
    case 0x258: return diagPageRefService(v, rx, ry);
    case 0x308: { // IPL functions
      const subcode = c.gr[2 * ry + 1]! & 0xffff;
      let flags: number;
      if (subcode === 3) flags = s390uapi.KVM_S390_RESET_CLEAR;
      else if (subcode === 4) flags = 0;
      else { v.exitSieic(ICPT_INST, sb.ipa, sb.ipb); return 0; }
      if (!v.userCpuStateCtrl) v.stop();
      flags |= s390uapi.KVM_S390_RESET_SUBSYSTEM | s390uapi.KVM_S390_RESET_IPL | s390uapi.KVM_S390_RESET_CPU_INIT;
      v.run_.s390Reset.flags = BigInt(flags);
      v.run_.exitReason = uapi.KVM_EXIT_S390_RESET;
      return 0;
    }
    case 0x500: { // virtio-ccw notify: an ioeventfd if one matches, else userspace
      const g = c.gr;
      if (g[2] === 0 && g[3] === KVM_S390_VIRTIO_CCW_NOTIFY) {
        const schid = g[5]!;
        const queue = (BigInt(g[6]!) << 32n) | BigInt(g[7]!);
        const n = v.vm.ccwNotify.find((x) => x.schid === schid && x.queue === queue);
        if (n !== undefined) {
          n.eventfd.signal();
          g[4] = 0; g[5] = 0; // the cookie (none) in gpr 2
          return 1;
        }
      }
      v.exitSieic(ICPT_INST, sb.ipa, sb.ipb);
      return 0;
    }
    default:
      v.exitSieic(ICPT_INST, sb.ipa, sb.ipb);
      return 0;
  }
}

/** DIAG 0x258 (pfault): establish or cancel the page-fault handshake token. */
function diagPageRefService(v: S390Vcpu, rx: number, ry: number): number {
  const c = v.cpu;
  const g = c.gr;
  const addr = c.wrapAddr(g[2 * rx]!, g[2 * rx + 1]!);
  if (addr & 7) { v.injectProgram(PGM_SPECIFICATION, 4); return 1; }
  // struct prs_parm: code, subcode, parm_len, parm_version (u16 each), token_addr (u64)
  let version = 0, code = 0, subcode = 0, len = 0, token = 0n;
  if (!guestAccessOk(v, () => {
    code = c.rd16(addr);
    subcode = c.rd16(c.wrapNum(addr + 2));
    len = c.rd16(c.wrapNum(addr + 4));
    version = c.rd16(c.wrapNum(addr + 6));
    c.rd64(c.wrapNum(addr + 8));
    token = (BigInt(c.r0) << 32n) | BigInt(c.r1);
  })) return 1;
  if (version !== 2 || len < 5 || code !== 0x258) { v.injectProgram(PGM_SPECIFICATION, 4); return 1; }
  const cur = pfaultTokens.get(v);
  if (subcode === 0) { // TOKEN
    if (cur !== undefined) { g[2 * ry] = 0; g[2 * ry + 1] = 8; return 1; }
    pfaultTokens.set(v, token);
    g[2 * ry] = 0; g[2 * ry + 1] = 0;
    return 1;
  }
  if (subcode === 1) { // CANCEL
    g[2 * ry] = 0; g[2 * ry + 1] = cur === undefined ? 4 : 0;
    pfaultTokens.delete(v);
    return 1;
  }
  v.injectProgram(PGM_SPECIFICATION, 4);
  return 1;
}
