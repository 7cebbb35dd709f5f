/**
 * KVM_S390_MEM_OP: read or write guest storage from userspace, through the guest's
 * logical addressing (prefixing, and DAT when on) or at absolute addresses, optionally
 * only checking accessibility. All-or-nothing: a failing access transfers nothing.
 */
import { KvmError, parseArg, s390uapi } from '@kvmts/kvm-core';
import { z } from 'zod';
import type { S390Vcpu } from './kvm-s390';

const S = s390uapi;
const MEM_OP_MAX = 65536;

const memOpSchema = z.object({
  gaddr: z.bigint().min(0n).max((1n << 64n) - 1n),
  size: z.number().int().min(1).max(MEM_OP_MAX),
  op: z.number().int().min(0).max(5),
  buf: z.instanceof(Uint8Array).optional(),
  ar: z.number().int().min(0).max(15).optional(),
  flags: z.number().int().min(0).optional(),
}).strict();

export function memOp(v: S390Vcpu, arg: unknown): Uint8Array | void {
  const op = parseArg(memOpSchema, arg, 'op');
  const flags = op.flags ?? 0;
  if (flags & ~(S.KVM_S390_MEMOP_F_CHECK_ONLY | S.KVM_S390_MEMOP_F_INJECT_EXCEPTION))
    throw new KvmError('EINVAL', `op.flags: unsupported bits 0x${flags.toString(16)}`);
  if (op.op === S.KVM_S390_MEMOP_SIDA_READ || op.op === S.KVM_S390_MEMOP_SIDA_WRITE)
    throw new KvmError('EINVAL', 'op.op: SIDA operations need a protected (PV) guest');
  const checkOnly = (flags & S.KVM_S390_MEMOP_F_CHECK_ONLY) !== 0;
  const write = op.op === S.KVM_S390_MEMOP_LOGICAL_WRITE || op.op === S.KVM_S390_MEMOP_ABSOLUTE_WRITE;
  const absolute = op.op === S.KVM_S390_MEMOP_ABSOLUTE_READ || op.op === S.KVM_S390_MEMOP_ABSOLUTE_WRITE;
  if (write && !checkOnly && (op.buf === undefined || op.buf.length < op.size))
    throw new KvmError('EINVAL', `op.buf: a write needs ${op.size} bytes of data`);
  if (op.gaddr > BigInt(Number.MAX_SAFE_INTEGER)) throw new KvmError('EFAULT', 'op.gaddr: beyond guest storage');
  const c = v.cpu;
  const st = c.storage;
  const base = Number(op.gaddr);
  // Translate every page first: nothing is transferred unless all of it is accessible.
  const abs = new Array<number>(op.size);
  const sb = v.sb;
  const mask0 = c.pswMask0;
  c.setMask0(sb.gpswWord(0));
  c.prefix = sb.prefix & 0x7fffe000;
  try {
    for (let i = 0; i < op.size; i++) {
      const a = base + i;
      let r: number;
      if (absolute) r = a;
      else {
        try {
          r = c.realToAbs(c.logicalToReal(a, write, false));
        } catch {
          if (flags & S.KVM_S390_MEMOP_F_INJECT_EXCEPTION) v.injectProgram(c.pgmCode, 0);
          return failure(c.pgmCode);
        }
      }
      if (st.lookup(r, 1) < 0 || (write && st.readonly)) {
        if (!absolute && (flags & S.KVM_S390_MEMOP_F_INJECT_EXCEPTION)) v.injectProgram(0x05, 0);
        if (absolute) throw new KvmError('EFAULT', `op.gaddr: absolute address 0x${r.toString(16)} is not guest storage`);
        return failure(0x05);
      }
      abs[i] = r;
    }
  } finally {
    c.pswMask0 = mask0;
  }
  if (checkOnly) return;
  if (write) {
    for (let i = 0; i < op.size; i++) { const o = st.lookup(abs[i]!, 1); st.bytes[o] = op.buf![i]!; st.markDirty(abs[i]!); }
    return;
  }
  const out = op.buf !== undefined && op.buf.length >= op.size ? op.buf : new Uint8Array(op.size);
  for (let i = 0; i < op.size; i++) out[i] = st.bytes[st.lookup(abs[i]!, 1)]!;
  return out;
}

/** A logical access that would fault: the ioctl's positive return (the program-interruption code). */
function failure(code: number): never {
  throw new KvmError('EFAULT', `op.gaddr: the access raises program interruption 0x${code.toString(16)} in the guest`);
}
