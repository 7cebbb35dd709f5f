/**
 * The PC's physical memory layout, as QEMU's pc machine (i440FX) builds it:
 *   0 .. 640 KiB          conventional RAM (IVT, BDA, EBDA at its top)
 *   0xA0000 .. 0xBFFFF    VGA window (no RAM: accesses are MMIO)
 *   0xC0000 .. 0xFFFFF    option ROM and BIOS area (RAM here; firmware tables live in it)
 *   1 MiB .. lowmem       extended RAM, up to the PCI hole
 *   4 GiB ..              the rest of RAM when -m does not fit below the hole
 * and the e820 map a BIOS reports for it.
 */
export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

export const PC_LOW_RAM_END = 0xa0000;
export const PC_VGA_START = 0xa0000;
export const PC_BIOS_AREA_START = 0xc0000;
export const PC_BIOS_AREA_END = 0x100000;
export const PC_HIGH_MEM_START = 0x100000;
export const PC_4G = 4 * GiB;
/** QEMU pc: with -m at or above 3.5 GiB, RAM below 4 GiB stops at 3 GiB (gigabyte_align). */
export const PC_LOWMEM_SPLIT_THRESHOLD = 0xe0000000;
export const PC_LOWMEM_SPLIT = 0xc0000000;
/** The EBDA that SeaBIOS reserves at the top of conventional memory (1 KiB here). */
export const PC_EBDA_START = 0x9fc00;

/** e820 entry types (Linux's E820_TYPE_*). */
export const E820_RAM = 1;
export const E820_RESERVED = 2;
export const E820_ACPI = 3;

export interface E820Entry {
  addr: number;
  size: number;
  type: number;
}

export interface PcMemoryLayout {
  ramSize: number;
  /** RAM below 4 GiB ends here (end of the 1 MiB.. region). */
  belowFourGEnd: number;
  /** RAM above 4 GiB: [4 GiB, 4 GiB + aboveFourG). */
  aboveFourG: number;
}

/** pc_init1's split of -m into RAM below the PCI hole and above 4 GiB. */
export function pcMemoryLayout(ramSize: number): PcMemoryLayout {
  if (ramSize < 2 * MiB) throw new RangeError(`ram size ${ramSize} is below the 2 MiB the pc machine needs`);
  const lowmem = ramSize >= PC_LOWMEM_SPLIT_THRESHOLD ? PC_LOWMEM_SPLIT : ramSize;
  return { ramSize, belowFourGEnd: lowmem, aboveFourG: ramSize - lowmem };
}

/** The regions that are RAM (memory slots), in guest-physical order. */
export function pcRamRegions(l: PcMemoryLayout): { guestPhysAddr: number; size: number; name: string }[] {
  const out = [
    { guestPhysAddr: 0, size: PC_LOW_RAM_END, name: 'conventional' },
    { guestPhysAddr: PC_BIOS_AREA_START, size: PC_BIOS_AREA_END - PC_BIOS_AREA_START, name: 'bios-area' },
    { guestPhysAddr: PC_HIGH_MEM_START, size: l.belowFourGEnd - PC_HIGH_MEM_START, name: 'extended' },
  ];
  if (l.aboveFourG > 0) out.push({ guestPhysAddr: PC_4G, size: l.aboveFourG, name: 'above-4g' });
  return out;
}

/**
 * The e820 map SeaBIOS reports: conventional RAM up to the EBDA, the EBDA and the BIOS
 * area reserved, extended RAM (minus `acpiSize` bytes at its top, ACPI tables), RAM above
 * 4 GiB. The ACPI tables here live in the BIOS area, so acpi entries appear only when asked.
 */
export function pcE820(l: PcMemoryLayout): E820Entry[] {
  const out: E820Entry[] = [
    { addr: 0, size: PC_EBDA_START, type: E820_RAM },
    { addr: PC_EBDA_START, size: PC_LOW_RAM_END - PC_EBDA_START, type: E820_RESERVED },
    // The BIOS area: option ROM space, ACPI tables (0xE0000) and the F segment.
    { addr: 0xe0000, size: 0x20000, type: E820_RESERVED },
    { addr: PC_HIGH_MEM_START, size: l.belowFourGEnd - PC_HIGH_MEM_START, type: E820_RAM },
    // The BIOS ROM alias at the top of 4 GiB (reset vector), reserved as SeaBIOS does.
    { addr: 0xfffc0000, size: 0x40000, type: E820_RESERVED },
  ];
  if (l.aboveFourG > 0) out.push({ addr: PC_4G, size: l.aboveFourG, type: E820_RAM });
  return out;
}

/** Parses QEMU's -m size: a number in MiB, or with a suffix K/M/G/T (case-insensitive, optional B). */
export function parseMemSize(s: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)[bB]?$/.exec(s.trim());
  if (m === null) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] ?? '').toUpperCase();
  const mult = unit === 'K' ? KiB : unit === 'G' ? GiB : unit === 'T' ? 1024 * GiB : MiB;
  const bytes = Math.round(n * mult);
  return bytes;
}
