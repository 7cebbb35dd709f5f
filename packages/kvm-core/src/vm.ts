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
