/**
 * 16550A UART (PC16550D datasheet; modelled on rust-vmm vm-superio's Serial, which
 * Firecracker uses, with the 16550A's FIFO control added). Registers at base+0..7;
 * the output goes to a sink, host input is queued and fed into the 16-byte RX FIFO.
 */
import type { BusDevice } from '../bus';
import type { IrqLine } from '../irq';

// Register offsets (DLAB=0 / DLAB=1 where they differ).
export const UART_RBR = 0; // read: receiver buffer     write: THR     DLAB: DLL
export const UART_IER = 1; //                                         DLAB: DLM
export const UART_IIR = 2; // read: interrupt ident     write: FCR
export const UART_LCR = 3;
export const UART_MCR = 4;
export const UART_LSR = 5;
export const UART_MSR = 6;
export const UART_SCR = 7;

export const UART_IER_RDI = 0x01; // received data available
export const UART_IER_THRI = 0x02; // transmitter holding register empty
export const UART_IER_RLSI = 0x04; // receiver line status
export const UART_IER_MSI = 0x08; // modem status

export const UART_IIR_NO_INT = 0x01;
export const UART_IIR_MSI = 0x00;
export const UART_IIR_THRI = 0x02;
export const UART_IIR_RDI = 0x04;
export const UART_IIR_RLSI = 0x06;
export const UART_IIR_CTI = 0x0c; // character timeout (FIFO mode)
export const UART_IIR_FIFO_ENABLED = 0xc0;

export const UART_FCR_ENABLE_FIFO = 0x01;
export const UART_FCR_CLEAR_RCVR = 0x02;
export const UART_FCR_CLEAR_XMIT = 0x04;

export const UART_LCR_DLAB = 0x80;

export const UART_MCR_DTR = 0x01;
export const UART_MCR_RTS = 0x02;
export const UART_MCR_OUT1 = 0x04;
export const UART_MCR_OUT2 = 0x08;
export const UART_MCR_LOOP = 0x10;

export const UART_LSR_DR = 0x01;
export const UART_LSR_OE = 0x02;
export const UART_LSR_BI = 0x10;
export const UART_LSR_THRE = 0x20;
export const UART_LSR_TEMT = 0x40;

export const UART_MSR_DCTS = 0x01;
export const UART_MSR_DDSR = 0x02;
export const UART_MSR_TERI = 0x04;
export const UART_MSR_DDCD = 0x08;
export const UART_MSR_CTS = 0x10;
export const UART_MSR_DSR = 0x20;
export const UART_MSR_RI = 0x40;
export const UART_MSR_DCD = 0x80;

/** vm-superio's defaults: 9600 baud (divisor 12), 8N1, THR empty, DCD|DSR|CTS asserted. */
export const DEFAULT_BAUD_DIVISOR = 12;
export const DEFAULT_LINE_CONTROL = 0x03;
export const DEFAULT_LINE_STATUS = UART_LSR_THRE | UART_LSR_TEMT;
export const DEFAULT_MODEM_STATUS = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
export const DEFAULT_MODEM_CONTROL = UART_MCR_OUT2;
export const UART_FIFO_SIZE = 16;
/** Receiver trigger levels selected by FCR bits 7:6. */
const RX_TRIGGER = [1, 4, 8, 14] as const;

export class Serial implements BusDevice {
  private dll = DEFAULT_BAUD_DIVISOR & 0xff;
  private dlm = DEFAULT_BAUD_DIVISOR >> 8;
  private ier = 0;
  private lcr = DEFAULT_LINE_CONTROL;
  private lsr = DEFAULT_LINE_STATUS;
  private mcr = DEFAULT_MODEM_CONTROL;
  private msr = DEFAULT_MODEM_STATUS;
  private scr = 0;
  private fcr = 0;
  /** THR-empty interrupt pending (cleared by an IIR read that reports it, or a THR write). */
  private thriPending = false;
  private readonly rx = new Uint8Array(UART_FIFO_SIZE);
  private rxHead = 0;
  private rxCount = 0;
  /** Host input waiting for FIFO space (so nothing typed is lost). */
  private readonly pending: number[] = [];
  private irqLevel = 0;

  constructor(private readonly irq: IrqLine, private readonly out: (byte: number) => void) {}

  /** Host input for the guest (stdin). Bytes beyond the FIFO wait in a queue. */
  enqueueRawBytes(bytes: Uint8Array | readonly number[]): void {
    for (const b of bytes) this.pending.push(b & 0xff);
    this.fillFifo();
    this.updateIrq();
  }

  /** Bytes the guest has not read yet (FIFO plus host queue). */
  get inputPending(): number {
    return this.rxCount + this.pending.length;
  }

  read(_base: number, offset: number, data: Uint8Array): void {
    data.fill(0);
    data[0] = this.readReg(offset);
  }

  write(_base: number, offset: number, data: Uint8Array): void {
    this.writeReg(offset, data[0]!);
  }

  readReg(offset: number): number {
    const dlab = (this.lcr & UART_LCR_DLAB) !== 0;
    switch (offset) {
      case UART_RBR: {
        if (dlab) return this.dll;
        if (this.rxCount === 0) return 0;
        const b = this.rx[this.rxHead]!;
        this.rxHead = (this.rxHead + 1) % UART_FIFO_SIZE;
        this.rxCount--;
        this.fillFifo();
        this.updateIrq();
        return b;
      }
      case UART_IER:
        return dlab ? this.dlm : this.ier;
      case UART_IIR: {
        const iir = this.iir();
        // Reading IIR acknowledges a THR-empty interrupt it reports.
        if ((iir & 0x0f) === UART_IIR_THRI) {
          this.thriPending = false;
          this.updateIrq();
        }
        return iir;
      }
      case UART_LCR:
        return this.lcr;
      case UART_MCR:
        return this.mcr;
      case UART_LSR: {
        const v = this.lsr | (this.rxCount > 0 ? UART_LSR_DR : 0);
        // Error bits clear on read.
        this.lsr &= ~(UART_LSR_OE | UART_LSR_BI);
        this.updateIrq();
        return v;
      }
      case UART_MSR: {
        let v: number;
        if (this.mcr & UART_MCR_LOOP) {
          // Loopback: the modem inputs are wired to the modem control outputs.
          v = ((this.mcr & UART_MCR_RTS) ? UART_MSR_CTS : 0) | ((this.mcr & UART_MCR_DTR) ? UART_MSR_DSR : 0)
            | ((this.mcr & UART_MCR_OUT1) ? UART_MSR_RI : 0) | ((this.mcr & UART_MCR_OUT2) ? UART_MSR_DCD : 0);
        } else {
          v = this.msr;
        }
        this.msr &= 0xf0; // delta bits clear on read
        this.updateIrq();
        return v;
      }
      case UART_SCR:
        return this.scr;
      default:
        return 0;
    }
  }

  writeReg(offset: number, v: number): void {
    const dlab = (this.lcr & UART_LCR_DLAB) !== 0;
    switch (offset) {
      case UART_RBR:
        if (dlab) {
          this.dll = v;
        } else if (this.mcr & UART_MCR_LOOP) {
          this.receive(v);
          this.thriPending = true;
        } else {
          this.out(v);
          // Transmission is instantaneous: THR and the shift register are empty again.
          this.thriPending = true;
        }
        break;
      case UART_IER: {
        if (dlab) {
          this.dlm = v;
          break;
        }
        const old = this.ier;
        this.ier = v & 0x0f;
        // Enabling THRI while THR is empty raises it at once (8250 behaviour Linux probes).
        if (!(old & UART_IER_THRI) && (this.ier & UART_IER_THRI)) this.thriPending = true;
        break;
      }
      case UART_IIR: // FCR
        if (v & UART_FCR_CLEAR_RCVR) {
          this.rxCount = 0;
          this.rxHead = 0;
        }
        this.fcr = v & (UART_FCR_ENABLE_FIFO | 0xc0);
        if (!(v & UART_FCR_ENABLE_FIFO)) this.fcr = 0;
        this.fillFifo();
        break;
      case UART_LCR:
        this.lcr = v;
        break;
      case UART_MCR:
        this.mcr = v & 0x1f;
        break;
      case UART_LSR:
      case UART_MSR:
        break; // read-only (factory test on real parts)
      case UART_SCR:
        this.scr = v;
        break;
    }
    this.updateIrq();
  }

  /** The interrupt identification, by the 16550's priority order. */
  private iir(): number {
    const fifo = this.fcr & UART_FCR_ENABLE_FIFO ? UART_IIR_FIFO_ENABLED : 0;
    if ((this.ier & UART_IER_RLSI) && (this.lsr & (UART_LSR_OE | UART_LSR_BI))) return fifo | UART_IIR_RLSI;
    if ((this.ier & UART_IER_RDI) && this.rxCount > 0) {
      if (!fifo) return UART_IIR_RDI;
      // At or above the trigger level: data available; below it: character timeout.
      return fifo | (this.rxCount >= RX_TRIGGER[this.fcr >> 6]! ? UART_IIR_RDI : UART_IIR_CTI);
    }
    if ((this.ier & UART_IER_THRI) && this.thriPending) return fifo | UART_IIR_THRI;
    if ((this.ier & UART_IER_MSI) && (this.msr & 0x0f)) return fifo | UART_IIR_MSI;
    return fifo | UART_IIR_NO_INT;
  }

  private receive(b: number): void {
    const cap = this.fcr & UART_FCR_ENABLE_FIFO ? UART_FIFO_SIZE : 1;
    if (this.rxCount >= cap) {
      this.lsr |= UART_LSR_OE;
      return;
    }
    this.rx[(this.rxHead + this.rxCount) % UART_FIFO_SIZE] = b;
    this.rxCount++;
  }

  private fillFifo(): void {
    const cap = this.fcr & UART_FCR_ENABLE_FIFO ? UART_FIFO_SIZE : 1;
    while (this.pending.length > 0 && this.rxCount < cap) this.receive(this.pending.shift()!);
  }

  private updateIrq(): void {
    const level = (this.iir() & UART_IIR_NO_INT) === 0 ? 1 : 0;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq.set(level);
    }
  }
}
