/**
 * Instruction emulation for vendors built on the engine (the role of emulate.c +
 * x86.c's kvm_emulate_instruction, x86_emulate_insn's MMIO/PIO paths, kvm_emulate_cpuid
 * and the hypercall fix-up). KVM emulates an instruction in software after an exit that
 * the hardware cannot finish (MMIO, string I/O, a write to a read-only slot); here the
 * "software emulator" is the engine itself, run for one instruction with every intercept
 * off, against the guest state the vendor just saved. The vendor provides emulateOne.
 *
 * Contract: while a vCPU uses these helpers, vcpu.vendor implements EngineEmulationHost.
 */
import { KVM_CPUID_FLAG_SIGNIFCANT_INDEX } from '../uapi/structs';
import { KVM_EXIT_INTERNAL_ERROR, KVM_EXIT_IO, KVM_EXIT_IO_IN, KVM_EXIT_IO_OUT, KVM_EXIT_MMIO, KVM_EXIT_SHUTDOWN, KVM_INTERNAL_ERROR_EMULATION } from '../uapi/kvm';
import type { X86Cpu } from './engine/cpu';
import { EXIT } from './engine/fault';
import {
  ENGINE_EXIT_BUDGET, ENGINE_EXIT_INTERNAL_ERROR, ENGINE_EXIT_IO, ENGINE_EXIT_MMIO, ENGINE_EXIT_NAMES,
  ENGINE_EXIT_TRIPLE_FAULT,
} from './engine/guest-mode';
import { VCPU_REGS_RAX, VCPU_REGS_RBX, VCPU_REGS_RCX, VCPU_REGS_RDX } from './regs';
import { kvmQueueException, kvmVcpuMmioRead, kvmVcpuMmioWrite, type KvmVcpuX86 } from './x86';

/** What a vendor's per-vCPU state offers to the emulation helpers. */
export interface EngineEmulationHost {
  readonly cpu: X86Cpu;
  /**
   * kvm_emulate_instruction's core: load the guest state into the engine, run exactly
   * one instruction with no intercepts (pending entry events stay pending), save the
   * state back; returns the ENGINE_EXIT_* code (ENGINE_EXIT_BUDGET: it retired).
   */
  emulateOne(vcpu: KvmVcpuX86): number;
  /** Port I/O helper state owned by the host (created once per vCPU, see KvmStringIo). */
  readonly stringIo: KvmStringIo;
}

function hostOf(vcpu: KvmVcpuX86): EngineEmulationHost {
  return vcpu.vendor as EngineEmulationHost;
}

/** kvm_run.internal for an instruction the engine could not emulate. */
export function kvmEmulationFailure(vcpu: KvmVcpuX86, why: string): number {
  const run = vcpu.ctx.kvmRun;
  run.exitReason = KVM_EXIT_INTERNAL_ERROR;
  run.setInternalError(KVM_INTERNAL_ERROR_EMULATION, [BigInt(hostOf(vcpu).cpu.exit.reason)]);
  lastEmulationError.set(vcpu, why);
  return 0;
}

/** Why the last KVM_INTERNAL_ERROR_EMULATION happened (for traces and dumps). */
export const lastEmulationError = new WeakMap<KvmVcpuX86, string>();

/**
 * kvm_emulate_instruction: emulate the instruction at RIP. MMIO goes to the in-kernel
 * devices (LAPIC, IOAPIC, ioeventfds) first, then to userspace as KVM_EXIT_MMIO; a read
 * completes on the next KVM_RUN with kvm_run.mmio.data (complete_emulated_mmio).
 * Returns the handle_exit contract (1 re-enter, 0 userspace).
 */
export function kvmEmulateInstruction(vcpu: KvmVcpuX86): number {
  const host = hostOf(vcpu);
  const cpu = host.cpu;
  // An instruction touches at most a few MMIO locations; in-kernel reads loop here.
  for (let round = 0; round < 8; round++) {
    const r = host.emulateOne(vcpu);
    if (r === ENGINE_EXIT_BUDGET) return 1;
    if (r === ENGINE_EXIT_MMIO) {
      const e = cpu.exit;
      const len = e.size;
      if (e.isWrite) {
        if (kvmVcpuMmioWrite(vcpu, e.gpa, len, e.data.subarray(0, len))) return 1;
        const run = vcpu.ctx.kvmRun;
        run.exitReason = KVM_EXIT_MMIO;
        run.mmio.physAddr = e.gpa;
        run.mmio.len = len;
        run.mmio.isWrite = 1;
        run.mmio.data.fill(0);
        run.mmio.data.set(e.data.subarray(0, Math.min(len, 8)));
        // The store retired; nothing to finish on the next KVM_RUN.
        return 0;
      }
      const buf = e.data.subarray(0, len);
      if (kvmVcpuMmioRead(vcpu, e.gpa, len, buf)) {
        cpu.completeMmioRead(buf);
        continue;
      }
      const run = vcpu.ctx.kvmRun;
      run.exitReason = KVM_EXIT_MMIO;
      run.mmio.physAddr = e.gpa;
      run.mmio.len = len;
      run.mmio.isWrite = 0;
      run.mmio.data.fill(0);
      vcpu.completeUserspaceIo = completeEmulatedMmioRead;
      return 0;
    }
    if (r === ENGINE_EXIT_TRIPLE_FAULT) {
      vcpu.ctx.kvmRun.exitReason = KVM_EXIT_SHUTDOWN;
      return 0;
    }
    if (r === ENGINE_EXIT_INTERNAL_ERROR) return kvmEmulationFailure(vcpu, cpu.exit.internalMessage);
    // Anything else (a TDP fault the MMU could not fix, ...) cannot be emulated.
    return kvmEmulationFailure(vcpu, `emulation stopped with ${ENGINE_EXIT_NAMES[r] ?? r}`);
  }
  return kvmEmulationFailure(vcpu, 'too many in-kernel MMIO rounds in one instruction');
}

/** complete_emulated_mmio: userspace filled kvm_run.mmio.data; re-execute the instruction with it. */
function completeEmulatedMmioRead(vcpu: KvmVcpuX86): number {
  const mmio = vcpu.ctx.kvmRun.mmio;
  hostOf(vcpu).cpu.completeMmioRead(mmio.data.subarray(0, mmio.len));
  return kvmEmulateInstruction(vcpu);
}

/**
 * String I/O (INS/OUTS, with or without REP) one element per exit: the engine executes
 * the instruction with port hooks that take one element and then stop the instruction
 * (a REP restarts with RCX/RSI/RDI already advanced, as the hardware does after an
 * interrupt between iterations). kvm_run.io.count is 1 per exit.
 */
export class KvmStringIo {
  /** Elements moved by the current emulation step. */
  private moved = 0;
  private inValue = 0;
  outValue = 0;
  /** The hooks the engine calls (created once; installed only while emulating). */
  readonly ioRead = (port: number, size: number): number => {
    if (this.moved > 0) this.stop(port, size, true);
    this.moved++;
    return this.inValue;
  };
  readonly ioWrite = (port: number, size: number, value: number): void => {
    if (this.moved > 0) this.stop(port, size, false);
    this.moved++;
    this.outValue = value;
  };

  constructor(private readonly cpu: X86Cpu) {}

  private stop(port: number, size: number, isIn: boolean): never {
    const e = this.cpu.exit;
    e.port = port;
    e.size = size;
    e.isIn = isIn;
    e.reason = ENGINE_EXIT_IO;
    throw EXIT;
  }

  /** Emulate one element of the string I/O instruction at RIP (IN: with `value`). */
  step(vcpu: KvmVcpuX86, value: number): number {
    const cpu = this.cpu;
    this.moved = 0;
    this.inValue = value;
    const savedRead = cpu.ioRead;
    const savedWrite = cpu.ioWrite;
    cpu.ioRead = this.ioRead;
    cpu.ioWrite = this.ioWrite;
    try {
      return hostOf(vcpu).emulateOne(vcpu);
    } finally {
      cpu.ioRead = savedRead;
      cpu.ioWrite = savedWrite;
    }
  }

  get elementsMoved(): number {
    return this.moved;
  }
}

function stringIoResult(vcpu: KvmVcpuX86, r: number): number {
  // ENGINE_EXIT_IO here is our own stop after one element: the instruction restarts.
  if (r === ENGINE_EXIT_BUDGET || r === ENGINE_EXIT_IO) return 1;
  if (r === ENGINE_EXIT_TRIPLE_FAULT) {
    vcpu.ctx.kvmRun.exitReason = KVM_EXIT_SHUTDOWN;
    return 0;
  }
  if (r === ENGINE_EXIT_MMIO) return kvmEmulationFailure(vcpu, 'string I/O to or from MMIO is not emulated');
  return kvmEmulationFailure(vcpu, `string I/O emulation stopped with ${ENGINE_EXIT_NAMES[r] ?? r}`);
}

/**
 * The exit handler for an intercepted INS/OUTS (kvm_emulate_instruction on a string
 * I/O exit): one element through the in-kernel PIO bus or a KVM_EXIT_IO with count 1.
 */
export function kvmEmulateStringIo(vcpu: KvmVcpuX86, isIn: boolean, port: number, size: number): number {
  const host = hostOf(vcpu);
  const sio = host.stringIo;
  const bus = vcpu.kvm.pioBus;
  const buf = vcpu.pioScratch;
  if (!isIn) {
    const r = sio.step(vcpu, 0);
    if (sio.elementsMoved === 0) return stringIoResult(vcpu, r); // REP with RCX=0, or a fault
    const v = sio.outValue;
    for (let i = 0; i < size; i++) buf[i] = (v >>> (8 * i)) & 0xff;
    if (bus.size > 0 && bus.write(port, size, buf.subarray(0, size), vcpu)) return stringIoResult(vcpu, r);
    const run = vcpu.ctx.kvmRun;
    run.exitReason = KVM_EXIT_IO;
    const data = run.setIo(KVM_EXIT_IO_OUT, size, port, 1);
    for (let i = 0; i < size; i++) data[i] = buf[i]!;
    // The element went to userspace; the instruction already moved past it.
    return 0;
  }
  if (bus.size > 0 && bus.read(port, size, buf.subarray(0, size), vcpu)) {
    let v = 0;
    for (let i = 0; i < size; i++) v |= buf[i]! << (8 * i);
    return stringIoResult(vcpu, sio.step(vcpu, v));
  }
  const run = vcpu.ctx.kvmRun;
  run.exitReason = KVM_EXIT_IO;
  run.setIo(KVM_EXIT_IO_IN, size, port, 1);
  vcpu.completeUserspaceIo = completeStringIn;
  return 0;
}

/** complete_emulated_pio for INS: the element userspace supplied is stored by the instruction. */
function completeStringIn(vcpu: KvmVcpuX86): number {
  const io = vcpu.ctx.kvmRun.io;
  let v = 0;
  for (let i = 0; i < io.size; i++) v |= io.data[i]! << (8 * i);
  return stringIoResult(vcpu, hostOf(vcpu).stringIo.step(vcpu, v));
}

/**
 * kvm_find_cpuid_entry + kvm_cpuid: the answer for (leaf, subleaf) from the table set
 * by KVM_SET_CPUID2. A leaf not in the table reads as zeros (Linux returns the highest
 * basic leaf on Intel for out-of-range leaves: `intelOutOfRange`).
 */
export function kvmCpuid(vcpu: KvmVcpuX86, leaf: number, subleaf: number, out: Uint32Array, intelOutOfRange: boolean): void {
  const entries = vcpu.cpuidEntries;
  let found = findCpuid(entries, leaf, subleaf);
  if (found === undefined && intelOutOfRange) {
    const basic = findCpuid(entries, 0, 0);
    const ext = findCpuid(entries, 0x80000000, 0);
    const inBasic = leaf < 0x80000000 && (basic === undefined || leaf > basic.eax);
    const inExt = leaf >= 0x80000000 && leaf < 0xc0000000 && ext !== undefined && leaf > ext.eax;
    if ((inBasic || inExt) && basic !== undefined) found = findCpuid(entries, basic.eax, subleaf);
  }
  out[0] = found?.eax ?? 0;
  out[1] = found?.ebx ?? 0;
  out[2] = found?.ecx ?? 0;
  out[3] = found?.edx ?? 0;
  if (leaf === 1 && found !== undefined) {
    // OSXSAVE mirrors CR4.OSXSAVE; the initial APIC id is the vCPU's (kvm_update_cpuid_runtime).
    out[2] = (out[2]! & ~(1 << 27)) | (vcpu.cr4 & (1 << 18) ? 1 << 27 : 0);
    out[1] = ((out[1]! & 0x00ffffff) | ((vcpu.vcpuId & 0xff) << 24)) >>> 0;
  }
}

function findCpuid(entries: readonly { function: number; index: number; flags: number; eax: number; ebx: number; ecx: number; edx: number }[], leaf: number, subleaf: number) {
  for (const e of entries) {
    if (e.function !== leaf >>> 0) continue;
    if ((e.flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) && e.index !== subleaf >>> 0) continue;
    return e;
  }
  return undefined;
}

const cpuidOut = new Uint32Array(4);

/** kvm_emulate_cpuid: EAX/ECX in, EAX..EDX out (zero-extended), then skip the instruction. */
export function kvmEmulateCpuid(vcpu: KvmVcpuX86, intelOutOfRange: boolean): number {
  const leaf = Number(vcpu.registerRead(VCPU_REGS_RAX) & 0xffffffffn);
  const sub = Number(vcpu.registerRead(VCPU_REGS_RCX) & 0xffffffffn);
  kvmCpuid(vcpu, leaf, sub, cpuidOut, intelOutOfRange);
  vcpu.registerWrite(VCPU_REGS_RAX, BigInt(cpuidOut[0]!));
  vcpu.registerWrite(VCPU_REGS_RBX, BigInt(cpuidOut[1]!));
  vcpu.registerWrite(VCPU_REGS_RCX, BigInt(cpuidOut[2]!));
  vcpu.registerWrite(VCPU_REGS_RDX, BigInt(cpuidOut[3]!));
  return vcpu.ops.skipEmulatedInstruction(vcpu) ? 1 : 0;
}

/**
 * The hypercall fix-up (emulator's em_hypercall + kvm_x86_ops.patch_hypercall): when a
 * guest executes the other vendor's hypercall instruction, it faults (#UD); KVM rewrites
 * those 3 bytes at CS:RIP with this vendor's instruction and lets the guest retry.
 * `linearRip` is CS.base + RIP. Returns false when the bytes are not `other` or cannot be
 * written (the #UD is then reinjected).
 */
export function kvmFixHypercall(cpu: X86Cpu, linearRip: number, own: ArrayLike<number>, other: ArrayLike<number>): boolean {
  const savedUser = cpu.accessUser;
  cpu.accessUser = 0;
  try {
    for (let i = 0; i < 3; i++) if (cpu.read8(linearRip + i) !== other[i]) return false;
    for (let i = 0; i < 3; i++) cpu.write8(linearRip + i, own[i]!);
    if (cpu.mmioWritePending) {
      cpu.mmioWritePending = false;
      return false;
    }
    return true;
  } catch {
    return false;
  } finally {
    cpu.accessUser = savedUser;
  }
}

/** VMCALL (0F 01 C1) and VMMCALL (0F 01 D9): the two hypercall instructions the fix-up knows. */
const VMCALL_INSN: readonly number[] = [0x0f, 0x01, 0xc1];
const VMMCALL_INSN: readonly number[] = [0x0f, 0x01, 0xd9];

/**
 * handle_ud / ud_interception: a #UD intercepted from the guest. The other vendor's
 * hypercall instruction at CS:RIP becomes this vendor's (patch_hypercall) and the guest
 * retries it; any other #UD goes back to the guest.
 */
export function kvmHandleUd(vcpu: KvmVcpuX86): number {
  const cpu = hostOf(vcpu).cpu;
  const own = vcpu.ops.patchHypercall(vcpu);
  const other = own[2] === VMCALL_INSN[2] ? VMMCALL_INSN : VMCALL_INSN;
  if (kvmFixHypercall(cpu, cpu.segBase[1]! + cpu.rip, own, other)) return 1;
  kvmQueueException(vcpu, 6);
  return 1;
}
