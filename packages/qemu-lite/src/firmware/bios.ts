/**
 * What SeaBIOS leaves in low memory before it hands over to a kernel, so that guests need
 * no BIOS: the real-mode IVT with default handlers, the BIOS data area, the EBDA, and
 * 16-bit interrupt handlers in the F segment (IRQ 0 increments the tick count at 0x46c
 * and sends EOI, as SeaBIOS's handle_08). Also the PIC/PIT programming SeaBIOS does
 * (vector bases 0x08/0x70, PIT channel 0 at 18.2 Hz), as a 32-bit prologue the vCPU runs
 * before the kernel's entry point.
 */
import type { GuestMemory } from '../machine/guest-memory';
import { PC_EBDA_START } from '../machine/pc-layout';
import { Asm } from './asm';

export const BIOS_SEGMENT = 0xf000;
export const BIOS_BASE = 0xf0000;
/** SeaBIOS's official default IRET at F000:FF53. */
export const BIOS_IRET_OFFSET = 0xff53;
/** Our handlers live from F000:E000 (free in SeaBIOS's layout of the top of the F segment). */
export const BIOS_HANDLERS_OFFSET = 0xe000;
/** The 32-bit boot prologue (PIC/PIT setup, then jump to the kernel). */
export const BIOS_PROLOGUE_ADDR = 0xfd000;

export const BDA_COM_PORTS = 0x400;
export const BDA_EBDA_SEG = 0x40e;
export const BDA_EQUIPMENT = 0x410;
export const BDA_MEM_SIZE_KB = 0x413;
export const BDA_TICKS = 0x46c;
export const BDA_MIDNIGHT = 0x470;
/** Ticks per day at 18.2 Hz (SeaBIOS's TICKS_PER_DAY). */
export const TICKS_PER_DAY = 0x1800b0;

export const PIC_MASTER_VECTOR_BASE = 0x08;
export const PIC_SLAVE_VECTOR_BASE = 0x70;
/** SeaBIOS unmasks timer, keyboard, cascade, floppy on the master; RTC, mouse, IDE on the slave. */
export const PIC_MASTER_MASK = 0xb8;
export const PIC_SLAVE_MASK = 0x8e;

/** IRQ 0 (INT 08h): 32-bit tick count at 0040:006C, midnight rollover, INT 1Ch, EOI. */
export function irq0Handler(): Uint8Array {
  return new Asm()
    .emit(0x50) //                        push ax
    .emit(0x1e) //                        push ds
    .emit(0x31, 0xc0) //                  xor ax, ax
    .emit(0x8e, 0xd8) //                  mov ds, ax
    .emit(0x83, 0x06).imm16(BDA_TICKS).emit(0x01) //      add word [0x46c], 1
    .emit(0x83, 0x16).imm16(BDA_TICKS + 2).emit(0x00) //  adc word [0x46e], 0
    .emit(0x83, 0x3e).imm16(BDA_TICKS + 2).emit(TICKS_PER_DAY >>> 16) // cmp word [0x46e], 0x18
    .jcc8(0x72, 'done') //                jb done
    .emit(0x81, 0x3e).imm16(BDA_TICKS).imm16(TICKS_PER_DAY & 0xffff) // cmp word [0x46c], 0xb0
    .jcc8(0x72, 'done') //                jb done
    .emit(0xc7, 0x06).imm16(BDA_TICKS).imm16(0) //        mov word [0x46c], 0
    .emit(0xc7, 0x06).imm16(BDA_TICKS + 2).imm16(0) //    mov word [0x46e], 0
    .emit(0xc6, 0x06).imm16(BDA_MIDNIGHT).emit(0x01) //   mov byte [0x470], 1
    .label('done')
    .emit(0xcd, 0x1c) //                  int 0x1c (user timer tick)
    .emit(0xb0, 0x20) //                  mov al, 0x20 (non-specific EOI)
    .emit(0xe6, 0x20) //                  out 0x20, al
    .emit(0x1f) //                        pop ds
    .emit(0x58) //                        pop ax
    .emit(0xcf) //                        iret
    .assemble();
}

/** IRQ 1-7: EOI to the master PIC. */
export function masterIrqHandler(): Uint8Array {
  return new Asm().emit(0x50, 0xb0, 0x20, 0xe6, 0x20, 0x58, 0xcf).assemble(); // push ax; mov al,20h; out 20h,al; pop ax; iret
}

/** IRQ 8-15: EOI to the slave, then the master. */
export function slaveIrqHandler(): Uint8Array {
  return new Asm().emit(0x50, 0xb0, 0x20, 0xe6, 0xa0, 0xe6, 0x20, 0x58, 0xcf).assemble(); // ...; out 0a0h,al; out 20h,al; ...
}

export interface BiosLayout {
  irq0: number;
  master: number;
  slave: number;
}

/** Writes the IVT, BDA, EBDA and handlers. Returns the handlers' offsets in the F segment. */
export function setupBiosAreas(mem: GuestMemory, opts: { serialPorts: readonly number[] }): BiosLayout {
  const irq0 = irq0Handler();
  const master = masterIrqHandler();
  const slave = slaveIrqHandler();
  const layout: BiosLayout = {
    irq0: BIOS_HANDLERS_OFFSET,
    master: BIOS_HANDLERS_OFFSET + 0x40,
    slave: BIOS_HANDLERS_OFFSET + 0x50,
  };
  mem.write(BIOS_BASE + layout.irq0, irq0);
  mem.write(BIOS_BASE + layout.master, master);
  mem.write(BIOS_BASE + layout.slave, slave);
  mem.writeU8(BIOS_BASE + BIOS_IRET_OFFSET, 0xcf);

  // IVT: every vector to the default IRET, hardware IRQs to their handlers.
  for (let v = 0; v < 256; v++) {
    let off = BIOS_IRET_OFFSET;
    if (v === PIC_MASTER_VECTOR_BASE) off = layout.irq0;
    else if (v > PIC_MASTER_VECTOR_BASE && v < PIC_MASTER_VECTOR_BASE + 8) off = layout.master;
    else if (v >= PIC_SLAVE_VECTOR_BASE && v < PIC_SLAVE_VECTOR_BASE + 8) off = layout.slave;
    mem.writeU16(v * 4, off);
    mem.writeU16(v * 4 + 2, BIOS_SEGMENT);
  }

  // BDA
  mem.fill(0x400, 0x100, 0);
  opts.serialPorts.slice(0, 4).forEach((p, i) => mem.writeU16(BDA_COM_PORTS + 2 * i, p));
  mem.writeU16(BDA_EBDA_SEG, PC_EBDA_START >> 4);
  // Equipment word: number of serial ports in bits 11:9, math coprocessor (bit 1).
  mem.writeU16(BDA_EQUIPMENT, (Math.min(opts.serialPorts.length, 4) << 9) | 0x02);
  mem.writeU16(BDA_MEM_SIZE_KB, PC_EBDA_START >> 10);
  mem.writeU32(BDA_TICKS, 0);
  // EBDA: its first byte is its size in KiB.
  mem.fill(PC_EBDA_START, 0xa0000 - PC_EBDA_START, 0);
  mem.writeU8(PC_EBDA_START, (0xa0000 - PC_EBDA_START) >> 10);
  return layout;
}

/**
 * The boot prologue: program the PICs (ICW1-4, SeaBIOS's masks) and PIT channel 0
 * (mode 2, count 65536: 18.2 Hz), load EAX/EBX with the boot protocol's values and jump to
 * the entry. `mode` picks the encoding: 32- and 64-bit code are the same bytes here (jmp
 * through ECX/RCX, zero-extended); real mode uses operand-size prefixes and a far jump to
 * the entry's segment:offset.
 */
export function bootPrologue(entry: number, eax: number, ebx: number, mode: 'real' | 'protected' | 'long' = 'protected'): Uint8Array {
  const a = new Asm();
  const out = (port: number, v: number) => a.emit(0xb0, v, 0xe6, port); // mov al, v; out port, al
  out(0x20, 0x11); out(0xa0, 0x11); //            ICW1: edge, cascade, ICW4 needed
  out(0x21, PIC_MASTER_VECTOR_BASE); out(0xa1, PIC_SLAVE_VECTOR_BASE); // ICW2: vector bases
  out(0x21, 0x04); out(0xa1, 0x02); //            ICW3: slave on IRQ 2 / cascade identity 2
  out(0x21, 0x01); out(0xa1, 0x01); //            ICW4: 8086 mode
  out(0x21, PIC_MASTER_MASK); out(0xa1, PIC_SLAVE_MASK); // OCW1: masks
  out(0x43, 0x34); //                             PIT ch0, lobyte/hibyte, mode 2, binary
  out(0x40, 0x00); out(0x40, 0x00); //            count 0 = 65536 -> 1193182/65536 = 18.2 Hz
  if (mode === 'real') {
    const seg = (entry >>> 4) & 0xf000;
    a.emit(0x66, 0xb8).imm32(eax); //             mov eax, imm32
    a.emit(0x66, 0xbb).imm32(ebx); //             mov ebx, imm32
    a.emit(0xea).imm16(entry - seg * 16).imm16(seg); // jmp far seg:off
  } else {
    a.emit(0xb8).imm32(eax); //                   mov eax, imm32
    a.emit(0xbb).imm32(ebx); //                   mov ebx, imm32
    a.emit(0xb9).imm32(entry); //                 mov ecx, imm32
    a.emit(0xff, 0xe1); //                        jmp ecx (rcx in 64-bit mode; zero-extended)
  }
  return a.assemble();
}
