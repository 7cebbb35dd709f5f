/**
 * The IOAPIC (arch/x86/kvm/ioapic.c, after the 82093AA datasheet): 24 pins, version
 * 0x11, at 0xfec00000 behind IOREGSEL (0x00) / IOWIN (0x10). Level-triggered pins set
 * Remote IRR when delivered and are re-evaluated on the LAPIC's EOI broadcast.
 */
import type { KvmIoDevice } from '../io-bus';
import { APIC_DEST_NOSHORT } from './lapic-regs';
import { newLapicIrq, type KvmLapicIrq } from './lapic';

export const IOAPIC_DEFAULT_BASE_ADDRESS = 0xfec00000;
export const IOAPIC_MEM_LENGTH = 0x100;
export const IOAPIC_NUM_PINS = 24;
export const IOAPIC_VERSION_ID = 0x11;
export const IOAPIC_REG_SELECT = 0x00;
export const IOAPIC_REG_WINDOW = 0x10;
export const IOAPIC_REG_VERSION = 0x01;
export const IOAPIC_REG_APIC_ID = 0x00;
export const IOAPIC_REG_ARB_ID = 0x02;

/** Redirection entry bits (low dword). */
export const IOAPIC_RTE_VECTOR = 0xff;
export const IOAPIC_RTE_DELIVERY_MODE = 0x700;
export const IOAPIC_RTE_DEST_LOGICAL = 1 << 11;
export const IOAPIC_RTE_DELIVERY_STATUS = 1 << 12;
export const IOAPIC_RTE_POLARITY = 1 << 13;
export const IOAPIC_RTE_REMOTE_IRR = 1 << 14;
export const IOAPIC_RTE_LEVEL = 1 << 15;
export const IOAPIC_RTE_MASKED = 1 << 16;

/** struct kvm_ioapic_state (KVM_GET_IRQCHIP for KVM_IRQCHIP_IOAPIC). */
export interface KvmIoapicState {
  baseAddress: number;
  ioregsel: number;
  id: number;
  irr: number;
  /** 24 redirection entries, as the u64 `bits` of the uapi union. */
  redirtbl: bigint[];
}

export class KvmIoapic {
  baseAddress = IOAPIC_DEFAULT_BASE_ADDRESS;
  ioregsel = 0;
  /** IOAPIC ID register bits 27:24, kept as the 4-bit id. */
  id = 0;
  /** The asserted pins (line state) still to be serviced or held high. */
  irr = 0;
  /** Redirection table: low and high dwords per pin. */
  readonly rteLo = new Uint32Array(IOAPIC_NUM_PINS);
  readonly rteHi = new Uint32Array(IOAPIC_NUM_PINS);
  /** Per-pin line level per IRQ source (as the PIC). */
  private readonly irqStates = new Uint32Array(IOAPIC_NUM_PINS);
  private readonly irq: KvmLapicIrq = newLapicIrq();

  /**
   * @param deliver kvm_irq_delivery_to_apic: returns how many LAPICs accepted (-1 none).
   * @param onAck kvm_notify_acked_irq(KVM_IRQCHIP_IOAPIC, pin) on EOI (irqfd resample).
   * @param onMask kvm_fire_mask_notifiers(KVM_IRQCHIP_IOAPIC, pin, masked) when a pin's mask bit changes.
   */
  constructor(
    private readonly deliver: (irq: KvmLapicIrq) => number,
    private readonly onAck: (pin: number) => void = () => {},
    private readonly onMask: (pin: number, masked: boolean) => void = () => {},
  ) {
    this.reset();
  }

  reset(): void {
    this.baseAddress = IOAPIC_DEFAULT_BASE_ADDRESS;
    this.ioregsel = 0;
    this.id = 0;
    this.irr = 0;
    this.rteLo.fill(IOAPIC_RTE_MASKED);
    this.rteHi.fill(0);
    this.irqStates.fill(0);
  }

  /** kvm_ioapic_set_irq: returns 1 delivered, 0 coalesced, -1 masked/undelivered. */
  setIrq(pin: number, sourceId: number, level: number): number {
    const bit = 1 << sourceId;
    const st = level ? (this.irqStates[pin]! | bit) : (this.irqStates[pin]! & ~bit);
    this.irqStates[pin] = st;
    const mask = 1 << pin;
    if (st === 0) {
      this.irr &= ~mask;
      return 1;
    }
    const edge = (this.rteLo[pin]! & IOAPIC_RTE_LEVEL) === 0;
    const oldIrr = this.irr;
    this.irr |= mask;
    // An edge pin already asserted is no new edge; a level pin waiting on Remote IRR coalesces.
    if (edge && oldIrr & mask) return 0;
    if (!edge && this.rteLo[pin]! & IOAPIC_RTE_REMOTE_IRR) return 0;
    return this.service(pin);
  }

  /** ioapic_service: send the pin's message if unmasked and not waiting for an EOI. */
  private service(pin: number): number {
    const lo = this.rteLo[pin]!;
    const level = (lo & IOAPIC_RTE_LEVEL) !== 0;
    if (lo & IOAPIC_RTE_MASKED || (level && lo & IOAPIC_RTE_REMOTE_IRR)) return -1;
    const irq = this.irq;
    irq.vector = lo & IOAPIC_RTE_VECTOR;
    irq.deliveryMode = lo & IOAPIC_RTE_DELIVERY_MODE;
    irq.destLogical = (lo & IOAPIC_RTE_DEST_LOGICAL) !== 0;
    irq.trigLevel = level;
    irq.level = true;
    irq.shorthand = APIC_DEST_NOSHORT;
    irq.destId = this.rteHi[pin]! >>> 24;
    irq.msiRedirHint = false;
    irq.fromX2apicIcr = false;
    if (!level) this.irr &= ~(1 << pin);
    const ret = this.deliver(irq);
    if (level && ret > 0) this.rteLo[pin] = lo | IOAPIC_RTE_REMOTE_IRR;
    return ret;
  }

  /**
   * kvm_ioapic_update_eoi: the EOI broadcast for `vector`. Level pins with that vector
   * drop Remote IRR and are re-serviced if their line is still asserted.
   */
  updateEoi(vector: number, trigLevel: boolean): void {
    for (let pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
      const lo = this.rteLo[pin]!;
      if ((lo & IOAPIC_RTE_VECTOR) !== vector) continue;
      // The ack notifiers run first (an irqfd resampler lowers its line here).
      this.onAck(pin);
      const cur = this.rteLo[pin]!;
      if (!trigLevel || !(cur & IOAPIC_RTE_LEVEL)) continue;
      this.rteLo[pin] = cur & ~IOAPIC_RTE_REMOTE_IRR;
      if (!(cur & IOAPIC_RTE_MASKED) && this.irr & (1 << pin)) this.service(pin);
    }
  }

  /** ioapic_read_indirect */
  readIndirect(): number {
    const sel = this.ioregsel;
    switch (sel) {
      case IOAPIC_REG_VERSION:
        return ((IOAPIC_NUM_PINS - 1) << 16) | IOAPIC_VERSION_ID;
      case IOAPIC_REG_APIC_ID:
      case IOAPIC_REG_ARB_ID:
        return (this.id & 0xf) << 24;
      default: {
        const index = (sel - 0x10) >> 1;
        if (sel < 0x10 || index >= IOAPIC_NUM_PINS) return 0xffffffff;
        return sel & 1 ? this.rteHi[index]! : this.rteLo[index]!;
      }
    }
  }

  /** ioapic_write_indirect */
  writeIndirect(val: number): void {
    const sel = this.ioregsel;
    switch (sel) {
      case IOAPIC_REG_VERSION:
        return; // read-only
      case IOAPIC_REG_APIC_ID:
        this.id = (val >>> 24) & 0xf;
        return;
      case IOAPIC_REG_ARB_ID:
        return;
      default: {
        const index = (sel - 0x10) >> 1;
        if (sel < 0x10 || index >= IOAPIC_NUM_PINS) return;
        if (sel & 1) {
          this.rteHi[index] = val & 0xff000000;
          return;
        }
        const old = this.rteLo[index]!;
        // Delivery status and Remote IRR are read-only.
        const ro = IOAPIC_RTE_DELIVERY_STATUS | IOAPIC_RTE_REMOTE_IRR;
        let lo = ((val & ~ro) | (old & ro)) >>> 0;
        // Switching a pin to edge clears Remote IRR (what Linux and Xen expect of hardware).
        if (!(lo & IOAPIC_RTE_LEVEL)) lo &= ~IOAPIC_RTE_REMOTE_IRR;
        this.rteLo[index] = lo;
        if ((old ^ lo) & IOAPIC_RTE_MASKED) this.onMask(index, (lo & IOAPIC_RTE_MASKED) !== 0);
        const mask = 1 << index;
        if (!(lo & IOAPIC_RTE_MASKED) && this.irr & mask && (lo & IOAPIC_RTE_LEVEL) && !(lo & IOAPIC_RTE_REMOTE_IRR)) {
          // Unmasking an asserted level pin delivers it now.
          this.service(index);
        } else if (!(lo & IOAPIC_RTE_LEVEL) && this.irr & mask && !(lo & IOAPIC_RTE_MASKED) && old & IOAPIC_RTE_MASKED) {
          // An edge that arrived while masked was latched in IRR: deliver it on unmask.
          this.service(index);
        }
      }
    }
  }

  /** MMIO: IOREGSEL at +0x00, IOWIN at +0x10 (32-bit; byte reads of IOWIN allowed). */
  mmioRead(addr: number, len: number, data: Uint8Array): void {
    const off = (addr - this.baseAddress) & 0xff;
    let v: number;
    if (off >= IOAPIC_REG_WINDOW && off < IOAPIC_REG_WINDOW + 4) v = this.readIndirect() >>> (8 * (off & 3));
    else if (off < 4) v = this.ioregsel >>> (8 * off);
    else v = 0;
    for (let i = 0; i < len; i++) data[i] = i < 4 ? (v >>> (8 * i)) & 0xff : 0;
  }

  mmioWrite(addr: number, len: number, data: Uint8Array): void {
    const off = (addr - this.baseAddress) & 0xff;
    let v = 0;
    for (let i = 0; i < len && i < 4; i++) v |= data[i]! << (8 * i);
    if (off === IOAPIC_REG_SELECT) this.ioregsel = v & 0xff;
    else if (off === IOAPIC_REG_WINDOW && len >= 4) this.writeIndirect(v >>> 0);
  }

  /** The device on the MMIO bus at baseAddress. */
  ioDevice(): KvmIoDevice {
    return {
      read: (addr, len, data) => {
        this.mmioRead(addr, len, data);
        return true;
      },
      write: (addr, len, data) => {
        this.mmioWrite(addr, len, data);
        return true;
      },
    };
  }

  getState(): KvmIoapicState {
    const redirtbl: bigint[] = [];
    for (let i = 0; i < IOAPIC_NUM_PINS; i++) redirtbl.push((BigInt(this.rteHi[i]!) << 32n) | BigInt(this.rteLo[i]!));
    return { baseAddress: this.baseAddress, ioregsel: this.ioregsel, id: this.id, irr: this.irr, redirtbl };
  }

  /** kvm_set_ioapic: load, then re-inject the asserted pins (kvm_ioapic_inject_all). */
  setState(s: KvmIoapicState): void {
    this.baseAddress = s.baseAddress;
    this.ioregsel = s.ioregsel;
    this.id = s.id;
    for (let i = 0; i < IOAPIC_NUM_PINS; i++) {
      const v = s.redirtbl[i]!;
      this.rteLo[i] = Number(v & 0xffffffffn);
      this.rteHi[i] = Number(v >> 32n);
    }
    this.irr = 0;
    for (let pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
      if (s.irr & (1 << pin)) {
        this.irr |= 1 << pin;
        this.irqStates[pin] = this.irqStates[pin]! | 1;
        this.service(pin);
      }
    }
  }
}
