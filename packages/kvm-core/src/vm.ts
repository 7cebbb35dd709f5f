/**
 * Vm: a VM file descriptor (kvm_vm_ioctl). Owns the memory slots and the vCPUs; the
 * architecture backend does the rest.
 */
import type { KvmArch, KvmArchBackend, KvmArchVm, KvmVmContext } from './arch';
import { KvmError } from './errors';
import type { Host } from './host';
import { Memslots } from './memory/memslots';
import { memoryRegionSchema, parseArg, u32, vcpuIdSchema } from './schemas';
import { KVM_MAX_VCPUS, KVM_MAX_VCPU_IDS } from './uapi/kvm';
import type { KvmUserspaceMemoryRegion } from './uapi/structs';
import { genericCheckExtension } from './kvm';
import { Vcpu } from './vcpu';
import type { EventFd } from './eventfd';
import type { KvmPicState } from './x86/irqchip/i8259';
import type { KvmIoapicState } from './x86/irqchip/ioapic';
import type { KvmPitState2 } from './x86/i8254';

export class Vm implements KvmVmContext {
  readonly memslots = new Memslots();
  readonly arch: KvmArch;
  readonly type: number;
  private readonly archVm: KvmArchVm;
  private readonly vcpus = new Map<number, Vcpu>();
  private destroyed = false;

  constructor(private readonly host: Host, private readonly backend: KvmArchBackend, type: number) {
    this.arch = backend.arch;
    this.type = type;
    this.archVm = backend.createVm(this);
    host.moduleGet(backend.moduleName);
  }

  /** The module whose backend runs this VM. */
  get moduleName(): string {
    return this.backend.moduleName;
  }

  /** KVM_SET_USER_MEMORY_REGION. All-or-nothing: a rejected region changes nothing. */
  setUserMemoryRegion(region: KvmUserspaceMemoryRegion): void {
    this.checkAlive();
    this.memslots.set(parseArg(memoryRegionSchema, region, 'region'));
  }

  /** KVM_GET_DIRTY_LOG: the slot's dirty bitmap (one bit per 4 KiB page), then cleared. */
  getDirtyLog(slot: number): Uint8Array {
    this.checkAlive();
    return this.memslots.getDirtyLog(parseArg(u32, slot, 'slot'));
  }

  /** KVM_CREATE_VCPU. */
  createVcpu(id: number): Vcpu {
    this.checkAlive();
    parseArg(vcpuIdSchema, id, 'id');
    if (id >= KVM_MAX_VCPU_IDS) throw new KvmError('EINVAL', `id: ${id} is not below KVM_MAX_VCPU_IDS (${KVM_MAX_VCPU_IDS})`);
    if (this.vcpus.has(id)) throw new KvmError('EEXIST', `id: vCPU ${id} already exists`);
    if (this.vcpus.size >= KVM_MAX_VCPUS) throw new KvmError('EINVAL', `this VM already has KVM_MAX_VCPUS (${KVM_MAX_VCPUS}) vCPUs`);
    const vcpu = new Vcpu(this, id, (ctx) => this.archVm.createVcpu(ctx));
    this.vcpus.set(id, vcpu);
    return vcpu;
  }

  /** The vCPUs created so far, by id. */
  getVcpus(): readonly Vcpu[] {
    return [...this.vcpus.values()];
  }

  /** KVM_CHECK_EXTENSION on the VM fd. */
  checkExtension(cap: number): number {
    this.checkAlive();
    parseArg(u32, cap, 'cap');
    const generic = genericCheckExtension(cap);
    if (generic !== undefined) return generic;
    return this.archVm.checkExtension?.(cap) ?? this.backend.checkExtension(cap);
  }

  /** close(vm_fd) after all vCPU fds: frees everything and drops the module reference. */
  destroy(): void {
    if (this.destroyed) return;
    for (const v of this.vcpus.values()) v.destroy();
    this.vcpus.clear();
    this.archVm.destroy();
    this.destroyed = true;
    this.host.modulePut(this.backend.moduleName);
  }

  get isDestroyed(): boolean {
    return this.destroyed;
  }

  // ---- Architecture ioctls on the VM fd. Each delegates to the architecture backend,
  // which validates its own argument (KvmError ENOTTY where the arch lacks the ioctl).

  /** KVM_CREATE_IRQCHIP: the in-kernel PIC pair, IOAPIC and per-vCPU LAPICs (x86). */
  createIrqchip(): void {
    this.archIoctl('createIrqchip');
  }

  /** KVM_IRQ_LINE: drive GSI `irq` to `level` (0/1). */
  irqLine(irq: number, level: number): void {
    this.archIoctl('irqLine', irq, level);
  }

  /** KVM_IRQ_LINE_STATUS: as irqLine, returning the delivery status. */
  irqLineStatus(irq: number, level: number): number {
    return this.archIoctl('irqLineStatus', irq, level);
  }

  /** KVM_GET_IRQCHIP (chipId: KVM_IRQCHIP_PIC_MASTER/SLAVE/IOAPIC). */
  getIrqchip<T = KvmPicState | KvmIoapicState>(chipId: number): T {
    return this.archIoctl('getIrqchip', chipId);
  }

  /** KVM_SET_IRQCHIP */
  setIrqchip(chipId: number, state: unknown): void {
    this.archIoctl('setIrqchip', chipId, state);
  }

  /** KVM_CREATE_PIT2 (config.flags: KVM_PIT_SPEAKER_DUMMY). */
  createPit2(config: { flags: number } = { flags: 0 }): void {
    this.archIoctl('createPit2', config);
  }

  /** KVM_REINJECT_CONTROL: the PIT's lost-tick policy (pitReinject 0 drops ticks the guest did not acknowledge in time). */
  reinjectControl(ctl: { pitReinject: number }): void {
    this.archIoctl('reinjectControl', ctl);
  }

  /** KVM_GET_PIT2 */
  getPit2<T = KvmPitState2>(): T {
    return this.archIoctl('getPit2');
  }

  /** KVM_SET_PIT2 */
  setPit2(state: unknown): void {
    this.archIoctl('setPit2', state);
  }

  /** KVM_SET_GSI_ROUTING: replaces the whole routing table. */
  setGsiRouting(entries: readonly unknown[]): void {
    this.archIoctl('setGsiRouting', entries);
  }

  /** KVM_SIGNAL_MSI: returns >0 delivered, 0 blocked (as the ioctl's return value). */
  signalMsi(msi: { addressLo: number; addressHi: number; data: number; flags?: number; devid?: number }): number {
    return this.archIoctl('signalMsi', msi);
  }

  /** KVM_IRQFD: an EventFd whose signal raises `gsi` (flags: KVM_IRQFD_FLAG_*). */
  irqfd(args: { eventfd: EventFd; gsi: number; flags?: number; resamplefd?: EventFd }): void {
    this.archIoctl('irqfd', args);
  }

  /** KVM_IOEVENTFD: a guest write to addr (PIO or MMIO) signals the EventFd, no exit. */
  ioeventfd(args: { eventfd: EventFd; addr: number; len: number; datamatch?: bigint; flags?: number }): void {
    this.archIoctl('ioeventfd', args);
  }

  /** KVM_GET_CLOCK: the VM's kvmclock time in ns. */
  getClock(): { clock: bigint; flags: number; realtime?: bigint } {
    return this.archIoctl('getClock');
  }

  /** KVM_SET_CLOCK */
  setClock(data: { clock: bigint; flags?: number }): void {
    this.archIoctl('setClock', data);
  }

  /**
   * kvmts: pick the VM clock before creating vCPUs: `{ mode: 'host' }` (default) or
   * `{ mode: 'virtual', nsPerInstruction? }` for deterministic runs (EBUSY after vCPUs exist).
   */
  setClockSource(opts: { mode: 'host' | 'virtual'; nsPerInstruction?: number; realtimeAtZeroNs?: number }): void {
    this.archIoctl('setClockSource', opts);
  }

  /** kvmts: the VM clock (ns since creation, host or virtual). */
  clockNowNs(): number {
    return this.archIoctl('clockNowNs');
  }

  /**
   * kvmts: the earliest armed timer deadline (PIT, LAPIC timers) in VM-clock ns, or -1.
   * When every vCPU is blocked (run() returned KVM_EXIT_INTR with mpState not RUNNABLE),
   * a VMM sleeps until this deadline (host clock) or warps to it (virtual clock).
   */
  nextTimerDeadline(): number {
    return this.archIoctl('nextTimerDeadline');
  }

  /** kvmts: advance a virtual clock to `ns` while all vCPUs idle (no-op on host time). */
  warpClock(ns: number): void {
    this.archIoctl('warpClock', ns);
  }

  /** KVM_SET_TSS_ADDR (x86, VMX real-mode TSS). */
  setTssAddr(addr: number): void {
    this.archIoctl('setTssAddr', addr);
  }

  /** KVM_SET_IDENTITY_MAP_ADDR (x86) */
  setIdentityMapAddr(addr: number): void {
    this.archIoctl('setIdentityMapAddr', addr);
  }

  /** s390: KVM_S390_INTERRUPT on the VM fd (a floating interrupt: service signal, virtio, I/O). */
  s390Interrupt(irq: { type: number; parm?: number; parm64?: bigint }): void {
    this.archIoctl('s390Interrupt', irq);
  }

  /** KVM_ENABLE_CAP on the VM fd. */
  enableCap(cap: number, args: readonly bigint[] = []): void {
    this.archIoctl('enableCap', cap, args);
  }

  /**
   * A VM ioctl that the architecture provides (KVM_CREATE_IRQCHIP, KVM_CREATE_PIT2, ...).
   * ENOTTY when the architecture has no such ioctl.
   */
  archIoctl<R>(name: string, ...args: unknown[]): R {
    this.checkAlive();
    const fn = this.archVm.ioctls?.[name] as ((...a: unknown[]) => R) | undefined;
    if (fn === undefined) throw new KvmError('ENOTTY', `${name} is not supported on ${this.arch}`);
    return fn(...args);
  }

  /** The architecture's VM object, for code inside kvm-core and its vendor modules. */
  get archState(): KvmArchVm {
    return this.archVm;
  }

  private checkAlive(): void {
    if (this.destroyed) throw new KvmError('EBADF', 'the VM has been destroyed');
  }
}
