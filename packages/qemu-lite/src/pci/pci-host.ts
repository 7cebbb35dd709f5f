/**
 * The PCI host bridge's configuration mechanism #1 (PCI 3.0 §3.2.2.3.2): CONFIG_ADDRESS
 * at 0xcf8 (bit 31 enable, bus 23:16, device 15:11, function 10:8, register 7:2) and
 * CONFIG_DATA at 0xcfc-0xcff. A function that is not present reads as all-ones, which is
 * how the guest's enumeration finds what exists.
 */
import type { BusDevice } from '../bus';
import { dataToU32, u32ToData } from '../bus';
import { PCI_INTERRUPT_PIN, type PciFunction, type PciSlotContext } from './pci-device';

export const PCI_CONFIG_ADDRESS = 0xcf8;
export const PCI_CONFIG_DATA = 0xcfc;
export const PCI_CONFIG_ENABLE = 0x80000000;

/** devfn as Linux encodes it: device << 3 | function. */
export function pciDevfn(device: number, fn: number): number {
  return (device << 3) | fn;
}

export class PciHost {
  private configAddress = 0;
  /** Bus 0's functions by devfn. */
  private readonly functions = new Map<number, PciFunction>();

  /** The board's wiring for plugged functions (BAR buses, INTx routing); set before adding. */
  private slotContext: ((device: number, fn: number, pin: number) => PciSlotContext) | undefined;

  setSlotContext(ctx: (device: number, fn: number, pin: number) => PciSlotContext): void {
    this.slotContext = ctx;
  }

  addFunction(device: number, fn: number, f: PciFunction): void {
    const devfn = pciDevfn(device, fn);
    if (device < 0 || device > 31 || fn < 0 || fn > 7) throw new RangeError(`PCI slot ${device}.${fn} does not exist on bus 0`);
    if (this.functions.has(devfn)) throw new RangeError(`PCI slot 00:${device.toString(16).padStart(2, '0')}.${fn} is already used`);
    this.functions.set(devfn, f);
    if (this.slotContext !== undefined) f.plug(this.slotContext(device, fn, f.config[PCI_INTERRUPT_PIN]!));
  }

  getFunction(device: number, fn: number): PciFunction | undefined {
    return this.functions.get(pciDevfn(device, fn));
  }

  /** Lowest free device number (for -device pci-testdev). */
  freeSlot(): number {
    for (let d = 0; d < 32; d++) if (!this.functions.has(pciDevfn(d, 0))) return d;
    throw new RangeError('PCI bus 0 is full');
  }

  /** All functions, as "bb:dd.f vendor:device". */
  list(): { device: number; fn: number; f: PciFunction }[] {
    return [...this.functions.entries()].sort((a, b) => a[0] - b[0]).map(([devfn, f]) => ({ device: devfn >> 3, fn: devfn & 7, f }));
  }

  /** Config read for bus/devfn/offset, all-ones when nothing answers. */
  configRead(bus: number, devfn: number, offset: number, len: number): number {
    const f = bus === 0 ? this.functions.get(devfn) : undefined;
    if (f === undefined) return len === 4 ? 0xffffffff : (1 << (8 * len)) - 1;
    return f.readConfig(offset, len);
  }

  configWrite(bus: number, devfn: number, offset: number, len: number, value: number): void {
    const f = bus === 0 ? this.functions.get(devfn) : undefined;
    f?.writeConfig(offset, len, value);
  }

  /** 0xcf8, a 32-bit register (narrower accesses do not hit it, as on i440FX). */
  readonly addressPort: BusDevice = {
    read: (_b, offset, data) => {
      if (offset === 0 && data.length === 4) u32ToData(this.configAddress, data);
      else data.fill(0xff);
    },
    write: (_b, offset, data) => {
      if (offset === 0 && data.length === 4) this.configAddress = dataToU32(data) & 0x80fffffc;
    },
  };

  /** 0xcfc..0xcff */
  readonly dataPort: BusDevice = {
    read: (_b, offset, data) => {
      const a = this.configAddress;
      if (!(a & PCI_CONFIG_ENABLE)) {
        data.fill(0xff);
        return;
      }
      u32ToData(this.configRead((a >>> 16) & 0xff, (a >>> 8) & 0xff, (a & 0xfc) + offset, data.length), data);
    },
    write: (_b, offset, data) => {
      const a = this.configAddress;
      if (!(a & PCI_CONFIG_ENABLE)) return;
      this.configWrite((a >>> 16) & 0xff, (a >>> 8) & 0xff, (a & 0xfc) + offset, data.length, dataToU32(data));
    },
  };
}
