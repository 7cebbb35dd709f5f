/**
 * System control port A at 0x92 (PS/2 "fast A20 and reset"), as QEMU's port92: the port
 * reads back the byte last written; bit 1 gates A20, a 0 -> 1 edge of bit 0 resets the
 * machine. Starts with A20 on (0x02), as SeaBIOS leaves it.
 */
import type { BusDevice } from '../bus';

export const PORT92_RESET = 0x01;
export const PORT92_A20 = 0x02;

export class Port92 implements BusDevice {
  /** QEMU's Port92State.outport */
  private outport = PORT92_A20;

  constructor(private readonly actions: { reset(): void; setA20?(enabled: boolean): void }) {}

  read(_base: number, _offset: number, data: Uint8Array): void {
    data.fill(0);
    data[0] = this.outport;
  }

  write(_base: number, _offset: number, data: Uint8Array): void {
    const v = data[0]!;
    const old = this.outport;
    this.outport = v;
    // KVM does not mask address bit 20 (QEMU's a20 line only matters to TCG): reported only.
    if ((old ^ v) & PORT92_A20) this.actions.setA20?.((v & PORT92_A20) !== 0);
    if (v & PORT92_RESET && !(old & PORT92_RESET)) this.actions.reset();
  }
}
