/**
 * The Intel MultiProcessor Specification 1.4 tables, as SeaBIOS builds them: the MP
 * floating pointer ("_MP_") and the configuration table ("PCMP") with one processor entry
 * per vCPU, the ISA and PCI buses, the IOAPIC, ISA IRQ assignments (IRQ 0 on pin 2) and
 * the local interrupts (ExtINT on LINT0, NMI on LINT1).
 */
import type { GuestMemory } from '../machine/guest-memory';
import { APIC_DEFAULT_ADDRESS, IOAPIC_DEFAULT_ADDRESS, IOAPIC_ID } from './acpi';
import { checksum8, writeAscii } from './checksum';

export const MPC_PROCESSOR = 0;
export const MPC_BUS = 1;
export const MPC_IOAPIC = 2;
export const MPC_INTSRC = 3;
export const MPC_LINTSRC = 4;
export const MP_INT = 0;
export const MP_NMI = 1;
export const MP_EXTINT = 3;
export const MP_SPEC_REV = 4;
export const MPC_HEADER_SIZE = 44;
export const MPF_SIZE = 16;

/** An MP interrupt entry for a PCI device: bus 0 slot/pin to the IOAPIC pin `irq`. */
export interface MpPciIntsrc {
  slot: number;
  /** 1 = INTA */
  pin: number;
  irq: number;
}

/** MP irqflag: level-triggered (bits 3:2 = 3), active high (bits 1:0 = 1). */
export const MP_IRQFLAG_LEVEL_HIGH = 0x0d;

export interface MpTableConfig {
  cpus: number;
  /** PCI INTx entries (SeaBIOS lists each PCI function's pin). */
  pciIntsrc?: readonly MpPciIntsrc[];
  /** CPUID.1 EAX (signature) and EDX (features), as SeaBIOS copies them. */
  cpuSignature: number;
  cpuFeatures: number;
}

export function buildMpConfigTable(cfg: MpTableConfig): Uint8Array {
  const entries: number[][] = [];
  for (let i = 0; i < cfg.cpus; i++) {
    entries.push([MPC_PROCESSOR, i, 0x14, 1 | (i === 0 ? 2 : 0), ...le32(cfg.cpuSignature), ...le32(cfg.cpuFeatures), 0, 0, 0, 0, 0, 0, 0, 0]);
  }
  const ISA_BUS = 1;
  entries.push([MPC_BUS, 0, ...ascii('PCI   ')]);
  entries.push([MPC_BUS, ISA_BUS, ...ascii('ISA   ')]);
  entries.push([MPC_IOAPIC, IOAPIC_ID, 0x11, 1, ...le32(IOAPIC_DEFAULT_ADDRESS)]);
  for (let irq = 0; irq < 16; irq++) {
    if (irq === 2) continue; // the cascade; IRQ 0 takes pin 2
    entries.push([MPC_INTSRC, MP_INT, 0, 0, ISA_BUS, irq, IOAPIC_ID, irq === 0 ? 2 : irq]);
  }
  // PCI: source bus IRQ is (device << 2) | (pin - 1) (MP spec D.3).
  for (const p of cfg.pciIntsrc ?? [])
    entries.push([MPC_INTSRC, MP_INT, MP_IRQFLAG_LEVEL_HIGH, 0, 0, ((p.slot << 2) | (p.pin - 1)) & 0xff, IOAPIC_ID, p.irq]);
  entries.push([MPC_LINTSRC, MP_EXTINT, 0, 0, ISA_BUS, 0, 0xff, 0]);
  entries.push([MPC_LINTSRC, MP_NMI, 0, 0, ISA_BUS, 0, 0xff, 1]);
  const len = MPC_HEADER_SIZE + entries.reduce((n, e) => n + e.length, 0);
  const b = new Uint8Array(len);
  const d = new DataView(b.buffer);
  writeAscii(b, 0, 'PCMP', 4);
  d.setUint16(4, len, true);
  b[6] = MP_SPEC_REV;
  writeAscii(b, 8, 'KVMTS', 8);
  writeAscii(b, 16, 'QEMU-LITE', 12);
  d.setUint16(34, entries.length, true);
  d.setUint32(36, APIC_DEFAULT_ADDRESS, true);
  let o = MPC_HEADER_SIZE;
  for (const e of entries) {
    b.set(e, o);
    o += e.length;
  }
  b[7] = checksum8(b);
  return b;
}

export function buildMpFloating(configAddr: number): Uint8Array {
  const b = new Uint8Array(MPF_SIZE);
  writeAscii(b, 0, '_MP_', 4);
  new DataView(b.buffer).setUint32(4, configAddr, true);
  b[8] = 1; // length in 16-byte paragraphs
  b[9] = MP_SPEC_REV;
  b[10] = checksum8(b);
  return b;
}

export function installMpTable(mem: GuestMemory, cfg: MpTableConfig, floatingAddr: number): { floating: number; config: number } {
  if (floatingAddr % 16 !== 0) throw new RangeError('the MP floating pointer must be 16-byte aligned');
  const config = floatingAddr + MPF_SIZE;
  mem.write(config, buildMpConfigTable(cfg));
  mem.write(floatingAddr, buildMpFloating(config));
  return { floating: floatingAddr, config };
}

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

function ascii(s: string): number[] {
  return [...s].map((c) => c.charCodeAt(0));
}
