/**
 * i8042 keyboard controller at 0x60 (data) / 0x64 (status, command), as QEMU's pckbd:
 * controller commands (command byte, self tests, output port with A20 and the reset line,
 * pulse 0xFE = CPU reset), a PS/2 keyboard answering its command set, IRQ 1 / IRQ 12.
 */
import type { BusDevice } from '../bus';
import type { IrqLine } from '../irq';

export const I8042_DATA = 0x60;
export const I8042_COMMAND = 0x64;

export const KBD_STAT_OBF = 0x01;
export const KBD_STAT_IBF = 0x02;
export const KBD_STAT_SELFTEST = 0x04; // SYS flag
export const KBD_STAT_CMD = 0x08;
export const KBD_STAT_UNLOCKED = 0x10;
export const KBD_STAT_MOUSE_OBF = 0x20;

export const KBD_MODE_KBD_INT = 0x01;
export const KBD_MODE_MOUSE_INT = 0x02;
export const KBD_MODE_SYS = 0x04;
export const KBD_MODE_DISABLE_KBD = 0x10;
export const KBD_MODE_DISABLE_MOUSE = 0x20;
export const KBD_MODE_KCC = 0x40;

export const KBD_CCMD_READ_MODE = 0x20;
export const KBD_CCMD_WRITE_MODE = 0x60;
export const KBD_CCMD_MOUSE_DISABLE = 0xa7;
export const KBD_CCMD_MOUSE_ENABLE = 0xa8;
export const KBD_CCMD_TEST_MOUSE = 0xa9;
export const KBD_CCMD_SELF_TEST = 0xaa;
export const KBD_CCMD_KBD_TEST = 0xab;
export const KBD_CCMD_KBD_DISABLE = 0xad;
export const KBD_CCMD_KBD_ENABLE = 0xae;
export const KBD_CCMD_READ_INPORT = 0xc0;
export const KBD_CCMD_READ_OUTPORT = 0xd0;
export const KBD_CCMD_WRITE_OUTPORT = 0xd1;
export const KBD_CCMD_WRITE_OBUF = 0xd2;
export const KBD_CCMD_WRITE_AUX_OBUF = 0xd3;
export const KBD_CCMD_WRITE_MOUSE = 0xd4;
export const KBD_CCMD_DISABLE_A20 = 0xdd;
export const KBD_CCMD_ENABLE_A20 = 0xdf;
export const KBD_CCMD_RESET = 0xfe;

export const KBD_OUT_RESET = 0x01; // 0 = assert CPU reset
export const KBD_OUT_A20 = 0x02;

export const KBD_REPLY_ACK = 0xfa;
export const KBD_REPLY_POR = 0xaa;

/** The command byte after a BIOS POST: translation, keyboard IRQ, system flag, mouse off. */
export const DEFAULT_MODE = KBD_MODE_KCC | KBD_MODE_DISABLE_MOUSE | KBD_MODE_SYS | KBD_MODE_KBD_INT;

export interface I8042Actions {
  /** The controller pulsed the CPU reset line. */
  reset(): void;
  /** The A20 gate changed (output port bit 1). */
  setA20?(enabled: boolean): void;
}

export class I8042 implements BusDevice {
  private status = KBD_STAT_CMD | KBD_STAT_UNLOCKED | KBD_STAT_SELFTEST;
  mode = DEFAULT_MODE;
  outport = KBD_OUT_RESET | KBD_OUT_A20;
  /** The controller command waiting for its data byte (0 = none). */
  private writeCmd = 0;
  /** The keyboard command waiting for its argument (0 = none). */
  private kbdArgCmd = 0;
  private readonly queue: { byte: number; aux: boolean }[] = [];
  private out: { byte: number; aux: boolean } | null = null;
  private scanSet = 2;
  /** The byte the last data-port read returned. */
  private lastByte = 0;

  constructor(private readonly kbdIrq: IrqLine, private readonly auxIrq: IrqLine, private readonly actions: I8042Actions) {}

  read(_base: number, offset: number, data: Uint8Array): void {
    data.fill(0);
    data[0] = offset === 0 ? this.readData() : this.status;
  }

  write(_base: number, offset: number, data: Uint8Array): void {
    if (offset === 0) this.writeData(data[0]!);
    else this.writeCommand(data[0]!);
  }

  /** Host keyboard input (scan codes of the current set). */
  sendScancodes(codes: readonly number[]): void {
    for (const c of codes) this.queue.push({ byte: c, aux: false });
    this.update();
  }

  readData(): number {
    const o = this.out;
    if (o === null) return this.lastByte; // an empty output buffer reads its last byte again, as in QEMU
    this.out = null;
    this.lastByte = o.byte;
    // kbd_deassert_irq: the read drops both lines before the next byte raises one again.
    // IRQ 1 and 12 are edge-triggered at the IOAPIC; a line held high from byte to byte
    // would deliver only the first byte of a reply (ACK of GET ID, but not 0xAB 0x41).
    this.status &= ~(KBD_STAT_OBF | KBD_STAT_MOUSE_OBF);
    this.kbdIrq.set(0);
    this.auxIrq.set(0);
    this.update();
    return o.byte;
  }

  writeCommand(cmd: number): void {
    this.status |= KBD_STAT_CMD;
    if (cmd >= 0xf0) {
      // Pulse output lines: bit 0 low = CPU reset.
      if (!(cmd & 1)) this.actions.reset();
      return;
    }
    switch (cmd) {
      case KBD_CCMD_READ_MODE: this.reply(this.mode); break;
      case KBD_CCMD_WRITE_MODE:
      case KBD_CCMD_WRITE_OUTPORT:
      case KBD_CCMD_WRITE_OBUF:
      case KBD_CCMD_WRITE_AUX_OBUF:
      case KBD_CCMD_WRITE_MOUSE:
        this.writeCmd = cmd;
        break;
      case KBD_CCMD_MOUSE_DISABLE: this.mode |= KBD_MODE_DISABLE_MOUSE; break;
      case KBD_CCMD_MOUSE_ENABLE: this.mode &= ~KBD_MODE_DISABLE_MOUSE; break;
      case KBD_CCMD_TEST_MOUSE: this.reply(0x00); break;
      case KBD_CCMD_SELF_TEST:
        this.status |= KBD_STAT_SELFTEST;
        this.reply(0x55);
        break;
      case KBD_CCMD_KBD_TEST: this.reply(0x00); break;
      case KBD_CCMD_KBD_DISABLE: this.mode |= KBD_MODE_DISABLE_KBD; this.update(); break;
      case KBD_CCMD_KBD_ENABLE: this.mode &= ~KBD_MODE_DISABLE_KBD; this.update(); break;
      case KBD_CCMD_READ_INPORT: this.reply(0x80); break; // keyboard not inhibited
      case KBD_CCMD_READ_OUTPORT:
        this.reply(this.outport | (this.out !== null && !this.out.aux ? 0x10 : 0) | (this.out?.aux ? 0x20 : 0));
        break;
      case KBD_CCMD_ENABLE_A20: this.setOutport(this.outport | KBD_OUT_A20); break;
      case KBD_CCMD_DISABLE_A20: this.setOutport(this.outport & ~KBD_OUT_A20); break;
      default:
        break; // unknown commands are ignored, as QEMU logs and drops them
    }
  }

  writeData(v: number): void {
    this.status &= ~KBD_STAT_CMD;
    const cmd = this.writeCmd;
    this.writeCmd = 0;
    switch (cmd) {
      case 0:
        this.keyboardWrite(v);
        return;
      case KBD_CCMD_WRITE_MODE:
        this.mode = v;
        this.status = (this.status & ~KBD_STAT_SELFTEST) | (v & KBD_MODE_SYS ? KBD_STAT_SELFTEST : 0);
        this.update();
        return;
      case KBD_CCMD_WRITE_OUTPORT:
        this.setOutport(v);
        return;
      case KBD_CCMD_WRITE_OBUF:
        this.queue.push({ byte: v, aux: false });
        this.update();
        return;
      case KBD_CCMD_WRITE_AUX_OBUF:
        this.queue.push({ byte: v, aux: true });
        this.update();
        return;
      case KBD_CCMD_WRITE_MOUSE:
        this.mouseWrite(v);
        return;
    }
  }

  private setOutport(v: number): void {
    const old = this.outport;
    this.outport = v;
    if ((old ^ v) & KBD_OUT_A20) this.actions.setA20?.((v & KBD_OUT_A20) !== 0);
    if (!(v & KBD_OUT_RESET)) this.actions.reset();
  }

  /** The PS/2 keyboard's command set (ps2_write_keyboard). */
  private keyboardWrite(v: number): void {
    const arg = this.kbdArgCmd;
    if (arg !== 0) {
      this.kbdArgCmd = 0;
      if (arg === 0xf0) {
        if (v === 0) {
          this.kbd(KBD_REPLY_ACK, this.scanSet);
          return;
        }
        if (v >= 1 && v <= 3) this.scanSet = v;
      }
      this.kbd(KBD_REPLY_ACK);
      return;
    }
    switch (v) {
      case 0xff: // reset
        this.scanSet = 2;
        this.kbd(KBD_REPLY_ACK, KBD_REPLY_POR);
        break;
      case 0xf2: // identify: MF2 keyboard with translation
        this.kbd(KBD_REPLY_ACK, 0xab, this.mode & KBD_MODE_KCC ? 0x41 : 0x83);
        break;
      case 0xee: // echo
        this.kbd(0xee);
        break;
      case 0xed: // set LEDs
      case 0xf0: // scan code set
      case 0xf3: // typematic rate
        this.kbdArgCmd = v;
        this.kbd(KBD_REPLY_ACK);
        break;
      default: // f4 enable, f5 disable, f6 defaults, ...
        this.kbd(KBD_REPLY_ACK);
    }
  }

  /** A PS/2 mouse answering every command with ACK (reset: ACK, POR, device id 0). */
  private mouseWrite(v: number): void {
    if (v === 0xff) {
      for (const b of [KBD_REPLY_ACK, KBD_REPLY_POR, 0x00]) this.queue.push({ byte: b, aux: true });
    } else if (v === 0xf2) {
      this.queue.push({ byte: KBD_REPLY_ACK, aux: true }, { byte: 0x00, aux: true });
    } else {
      this.queue.push({ byte: KBD_REPLY_ACK, aux: true });
    }
    this.update();
  }

  private kbd(...bytes: number[]): void {
    for (const b of bytes) this.queue.push({ byte: b, aux: false });
    this.update();
  }

  /** A controller reply goes straight to the output buffer, ahead of device data. */
  private reply(v: number): void {
    this.queue.unshift({ byte: v, aux: false });
    if (this.out !== null) {
      this.queue.unshift(this.out);
      this.out = null;
    }
    this.update();
  }

  /** Move the next byte to the output buffer and drive the IRQ lines (kbd_update_irq). */
  private update(): void {
    if (this.out === null && this.queue.length > 0) this.out = this.queue.shift()!;
    this.status &= ~(KBD_STAT_OBF | KBD_STAT_MOUSE_OBF);
    let kbdLevel = 0;
    let auxLevel = 0;
    if (this.out !== null) {
      this.status |= KBD_STAT_OBF;
      if (this.out.aux) {
        this.status |= KBD_STAT_MOUSE_OBF;
        if (this.mode & KBD_MODE_MOUSE_INT) auxLevel = 1;
      } else if (this.mode & KBD_MODE_KBD_INT) {
        kbdLevel = 1;
      }
    }
    this.kbdIrq.set(kbdLevel);
    this.auxIrq.set(auxLevel);
  }
}
