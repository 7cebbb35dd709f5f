/**
 * Test helpers: assemble a guest with GNU as/ld (binutils) and run it through the public
 * KVM API (createHost, insmod, createVm, setUserMemoryRegion, createVcpu, run loop).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHost, uapi, type KvmModule, type Vcpu, type Vm } from '@kvmts/kvm-core';

const CACHE = join(tmpdir(), 'kvmts-driver-guests');

export function assemble(src: string, org: number): Uint8Array {
  mkdirSync(CACHE, { recursive: true });
  const key = createHash('sha256').update(`${org}\n${src}`).digest('hex').slice(0, 20);
  const bin = join(CACHE, `${key}.bin`);
  if (!existsSync(bin)) {
    const s = join(CACHE, `${key}.s`);
    const o = join(CACHE, `${key}.o`);
    writeFileSync(s, src);
    execFileSync('as', ['--64', '-o', o, s]);
    execFileSync('ld', ['-m', 'elf_x86_64', `-Ttext=0x${org.toString(16)}`, '--oformat=binary', '-e', '0', '-o', bin, o]);
  }
  return new Uint8Array(readFileSync(bin));
}

export interface Machine {
  vm: Vm;
  vcpu: Vcpu;
  mem: Uint8Array;
  console: string;
  outs: [number, number][];
  mmio: { addr: number; len: number; write: boolean; value: number }[];
  inValue: (port: number) => number;
  mmioRead: (addr: number, len: number) => number;
}

/** A VM with `size` bytes of RAM at 0, the code at `org`, the vCPU in real mode at 0:org (on the virtual clock if asked). */
export function realModeMachine<P>(mod: KvmModule<P>, params: Partial<P>, code: Uint8Array, org: number, size = 0x200000, virtualClock = false): Machine {
  const host = createHost();
  host.insmod(mod, params as P);
  const kvm = host.open('/dev/kvm');
  const vm = kvm.createVm(0);
  if (virtualClock) vm.setClockSource({ mode: 'virtual' });
  const mem = new Uint8Array(size);
  mem.set(code, org);
  vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0, memorySize: size, userspaceAddr: mem });
  const vcpu = vm.createVcpu(0);
  vcpu.setCpuid2(kvm.getSupportedCpuid());
  const sregs = vcpu.getSregs();
  sregs.cs = { ...sregs.cs, selector: 0, base: 0n };
  vcpu.setSregs(sregs);
  const regs = vcpu.getRegs();
  regs.rip = BigInt(org);
  regs.rsp = 0x8000n;
  vcpu.setRegs(regs);
  return { vm, vcpu, mem, console: '', outs: [], mmio: [], inValue: () => 0xff, mmioRead: () => 0 };
}

/** Run until HLT / SHUTDOWN / an unexpected exit; console on port 0xE9. Returns the last exit reason. */
export function runToHlt(m: Machine, maxExits = 100_000): number {
  for (let i = 0; i < maxExits; i++) {
    const run = m.vcpu.run();
    switch (run.exitReason) {
      case uapi.KVM_EXIT_IO: {
        const io = run.io;
        for (let k = 0; k < io.count; k++) {
          const d = io.data.subarray(k * io.size, (k + 1) * io.size);
          if (io.direction === uapi.KVM_EXIT_IO_OUT) {
            let v = 0;
            for (let b = 0; b < io.size; b++) v |= d[b]! << (8 * b);
            if (io.port === 0xe9) m.console += String.fromCharCode(v & 0xff);
            else m.outs.push([io.port, v >>> 0]);
          } else {
            const v = m.inValue(io.port);
            for (let b = 0; b < io.size; b++) d[b] = (v >>> (8 * b)) & 0xff;
          }
        }
        break;
      }
      case uapi.KVM_EXIT_MMIO: {
        const mm = run.mmio;
        if (mm.isWrite) {
          let v = 0;
          for (let b = 0; b < Math.min(mm.len, 4); b++) v |= mm.data[b]! << (8 * b);
          m.mmio.push({ addr: mm.physAddr, len: mm.len, write: true, value: v >>> 0 });
        } else {
          const v = m.mmioRead(mm.physAddr, mm.len);
          m.mmio.push({ addr: mm.physAddr, len: mm.len, write: false, value: v >>> 0 });
          for (let b = 0; b < mm.len; b++) mm.data[b] = b < 4 ? (v >>> (8 * b)) & 0xff : 0;
        }
        break;
      }
      case uapi.KVM_EXIT_INTR:
        break;
      default:
        return run.exitReason;
    }
  }
  throw new Error('guest did not stop');
}
