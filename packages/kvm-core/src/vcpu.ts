/**
 * Vcpu: a vCPU file descriptor (kvm_vcpu_ioctl). run() is synchronous, like the blocking
 * KVM_RUN ioctl, and returns the vCPU's KvmRun.
 */
import type { KvmArchVcpu, KvmVcpuContext } from './arch';
import { KvmError } from './errors';
import { KvmRun } from './kvm-run';
import {
  cpuidEntrySchema, kvmRegsSchema, kvmSregsSchema, mpStateSchema, msrEntrySchema, parseArg, u32, u8,
} from './schemas';
import type {
  KvmCpuidEntry2, KvmMpState, KvmMsrEntry, KvmRegs, KvmSregs,
} from './uapi/structs';
import type { Vm } from './vm';
import { z } from 'zod';
import type { KvmVcpuEvents } from './x86/irqchip/irqchip-ioctls';

export class Vcpu implements KvmVcpuContext {
  /** The vCPU's kvm_run (what the mmap of the vCPU fd shows on Linux). */
  readonly kvmRun: KvmRun = new KvmRun();
  private readonly archVcpu: KvmArchVcpu;
  private destroyed = false;

  constructor(readonly vm: Vm, readonly vcpuId: number, create: (ctx: KvmVcpuContext) => KvmArchVcpu) {
    this.archVcpu = create(this);
  }

  /** kvm_run.immediate_exit: when set, the next run() returns KVM_EXIT_INTR at once. */
  get immediateExit(): boolean {
    return this.kvmRun.immediateExit !== 0;
  }

  set immediateExit(v: boolean) {
    this.kvmRun.immediateExit = v ? 1 : 0;
  }

  /** KVM_RUN. Throws KvmError for what Linux returns as a negative errno. */
  run(): KvmRun {
    this.checkAlive();
    this.archVcpu.run();
    return this.kvmRun;
  }

  /** KVM_GET_REGS */
  getRegs(): KvmRegs {
    return this.need('getRegs', this.archVcpu.getRegs).call(this.archVcpu);
  }

  /** KVM_SET_REGS */
  setRegs(regs: KvmRegs): void {
    const fn = this.need('setRegs', this.archVcpu.setRegs);
    fn.call(this.archVcpu, parseArg(kvmRegsSchema, regs, 'regs'));
  }

  /** KVM_GET_SREGS */
  getSregs(): KvmSregs {
    return this.need('getSregs', this.archVcpu.getSregs).call(this.archVcpu);
  }

  /** KVM_SET_SREGS */
  setSregs(sregs: KvmSregs): void {
    const fn = this.need('setSregs', this.archVcpu.setSregs);
    fn.call(this.archVcpu, parseArg(kvmSregsSchema, sregs, 'sregs') as KvmSregs);
  }

  /** KVM_GET_MSRS: the entries read; stops at the first MSR that cannot be read. */
  getMsrs(indices: readonly number[]): KvmMsrEntry[] {
    const fn = this.need('getMsrs', this.archVcpu.getMsrs);
    return fn.call(this.archVcpu, parseArg(z.array(u32), indices, 'indices'));
  }

  /** KVM_SET_MSRS: returns how many entries were written (stops at the first failure). */
  setMsrs(entries: readonly KvmMsrEntry[]): number {
    const fn = this.need('setMsrs', this.archVcpu.setMsrs);
    return fn.call(this.archVcpu, parseArg(z.array(msrEntrySchema), entries, 'entries'));
  }

  /** KVM_SET_CPUID2 */
  setCpuid2(entries: readonly KvmCpuidEntry2[]): void {
    const fn = this.need('setCpuid2', this.archVcpu.setCpuid2);
    fn.call(this.archVcpu, parseArg(z.array(cpuidEntrySchema).max(256), entries, 'entries'));
  }

  /** KVM_GET_CPUID2 */
  getCpuid2(): KvmCpuidEntry2[] {
    return this.need('getCpuid2', this.archVcpu.getCpuid2).call(this.archVcpu);
  }

  /** KVM_GET_MP_STATE */
  getMpState(): KvmMpState {
    return this.need('getMpState', this.archVcpu.getMpState).call(this.archVcpu);
  }

  /** KVM_SET_MP_STATE */
  setMpState(state: KvmMpState): void {
    const fn = this.need('setMpState', this.archVcpu.setMpState);
    fn.call(this.archVcpu, parseArg(mpStateSchema, state, 'state'));
  }

  /** KVM_INTERRUPT: inject an external interrupt vector (userspace irqchip only). */
  interrupt(irq: number): void {
    const fn = this.need('interrupt', this.archVcpu.interrupt);
    fn.call(this.archVcpu, parseArg(u8, irq, 'irq'));
  }

  /** KVM_NMI */
  nmi(): void {
    this.need('nmi', this.archVcpu.nmi).call(this.archVcpu);
  }

  // ---- Architecture ioctls on the vCPU fd, delegated like the VM ones.

  /** KVM_GET_LAPIC: the 1 KiB register page (KVM_APIC_REG_SIZE). */
  getLapic(): Uint8Array {
    return this.archIoctl('getLapic');
  }

  /** KVM_SET_LAPIC */
  setLapic(regs: Uint8Array): void {
    this.archIoctl('setLapic', regs);
  }

  /** KVM_GET_VCPU_EVENTS */
  getVcpuEvents<T = KvmVcpuEvents>(): T {
    return this.archIoctl('getVcpuEvents');
  }

  /** KVM_SET_VCPU_EVENTS */
  setVcpuEvents(events: unknown): void {
    this.archIoctl('setVcpuEvents', events);
  }

  /** KVM_GET_FPU */
  getFpu<T = unknown>(): T {
    return this.archIoctl('getFpu');
  }

  /** KVM_SET_FPU */
  setFpu(fpu: unknown): void {
    this.archIoctl('setFpu', fpu);
  }

  /** KVM_TRANSLATE: a guest-linear address through the guest's page tables. */
  translate(linearAddress: bigint): { physicalAddress: bigint; valid: number; writeable: number; usermode: number } {
    return this.archIoctl('translate', linearAddress);
  }

  /** KVM_SET_GUEST_DEBUG (control: KVM_GUESTDBG_*). */
  setGuestDebug(dbg: { control: number; debugreg?: readonly bigint[] }): void {
    this.archIoctl('setGuestDebug', dbg);
  }

  /** s390: KVM_S390_SET_INITIAL_PSW */
  setInitialPsw(psw: { mask: bigint; addr: bigint }): void {
    this.archIoctl('setInitialPsw', psw);
  }

  /** s390: KVM_S390_INITIAL_RESET */
  initialReset(): void {
    this.archIoctl('initialReset');
  }

  /** s390: KVM_S390_INTERRUPT on the vCPU fd (a local interrupt). */
  s390Interrupt(irq: { type: number; parm?: number; parm64?: bigint }): void {
    this.archIoctl('s390Interrupt', irq);
  }

  /** s390: KVM_S390_MEM_OP (logical or absolute read/write, optionally check-only). */
  memOp(op: { gaddr: bigint; size: number; op: number; buf?: Uint8Array; ar?: number; flags?: number }): Uint8Array | void {
    return this.archIoctl('memOp', op);
  }

  /** A vCPU ioctl that the architecture provides (getLapic, s390Interrupt, memOp, ...). */
  archIoctl<R>(name: string, ...args: unknown[]): R {
    this.checkAlive();
    const fn = this.archVcpu.ioctls?.[name] as ((...a: unknown[]) => R) | undefined;
    if (fn === undefined) throw new KvmError('ENOTTY', `${name} is not supported on ${this.vm.arch}`);
    return fn(...args);
  }

  /** The architecture's vCPU object, for code inside kvm-core and its vendor modules. */
  get archState(): KvmArchVcpu {
    return this.archVcpu;
  }

  /** @internal Called by Vm.destroy. */
  destroy(): void {
    if (this.destroyed) return;
    this.archVcpu.destroy();
    this.destroyed = true;
  }

  private need<F>(name: string, fn: F | undefined): F {
    this.checkAlive();
    if (fn === undefined) throw new KvmError('ENOTTY', `${name} is not supported on ${this.vm.arch}`);
    return fn;
  }

  private checkAlive(): void {
    if (this.destroyed || this.vm.isDestroyed) throw new KvmError('EBADF', 'the vCPU has been destroyed');
  }
}
