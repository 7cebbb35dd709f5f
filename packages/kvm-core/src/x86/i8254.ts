/**
 * The i8254 PIT (arch/x86/kvm/i8254.c, after the 8254 datasheet): three 16-bit
 * counters at 0x40-0x42, the control word at 0x43 (counter latch, read-back), and with
 * KVM_PIT_SPEAKER_DUMMY port 0x61 (channel 2 gate, speaker data, channel 2 OUT).
 * Counters are computed from the VM clock at 1.193182 MHz; channel 0 pulses IRQ0 on
 * each terminal count (modes 0/1/4/5 once, 2/3 every period).
 */
import type { VmClock } from '../clock';
import type { KvmIoDevice } from './io-bus';

export const KVM_PIT_FREQ = 1193182;
export const KVM_PIT_BASE_ADDRESS = 0x40;
export const KVM_SPEAKER_BASE_ADDRESS = 0x61;
export const KVM_PIT_FLAGS_HPET_LEGACY = 0x1;
export const KVM_PIT_FLAGS_SPEAKER_DATA_ON = 0x2;

/** Access modes of the control word (RW bits) and the read/write state machine. */
export const RW_STATE_LSB = 1;
const RW_STATE_MSB = 2;
const RW_STATE_WORD0 = 3;
const RW_STATE_WORD1 = 4;

/** struct kvm_pit_channel_state */
export interface KvmPitChannelState {
  count: number;
  latchedCount: number;
  countLatched: number;
  statusLatched: number;
  status: number;
  readState: number;
  writeState: number;
  writeLatch: number;
  rwMode: number;
  mode: number;
  bcd: number;
  gate: number;
  /** VM-clock ns when the count was loaded (ktime in Linux). */
  countLoadTime: bigint;
}

/** struct kvm_pit_state2 */
export interface KvmPitState2 {
  channels: [KvmPitChannelState, KvmPitChannelState, KvmPitChannelState];
  flags: number;
}

const CHANNEL_FIELDS = [
  'count', 'latchedCount', 'countLatched', 'statusLatched', 'status', 'readState', 'writeState',
  'writeLatch', 'rwMode', 'mode', 'bcd', 'gate',
] as const;

class PitChannel {
  count = 0x10000;
  latchedCount = 0;
  countLatched = 0;
  statusLatched = 0;
  status = 0;
  readState = 0;
  writeState = 0;
  writeLatch = 0;
  rwMode = 0;
  mode = 0;
  bcd = 0;
  gate = 0;
  countLoadTime = 0;
}

function muldiv(ns: number): number {
  // PIT ticks elapsed in `ns`: ns * 1193182 / 1e9, exact for the ranges we meet.
  return Math.floor((ns * KVM_PIT_FREQ) / 1e9);
}

export class KvmPit {
  readonly channels: [PitChannel, PitChannel, PitChannel] = [new PitChannel(), new PitChannel(), new PitChannel()];
  flags = 0;
  speakerDataOn = 0;
  /** Channel 0's interrupt timer: next terminal count in VM-clock ns, or -1. */
  irqDeadlineNs = -1;
  private irqPeriodNs = 0;
  /**
   * Lost-tick policy (KVM_REINJECT_CONTROL; on by default as in Linux): ticks that
   * expire before the guest acknowledged the previous IRQ0 are counted in `pending` and
   * injected one per acknowledgement, so a guest counting ticks keeps time.
   */
  reinject = true;
  pending = 0;
  private irqAck = true;

  /** @param pulseIrq0 raise then lower IRQ0 (kvm_set_irq 1, 0 from the PIT's source id). */
  constructor(private readonly clock: VmClock, private readonly pulseIrq0: () => void, readonly speakerDummy: boolean) {
    this.reset();
  }

  /** kvm_pit_reset */
  reset(): void {
    this.flags = 0;
    for (let i = 0; i < 3; i++) {
      const c = this.channels[i]!;
      Object.assign(c, new PitChannel());
      c.gate = i !== 2 ? 1 : 0;
      c.countLoadTime = this.clock.nowNs();
    }
    this.irqDeadlineNs = -1;
  }

  private elapsedTicks(c: PitChannel): number {
    return muldiv(this.clock.nowNs() - c.countLoadTime);
  }

  /** pit_get_count */
  getCount(ch: number): number {
    const c = this.channels[ch]!;
    const d = this.elapsedTicks(c);
    switch (c.mode) {
      case 0: case 1: case 4: case 5:
        return (c.count - d) & 0xffff;
      case 3:
        // Mode 3 counts down by two each clock.
        return c.count - ((2 * d) % c.count);
      default:
        return c.count - (d % c.count);
    }
  }

  /** pit_get_out: the OUT pin of a counter. */
  getOut(ch: number): number {
    const c = this.channels[ch]!;
    const d = this.elapsedTicks(c);
    switch (c.mode) {
      case 1:
        return d < c.count ? 1 : 0;
      case 2:
        return d % c.count === 0 && d !== 0 ? 1 : 0;
      case 3:
        return d % c.count < ((c.count + 1) >> 1) ? 1 : 0;
      case 4: case 5:
        return d === c.count ? 1 : 0;
      default: // mode 0: high at terminal count
        return d >= c.count ? 1 : 0;
    }
  }

  /** pit_set_gate: modes 1, 2, 3, 5 restart on a rising gate edge. */
  setGate(ch: number, val: number): void {
    const c = this.channels[ch]!;
    if ((c.mode === 1 || c.mode === 2 || c.mode === 3 || c.mode === 5) && c.gate < val) {
      c.countLoadTime = this.clock.nowNs();
      if (ch === 0) this.armIrqTimer(c);
    }
    c.gate = val;
  }

  getGate(ch: number): number {
    return this.channels[ch]!.gate;
  }

  /** pit_load_count: 0 means 0x10000; channel 0 (re)arms the IRQ0 timer. */
  loadCount(ch: number, val: number): void {
    const c = this.channels[ch]!;
    c.count = val === 0 ? 0x10000 : val;
    c.countLoadTime = this.clock.nowNs();
    if (ch === 0) this.armIrqTimer(c);
  }

  private armIrqTimer(c: PitChannel): void {
    const periodNs = (c.count * 1e9) / KVM_PIT_FREQ;
    switch (c.mode) {
      case 0: case 1: case 4:
        this.irqPeriodNs = 0;
        this.irqDeadlineNs = c.countLoadTime + periodNs;
        break;
      case 2: case 3:
        this.irqPeriodNs = periodNs;
        this.irqDeadlineNs = c.countLoadTime + periodNs;
        break;
      default:
        this.irqDeadlineNs = -1;
    }
  }

  /**
   * The IRQ0 timer check (pit_timer_fn + pit_do_work): each channel 0 terminal count
   * since the last check is a tick. With reinject, ticks queue in `pending` and IRQ0 is
   * pulsed only once the previous one was acknowledged; without, extra ticks are dropped.
   */
  checkTimer(now: number): boolean {
    const deadline = this.irqDeadlineNs;
    if (deadline < 0 || now < deadline) return false;
    let ticks = 1;
    if (this.irqPeriodNs > 0) {
      ticks = Math.floor((now - deadline) / this.irqPeriodNs) + 1;
      this.irqDeadlineNs = deadline + ticks * this.irqPeriodNs;
    } else {
      this.irqDeadlineNs = -1;
    }
    if (this.reinject) this.pending += ticks;
    this.doWork();
    return true;
  }

  /** pit_do_work: pulse IRQ0 unless reinjection waits for the guest's acknowledgement. */
  private doWork(): void {
    if (this.reinject) {
      if (!this.irqAck) return;
      this.irqAck = false;
    }
    if (!(this.flags & KVM_PIT_FLAGS_HPET_LEGACY)) this.pulseIrq0();
  }

  /** kvm_pit_ack_irq: the guest EOIed IRQ0 (GSI 0); inject the next queued tick. */
  ackIrq(): void {
    this.irqAck = true;
    if (this.pending > 0) this.pending--;
    if (this.pending > 0) this.doWork();
  }

  /** kvm_pit_reset_reinject: drop queued ticks and stop waiting for an acknowledgement. */
  resetReinject(): void {
    this.pending = 0;
    this.irqAck = true;
  }

  /** KVM_REINJECT_CONTROL */
  setReinject(on: boolean): void {
    this.reinject = on;
    this.pending = 0;
    this.irqAck = true;
  }

  private latchCount(ch: number): void {
    const c = this.channels[ch]!;
    if (!c.countLatched) {
      c.latchedCount = this.getCount(ch) & 0xffff;
      c.countLatched = c.rwMode;
    }
  }

  private latchStatus(ch: number): void {
    const c = this.channels[ch]!;
    if (!c.statusLatched) {
      c.status = (this.getOut(ch) << 7) | (c.rwMode << 4) | (c.mode << 1) | c.bcd;
      c.statusLatched = 1;
    }
  }

  /** pit_ioport_write: `port` 0..3 relative to 0x40. */
  ioportWrite(port: number, val: number): void {
    val &= 0xff;
    if (port === 3) {
      const ch = val >> 6;
      if (ch === 3) {
        // Read-back: bit 5 clear latches counts, bit 4 clear latches status.
        for (let i = 0; i < 3; i++) {
          if (val & (2 << i)) {
            if (!(val & 0x20)) this.latchCount(i);
            if (!(val & 0x10)) this.latchStatus(i);
          }
        }
        return;
      }
      const c = this.channels[ch]!;
      const access = (val >> 4) & 3;
      if (access === 0) {
        this.latchCount(ch);
      } else {
        c.rwMode = access;
        c.readState = access;
        c.writeState = access;
        c.mode = (val >> 1) & 7;
        if (c.mode > 5) c.mode -= 4; // 6 and 7 are aliases of 2 and 3
        c.bcd = val & 1;
      }
      return;
    }
    const c = this.channels[port]!;
    switch (c.writeState) {
      case RW_STATE_MSB:
        this.loadCount(port, val << 8);
        break;
      case RW_STATE_WORD0:
        c.writeLatch = val;
        c.writeState = RW_STATE_WORD1;
        break;
      case RW_STATE_WORD1:
        this.loadCount(port, c.writeLatch | (val << 8));
        c.writeState = RW_STATE_WORD0;
        break;
      default: // RW_STATE_LSB (and an unprogrammed counter)
        this.loadCount(port, val);
    }
  }

  /** pit_ioport_read */
  ioportRead(port: number): number {
    if (port === 3) return 0xff; // the control word register is write-only
    const c = this.channels[port]!;
    if (c.statusLatched) {
      c.statusLatched = 0;
      return c.status;
    }
    if (c.countLatched) {
      switch (c.countLatched) {
        case RW_STATE_MSB:
          c.countLatched = 0;
          return c.latchedCount >> 8;
        case RW_STATE_WORD0:
          c.countLatched = RW_STATE_MSB;
          return c.latchedCount & 0xff;
        default:
          c.countLatched = 0;
          return c.latchedCount & 0xff;
      }
    }
    switch (c.readState) {
      case RW_STATE_MSB:
        return (this.getCount(port) >> 8) & 0xff;
      case RW_STATE_WORD0:
        c.readState = RW_STATE_WORD1;
        return this.getCount(port) & 0xff;
      case RW_STATE_WORD1:
        c.readState = RW_STATE_WORD0;
        return (this.getCount(port) >> 8) & 0xff;
      default:
        return this.getCount(port) & 0xff;
    }
  }

  /** Port 0x61 write: bit 0 = channel 2 gate, bit 1 = speaker data. */
  speakerWrite(val: number): void {
    this.speakerDataOn = (val >> 1) & 1;
    this.setGate(2, val & 1);
  }

  /** Port 0x61 read: bit 5 = channel 2 OUT, bit 4 = refresh toggle (15.085 us). */
  speakerRead(): number {
    const refresh = Math.floor(this.clock.nowNs() / 15085) & 1;
    return (this.speakerDataOn << 1) | this.getGate(2) | (this.getOut(2) << 5) | (refresh << 4);
  }

  ioDevices(): { addr: number; len: number; dev: KvmIoDevice }[] {
    const pit: KvmIoDevice = {
      read: (addr, len, data) => {
        if (len !== 1) return false;
        data[0] = this.ioportRead(addr - KVM_PIT_BASE_ADDRESS);
        return true;
      },
      write: (addr, len, data) => {
        if (len !== 1) return false;
        this.ioportWrite(addr - KVM_PIT_BASE_ADDRESS, data[0]!);
        return true;
      },
    };
    const out = [{ addr: KVM_PIT_BASE_ADDRESS, len: 4, dev: pit }];
    if (this.speakerDummy) {
      out.push({
        addr: KVM_SPEAKER_BASE_ADDRESS, len: 1, dev: {
          read: (_a, len, data) => {
            if (len !== 1) return false;
            data[0] = this.speakerRead();
            return true;
          },
          write: (_a, len, data) => {
            if (len !== 1) return false;
            this.speakerWrite(data[0]!);
            return true;
          },
        },
      });
    }
    return out;
  }

  /** KVM_GET_PIT2 */
  getState(): KvmPitState2 {
    const ch = (i: number): KvmPitChannelState => {
      const c = this.channels[i]!;
      const o = {} as KvmPitChannelState;
      for (const k of CHANNEL_FIELDS) o[k] = c[k];
      o.countLoadTime = BigInt(Math.round(c.countLoadTime));
      return o;
    };
    return { channels: [ch(0), ch(1), ch(2)], flags: this.flags | (this.speakerDataOn ? KVM_PIT_FLAGS_SPEAKER_DATA_ON : 0) };
  }

  /** KVM_SET_PIT2: load the channels, then reload each count (restarting channel 0's timer). */
  setState(s: KvmPitState2): void {
    this.flags = s.flags & KVM_PIT_FLAGS_HPET_LEGACY;
    this.speakerDataOn = s.flags & KVM_PIT_FLAGS_SPEAKER_DATA_ON ? 1 : 0;
    for (let i = 0; i < 3; i++) {
      const c = this.channels[i]!;
      const src = s.channels[i]!;
      for (const k of CHANNEL_FIELDS) c[k] = src[k];
      this.loadCount(i, c.count === 0x10000 ? 0 : c.count);
    }
  }
}
