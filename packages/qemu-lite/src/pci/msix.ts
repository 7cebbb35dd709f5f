/**
 * MSI-X (PCI 3.0 §6.8.2): the capability in config space (Message Control with Enable
 * and Function Mask, Table and PBA offset/BIR), the vector table (16 bytes per entry:
 * address low/high, data, vector control with its Mask bit) and the Pending Bit Array,
 * both in a memory BAR. A vector that fires while masked sets its pending bit and is
 * delivered when unmasked (as QEMU's msix_notify / msix_handle_mask_update).
 */
import type { BusDevice } from '../bus';
import { PCI_CAP_ID_MSIX, type PciFunction } from './pci-device';
import type { MsiRoute, MsiRoutes } from './msi-routes';

export const PCI_MSIX_FLAGS = 2;
export const PCI_MSIX_FLAGS_QSIZE = 0x07ff;
export const PCI_MSIX_FLAGS_MASKALL = 0x4000;
export const PCI_MSIX_FLAGS_ENABLE = 0x8000;
export const PCI_MSIX_TABLE = 4;
export const PCI_MSIX_PBA = 8;
export const PCI_CAP_MSIX_SIZEOF = 12;
export const PCI_MSIX_ENTRY_SIZE = 16;
export const PCI_MSIX_ENTRY_LOWER_ADDR = 0;
export const PCI_MSIX_ENTRY_UPPER_ADDR = 4;
export const PCI_MSIX_ENTRY_DATA = 8;
export const PCI_MSIX_ENTRY_VECTOR_CTRL = 12;
export const PCI_MSIX_ENTRY_CTRL_MASKBIT = 1;

export class Msix {
  /** Offset of the capability in config space. */
  readonly cap: number;
  readonly table: Uint8Array;
  private readonly tableView: DataView;
  readonly pba: Uint8Array;
  private readonly routes: MsiRoute[] = [];
  /** Messages delivered (for tests and stats). */
  delivered = 0;

  /**
   * @param bar the BAR holding the table at `tableOffset` and the PBA at `pbaOffset`
   *   (the caller maps tableDevice/pbaDevice, or `device` for a dedicated BAR).
   */
  constructor(
    private readonly fn: PciFunction, readonly nvectors: number, bar: number, readonly tableOffset: number,
    readonly pbaOffset: number, msi: MsiRoutes,
  ) {
    if (nvectors < 1 || nvectors > 2048) throw new RangeError(`MSI-X: ${nvectors} vectors (1-2048)`);
    this.cap = fn.addCapability(PCI_CAP_ID_MSIX, PCI_CAP_MSIX_SIZEOF);
    const c = new DataView(fn.config.buffer);
    c.setUint16(this.cap + PCI_MSIX_FLAGS, nvectors - 1, true);
    c.setUint32(this.cap + PCI_MSIX_TABLE, tableOffset | bar, true);
    c.setUint32(this.cap + PCI_MSIX_PBA, pbaOffset | bar, true);
    // Only Enable and Function Mask are writable.
    fn.wmask[this.cap + PCI_MSIX_FLAGS + 1] = (PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL) >> 8;
    this.table = new Uint8Array(nvectors * PCI_MSIX_ENTRY_SIZE);
    this.tableView = new DataView(this.table.buffer);
    this.pba = new Uint8Array(Math.ceil(nvectors / 64) * 8);
    for (let v = 0; v < nvectors; v++) {
      // Reset state: every vector masked.
      this.tableView.setUint32(v * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL, PCI_MSIX_ENTRY_CTRL_MASKBIT, true);
      this.routes.push(msi.allocate());
    }
    this.msi = msi;
  }

  private readonly msi: MsiRoutes;

  private get control(): number {
    return new DataView(this.fn.config.buffer).getUint16(this.cap + PCI_MSIX_FLAGS, true);
  }

  get enabled(): boolean {
    return (this.control & PCI_MSIX_FLAGS_ENABLE) !== 0;
  }

  get functionMasked(): boolean {
    return (this.control & PCI_MSIX_FLAGS_MASKALL) !== 0;
  }

  vectorMasked(v: number): boolean {
    return (this.tableView.getUint32(v * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL, true) & PCI_MSIX_ENTRY_CTRL_MASKBIT) !== 0;
  }

  isPending(v: number): boolean {
    return (this.pba[v >> 3]! & (1 << (v & 7))) !== 0;
  }

  private setPending(v: number, on: boolean): void {
    if (on) this.pba[v >> 3] = this.pba[v >> 3]! | (1 << (v & 7));
    else this.pba[v >> 3] = this.pba[v >> 3]! & ~(1 << (v & 7));
  }

  /** msix_notify: deliver vector v now, or leave it pending while masked. Out-of-range vectors are dropped. */
  notify(v: number): void {
    if (!this.enabled || v >= this.nvectors || v < 0) return;
    if (this.functionMasked || this.vectorMasked(v)) {
      this.setPending(v, true);
      return;
    }
    this.deliver(v);
  }

  private deliver(v: number): void {
    const o = v * PCI_MSIX_ENTRY_SIZE;
    const r = this.routes[v]!;
    this.msi.update(r, this.tableView.getUint32(o, true), this.tableView.getUint32(o + 4, true), this.tableView.getUint32(o + 8, true));
    this.delivered++;
    r.signal();
  }

  /** Config space write to the capability: unmasking delivers what is pending. */
  configWritten(offset: number, len: number): void {
    if (offset < this.cap + PCI_CAP_MSIX_SIZEOF && offset + len > this.cap) this.deliverPending();
  }

  private deliverPending(): void {
    if (!this.enabled || this.functionMasked) return;
    for (let v = 0; v < this.nvectors; v++) {
      if (this.isPending(v) && !this.vectorMasked(v)) {
        this.setPending(v, false);
        this.deliver(v);
      }
    }
  }

  /** The table as a bus device (at `tableOffset` in its BAR; offsets relative to the table). */
  readonly tableDevice: BusDevice = {
    read: (_b, offset, data) => {
      for (let i = 0; i < data.length; i++) data[i] = offset + i < this.table.length ? this.table[offset + i]! : 0;
    },
    write: (_b, offset, data) => {
      const entry = Math.floor(offset / PCI_MSIX_ENTRY_SIZE);
      for (let i = 0; i < data.length; i++) if (offset + i < this.table.length) this.table[offset + i] = data[i]!;
      if (entry < this.nvectors) this.deliverPending();
    },
  };

  /** The PBA (read-only to the guest). */
  readonly pbaDevice: BusDevice = {
    read: (_b, offset, data) => {
      for (let i = 0; i < data.length; i++) data[i] = offset + i < this.pba.length ? this.pba[offset + i]! : 0;
    },
    write: () => {},
  };

  /**
   * One BAR holding the table at tableOffset and the PBA at pbaOffset (QEMU's layout for
   * virtio: a 4 KiB BAR with the table at 0 and the PBA at 0x800).
   */
  readonly device: BusDevice = {
    read: (b, offset, data) => {
      if (offset >= this.pbaOffset) this.pbaDevice.read(b, offset - this.pbaOffset, data);
      else if (offset >= this.tableOffset) this.tableDevice.read(b, offset - this.tableOffset, data);
      else data.fill(0);
    },
    write: (b, offset, data) => {
      if (offset >= this.pbaOffset) this.pbaDevice.write(b, offset - this.pbaOffset, data);
      else if (offset >= this.tableOffset) this.tableDevice.write(b, offset - this.tableOffset, data);
    },
  };
}
