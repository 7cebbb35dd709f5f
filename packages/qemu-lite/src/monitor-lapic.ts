/**
 * `info lapic` (QEMU's hmp_info_local_apic): each vCPU's local APIC as KVM_GET_LAPIC
 * returns it, with the vCPU's run state (KVM_GET_MP_STATE, KVM_GET_VCPU_EVENTS) beside it,
 * since a stuck guest is usually a question of what is pending where and what blocks it.
 */
import { lapicRegs as R, uapi, type Vcpu } from '@kvmts/kvm-core';

const MP_STATES: Record<number, string> = {
  [uapi.KVM_MP_STATE_RUNNABLE]: 'runnable',
  [uapi.KVM_MP_STATE_UNINITIALIZED]: 'uninitialized',
  [uapi.KVM_MP_STATE_INIT_RECEIVED]: 'init-received',
  [uapi.KVM_MP_STATE_HALTED]: 'halted',
  [uapi.KVM_MP_STATE_SIPI_RECEIVED]: 'sipi-received',
};

const TIMER_MODES = ['one-shot', 'periodic', 'tsc-deadline', 'reserved'];

const hex8 = (v: number) => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;

/** The set vectors of a 256-bit register (ISR, TMR, IRR), e.g. "0xec 0xfd", or "(none)". */
function vectors(view: DataView, base: number): string {
  const out: string[] = [];
  for (let i = 0; i < 8; i++) {
    const word = view.getUint32(base + i * 0x10, true);
    for (let b = 0; b < 32; b++) if ((word >>> b) & 1) out.push(`0x${(i * 32 + b).toString(16)}`);
  }
  return out.length === 0 ? '(none)' : out.join(' ');
}

function lvt(name: string, v: number, timer = false): string {
  const parts = [`${name}\t ${hex8(v)}`];
  if (timer) parts.push(TIMER_MODES[(v & R.APIC_LVT_TIMER_MASK) >>> 17]!);
  parts.push(v & R.APIC_LVT_LEVEL_TRIGGER ? 'level' : 'edge', v & R.APIC_LVT_MASKED ? 'masked' : 'active', `vec ${v & R.APIC_VECTOR_MASK}`);
  return parts.join(' ');
}

/** One vCPU's section of `info lapic`. */
export function lapicDump(vcpu: Vcpu): string {
  let page: Uint8Array;
  try {
    page = vcpu.getLapic();
  } catch (e) {
    return `CPU ${vcpu.vcpuId}: ${(e as Error).message}\n`;
  }
  const v = new DataView(page.buffer, page.byteOffset, page.byteLength);
  const r = (off: number) => v.getUint32(off, true);
  const mp = vcpu.getMpState().mpState;
  const ev = vcpu.getVcpuEvents();
  const rflags = vcpu.getRegs().rflags;
  const tdcr = r(R.APIC_TDCR);
  const divide = 1 << ((((tdcr & 3) | ((tdcr & 8) >> 1)) + 1) & 7);
  return [
    `dumping local APIC state for CPU ${vcpu.vcpuId}`,
    `state\t ${MP_STATES[mp] ?? mp} IF=${(Number(rflags) >> 9) & 1} shadow=${ev.interrupt.shadow} injected=${ev.interrupt.injected ? `0x${ev.interrupt.nr.toString(16)}` : 'none'} nmi-pending=${ev.nmi.pending} nmi-masked=${ev.nmi.masked}`,
    lvt('LVT0', r(R.APIC_LVT0)),
    lvt('LVT1', r(R.APIC_LVT1)),
    lvt('LVTT', r(R.APIC_LVTT), true),
    lvt('LVTERR', r(R.APIC_LVTERR)),
    `Timer\t DCR=${hex8(tdcr)} (divide by ${divide}) initial_count = ${r(R.APIC_TMICT)} current_count = ${r(R.APIC_TMCCT)}`,
    `SPIV\t ${hex8(r(R.APIC_SPIV))} APIC ${r(R.APIC_SPIV) & R.APIC_SPIV_APIC_ENABLED ? 'enabled' : 'disabled'}, spurious vec ${r(R.APIC_SPIV) & 0xff}`,
    `ICR\t ${hex8(r(R.APIC_ICR))} ICR2 ${hex8(r(R.APIC_ICR2))}`,
    `ESR\t ${hex8(r(R.APIC_ESR))}`,
    `ISR\t ${vectors(v, R.APIC_ISR)}`,
    `IRR\t ${vectors(v, R.APIC_IRR)}`,
    `TMR\t ${vectors(v, R.APIC_TMR)}`,
    `ID ${hex8(r(R.APIC_ID))} TPR 0x${r(R.APIC_TASKPRI).toString(16).padStart(2, '0')} PPR 0x${r(R.APIC_PROCPRI).toString(16).padStart(2, '0')} DFR ${hex8(r(R.APIC_DFR))} LDR ${hex8(r(R.APIC_LDR))}`,
    '',
  ].join('\n');
}
