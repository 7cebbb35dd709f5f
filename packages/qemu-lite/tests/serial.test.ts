/** 16550A registers, FIFO and interrupt identification (PC16550D datasheet, vm-superio). */
import { describe, expect, it } from 'vitest';
import {
  Serial, UART_FCR_ENABLE_FIFO, UART_IER, UART_IER_RDI, UART_IER_RLSI, UART_IER_THRI, UART_IIR, UART_IIR_CTI, UART_IIR_NO_INT,
  UART_IIR_RDI, UART_IIR_RLSI, UART_IIR_THRI, UART_LCR, UART_LCR_DLAB, UART_LSR, UART_LSR_DR, UART_LSR_OE, UART_LSR_TEMT,
  UART_LSR_THRE, UART_MCR, UART_MCR_LOOP, UART_MSR, UART_RBR, UART_SCR,
} from '../src/devices/serial';
import { RecordingIrq } from '../src/irq';

function uart() {
  const irq = new RecordingIrq();
  const out: number[] = [];
  const s = new Serial(irq, (b) => out.push(b));
  return { s, irq, out };
}

describe('16550A UART', () => {
  it('resets to 9600 8N1 with THR empty and no interrupt pending', () => {
    const { s } = uart();
    expect(s.readReg(UART_LCR)).toBe(0x03);
    expect(s.readReg(UART_LSR)).toBe(UART_LSR_THRE | UART_LSR_TEMT);
    expect(s.readReg(UART_IIR)).toBe(UART_IIR_NO_INT);
    expect(s.readReg(UART_MSR)).toBe(0xb0);
    s.writeReg(UART_LCR, 0x03 | UART_LCR_DLAB);
    expect(s.readReg(UART_RBR)).toBe(12); // DLL: divisor 12 = 9600 baud
    expect(s.readReg(UART_IER)).toBe(0); // DLM
  });

  it('DLAB switches offsets 0/1 to the divisor latch', () => {
    const { s, out } = uart();
    s.writeReg(UART_LCR, UART_LCR_DLAB);
    s.writeReg(UART_RBR, 0x01);
    s.writeReg(UART_IER, 0x00);
    s.writeReg(UART_LCR, 0x03);
    expect(out).toEqual([]); // divisor writes are not output
    s.writeReg(UART_RBR, 0x41);
    expect(out).toEqual([0x41]);
    s.writeReg(UART_LCR, UART_LCR_DLAB);
    expect(s.readReg(UART_RBR)).toBe(0x01); // 115200 baud
  });

  it('raises THRI when enabled with THR empty; reading IIR acknowledges it', () => {
    const { s, irq } = uart();
    s.writeReg(UART_IER, UART_IER_THRI);
    expect(irq.level).toBe(1);
    expect(s.readReg(UART_IIR)).toBe(UART_IIR_THRI);
    expect(irq.level).toBe(0);
    expect(s.readReg(UART_IIR)).toBe(UART_IIR_NO_INT);
    s.writeReg(UART_RBR, 0x42); // transmitting empties THR again
    expect(irq.level).toBe(1);
  });

  it('received data: DR, RDI, the byte, then no interrupt', () => {
    const { s, irq } = uart();
    s.writeReg(UART_IER, UART_IER_RDI);
    s.enqueueRawBytes([0x61]);
    expect(s.readReg(UART_LSR) & UART_LSR_DR).toBe(UART_LSR_DR);
    expect(irq.level).toBe(1);
    expect(s.readReg(UART_IIR)).toBe(UART_IIR_RDI);
    expect(s.readReg(UART_RBR)).toBe(0x61);
    expect(irq.level).toBe(0);
    expect(s.readReg(UART_LSR) & UART_LSR_DR).toBe(0);
  });

  it('FIFO mode: IIR bits 7:6 set; below the trigger level a character timeout, at it data available', () => {
    const { s } = uart();
    s.writeReg(UART_IIR, UART_FCR_ENABLE_FIFO | 0x40); // FIFO on, trigger level 4
    s.writeReg(UART_IER, UART_IER_RDI);
    s.enqueueRawBytes([1, 2, 3]);
    expect(s.readReg(UART_IIR)).toBe(0xc0 | UART_IIR_CTI);
    s.enqueueRawBytes([4]);
    expect(s.readReg(UART_IIR)).toBe(0xc0 | UART_IIR_RDI);
    expect([1, 2, 3, 4].map(() => s.readReg(UART_RBR))).toEqual([1, 2, 3, 4]);
  });

  it('holds 16 bytes in the FIFO and queues the rest of host input without loss', () => {
    const { s } = uart();
    s.writeReg(UART_IIR, UART_FCR_ENABLE_FIFO);
    const input = Array.from({ length: 40 }, (_, i) => i);
    s.enqueueRawBytes(input);
    const got: number[] = [];
    while (s.readReg(UART_LSR) & UART_LSR_DR) got.push(s.readReg(UART_RBR));
    expect(got).toEqual(input);
  });

  it('FCR bit 1 clears the receive FIFO', () => {
    const { s } = uart();
    s.writeReg(UART_IIR, UART_FCR_ENABLE_FIFO);
    s.enqueueRawBytes([9, 9]);
    s.writeReg(UART_IIR, UART_FCR_ENABLE_FIFO | 0x02);
    // The queue refills nothing: those bytes were already in the FIFO.
    expect(s.readReg(UART_LSR) & UART_LSR_DR).toBe(0);
  });

  it('loopback: THR goes to RBR, MSR mirrors MCR, nothing is output', () => {
    const { s, out } = uart();
    s.writeReg(UART_MCR, UART_MCR_LOOP | 0x0f);
    s.writeReg(UART_RBR, 0x55);
    expect(out).toEqual([]);
    expect(s.readReg(UART_RBR)).toBe(0x55);
    expect(s.readReg(UART_MSR) & 0xf0).toBe(0xf0);
    s.writeReg(UART_MCR, UART_MCR_LOOP);
    expect(s.readReg(UART_MSR) & 0xf0).toBe(0);
  });

  it('loopback overrun sets OE and a line-status interrupt, which outranks data', () => {
    const { s } = uart();
    s.writeReg(UART_IER, UART_IER_RLSI | UART_IER_RDI);
    s.writeReg(UART_MCR, UART_MCR_LOOP);
    s.writeReg(UART_RBR, 1);
    s.writeReg(UART_RBR, 2); // non-FIFO: a one-byte holding register, so this overruns
    expect(s.readReg(UART_IIR)).toBe(UART_IIR_RLSI);
    expect(s.readReg(UART_LSR) & UART_LSR_OE).toBe(UART_LSR_OE);
    expect(s.readReg(UART_LSR) & UART_LSR_OE).toBe(0); // cleared by the read
    expect(s.readReg(UART_IIR)).toBe(UART_IIR_RDI);
  });

  it('the scratch register holds a byte', () => {
    const { s } = uart();
    s.writeReg(UART_SCR, 0xa5);
    expect(s.readReg(UART_SCR)).toBe(0xa5);
  });

  it('reads and writes through the bus interface (base, offset, data)', () => {
    const { s, out } = uart();
    s.write(0x3f8, 0, Uint8Array.of(0x7a));
    const d = new Uint8Array(1);
    s.read(0x3f8, 5, d);
    expect(out).toEqual([0x7a]);
    expect(d[0]).toBe(0x60);
  });
});
