/**
 * kvm_emulate_hypercall (arch/x86/kvm/x86.c). The vendors only decode VMCALL/VMMCALL
 * and call this: nr in RAX, arguments in RBX, RCX, RDX, RSI, the result in RAX, all
 * truncated to 32 bits outside 64-bit mode; CPL != 0 gets -KVM_EPERM, an unknown
 * number -KVM_ENOSYS. Returns the handle_exit value (1: re-enter).
 */
import {
  VCPU_REGS_RAX, VCPU_REGS_RBX, VCPU_REGS_RCX, VCPU_REGS_RDX, VCPU_REGS_RSI, VCPU_SREG_CS,
} from './regs';
import { APIC_DEST_NOSHORT, APIC_DM_REMRD, APIC_INT_ASSERT, APIC_INT_LEVELTRIG, APIC_MODE_MASK, APIC_VECTOR_MASK } from './irqchip/lapic-regs';
import { newLapicIrq } from './irqchip/lapic';
import type { KvmVcpuX86 } from './x86';

export const KVM_HC_VAPIC_POLL_IRQ = 1;
export const KVM_HC_MMU_OP = 2;
export const KVM_HC_FEATURES = 3;
export const KVM_HC_PPC_MAP_MAGIC_PAGE = 4;
export const KVM_HC_KICK_CPU = 5;
export const KVM_HC_MIPS_GET_CLOCK_FREQ = 6;
export const KVM_HC_MIPS_EXIT_VM = 7;
export const KVM_HC_MIPS_CONSOLE_OUTPUT = 8;
export const KVM_HC_CLOCK_PAIRING = 9;
export const KVM_HC_SEND_IPI = 10;
export const KVM_HC_SCHED_YIELD = 11;
export const KVM_HC_MAP_GPA_RANGE = 12;

export const KVM_ENOSYS = 1000;
export const KVM_EFAULT = 14;
export const KVM_EINVAL = 22;
export const KVM_E2BIG = 7;
export const KVM_EPERM = 1;
export const KVM_EOPNOTSUPP = 95;

const EFER_LMA = 1 << 10;

/** is_64_bit_hypercall: long mode with a 64-bit code segment. */
export function isLongModeCode(vcpu: KvmVcpuX86): boolean {
  return (vcpu.efer & EFER_LMA) !== 0 && vcpu.ops.getSegment(vcpu, VCPU_SREG_CS).l !== 0;
}

/** kvm_pv_kick_cpu_op: wake the vCPU with APIC id `apicId` from HLT (APIC_DM_REMRD). */
function kickCpu(vcpu: KvmVcpuX86, apicId: number): void {
  const chip = vcpu.kvm.irqchip;
  if (chip === null) return;
  const irq = newLapicIrq();
  irq.deliveryMode = APIC_DM_REMRD;
  irq.shorthand = APIC_DEST_NOSHORT;
  irq.destId = apicId;
  irq.fromX2apicIcr = true;
  chip.deliverToApic(null, irq);
}

/**
 * kvm_pv_send_ipi: deliver the ICR's vector/mode to APIC ids min + bit for each bit of
 * the two bitmaps (each covering 64 ids in 64-bit mode, 32 otherwise).
 */
function sendIpi(vcpu: KvmVcpuX86, low: bigint, high: bigint, min: bigint, icr: bigint, op64: boolean): bigint {
  const chip = vcpu.kvm.irqchip;
  if (chip === null) return BigInt(-KVM_EOPNOTSUPP);
  const icrLo = Number(icr & 0xffffffffn);
  const irq = newLapicIrq();
  irq.vector = icrLo & APIC_VECTOR_MASK;
  irq.deliveryMode = icrLo & APIC_MODE_MASK;
  irq.level = (icrLo & APIC_INT_ASSERT) !== 0;
  irq.trigLevel = (icrLo & APIC_INT_LEVELTRIG) !== 0;
  irq.shorthand = APIC_DEST_NOSHORT;
  irq.fromX2apicIcr = true;
  const cluster = op64 ? 64n : 32n;
  let count = 0n;
  const bitmaps = [low, high];
  for (let b = 0; b < 2; b++) {
    const bitmap = bitmaps[b]!;
    for (let i = 0n; i < cluster; i++) {
      if (!((bitmap >> i) & 1n)) continue;
      const id = min + BigInt(b) * cluster + i;
      if (id > 0xffffffffn) continue;
      irq.destId = Number(id);
      for (const apic of chip.lapics) {
        if (apic.hwEnabled && apic.apicId === irq.destId) {
          count += BigInt(apic.acceptIrq(irq.deliveryMode, irq.vector, irq.level, irq.trigLevel));
        }
      }
    }
  }
  return count;
}

/** kvm_emulate_hypercall */
export function kvmEmulateHypercall(vcpu: KvmVcpuX86): number {
  const op64 = isLongModeCode(vcpu);
  const mask = op64 ? 0xffffffffffffffffn : 0xffffffffn;
  const nr = vcpu.registerRead(VCPU_REGS_RAX) & mask;
  const a0 = vcpu.registerRead(VCPU_REGS_RBX) & mask;
  const a1 = vcpu.registerRead(VCPU_REGS_RCX) & mask;
  const a2 = vcpu.registerRead(VCPU_REGS_RDX) & mask;
  const a3 = vcpu.registerRead(VCPU_REGS_RSI) & mask;
  let ret: bigint;
  if (vcpu.ops.getCpl(vcpu) !== 0) {
    ret = BigInt(-KVM_EPERM);
  } else {
    switch (Number(nr)) {
      case KVM_HC_VAPIC_POLL_IRQ:
        ret = 0n;
        break;
      case KVM_HC_KICK_CPU:
        // a0: flags (unused), a1: the APIC id to wake.
        kickCpu(vcpu, Number(a1 & 0xffffffffn));
        ret = 0n;
        break;
      case KVM_HC_SEND_IPI:
        ret = sendIpi(vcpu, a0, a1, a2, a3, op64);
        break;
      case KVM_HC_SCHED_YIELD:
        // A hint that the target APIC id's vCPU holds a lock; our scheduler is the VMM's loop.
        ret = 0n;
        break;
      case KVM_HC_CLOCK_PAIRING:
        // Needs a host TSC clocksource to pair with; not available here.
        ret = BigInt(-KVM_EOPNOTSUPP);
        break;
      default:
        ret = BigInt(-KVM_ENOSYS);
    }
  }
  vcpu.registerWrite(VCPU_REGS_RAX, BigInt.asUintN(op64 ? 64 : 32, ret));
  return vcpu.ops.skipEmulatedInstruction(vcpu) ? 1 : 0;
}
