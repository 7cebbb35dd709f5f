/**
 * The s390-ccw-virtio machine (a subset): RAM, the kernel image, an SCLP console, and
 * the vCPU loop. Uses only kvm-core's public API; the KVM module object (kvm-s390) is
 * handed in by the CLI layer (`-accel kvm-s390`).
 */
import { createHost, s390uapi, uapi, type KvmModule, type Vcpu } from '@kvmts/kvm-core';
import { z } from 'zod';
import { loadS390Image } from './elf';
import { Sclp } from './sclp';

const S = s390uapi;
const ICPT_INST = 0x04;
const ICPT_WAIT = 0x1c;
const ICPT_STOP = 0x28;
/** 64-bit addressing (EA | BA), all interrupts disabled. */
export const PSW_MASK_64 = 0x0000000180000000n;
const PSW_MASK_WAIT = 0x0002000000000000n;

export const s390MachineConfigSchema = z.object({
  module: z.custom<KvmModule<unknown>>((m) => typeof m === 'object' && m !== null && 'init' in m, 'a KVM module object'),
  kernel: z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'a Uint8Array (the image bytes)'),
  append: z.string().optional(),
  memoryMiB: z.number().int().min(1).max(4096).default(64),
  smp: z.number().int().min(1).max(64).default(1),
  output: z.custom<(bytes: Uint8Array) => void>((f) => typeof f === 'function'),
  /** Give up after this many KVM_RUN calls (a guest that never stops). */
  maxRuns: z.number().int().min(1).default(1_000_000),
}).strict();

export type S390MachineConfig = z.input<typeof s390MachineConfigSchema>;

export interface S390MachineResult {
  /** 0 for a clean disabled wait at 0xfff, 1 otherwise (a panic-like stop). */
  exitCode: number;
  reason: 'disabled-wait' | 'reset' | 'hang' | 'limit';
  /** The final PSW of vCPU 0. */
  psw: { mask: bigint; addr: bigint };
}

export function runS390Machine(config: S390MachineConfig): S390MachineResult {
  const cfg = s390MachineConfigSchema.parse(config);
  const host = createHost();
  host.insmod(cfg.module);
  const vm = host.open('/dev/kvm').createVm(0, 's390');
  const ram = new Uint8Array(cfg.memoryMiB << 20);
  vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0, memorySize: ram.length, userspaceAddr: ram });
  const img = loadS390Image(cfg.kernel, ram);
  if (cfg.append !== undefined && isLinuxKernel(ram)) {
    // As QEMU's s390 IPL: a Linux kernel ("S390EP" at 0x10008) reads its command line
    // from the parameter area (COMMAND_LINE at 0x10480); other images are left alone.
    const bytes = new TextEncoder().encode(cfg.append);
    if (bytes.length >= 896) throw new Error('append: the command line is longer than the kernel parameter area (895 bytes)');
    ram.fill(0, 0x10480, 0x10480 + 896);
    ram.set(bytes, 0x10480);
  }
  const sclp = new Sclp({ memoryBytes: ram.length, cpus: cfg.smp, output: cfg.output });
  const vcpus: Vcpu[] = [];
  for (let i = 0; i < cfg.smp; i++) vcpus.push(vm.createVcpu(i));
  vcpus[0]!.setInitialPsw({ mask: PSW_MASK_64, addr: img.entry });
  // Secondary CPUs start stopped; the guest starts them with SIGP.
  for (let i = 1; i < vcpus.length; i++) vcpus[i]!.setMpState({ mpState: uapi.KVM_MP_STATE_STOPPED });
  vcpus[0]!.setMpState({ mpState: uapi.KVM_MP_STATE_OPERATING });

  let idleRounds = 0;
  for (let n = 0; n < cfg.maxRuns;) {
    let progressed = false;
    for (const vcpu of vcpus) {
      if (vcpu.getMpState().mpState === uapi.KVM_MP_STATE_STOPPED) continue;
      n++;
      const run = vcpu.run();
      switch (run.exitReason) {
        case uapi.KVM_EXIT_INTR:
          if ((run.psw.mask & PSW_MASK_WAIT) === 0n) progressed = true;
          break;
        case uapi.KVM_EXIT_S390_RESET:
          return { exitCode: 0, reason: 'reset', psw: { ...run.psw } };
        case uapi.KVM_EXIT_S390_SIEIC: {
          progressed = true;
          const { icptcode, ipa, ipb } = run.s390Sieic;
          if (icptcode === ICPT_WAIT) {
            // Disabled wait: QEMU's s390_handle_wait; 0xfff is the clean "special" wait.
            const addr = run.psw.addr & 0xffffffffn;
            return { exitCode: addr === 0xfffn ? 0 : 1, reason: 'disabled-wait', psw: { ...run.psw } };
          }
          if (icptcode === ICPT_STOP) break;
          if (icptcode === ICPT_INST && ipa === 0xb220) {
            serviceCall(vm, vcpu, sclp, ipb);
            break;
          }
          // An instruction QEMU does not handle: operation exception, as QEMU injects.
          vcpu.s390Interrupt({ type: S.KVM_S390_PROGRAM_INT, parm: 0x01 });
          break;
        }
        default:
          throw new Error(`s390 machine: unexpected exit ${uapi.KVM_EXIT_NAMES[run.exitReason] ?? run.exitReason}`);
      }
    }
    idleRounds = progressed ? 0 : idleRounds + 1;
    if (idleRounds > 64) return { exitCode: 1, reason: 'hang', psw: { ...vcpus[0]!.kvmRun.psw } };
  }
  return { exitCode: 1, reason: 'limit', psw: { ...vcpus[0]!.kvmRun.psw } };
}

/** The s390 Linux kernel image marker ("S390EP" at 0x10008). */
function isLinuxKernel(ram: Uint8Array): boolean {
  const magic = [0x53, 0x33, 0x39, 0x30, 0x45, 0x50];
  return magic.every((b, i) => ram[0x10008 + i] === b);
}

function serviceCall(vm: ReturnType<ReturnType<ReturnType<typeof createHost>['open']>['createVm']>, vcpu: Vcpu, sclp: Sclp, ipb: number): void {
  const run = vcpu.kvmRun;
  const r1 = (ipb >>> 20) & 15;
  const r2 = (ipb >>> 16) & 15;
  const cmd = Number(run.s390SyncRegs.gprs[r1]! & 0xffffffffn);
  const addr = run.s390SyncRegs.gprs[r2]! & 0x7ffffff8n;
  const head = vcpu.memOp({ gaddr: addr, size: 8, op: S.KVM_S390_MEMOP_ABSOLUTE_READ }) as Uint8Array;
  const len = (head[0]! << 8) | head[1]!;
  let cc = 3;
  if (len >= 8 && len <= 4096) {
    const sccb = vcpu.memOp({ gaddr: addr, size: len, op: S.KVM_S390_MEMOP_ABSOLUTE_READ }) as Uint8Array;
    cc = sclp.serviceCall(cmd, sccb);
    vcpu.memOp({ gaddr: addr, size: len, op: S.KVM_S390_MEMOP_ABSOLUTE_WRITE, buf: sccb });
  }
  run.psw.mask = (run.psw.mask & ~(3n << 44n)) | (BigInt(cc) << 44n);
  if (cc === 0) vm.s390Interrupt({ type: S.KVM_S390_INT_SERVICE, parm: Number(addr) });
}
