/** Shared setup for the irqchip tests: a VM with the in-kernel irqchip on the fake vendor. */
import { expect } from 'vitest';
import {
  createHost, KvmError, kvmVcpuMmioRead, kvmVcpuMmioWrite, uapi, type KvmVcpuX86, type KvmX86Vm,
  type Vcpu, type Vm,
} from '@kvmts/kvm-core';
import { fakeIrqVendorModule, type Injected } from './fake-vendor-irq';

export function expectErrno(fn: () => unknown, errno: string, message?: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KvmError);
    expect((e as KvmError).errno).toBe(errno);
    if (message) expect((e as KvmError).message).toMatch(message);
    return;
  }
  throw new Error(`expected ${errno}`);
}

export interface IrqVm {
  vm: Vm;
  kvm: KvmX86Vm;
  vcpus: Vcpu[];
  x86: KvmVcpuX86[];
  ram: Uint8Array;
  injected: Injected[];
  outb(port: number, v: number): void;
  inb(port: number): number;
  /** A 32-bit MMIO access as vCPU `cpu` makes it (LAPIC page first, then the bus). */
  mmio32w(cpu: number, addr: number, v: number): void;
  mmio32r(cpu: number, addr: number): number;
}

export function irqVm(opts: { vcpus?: number; irqchip?: boolean; pit?: boolean; virtualClock?: boolean } = {}): IrqVm {
  const injected: Injected[] = [];
  const host = createHost();
  host.insmod(fakeIrqVendorModule(injected));
  const vm = host.open('/dev/kvm').createVm();
  if (opts.virtualClock !== false) vm.archIoctl('setClockSource', { mode: 'virtual' });
  const ram = new Uint8Array(0x20000);
  vm.setUserMemoryRegion({ slot: 0, flags: uapi.KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: 0, memorySize: ram.length, userspaceAddr: ram });
  if (opts.irqchip !== false) vm.createIrqchip();
  if (opts.pit) vm.createPit2({ flags: uapi.KVM_PIT_SPEAKER_DUMMY });
  const vcpus: Vcpu[] = [];
  for (let i = 0; i < (opts.vcpus ?? 1); i++) vcpus.push(vm.createVcpu(i));
  const kvm = vm.archState as KvmX86Vm;
  const x86 = vcpus.map((v) => v.archState as KvmVcpuX86);
  const buf = new Uint8Array(8);
  return {
    vm, kvm, vcpus, x86, ram, injected,
    outb(port, v) {
      buf[0] = v;
      if (!kvm.pioBus.write(port, 1, buf, null)) throw new Error(`port 0x${port.toString(16)} not in-kernel`);
    },
    inb(port) {
      if (!kvm.pioBus.read(port, 1, buf, null)) throw new Error(`port 0x${port.toString(16)} not in-kernel`);
      return buf[0]!;
    },
    mmio32w(cpu, addr, v) {
      new DataView(buf.buffer).setUint32(0, v >>> 0, true);
      if (!kvmVcpuMmioWrite(x86[cpu]!, addr, 4, buf)) throw new Error(`0x${addr.toString(16)} not in-kernel`);
    },
    mmio32r(cpu, addr) {
      if (!kvmVcpuMmioRead(x86[cpu]!, addr, 4, buf)) throw new Error(`0x${addr.toString(16)} not in-kernel`);
      return new DataView(buf.buffer).getUint32(0, true);
    },
  };
}

/** The 8259A initialization a PC BIOS/OS does: master at 0x20, slave at 0x28, 8086 mode. */
export function initPics(t: IrqVm, icw4 = 0x01): void {
  t.outb(0x20, 0x11); t.outb(0x21, 0x20); t.outb(0x21, 0x04); t.outb(0x21, icw4);
  t.outb(0xa0, 0x11); t.outb(0xa1, 0x28); t.outb(0xa1, 0x02); t.outb(0xa1, icw4);
  t.outb(0x21, 0x00); t.outb(0xa1, 0x00);
}

export function vclock(t: IrqVm) {
  return t.kvm.clock;
}
