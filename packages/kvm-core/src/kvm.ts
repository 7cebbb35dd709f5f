/**
 * Kvm: the /dev/kvm file descriptor (the "system" ioctls of virt/kvm/kvm_main.c).
 */
import type { KvmArch } from './arch';
import { KvmError } from './errors';
import type { Host } from './host';
import { KVM_VCPU_MMAP_SIZE } from './kvm-run';
import { parseArg, u32 } from './schemas';
import {
  KVM_API_VERSION, KVM_CAP_CHECK_EXTENSION_VM, KVM_CAP_IMMEDIATE_EXIT, KVM_CAP_MAX_VCPUS,
  KVM_CAP_MAX_VCPU_ID, KVM_CAP_NR_MEMSLOTS, KVM_CAP_NR_VCPUS, KVM_CAP_READONLY_MEM,
  KVM_CAP_SYNC_MMU, KVM_CAP_USER_MEMORY, KVM_MAX_VCPUS, KVM_MAX_VCPU_IDS,
  KVM_SOFT_MAX_VCPUS, KVM_USER_MEM_SLOTS,
} from './uapi/kvm';
import type { KvmCpuidEntry2, KvmMsrEntry } from './uapi/structs';
import { Vm } from './vm';

/** Capabilities the generic core answers itself (kvm_vm_ioctl_check_extension_generic). */
export function genericCheckExtension(cap: number): number | undefined {
  switch (cap) {
    case KVM_CAP_USER_MEMORY:
    case KVM_CAP_CHECK_EXTENSION_VM:
    case KVM_CAP_IMMEDIATE_EXIT:
    case KVM_CAP_READONLY_MEM:
    case KVM_CAP_SYNC_MMU:
      return 1;
    case KVM_CAP_NR_MEMSLOTS:
      return KVM_USER_MEM_SLOTS;
    case KVM_CAP_NR_VCPUS:
      return KVM_SOFT_MAX_VCPUS;
    case KVM_CAP_MAX_VCPUS:
      return KVM_MAX_VCPUS;
    case KVM_CAP_MAX_VCPU_ID:
      return KVM_MAX_VCPU_IDS;
    default:
      return undefined;
  }
}

export class Kvm {
  constructor(private readonly host: Host) {}

  /** KVM_GET_API_VERSION: always 12. */
  getApiVersion(): number {
    return KVM_API_VERSION;
  }

  /** KVM_CHECK_EXTENSION: 0 when unsupported, otherwise 1 or a cap-specific value. */
  checkExtension(cap: number): number {
    parseArg(u32, cap, 'cap');
    const generic = genericCheckExtension(cap);
    if (generic !== undefined) return generic;
    let best = 0;
    for (const b of this.host.archBackends()) best = Math.max(best, b.checkExtension(cap));
    return best;
  }

  /** KVM_GET_VCPU_MMAP_SIZE: kvm_run, the PIO page and the coalesced-MMIO ring. */
  getVcpuMmapSize(): number {
    return KVM_VCPU_MMAP_SIZE;
  }

  /**
   * KVM_CREATE_VM. `arch` picks the backend when a host has both x86 and s390 loaded
   * (on Linux the host's own architecture decides); by default x86 if loaded.
   */
  createVm(type = 0, arch?: KvmArch): Vm {
    parseArg(u32, type, 'type');
    const backend = arch !== undefined
      ? this.host.archBackend(arch)
      : this.host.archBackend('x86') ?? this.host.archBackends()[0];
    if (backend === undefined)
      throw new KvmError('ENODEV', arch ? `no ${arch} module is loaded` : 'no vendor module is loaded (insmod kvm-intel, kvm-amd or kvm-s390)');
    backend.checkVmType(type);
    return new Vm(this.host, backend, type);
  }

  /** KVM_GET_SUPPORTED_CPUID (x86). */
  getSupportedCpuid(): KvmCpuidEntry2[] {
    const b = this.host.archBackend('x86');
    if (b?.getSupportedCpuid === undefined) throw new KvmError('ENOTTY', 'KVM_GET_SUPPORTED_CPUID needs an x86 vendor module');
    return b.getSupportedCpuid();
  }

  /** KVM_GET_MSR_INDEX_LIST (x86). */
  getMsrIndexList(): number[] {
    const b = this.host.archBackend('x86');
    if (b?.getMsrIndexList === undefined) throw new KvmError('ENOTTY', 'KVM_GET_MSR_INDEX_LIST needs an x86 vendor module');
    return b.getMsrIndexList();
  }

  /** KVM_GET_MSR_FEATURE_INDEX_LIST (x86): the MSRs getMsrs reads on this fd. */
  getMsrFeatureIndexList(): number[] {
    const b = this.host.archBackend('x86');
    if (b?.getMsrFeatureIndexList === undefined) throw new KvmError('ENOTTY', 'KVM_GET_MSR_FEATURE_INDEX_LIST needs an x86 vendor module');
    return b.getMsrFeatureIndexList();
  }

  /** KVM_GET_MSRS on the system fd (KVM_CAP_GET_MSR_FEATURES): stops at the first unknown MSR, as on a vCPU. */
  getMsrs(indices: readonly number[]): KvmMsrEntry[] {
    const b = this.host.archBackend('x86');
    if (b?.getMsrFeature === undefined) throw new KvmError('ENOTTY', 'KVM_GET_MSRS on /dev/kvm needs an x86 vendor module');
    const out: KvmMsrEntry[] = [];
    for (const index of indices) {
      const data = b.getMsrFeature(index);
      if (data === undefined) break;
      out.push({ index, data });
    }
    return out;
  }
}
