/**
 * BAR assignment at machine build, the job SeaBIOS's pciinit.c (or kvmtool/Firecracker's
 * own allocator) does before the kernel runs: Linux is booted directly, so it must find
 * every BAR programmed, COMMAND decoding I/O and memory with bus mastering on, and the
 * interrupt line set to the IRQ its PIRQ link is steered to. Largest regions first, each
 * aligned to its size; I/O from 0xc000, memory from the bottom of the 32-bit PCI hole.
 */
import {
  PCI_COMMAND, PCI_COMMAND_IO, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY, PCI_INTERRUPT_LINE, PCI_INTERRUPT_PIN,
} from './pci-device';
import type { PciHost } from './pci-host';

/** SeaBIOS's I/O window for PCI BARs. */
export const PCI_IO_WINDOW_BASE = 0xc000;
export const PCI_IO_WINDOW_END = 0x10000;
/** The 32-bit MMIO window ends below the IOAPIC (0xfec00000), as on QEMU's pc. */
export const PCI_MEM_WINDOW_END = 0xfec00000;
/** SeaBIOS's BUILD_PCIMEM_START: the window starts here unless RAM reaches higher. */
export const PCI_MEM_WINDOW_START = 0xe0000000;

export interface PciWindows {
  ioBase: number;
  ioEnd: number;
  memBase: number;
  memEnd: number;
}

export function pcPciWindows(belowFourGEnd: number): PciWindows {
  const memBase = Math.max(PCI_MEM_WINDOW_START, Math.ceil(belowFourGEnd / 0x10000000) * 0x10000000);
  return { ioBase: PCI_IO_WINDOW_BASE, ioEnd: PCI_IO_WINDOW_END, memBase, memEnd: PCI_MEM_WINDOW_END };
}

export class PciAssignError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PciAssignError';
  }
}

/**
 * Programs the BARs of every function with defineBar regions that are still unassigned,
 * enables decoding and bus mastering, and writes INTERRUPT_LINE from `irqOf(slot, pin)`.
 */
export function assignPciResources(host: PciHost, windows: PciWindows, irqOf: (slot: number, pin: number) => number): void {
  const wants: { f: ReturnType<PciHost['list']>[number]['f']; n: number; size: number; io: boolean }[] = [];
  for (const { f } of host.list()) {
    f.regions.forEach((r, n) => {
      if (r !== undefined && f.regionAddress(n) === 0) wants.push({ f, n, size: r.size, io: r.type === 'io' });
    });
  }
  wants.sort((a, b) => b.size - a.size);
  let io = windows.ioBase;
  let mem = windows.memBase;
  for (const w of wants) {
    let at: number;
    if (w.io) {
      at = Math.ceil(io / w.size) * w.size;
      if (at + w.size > windows.ioEnd) throw new PciAssignError(`PCI: no I/O space left for ${w.f.name} BAR ${w.n} (${w.size} bytes)`);
      io = at + w.size;
    } else {
      at = Math.ceil(mem / w.size) * w.size;
      if (at + w.size > windows.memEnd) throw new PciAssignError(`PCI: no 32-bit MMIO space left for ${w.f.name} BAR ${w.n} (${w.size} bytes)`);
      mem = at + w.size;
    }
    w.f.setRegionAddress(w.n, at);
  }
  for (const { device, f } of host.list()) {
    if (f.regions.length === 0) continue;
    const cmd = (f.regions.some((r) => r?.type === 'io') ? PCI_COMMAND_IO : 0) |
      (f.regions.some((r) => r !== undefined && r.type !== 'io') ? PCI_COMMAND_MEMORY : 0) | PCI_COMMAND_MASTER;
    f.writeConfig(PCI_COMMAND, 2, f.readConfig(PCI_COMMAND, 2) | cmd);
    const pin = f.config[PCI_INTERRUPT_PIN]!;
    if (pin !== 0) {
      const irq = irqOf(device, pin);
      f.config[PCI_INTERRUPT_LINE] = irq < 0 ? 0xff : irq;
    }
  }
}
