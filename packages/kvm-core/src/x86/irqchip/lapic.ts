/**
 * The local APIC of one vCPU (arch/x86/kvm/lapic.c, SDM vol. 3 ch. 11): xAPIC MMIO
 * page, x2APIC MSRs, TPR/PPR, IRR/ISR/TMR, EOI (broadcast to the IOAPIC for
 * level-triggered vectors), ICR IPIs, LVTs and the timer (one-shot, periodic,
 * TSC-deadline).
 *
 * The registers live in a 1 KiB page exactly as kvm_lapic_state carries them, viewed
 * as 32-bit words (offset >> 2), so KVM_GET/SET_LAPIC are copies.
 */
import { KvmError } from '../../errors';
import type { VmClock } from '../../clock';
import { KVM_APIC_REG_SIZE } from '../../uapi/kvm';
import {
  APIC_ARBPRI, APIC_BROADCAST, APIC_BUS_CYCLE_NS, APIC_DEFAULT_PHYS_BASE, APIC_DEST_ALLBUT,
  APIC_DEST_ALLINC, APIC_DEST_LOGICAL, APIC_DEST_NOSHORT, APIC_DEST_SELF, APIC_DFR, APIC_DFR_CLUSTER,
  APIC_DFR_FLAT, APIC_DM_EXTINT, APIC_DM_FIXED, APIC_DM_INIT, APIC_DM_LOWEST, APIC_DM_NMI,
  APIC_DM_REMRD, APIC_DM_SMI, APIC_DM_STARTUP, APIC_EOI, APIC_ESR, APIC_ESR_RECV_ILLEGAL_VECTOR,
  APIC_ESR_SEND_ILLEGAL_VECTOR, APIC_ICR, APIC_ICR2, APIC_ICR_BUSY, APIC_ID, APIC_INT_ASSERT,
  APIC_INT_LEVELTRIG, APIC_IRR, APIC_ISR, APIC_LDR, APIC_LDR_MASK, APIC_LVR, APIC_LVT0, APIC_LVT1,
  APIC_LVTERR, APIC_LVTPC, APIC_LVTT, APIC_LVTTHMR, APIC_LVT_LEVEL_TRIGGER, APIC_LVT_MASKED,
  APIC_LVT_REGS, APIC_LVT_TIMER_MASK, APIC_LVT_TIMER_PERIODIC, APIC_LVT_TIMER_TSCDEADLINE,
  APIC_LVT_WRITE_MASK, APIC_MODE_MASK, APIC_PROCPRI, APIC_SELF_IPI, APIC_SPIV,
  APIC_SPIV_APIC_ENABLED, APIC_TASKPRI, APIC_TDCR, APIC_TMCCT, APIC_TMICT, APIC_TMR, APIC_VECTOR_MASK,
  APIC_VERSION, KVM_APIC_NR_LVT_ENTRIES, LAPIC_MMIO_LENGTH, MIN_TIMER_PERIOD_NS,
  MSR_IA32_APICBASE_BSP, MSR_IA32_APICBASE_ENABLE, MSR_IA32_APICBASE_EXTD, X2APIC_BROADCAST,
} from './lapic-regs';

/** struct kvm_lapic_irq: one interrupt message (ICR, IOAPIC entry, MSI, LVT). */
export interface KvmLapicIrq {
  vector: number;
  /** APIC_DM_* (bits 10:8 in place). */
  deliveryMode: number;
  /** false physical, true logical. */
  destLogical: boolean;
  /** The level bit (INIT de-assert and level-triggered de-assert have it clear). */
  level: boolean;
  /** true for level-triggered. */
  trigLevel: boolean;
  /** APIC_DEST_NOSHORT / SELF / ALLINC / ALLBUT */
  shorthand: number;
  destId: number;
  /** MSI redirection hint: deliver as lowest priority. */
  msiRedirHint: boolean;
  /** Sent through the x2APIC ICR (32-bit destination, no 0xff broadcast quirk). */
  fromX2apicIcr: boolean;
}

export function newLapicIrq(): KvmLapicIrq {
  return {
    vector: 0, deliveryMode: 0, destLogical: false, level: true, trigLevel: false, shorthand: 0,
    destId: 0, msiRedirHint: false, fromX2apicIcr: false,
  };
}

/** What a LAPIC needs from its vCPU and VM (the bits of kvm_vcpu / kvm it touches). */
export interface KvmLapicEnv {
  readonly clock: VmClock;
  /** kvm_irq_delivery_to_apic with this LAPIC as the source (ICR, self IPI). */
  sendIpi(src: KvmLapic, irq: KvmLapicIrq): void;
  /** kvm_ioapic_update_eoi: the EOI broadcast of a vector (trigLevel from TMR). */
  eoiBroadcast(vector: number, trigLevel: boolean): void;
  /** kvm_inject_nmi */
  injectNmi(): void;
  /** kvm_vcpu_kick: the vCPU has something to do (wakes it if halted). */
  kick(): void;
  /** The guest TSC at VM clock `ns`, and the inverse (for the TSC-deadline timer). */
  tscAtNs(ns: number): number;
  nsAtTsc(tsc: number): number;
}

/** kvm_apic pending_events bits */
export const KVM_APIC_INIT = 1 << 0;
export const KVM_APIC_SIPI = 1 << 1;

export class KvmLapic {
  /** kvm_lapic_state.regs: the first KVM_APIC_REG_SIZE bytes of the APIC page. */
  readonly regs = new Uint8Array(KVM_APIC_REG_SIZE);
  private readonly r32 = new Uint32Array(this.regs.buffer);
  /** MSR_IA32_APICBASE */
  apicBase = 0;
  /** The xAPIC MMIO base (apicBase & ~0xfff). */
  baseAddress = APIC_DEFAULT_PHYS_BASE;
  /** KVM_APIC_INIT / KVM_APIC_SIPI */
  pendingEvents = 0;
  sipiVector = 0;
  /** pv_unhalted: a KVM_HC_KICK_CPU arrived. */
  pvUnhalted = false;
  /** Lowest-priority arbitration counter (apic_arb_prio). */
  arbPrio = 0;
  /** Errors collected since the last ESR write (latched into ESR on write, SDM 11.5.3). */
  private pendingEsr = 0;
  private divideCount = 2;

  // lapic_timer
  /** VM-clock ns of the next expiry, or -1 when disarmed. */
  timerDeadlineNs = -1;
  private timerPeriodNs = 0;
  private timerStartNs = 0;
  /** MSR_IA32_TSC_DEADLINE as the guest wrote it (0 = disarmed). */
  tscDeadline = 0n;

  constructor(readonly vcpuId: number, private readonly env: KvmLapicEnv) {
    this.reset(false);
  }

  private reg(off: number): number {
    return this.r32[off >> 2]!;
  }

  private setReg(off: number, v: number): void {
    this.r32[off >> 2] = v >>> 0;
  }

  get x2apicMode(): boolean {
    return (this.apicBase & MSR_IA32_APICBASE_EXTD) !== 0;
  }

  /** kvm_apic_hw_enabled: MSR_IA32_APICBASE.EN. */
  get hwEnabled(): boolean {
    return (this.apicBase & MSR_IA32_APICBASE_ENABLE) !== 0;
  }

  /** kvm_apic_sw_enabled: SVR bit 8. */
  get swEnabled(): boolean {
    return (this.reg(APIC_SPIV) & APIC_SPIV_APIC_ENABLED) !== 0;
  }

  get enabled(): boolean {
    return this.hwEnabled && this.swEnabled;
  }

  get isBsp(): boolean {
    return (this.apicBase & MSR_IA32_APICBASE_BSP) !== 0;
  }

  /** The xAPIC ID (8 bits) or x2APIC ID. */
  get apicId(): number {
    return this.x2apicMode ? this.reg(APIC_ID) : this.reg(APIC_ID) >>> 24;
  }

  /** kvm_lapic_reset (power-on when !initEvent; INIT keeps the base and ID). */
  reset(initEvent: boolean): void {
    if (!initEvent) {
      this.apicBase = (APIC_DEFAULT_PHYS_BASE | MSR_IA32_APICBASE_ENABLE | (this.vcpuId === 0 ? MSR_IA32_APICBASE_BSP : 0)) >>> 0;
      this.baseAddress = APIC_DEFAULT_PHYS_BASE;
      this.regs.fill(0);
      this.setReg(APIC_ID, this.vcpuId << 24);
    } else {
      const id = this.reg(APIC_ID);
      const ldr = this.reg(APIC_LDR);
      this.regs.fill(0);
      this.setReg(APIC_ID, id);
      if (this.x2apicMode) this.setReg(APIC_LDR, ldr);
    }
    this.setReg(APIC_LVR, APIC_VERSION | ((KVM_APIC_NR_LVT_ENTRIES - 1) << 16));
    for (const lvt of APIC_LVT_REGS) this.setReg(lvt, APIC_LVT_MASKED);
    // The BSP's LINT0 starts as unmasked ExtINT so the PIC reaches it before the OS
    // programs the APIC (KVM_X86_QUIRK_LINT0_REENABLED).
    if (this.isBsp) this.setReg(APIC_LVT0, APIC_DM_EXTINT);
    if (!this.x2apicMode) this.setReg(APIC_DFR, APIC_DFR_FLAT);
    this.setReg(APIC_SPIV, 0xff);
    this.updateDivideCount();
    this.cancelTimer();
    this.tscDeadline = 0n;
    this.pendingEsr = 0;
    this.pendingEvents = 0;
    this.pvUnhalted = false;
    this.arbPrio = 0;
  }

  // ---- MSR_IA32_APICBASE (kvm_lapic_set_base)

  /**
   * Write MSR_IA32_APICBASE. Guest writes obey the mode transitions of SDM 10.12.5
   * (returns false -> #GP): EXTD without EN, x2APIC -> xAPIC, disabled -> x2APIC.
   */
  setBase(value: number, hostInitiated: boolean): boolean {
    // INVARIANT: the base is kept below 4 GiB (bits 31:12); higher address bits are dropped.
    value >>>= 0;
    const reserved = ~(0xfffff000 | MSR_IA32_APICBASE_BSP | MSR_IA32_APICBASE_EXTD | MSR_IA32_APICBASE_ENABLE);
    const mode = (v: number) => (v & (MSR_IA32_APICBASE_ENABLE | MSR_IA32_APICBASE_EXTD));
    const oldMode = mode(this.apicBase);
    const newMode = mode(value);
    if (!hostInitiated) {
      if ((value & reserved) !== 0) return false;
      if (newMode === MSR_IA32_APICBASE_EXTD) return false;
      if (oldMode === (MSR_IA32_APICBASE_ENABLE | MSR_IA32_APICBASE_EXTD) && newMode === MSR_IA32_APICBASE_ENABLE) return false;
      if (oldMode === 0 && newMode === (MSR_IA32_APICBASE_ENABLE | MSR_IA32_APICBASE_EXTD)) return false;
    }
    const old = this.apicBase;
    this.apicBase = value >>> 0;
    this.baseAddress = (value & 0xfffff000) >>> 0;
    if ((old ^ value) & MSR_IA32_APICBASE_ENABLE && value & MSR_IA32_APICBASE_ENABLE) {
      this.setReg(APIC_ID, this.vcpuId << 24);
    }
    if (!(old & MSR_IA32_APICBASE_EXTD) && value & MSR_IA32_APICBASE_EXTD) {
      // Entering x2APIC mode: ID is the vCPU id, LDR is derived from it (SDM 10.12.10.2).
      const id = this.vcpuId;
      this.setReg(APIC_ID, id);
      this.setReg(APIC_LDR, ((id >> 4) << 16) | (1 << (id & 0xf)));
    }
    if (!(value & MSR_IA32_APICBASE_ENABLE)) this.cancelTimer();
    return true;
  }

  // ---- priorities

  private findHighest(base: number): number {
    for (let i = 7; i >= 0; i--) {
      const w = this.r32[(base >> 2) + 4 * i]!;
      if (w !== 0) return i * 32 + 31 - Math.clz32(w);
    }
    return -1;
  }

  private testVector(base: number, vector: number): boolean {
    return (this.r32[(base >> 2) + 4 * (vector >> 5)]! & (1 << (vector & 31))) !== 0;
  }

  private setVector(base: number, vector: number, on: boolean): void {
    const i = (base >> 2) + 4 * (vector >> 5);
    if (on) this.r32[i] = this.r32[i]! | (1 << (vector & 31));
    else this.r32[i] = this.r32[i]! & ~(1 << (vector & 31));
  }

  highestIrr(): number {
    return this.findHighest(APIC_IRR);
  }

  highestIsr(): number {
    return this.findHighest(APIC_ISR);
  }

  /** __apic_update_ppr: PPR = TPR if TPR[7:4] >= ISRV[7:4], else ISRV[7:4]:0. */
  updatePpr(): number {
    const tpr = this.reg(APIC_TASKPRI);
    const isr = this.highestIsr();
    const isrv = isr < 0 ? 0 : isr;
    const ppr = (tpr & 0xf0) >= (isrv & 0xf0) ? tpr & 0xff : isrv & 0xf0;
    this.setReg(APIC_PROCPRI, ppr);
    return ppr;
  }

  /** apic_set_tpr; CR8 is TPR[7:4]. */
  setTpr(tpr: number): void {
    this.setReg(APIC_TASKPRI, tpr & 0xff);
    this.updatePpr();
  }

  get tpr(): number {
    return this.reg(APIC_TASKPRI);
  }

  /** kvm_apic_has_interrupt: the vector that would be delivered now, or -1. */
  hasInterrupt(): number {
    if (!this.hwEnabled) return -1;
    const ppr = this.updatePpr();
    const irr = this.highestIrr();
    if (irr < 0 || (irr & 0xf0) <= ppr) return -1;
    return irr;
  }

  /** kvm_apic_ack_interrupt: IRR -> ISR for `vector` (the INTA of an APIC interrupt). */
  ackInterrupt(vector: number): void {
    this.setVector(APIC_IRR, vector, false);
    this.setVector(APIC_ISR, vector, true);
    this.updatePpr();
  }

  /** kvm_apic_accept_pic_intr: LINT0 is unmasked ExtINT, or the APIC is hardware-disabled. */
  acceptsPicIntr(): boolean {
    if (!this.hwEnabled) return true;
    const lvt0 = this.reg(APIC_LVT0);
    return (lvt0 & APIC_LVT_MASKED) === 0 && (lvt0 & APIC_MODE_MASK) === APIC_DM_EXTINT;
  }

  /** apic_set_eoi: retire the highest in-service vector and broadcast the EOI. */
  setEoi(): number {
    const vector = this.highestIsr();
    if (vector < 0) return -1;
    this.setVector(APIC_ISR, vector, false);
    this.updatePpr();
    this.env.eoiBroadcast(vector, this.testVector(APIC_TMR, vector));
    return vector;
  }

  /** Whether an EOI for the highest in-service vector would reach the IOAPIC (PV EOI). */
  isrIsLevel(vector: number): boolean {
    return this.testVector(APIC_TMR, vector);
  }

  // ---- acceptance (__apic_accept_irq)

  /** Returns 1 if the message was accepted, 0 if not. */
  acceptIrq(deliveryMode: number, vector: number, level: boolean, trigLevel: boolean): number {
    switch (deliveryMode) {
      case APIC_DM_LOWEST:
      case APIC_DM_FIXED:
        if (deliveryMode === APIC_DM_LOWEST) this.arbPrio++;
        if (trigLevel && !level) return 0;
        if (!this.enabled) return 0;
        if (vector < 16) {
          this.pendingEsr |= APIC_ESR_RECV_ILLEGAL_VECTOR;
          return 0;
        }
        this.setVector(APIC_TMR, vector, trigLevel);
        this.setVector(APIC_IRR, vector, true);
        this.env.kick();
        return 1;
      case APIC_DM_REMRD:
        this.pvUnhalted = true;
        this.env.kick();
        return 1;
      case APIC_DM_NMI:
        this.env.injectNmi();
        this.env.kick();
        return 1;
      case APIC_DM_INIT:
        // INIT level de-assert (level-triggered with level 0) is ignored.
        if (!trigLevel || level) {
          this.pendingEvents = KVM_APIC_INIT;
          this.env.kick();
          return 1;
        }
        return 0;
      case APIC_DM_STARTUP:
        this.sipiVector = vector;
        this.pendingEvents |= KVM_APIC_SIPI;
        this.env.kick();
        return 1;
      case APIC_DM_SMI: // no SMM: dropped
      case APIC_DM_EXTINT: // reaches the CPU through acceptsPicIntr, not as a message
      default:
        return 0;
    }
  }

  // ---- destination matching (kvm_apic_match_dest)

  private matchPhysical(mda: number): boolean {
    if (this.x2apicMode) return mda === X2APIC_BROADCAST || mda === this.reg(APIC_ID);
    if (mda === APIC_BROADCAST) return true;
    if (mda > 0xff) return mda === this.vcpuId;
    return mda === this.reg(APIC_ID) >>> 24;
  }

  private matchLogical(mda: number): boolean {
    const ldr = this.reg(APIC_LDR);
    if (this.x2apicMode) {
      if (mda === X2APIC_BROADCAST) return true;
      return ldr >>> 16 === mda >>> 16 && (ldr & mda & 0xffff) !== 0;
    }
    if (mda === APIC_BROADCAST) return true;
    const logicalId = ldr >>> 24;
    switch (this.reg(APIC_DFR)) {
      case APIC_DFR_FLAT:
        return (logicalId & mda) !== 0;
      case APIC_DFR_CLUSTER:
        return logicalId >> 4 === mda >> 4 && (logicalId & mda & 0xf) !== 0;
      default:
        return false;
    }
  }

  matchDest(src: KvmLapic | null, irq: KvmLapicIrq): boolean {
    switch (irq.shorthand) {
      case APIC_DEST_NOSHORT: {
        let mda = irq.destId >>> 0;
        // An xAPIC broadcast (IOAPIC, MSI, xAPIC ICR) reaches x2APIC targets too.
        if (!irq.fromX2apicIcr && mda === APIC_BROADCAST && this.x2apicMode) mda = X2APIC_BROADCAST;
        return irq.destLogical ? this.matchLogical(mda) : this.matchPhysical(mda);
      }
      case APIC_DEST_SELF:
        return this === src;
      case APIC_DEST_ALLINC:
        return true;
      case APIC_DEST_ALLBUT:
        return this !== src;
      default:
        return false;
    }
  }

  // ---- register access (kvm_lapic_reg_read / kvm_lapic_reg_write)

  private readable(off: number): boolean {
    switch (off) {
      case APIC_ID: case APIC_LVR: case APIC_TASKPRI: case APIC_PROCPRI: case APIC_LDR: case APIC_SPIV:
      case APIC_ESR: case APIC_ICR: case APIC_LVTT: case APIC_LVTTHMR: case APIC_LVTPC: case APIC_LVT0:
      case APIC_LVT1: case APIC_LVTERR: case APIC_TMICT: case APIC_TMCCT: case APIC_TDCR:
        return true;
      case APIC_ARBPRI: case APIC_DFR: case APIC_ICR2:
        return !this.x2apicMode;
      default:
        return off >= APIC_ISR && off < APIC_IRR + 0x80;
    }
  }

  /** The 32-bit register at `off` (16-byte aligned); undefined if not readable. */
  readReg(off: number): number | undefined {
    if (!this.readable(off)) return undefined;
    switch (off) {
      case APIC_ARBPRI:
        return 0;
      case APIC_TMCCT:
        return this.tmcct();
      case APIC_PROCPRI:
        return this.updatePpr();
      default:
        return this.reg(off);
    }
  }

  /** kvm_lapic_reg_write: false when the register is not writable (x2APIC: #GP). */
  writeReg(off: number, val: number): boolean {
    val >>>= 0;
    switch (off) {
      case APIC_ID:
        if (this.x2apicMode) return false;
        this.setReg(APIC_ID, val & 0xff000000);
        return true;
      case APIC_TASKPRI:
        this.setTpr(val & 0xff);
        return true;
      case APIC_EOI:
        this.setEoi();
        return true;
      case APIC_LDR:
        if (this.x2apicMode) return false;
        this.setReg(APIC_LDR, val & APIC_LDR_MASK);
        return true;
      case APIC_DFR:
        if (this.x2apicMode) return false;
        this.setReg(APIC_DFR, val | 0x0fffffff);
        return true;
      case APIC_SPIV: {
        this.setReg(APIC_SPIV, val & 0x3ff);
        if (!(val & APIC_SPIV_APIC_ENABLED)) {
          // Software disable masks every LVT entry (SDM 10.4.7.2).
          for (const lvt of APIC_LVT_REGS) this.setReg(lvt, this.reg(lvt) | APIC_LVT_MASKED);
        }
        return true;
      }
      case APIC_ICR:
        if (this.x2apicMode) return false;
        val &= ~APIC_ICR_BUSY;
        this.setReg(APIC_ICR, val);
        this.sendIpi(val, this.reg(APIC_ICR2));
        return true;
      case APIC_ICR2:
        if (this.x2apicMode) return false;
        this.setReg(APIC_ICR2, val & 0xff000000);
        return true;
      case APIC_LVT0: case APIC_LVTTHMR: case APIC_LVTPC: case APIC_LVT1: case APIC_LVTERR: {
        const index = APIC_LVT_REGS.indexOf(off as (typeof APIC_LVT_REGS)[number]);
        if (!this.swEnabled) val |= APIC_LVT_MASKED;
        this.setReg(off, val & APIC_LVT_WRITE_MASK[index]!);
        return true;
      }
      case APIC_LVTT: {
        if (!this.swEnabled) val |= APIC_LVT_MASKED;
        const oldMode = this.reg(APIC_LVTT) & APIC_LVT_TIMER_MASK;
        this.setReg(APIC_LVTT, val & APIC_LVT_WRITE_MASK[0]);
        const newMode = this.reg(APIC_LVTT) & APIC_LVT_TIMER_MASK;
        // apic_update_lvtt: switching to or from TSC-deadline mode disarms the timer.
        if (oldMode !== newMode && (oldMode === APIC_LVT_TIMER_TSCDEADLINE || newMode === APIC_LVT_TIMER_TSCDEADLINE)) {
          this.cancelTimer();
          this.setReg(APIC_TMICT, 0);
          this.tscDeadline = 0n;
        } else if (oldMode !== newMode && this.timerDeadlineNs >= 0) {
          this.timerPeriodNs = this.limitPeriod(this.timerPeriodNs);
        }
        return true;
      }
      case APIC_TMICT:
        if (this.timerMode() === APIC_LVT_TIMER_TSCDEADLINE) return true;
        this.setReg(APIC_TMICT, val);
        this.startTimer();
        return true;
      case APIC_TDCR: {
        const old = this.divideCount;
        this.setReg(APIC_TDCR, val & 0xb);
        this.updateDivideCount();
        if (old !== this.divideCount && this.timerDeadlineNs >= 0 && this.timerMode() !== APIC_LVT_TIMER_TSCDEADLINE) {
          // Keep the remaining count, re-timed at the new rate.
          const now = this.env.clock.nowNs();
          const remaining = Math.max(0, this.timerDeadlineNs - now);
          this.timerDeadlineNs = now + (remaining / old) * this.divideCount;
          this.timerPeriodNs = this.limitPeriod(this.reg(APIC_TMICT) * APIC_BUS_CYCLE_NS * this.divideCount);
          this.timerStartNs = this.timerDeadlineNs - this.timerPeriodNs;
        }
        return true;
      }
      case APIC_ESR:
        if (this.x2apicMode && val !== 0) return false;
        // A write latches the errors collected since the previous write (SDM 11.5.3).
        this.setReg(APIC_ESR, this.pendingEsr);
        this.pendingEsr = 0;
        return true;
      case APIC_SELF_IPI:
        if (!this.x2apicMode) return false;
        this.sendIpi(APIC_DEST_SELF << 18 | (val & APIC_VECTOR_MASK), 0);
        return true;
      default:
        return false;
    }
  }

  /** kvm_apic_send_ipi: ICR low and the destination (ICR2[31:24] or x2APIC ICR[63:32]). */
  sendIpi(icrLow: number, icrHigh: number): void {
    const irq = this.ipiScratch;
    irq.vector = icrLow & APIC_VECTOR_MASK;
    irq.deliveryMode = icrLow & APIC_MODE_MASK;
    irq.destLogical = (icrLow & APIC_DEST_LOGICAL) !== 0;
    irq.level = (icrLow & APIC_INT_ASSERT) !== 0;
    irq.trigLevel = (icrLow & APIC_INT_LEVELTRIG) !== 0;
    irq.shorthand = (icrLow >> 18) & 3;
    irq.fromX2apicIcr = this.x2apicMode;
    irq.destId = this.x2apicMode ? icrHigh >>> 0 : icrHigh >>> 24;
    irq.msiRedirHint = false;
    if ((irq.deliveryMode === APIC_DM_FIXED || irq.deliveryMode === APIC_DM_LOWEST) && irq.vector < 16) {
      this.pendingEsr |= APIC_ESR_SEND_ILLEGAL_VECTOR;
      return;
    }
    this.env.sendIpi(this, irq);
  }
  private readonly ipiScratch = newLapicIrq();

  // ---- xAPIC MMIO (apic_mmio_read / apic_mmio_write)

  inMmioRange(addr: number): boolean {
    return addr >= this.baseAddress && addr < this.baseAddress + LAPIC_MMIO_LENGTH;
  }

  /** An MMIO read inside the APIC page; false when the address is not this APIC's. */
  mmioRead(addr: number, len: number, data: Uint8Array): boolean {
    if (!this.inMmioRange(addr)) return false;
    if (!this.hwEnabled || this.x2apicMode) {
      // KVM_X86_QUIRK_LAPIC_MMIO_HOLE: the page reads as all ones.
      data.fill(0xff, 0, len);
      return true;
    }
    const off = addr - this.baseAddress;
    const align = off & 0xf;
    data.fill(0, 0, len);
    if (align + len > 4 || off >= KVM_APIC_REG_SIZE) return true;
    const v = this.readReg(off & 0xff0);
    if (v === undefined) return true;
    for (let i = 0; i < len; i++) data[i] = (v >>> (8 * (align + i))) & 0xff;
    return true;
  }

  /** An MMIO write; only aligned 32-bit stores have an effect (others are dropped). */
  mmioWrite(addr: number, len: number, data: Uint8Array): boolean {
    if (!this.inMmioRange(addr)) return false;
    if (!this.hwEnabled || this.x2apicMode) return true;
    const off = addr - this.baseAddress;
    if (len !== 4 || off & 0xf || off >= KVM_APIC_REG_SIZE) return true;
    const v = data[0]! | (data[1]! << 8) | (data[2]! << 16) | (data[3]! << 24);
    this.writeReg(off, v);
    return true;
  }

  // ---- x2APIC MSRs (kvm_x2apic_msr_read / kvm_x2apic_msr_write)

  /** RDMSR 0x800+; undefined -> #GP. */
  x2apicMsrRead(msr: number): bigint | undefined {
    if (!this.x2apicMode) return undefined;
    const off = (msr - 0x800) << 4;
    if (off === APIC_ICR) return (BigInt(this.reg(APIC_ICR2)) << 32n) | BigInt(this.reg(APIC_ICR));
    const v = this.readReg(off);
    return v === undefined ? undefined : BigInt(v >>> 0);
  }

  /** WRMSR 0x800+; false -> #GP. */
  x2apicMsrWrite(msr: number, data: bigint): boolean {
    if (!this.x2apicMode) return false;
    const off = (msr - 0x800) << 4;
    if (off === APIC_ICR) {
      const lo = Number(data & 0xffffffffn) & ~APIC_ICR_BUSY;
      const hi = Number((data >> 32n) & 0xffffffffn);
      this.setReg(APIC_ICR, lo);
      this.setReg(APIC_ICR2, hi);
      this.sendIpi(lo, hi);
      return true;
    }
    if (data >> 32n) return false;
    return this.writeReg(off, Number(data));
  }

  // ---- timer

  private timerMode(): number {
    return this.reg(APIC_LVTT) & APIC_LVT_TIMER_MASK;
  }

  private updateDivideCount(): void {
    const tdcr = this.reg(APIC_TDCR);
    const v = ((tdcr & 3) | ((tdcr & 8) >> 1)) + 1;
    this.divideCount = 1 << (v & 7);
  }

  private limitPeriod(period: number): number {
    return this.timerMode() === APIC_LVT_TIMER_PERIODIC && period > 0 && period < MIN_TIMER_PERIOD_NS ? MIN_TIMER_PERIOD_NS : period;
  }

  private cancelTimer(): void {
    this.timerDeadlineNs = -1;
    this.timerPeriodNs = 0;
  }

  /** start_apic_timer for one-shot/periodic: TMICT * divide * bus cycle from now. */
  private startTimer(): void {
    const period = this.reg(APIC_TMICT) * APIC_BUS_CYCLE_NS * this.divideCount;
    if (period === 0) {
      this.cancelTimer();
      return;
    }
    const now = this.env.clock.nowNs();
    this.timerPeriodNs = this.limitPeriod(period);
    this.timerStartNs = now;
    this.timerDeadlineNs = now + this.timerPeriodNs;
  }

  /** apic_get_tmcct: the current count, 0 once a one-shot has expired. */
  private tmcct(): number {
    if (this.timerMode() === APIC_LVT_TIMER_TSCDEADLINE) return 0;
    if (this.reg(APIC_TMICT) === 0 || this.timerDeadlineNs < 0) return 0;
    const now = this.env.clock.nowNs();
    let remaining = this.timerDeadlineNs - now;
    if (remaining < 0) remaining = this.timerPeriodNs > 0 && this.timerMode() === APIC_LVT_TIMER_PERIODIC
      ? this.timerPeriodNs - ((now - this.timerStartNs) % this.timerPeriodNs)
      : 0;
    return Math.min(this.reg(APIC_TMICT), Math.floor(remaining / (APIC_BUS_CYCLE_NS * this.divideCount))) >>> 0;
  }

  /** WRMSR IA32_TSC_DEADLINE: ignored unless LVTT is in TSC-deadline mode; 0 disarms. */
  setTscDeadline(value: bigint): void {
    if (!this.hwEnabled || this.timerMode() !== APIC_LVT_TIMER_TSCDEADLINE) return;
    this.tscDeadline = value;
    if (value === 0n) {
      this.cancelTimer();
      return;
    }
    this.timerPeriodNs = 0;
    this.timerDeadlineNs = Math.max(0, this.env.nsAtTsc(Number(value)));
  }

  getTscDeadline(): bigint {
    if (!this.hwEnabled || this.timerMode() !== APIC_LVT_TIMER_TSCDEADLINE) return 0n;
    return this.tscDeadline;
  }

  /**
   * The timer check (apic_timer_expired + kvm_inject_apic_timer_irqs): if the deadline
   * passed, deliver LVTT (unless masked) and re-arm a periodic timer. Missed periods are
   * coalesced into one interrupt (the IRR bit would coalesce them anyway).
   */
  checkTimer(now: number): boolean {
    const deadline = this.timerDeadlineNs;
    if (deadline < 0 || now < deadline) return false;
    const mode = this.timerMode();
    if (mode === APIC_LVT_TIMER_PERIODIC && this.timerPeriodNs > 0) {
      const periods = Math.floor((now - deadline) / this.timerPeriodNs) + 1;
      this.timerDeadlineNs = deadline + periods * this.timerPeriodNs;
      this.timerStartNs = this.timerDeadlineNs - this.timerPeriodNs;
    } else {
      this.timerDeadlineNs = -1;
      if (mode === APIC_LVT_TIMER_TSCDEADLINE) this.tscDeadline = 0n;
    }
    this.localDeliver(APIC_LVTT);
    return true;
  }

  /** kvm_apic_local_deliver: raise an LVT entry's interrupt (timer, LINT0/1, error...). */
  localDeliver(lvtReg: number): number {
    const reg = this.reg(lvtReg);
    if (!this.hwEnabled || reg & APIC_LVT_MASKED) return 0;
    return this.acceptIrq(reg & APIC_MODE_MASK, reg & APIC_VECTOR_MASK, true, (reg & APIC_LVT_LEVEL_TRIGGER) !== 0);
  }

  // ---- KVM_GET_LAPIC / KVM_SET_LAPIC

  /** kvm_apic_get_state: the register page with TMCCT computed, ID in xAPIC format. */
  getState(): Uint8Array {
    const out = this.regs.slice();
    const v = new Uint32Array(out.buffer);
    v[APIC_TMCCT >> 2] = this.tmcct();
    if (this.x2apicMode) v[APIC_ID >> 2] = (this.reg(APIC_ID) << 24) >>> 0;
    return out;
  }

  /** kvm_apic_set_state: load the page, recompute PPR and restart the timer from TMICT. */
  setState(page: Uint8Array): void {
    if (page.length !== KVM_APIC_REG_SIZE) throw new KvmError('EINVAL', `regs: must be ${KVM_APIC_REG_SIZE} bytes (kvm_lapic_state), got ${page.length}`);
    this.regs.set(page);
    if (this.x2apicMode) {
      const id = this.reg(APIC_ID) >>> 24;
      this.setReg(APIC_ID, id);
      this.setReg(APIC_LDR, ((id >> 4) << 16) | (1 << (id & 0xf)));
    }
    this.setReg(APIC_LVR, APIC_VERSION | ((KVM_APIC_NR_LVT_ENTRIES - 1) << 16));
    this.updateDivideCount();
    this.updatePpr();
    this.cancelTimer();
    if (this.timerMode() !== APIC_LVT_TIMER_TSCDEADLINE) this.startTimer();
  }
}
