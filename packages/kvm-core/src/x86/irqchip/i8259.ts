/**
 * The i8259A master/slave pair (arch/x86/kvm/i8259.c, after the 8259A datasheet).
 * Master at 0x20/0x21, slave at 0xa0/0xa1 cascaded on master IR2, ELCR at 0x4d0/0x4d1
 * (PIIX edge/level control). The INT output goes to the vCPUs whose LAPIC accepts
 * ExtINT (LVT0) or is disabled; the run loop reads the vector with `readIrq` (INTA).
 */
import type { KvmIoDevice } from '../io-bus';

export const PIC_NUM_PINS = 16;
/** ELCR bits that may be set: IRQ0, 1, 2 (master) and 8, 13 (slave) are always edge. */
export const PIC_MASTER_ELCR_MASK = 0xf8;
export const PIC_SLAVE_ELCR_MASK = 0xde;

/** struct kvm_pic_state (KVM_GET_IRQCHIP for KVM_IRQCHIP_PIC_MASTER / _SLAVE), all u8. */
export interface KvmPicState {
  lastIrr: number;
  irr: number;
  imr: number;
  isr: number;
  priorityAdd: number;
  irqBase: number;
  readRegSelect: number;
  poll: number;
  specialMask: number;
  initState: number;
  autoEoi: number;
  rotateOnAutoEoi: number;
  specialFullyNestedMode: number;
  init4: number;
  elcr: number;
  elcrMask: number;
}

export const KVM_PIC_STATE_FIELDS = [
  'lastIrr', 'irr', 'imr', 'isr', 'priorityAdd', 'irqBase', 'readRegSelect', 'poll', 'specialMask',
  'initState', 'autoEoi', 'rotateOnAutoEoi', 'specialFullyNestedMode', 'init4', 'elcr', 'elcrMask',
] as const satisfies readonly (keyof KvmPicState)[];

/** struct kvm_kpic_state: one 8259A. */
export class KvmKpicState implements KvmPicState {
  lastIrr = 0;
  irr = 0;
  imr = 0;
  isr = 0;
  priorityAdd = 0;
  irqBase = 0;
  readRegSelect = 0;
  poll = 0;
  specialMask = 0;
  initState = 0;
  autoEoi = 0;
  rotateOnAutoEoi = 0;
  specialFullyNestedMode = 0;
  init4 = 0;
  /** ICW1.SNGL: no slave, so no ICW3 (not part of kvm_pic_state). */
  single = 0;
  elcr = 0;
  elcrMask: number;

  constructor(readonly isMaster: boolean) {
    this.elcrMask = isMaster ? PIC_MASTER_ELCR_MASK : PIC_SLAVE_ELCR_MASK;
  }
}

/** The priority (0 highest .. 7) of the highest set bit of `mask` given rotation; 8 if none. */
function getPriority(s: KvmKpicState, mask: number): number {
  if (mask === 0) return 8;
  let priority = 0;
  while ((mask & (1 << ((priority + s.priorityAdd) & 7))) === 0) priority++;
  return priority;
}

/** struct kvm_pic: the master/slave pair and the INT output. */
export class KvmPic {
  readonly pics: [KvmKpicState, KvmKpicState] = [new KvmKpicState(true), new KvmKpicState(false)];
  /** The INT line towards the CPU(s). */
  output = 0;
  /** Per-pin line level per IRQ source (__kvm_irq_line_state: a bit per source id). */
  private readonly irqStates = new Uint32Array(PIC_NUM_PINS);

  /**
   * @param onOutputRaised kvm_vcpu_kick of the vCPUs that accept PIC interrupts.
   * @param onAck kvm_notify_acked_irq(KVM_IRQCHIP_PIC_*, pin 0..15) (irqfd resample).
   * @param onMask kvm_fire_mask_notifiers(KVM_IRQCHIP_PIC_*, pin 0..15, masked) on OCW1 changes.
   * @param anyVcpuAcceptsPic whether some vCPU takes ExtINT (kvm_apic_accept_pic_intr).
   */
  constructor(
    private readonly onOutputRaised: () => void = () => {},
    private readonly onAck: (irq: number) => void = () => {},
    private readonly onMask: (irq: number, masked: boolean) => void = () => {},
    private readonly anyVcpuAcceptsPic: () => boolean = () => true,
  ) {}

  /** kvm_pic_set_irq: returns 1 delivered, 0 coalesced (already pending), -1 masked. */
  setIrq(irq: number, sourceId: number, level: number): number {
    const bit = 1 << sourceId;
    const st = level ? (this.irqStates[irq]! | bit) : (this.irqStates[irq]! & ~bit);
    this.irqStates[irq] = st;
    const ret = this.setIrq1(this.pics[irq >> 3], irq & 7, st !== 0 ? 1 : 0);
    this.updateIrq();
    return ret;
  }

  /** kvm_pic_clear_all: drop a source's contribution on every pin. */
  clearSource(sourceId: number): void {
    for (let irq = 0; irq < PIC_NUM_PINS; irq++) {
      if (this.irqStates[irq]! & (1 << sourceId)) this.setIrq(irq, sourceId, 0);
    }
  }

  /** pic_set_irq1: the edge/level sense logic of one input. */
  private setIrq1(s: KvmKpicState, irq: number, level: number): number {
    const mask = 1 << irq;
    let ret = 1;
    if (s.elcr & mask) {
      // Level triggered: IRR follows the line.
      if (level) {
        ret = s.irr & mask ? 0 : 1;
        s.irr |= mask;
        s.lastIrr |= mask;
      } else {
        s.irr &= ~mask;
        s.lastIrr &= ~mask;
      }
    } else if (level) {
      // Edge triggered: only a rising edge sets IRR.
      if ((s.lastIrr & mask) === 0) {
        ret = s.irr & mask ? 0 : 1;
        s.irr |= mask;
      }
      s.lastIrr |= mask;
    } else {
      s.lastIrr &= ~mask;
    }
    return s.imr & mask ? -1 : ret;
  }

  /** pic_get_irq: the IR to signal, or -1 if none beats the in-service priority. */
  getIrq(s: KvmKpicState): number {
    let mask = s.irr & ~s.imr;
    const priority = getPriority(s, mask);
    if (priority === 8) return -1;
    mask = s.isr;
    // Special mask mode: a masked level in service does not inhibit lower levels.
    if (s.specialMask) mask &= ~s.imr;
    // Special fully nested mode: the slave's IR2 in service does not block the slave.
    if (s.specialFullyNestedMode && s.isMaster) mask &= ~(1 << 2);
    const cur = getPriority(s, mask);
    return priority < cur ? (priority + s.priorityAdd) & 7 : -1;
  }

  /** pic_update_irq: cascade the slave into master IR2 and recompute INT. */
  updateIrq(): void {
    const [master, slave] = this.pics;
    if (this.getIrq(slave) >= 0) {
      // The slave's INT is a pulse on master IR2 (edge), as on the PC.
      this.setIrq1(master, 2, 1);
      this.setIrq1(master, 2, 0);
    }
    const level = this.getIrq(master) >= 0 ? 1 : 0;
    const raised = level && !this.output;
    this.output = level;
    if (raised) this.onOutputRaised();
  }

  private clearIsr(s: KvmKpicState, irq: number): void {
    s.isr &= ~(1 << irq);
    this.onAck(s.isMaster ? irq : irq + 8);
  }

  /** pic_intack: the INTA cycle on one chip. */
  private intack(s: KvmKpicState, irq: number): void {
    s.isr |= 1 << irq;
    // A level-sensitive request stays in IRR while the line is high.
    if (!(s.elcr & (1 << irq))) s.irr &= ~(1 << irq);
    if (s.autoEoi) {
      if (s.rotateOnAutoEoi) s.priorityAdd = (irq + 1) & 7;
      this.clearIsr(s, irq);
    }
  }

  /**
   * kvm_pic_read_irq: the two INTA cycles; returns the vector. With nothing pending
   * the chip answers the spurious IR7 (vector base+7 of the master, or of the slave
   * when the cascade IR2 was acknowledged but the slave's request went away).
   */
  readIrq(): number {
    const [master, slave] = this.pics;
    this.output = 0;
    let intno: number;
    const irq = this.getIrq(master);
    if (irq >= 0) {
      this.intack(master, irq);
      if (irq === 2) {
        let irq2 = this.getIrq(slave);
        if (irq2 >= 0) this.intack(slave, irq2);
        else irq2 = 7;
        intno = slave.irqBase + irq2;
      } else {
        intno = master.irqBase + irq;
      }
    } else {
      intno = master.irqBase + 7;
    }
    this.updateIrq();
    return intno & 0xff;
  }

  /** ICW1: the initialization sequence's reset (datasheet "Initialization Command Words"). */
  private initReset(s: KvmKpicState): void {
    // Edge requests dropped by the reset count as acknowledged (kvm_pic_reset), so a
    // source waiting for its ack (the PIT's reinjection) is not stuck forever.
    const edgeIrr = s.irr & ~s.elcr;
    s.lastIrr = 0;
    s.irr &= s.elcr;
    s.imr = 0;
    s.isr = 0;
    s.priorityAdd = 0;
    s.irqBase = 0;
    s.readRegSelect = 0;
    s.poll = 0;
    s.specialMask = 0;
    s.autoEoi = 0;
    s.rotateOnAutoEoi = 0;
    s.specialFullyNestedMode = 0;
    if (edgeIrr === 0 || !this.anyVcpuAcceptsPic()) return;
    for (let irq = 0; irq < 8; irq++) if (edgeIrr & (1 << irq)) this.clearIsr(s, irq);
  }

  /** pic_ioport_write; `port` is 0 (command) or 1 (data) of chip `s`. */
  ioportWrite(s: KvmKpicState, port: number, val: number): void {
    if ((port & 1) === 0) {
      if (val & 0x10) {
        // ICW1
        this.initReset(s);
        s.init4 = val & 1;
        s.single = (val >> 1) & 1;
        s.initState = 1;
        this.updateIrq();
      } else if (val & 0x08) {
        // OCW3
        if (val & 0x04) s.poll = 1;
        if (val & 0x02) s.readRegSelect = val & 1;
        if (val & 0x40) s.specialMask = (val >> 5) & 1;
        this.updateIrq();
      } else {
        // OCW2: R SL EOI
        const cmd = val >> 5;
        switch (cmd) {
          case 0: // rotate in auto-EOI mode: clear
          case 4: // rotate in auto-EOI mode: set
            s.rotateOnAutoEoi = cmd >> 2;
            break;
          case 1: // non-specific EOI
          case 5: { // rotate on non-specific EOI
            const priority = getPriority(s, s.isr);
            if (priority !== 8) {
              const irq = (priority + s.priorityAdd) & 7;
              if (cmd === 5) s.priorityAdd = (irq + 1) & 7;
              this.clearIsr(s, irq);
              this.updateIrq();
            }
            break;
          }
          case 3: // specific EOI
            this.clearIsr(s, val & 7);
            this.updateIrq();
            break;
          case 6: // set priority: IR(val&7) becomes the lowest
            s.priorityAdd = ((val & 7) + 1) & 7;
            this.updateIrq();
            break;
          case 7: { // rotate on specific EOI
            const irq = val & 7;
            s.priorityAdd = (irq + 1) & 7;
            this.clearIsr(s, irq);
            this.updateIrq();
            break;
          }
          default: // 2: no operation
            break;
        }
      }
      return;
    }
    switch (s.initState) {
      case 0: { // OCW1: the mask register; mask notifiers see each pin that changed
        const diff = s.imr ^ (val & 0xff);
        s.imr = val & 0xff;
        const off = s.isMaster ? 0 : 8;
        if (diff) for (let irq = 0; irq < 8; irq++) if (diff & (1 << irq)) this.onMask(irq + off, (s.imr & (1 << irq)) !== 0);
        this.updateIrq();
        break;
      }
      case 1: // ICW2: vector base (T7-T3)
        s.irqBase = val & 0xf8;
        s.initState = s.single ? (s.init4 ? 3 : 0) : 2;
        break;
      case 2: // ICW3: cascade wiring (fixed on the PC)
        s.initState = s.init4 ? 3 : 0;
        break;
      case 3: // ICW4: SFNM, AEOI (uPM and buffered mode have no effect here)
        s.specialFullyNestedMode = (val >> 4) & 1;
        s.autoEoi = (val >> 1) & 1;
        s.initState = 0;
        break;
    }
  }

  /** Poll command: the read acts as INTA; bit 7 = interrupt, bits 2:0 = its level. */
  private pollRead(s: KvmKpicState): number {
    const irq = this.getIrq(s);
    if (irq < 0) return 0;
    if (!s.isMaster) {
      // The slave's request reached the master as IR2; polling the slave consumes it.
      const master = this.pics[0];
      master.isr &= ~(1 << 2);
      master.irr &= ~(1 << 2);
    }
    this.intack(s, irq);
    this.updateIrq();
    return 0x80 | irq;
  }

  /** pic_ioport_read */
  ioportRead(s: KvmKpicState, port: number): number {
    if (s.poll) {
      s.poll = 0;
      return this.pollRead(s);
    }
    if ((port & 1) === 0) return s.readRegSelect ? s.isr : s.irr;
    return s.imr;
  }

  elcrWrite(s: KvmKpicState, val: number): void {
    s.elcr = val & s.elcrMask;
    this.updateIrq();
  }

  /** KVM_GET_IRQCHIP (PIC_MASTER / PIC_SLAVE) */
  getState(chip: 0 | 1): KvmPicState {
    const s = this.pics[chip];
    const out = {} as KvmPicState;
    for (const k of KVM_PIC_STATE_FIELDS) out[k] = s[k];
    return out;
  }

  /** KVM_SET_IRQCHIP (PIC_MASTER / PIC_SLAVE): the state as saved, then INT recomputed. */
  setState(chip: 0 | 1, state: KvmPicState): void {
    const s = this.pics[chip];
    for (const k of KVM_PIC_STATE_FIELDS) s[k] = state[k];
    s.single = 0;
    this.updateIrq();
  }

  /**
   * The PIO devices: master 0x20-0x21, slave 0xa0-0xa1, ELCR 0x4d0-0x4d1. Byte accesses
   * only, as the 8259A has an 8-bit bus; wider accesses are declined (exit to userspace).
   */
  ioDevices(): { addr: number; len: number; dev: KvmIoDevice }[] {
    const pic = (chip: KvmKpicState, base: number): KvmIoDevice => ({
      read: (addr, len, data) => {
        if (len !== 1) return false;
        data[0] = this.ioportRead(chip, addr - base);
        return true;
      },
      write: (addr, len, data) => {
        if (len !== 1) return false;
        this.ioportWrite(chip, addr - base, data[0]!);
        return true;
      },
    });
    const elcr: KvmIoDevice = {
      read: (addr, len, data) => {
        if (len !== 1) return false;
        data[0] = this.pics[addr - 0x4d0]!.elcr;
        return true;
      },
      write: (addr, len, data) => {
        if (len !== 1) return false;
        this.elcrWrite(this.pics[addr - 0x4d0]!, data[0]!);
        return true;
      },
    };
    return [
      { addr: 0x20, len: 2, dev: pic(this.pics[0], 0x20) },
      { addr: 0xa0, len: 2, dev: pic(this.pics[1], 0xa0) },
      { addr: 0x4d0, len: 2, dev: elcr },
    ];
  }
}
