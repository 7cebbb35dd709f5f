/**
 * The ioctl table: each API method and the ioctl it stands for, with the request code
 * computed by the x86-64 _IOC encoding (dir<<30 | size<<16 | KVMIO<<8 | nr).
 * The methods of Kvm, Vm and Vcpu are named after these.
 */
import { KVMIO } from './kvm';

const IOC_NONE = 0;
const IOC_WRITE = 1;
const IOC_READ = 2;

export function ioc(dir: number, nr: number, size: number): number {
  return ((dir << 30) | (size << 16) | (KVMIO << 8) | nr) >>> 0;
}
export const io = (nr: number): number => ioc(IOC_NONE, nr, 0);
export const ior = (nr: number, size: number): number => ioc(IOC_READ, nr, size);
export const iow = (nr: number, size: number): number => ioc(IOC_WRITE, nr, size);
export const iowr = (nr: number, size: number): number => ioc(IOC_READ | IOC_WRITE, nr, size);

export type IoctlFd = 'system' | 'vm' | 'vcpu' | 'device';

export interface IoctlInfo {
  readonly fd: IoctlFd;
  readonly request: number;
  /** The API method that implements it. */
  readonly method: string;
}

export const KVM_IOCTLS = {
  KVM_GET_API_VERSION: { fd: 'system', request: io(0x00), method: 'getApiVersion' },
  KVM_CREATE_VM: { fd: 'system', request: io(0x01), method: 'createVm' },
  KVM_GET_MSR_INDEX_LIST: { fd: 'system', request: iowr(0x02, 4), method: 'getMsrIndexList' },
  KVM_CHECK_EXTENSION: { fd: 'system', request: io(0x03), method: 'checkExtension' },
  KVM_GET_VCPU_MMAP_SIZE: { fd: 'system', request: io(0x04), method: 'getVcpuMmapSize' },
  KVM_GET_SUPPORTED_CPUID: { fd: 'system', request: iowr(0x05, 8), method: 'getSupportedCpuid' },
  KVM_GET_MSR_FEATURE_INDEX_LIST: { fd: 'system', request: iowr(0x0a, 4), method: 'getMsrFeatureIndexList' },

  KVM_CREATE_VCPU: { fd: 'vm', request: io(0x41), method: 'createVcpu' },
  KVM_GET_DIRTY_LOG: { fd: 'vm', request: iow(0x42, 16), method: 'getDirtyLog' },
  KVM_SET_USER_MEMORY_REGION: { fd: 'vm', request: iow(0x46, 32), method: 'setUserMemoryRegion' },
  KVM_SET_TSS_ADDR: { fd: 'vm', request: io(0x47), method: 'setTssAddr' },
  KVM_SET_IDENTITY_MAP_ADDR: { fd: 'vm', request: iow(0x48, 8), method: 'setIdentityMapAddr' },
  KVM_CREATE_IRQCHIP: { fd: 'vm', request: io(0x60), method: 'createIrqchip' },
  KVM_IRQ_LINE: { fd: 'vm', request: iow(0x61, 8), method: 'irqLine' },
  KVM_GET_IRQCHIP: { fd: 'vm', request: iowr(0x62, 520), method: 'getIrqchip' },
  // _IOR for a setter: a historical quirk of the uapi, kept for the request code.
  KVM_SET_IRQCHIP: { fd: 'vm', request: ior(0x63, 520), method: 'setIrqchip' },
  KVM_IRQ_LINE_STATUS: { fd: 'vm', request: iowr(0x67, 8), method: 'irqLineStatus' },
  KVM_REGISTER_COALESCED_MMIO: { fd: 'vm', request: iow(0x67, 16), method: 'registerCoalescedMmio' },
  KVM_UNREGISTER_COALESCED_MMIO: { fd: 'vm', request: iow(0x68, 16), method: 'unregisterCoalescedMmio' },
  KVM_SET_GSI_ROUTING: { fd: 'vm', request: iow(0x6a, 8), method: 'setGsiRouting' },
  KVM_IRQFD: { fd: 'vm', request: iow(0x76, 32), method: 'irqfd' },
  KVM_CREATE_PIT2: { fd: 'vm', request: iow(0x77, 64), method: 'createPit2' },
  KVM_IOEVENTFD: { fd: 'vm', request: iow(0x79, 64), method: 'ioeventfd' },
  KVM_SET_CLOCK: { fd: 'vm', request: iow(0x7b, 48), method: 'setClock' },
  KVM_GET_CLOCK: { fd: 'vm', request: ior(0x7c, 48), method: 'getClock' },
  KVM_GET_PIT2: { fd: 'vm', request: ior(0x9f, 112), method: 'getPit2' },
  KVM_SET_PIT2: { fd: 'vm', request: iow(0xa0, 112), method: 'setPit2' },
  KVM_ENABLE_CAP: { fd: 'vm', request: iow(0xa3, 104), method: 'enableCap' },
  KVM_SIGNAL_MSI: { fd: 'vm', request: iow(0xa5, 32), method: 'signalMsi' },
  KVM_CLEAR_DIRTY_LOG: { fd: 'vm', request: iowr(0xc0, 24), method: 'clearDirtyLog' },
  KVM_CREATE_DEVICE: { fd: 'vm', request: iowr(0xe0, 12), method: 'createDevice' },

  KVM_RUN: { fd: 'vcpu', request: io(0x80), method: 'run' },
  KVM_GET_REGS: { fd: 'vcpu', request: ior(0x81, 144), method: 'getRegs' },
  KVM_SET_REGS: { fd: 'vcpu', request: iow(0x82, 144), method: 'setRegs' },
  KVM_GET_SREGS: { fd: 'vcpu', request: ior(0x83, 312), method: 'getSregs' },
  KVM_SET_SREGS: { fd: 'vcpu', request: iow(0x84, 312), method: 'setSregs' },
  KVM_TRANSLATE: { fd: 'vcpu', request: iowr(0x85, 24), method: 'translate' },
  KVM_INTERRUPT: { fd: 'vcpu', request: iow(0x86, 4), method: 'interrupt' },
  KVM_GET_MSRS: { fd: 'vcpu', request: iowr(0x88, 8), method: 'getMsrs' },
  KVM_SET_MSRS: { fd: 'vcpu', request: iow(0x89, 8), method: 'setMsrs' },
  KVM_SET_SIGNAL_MASK: { fd: 'vcpu', request: iow(0x8b, 4), method: 'setSignalMask' },
  KVM_GET_FPU: { fd: 'vcpu', request: ior(0x8c, 416), method: 'getFpu' },
  KVM_SET_FPU: { fd: 'vcpu', request: iow(0x8d, 416), method: 'setFpu' },
  KVM_GET_LAPIC: { fd: 'vcpu', request: ior(0x8e, 1024), method: 'getLapic' },
  KVM_SET_LAPIC: { fd: 'vcpu', request: iow(0x8f, 1024), method: 'setLapic' },
  KVM_SET_CPUID2: { fd: 'vcpu', request: iow(0x90, 8), method: 'setCpuid2' },
  KVM_GET_CPUID2: { fd: 'vcpu', request: iowr(0x91, 8), method: 'getCpuid2' },
  KVM_GET_MP_STATE: { fd: 'vcpu', request: ior(0x98, 4), method: 'getMpState' },
  KVM_SET_MP_STATE: { fd: 'vcpu', request: iow(0x99, 4), method: 'setMpState' },
  KVM_NMI: { fd: 'vcpu', request: io(0x9a), method: 'nmi' },
  KVM_SET_GUEST_DEBUG: { fd: 'vcpu', request: iow(0x9b, 72), method: 'setGuestDebug' },
  KVM_GET_VCPU_EVENTS: { fd: 'vcpu', request: ior(0x9f, 64), method: 'getVcpuEvents' },
  KVM_SET_VCPU_EVENTS: { fd: 'vcpu', request: iow(0xa0, 64), method: 'setVcpuEvents' },

  KVM_SET_DEVICE_ATTR: { fd: 'device', request: iow(0xe1, 24), method: 'setDeviceAttr' },
  KVM_GET_DEVICE_ATTR: { fd: 'device', request: iow(0xe2, 24), method: 'getDeviceAttr' },
  KVM_HAS_DEVICE_ATTR: { fd: 'device', request: iow(0xe3, 24), method: 'hasDeviceAttr' },
} as const satisfies Record<string, IoctlInfo>;
