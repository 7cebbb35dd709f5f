/**
 * System control port A at 0x92 (PS/2 "fast A20 and reset"): bit 1 gates A20, writing
 * bit 0 as 1 resets the CPU. Reads return the A20 bit.
 */
import type { BusDevice } from '../bus';

export const PORT92_RESET = 0x01;
export const PORT92_A20 = 0x02;

export class Port92 implements BusDevice {
  private value = PORT92_A20;

  constructor(private readonly actions: { reset(): void; setA20?(enabled: boolean): void }) {}

  read(_base: number, _offset: number, data: Uint8Array): void {
    data.fill(0);
    data[0] = this.value & PORT92_A20;
  }

  write(_base: number, _offset: number, data: Uint8Array): void {
    const v = data[0]!;
    const old = this.value;
    this.value = v & ~PORT92_RESET;
    if ((old ^ v) & PORT92_A20) this.actions.setA20?.((v & PORT92_A20) !== 0);
    if (v & PORT92_RESET) this.actions.reset();
  }
}
