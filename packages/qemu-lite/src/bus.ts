/**
 * Bus: an address space of device ranges, the shape of rust-vmm's vm-device Bus.
 * register(range, device) rejects zero-sized and overlapping ranges; devices receive
 * (base, offset, data), never the absolute address. One instance for port I/O and one
 * for MMIO. A miss is counted, not thrown (the vCPU loop must not die on a stray access).
 */

/** A device on a bus. `data.length` is the access size; a read fills `data`. */
export interface BusDevice {
  read(base: number, offset: number, data: Uint8Array): void;
  write(base: number, offset: number, data: Uint8Array): void;
}

export type BusErrorKind = 'Overlap' | 'ZeroSizedRange' | 'InvalidRange' | 'MissingAddress';

export const BUS_ERROR_MESSAGES: Record<BusErrorKind, string> = {
  Overlap: 'the range overlaps a range already registered',
  ZeroSizedRange: 'the range has zero size',
  InvalidRange: 'the range does not fit the address space',
  MissingAddress: 'no range is registered at this address',
};

export class BusError extends Error {
  constructor(readonly kind: BusErrorKind, detail: string) {
    super(`${BUS_ERROR_MESSAGES[kind]}: ${detail}`);
    this.name = 'BusError';
  }
}

export interface BusRange {
  readonly base: number;
  readonly size: number;
}

interface Entry {
  readonly base: number;
  readonly size: number;
  readonly device: BusDevice;
}

export class Bus {
  /** Sorted by base. */
  private entries: Entry[] = [];
  /** Accesses that hit no device (logged by the run loop, counted here). */
  misses = 0;

  constructor(readonly name: string, readonly limit: number) {}

  register(range: BusRange, device: BusDevice): void {
    const { base, size } = range;
    if (size === 0) throw new BusError('ZeroSizedRange', `${this.name} ${hex(base)}`);
    if (!Number.isSafeInteger(base) || !Number.isSafeInteger(size) || base < 0 || size < 0 || base + size > this.limit)
      throw new BusError('InvalidRange', `${this.name} ${hex(base)}+${hex(size)}`);
    for (const e of this.entries)
      if (base < e.base + e.size && e.base < base + size)
        throw new BusError('Overlap', `${this.name} ${hex(base)}+${hex(size)} and ${hex(e.base)}+${hex(e.size)}`);
    this.entries.push({ base, size, device });
    this.entries.sort((a, b) => a.base - b.base);
  }

  /** Removes the range that starts at `base`; MissingAddress if none does. */
  deregister(base: number): BusDevice {
    const i = this.entries.findIndex((e) => e.base === base);
    if (i < 0) throw new BusError('MissingAddress', `${this.name} ${hex(base)}`);
    return this.entries.splice(i, 1)[0]!.device;
  }

  /** The device covering addr, with its range. */
  resolve(addr: number): Entry | undefined {
    const es = this.entries;
    let lo = 0;
    let hi = es.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const e = es[mid]!;
      if (addr < e.base) hi = mid - 1;
      else if (addr >= e.base + e.size) lo = mid + 1;
      else return e;
    }
    return undefined;
  }

  /** Returns false on a miss (the data is then filled with 0xff, as an open bus reads). */
  read(addr: number, data: Uint8Array): boolean {
    const e = this.resolve(addr);
    if (e === undefined) {
      data.fill(0xff);
      this.misses++;
      return false;
    }
    e.device.read(e.base, addr - e.base, data);
    return true;
  }

  write(addr: number, data: Uint8Array): boolean {
    const e = this.resolve(addr);
    if (e === undefined) {
      this.misses++;
      return false;
    }
    e.device.write(e.base, addr - e.base, data);
    return true;
  }

  ranges(): BusRange[] {
    return this.entries.map(({ base, size }) => ({ base, size }));
  }
}

/** Little-endian value of an access's bytes. */
export function dataToU32(data: Uint8Array): number {
  let v = 0;
  for (let i = data.length - 1; i >= 0; i--) v = (v * 256 + data[i]!) >>> 0;
  return v;
}

/** Writes the low data.length bytes of v, little-endian. */
export function u32ToData(v: number, data: Uint8Array): void {
  for (let i = 0; i < data.length; i++) data[i] = i < 4 ? (v >>> (8 * i)) & 0xff : 0;
}

export function hex(v: number): string {
  return `0x${v.toString(16)}`;
}
