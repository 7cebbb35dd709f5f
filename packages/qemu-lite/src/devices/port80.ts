/**
 * Port 0x80, the POST diagnostic port: writes are the "I/O delay" Linux uses and POST
 * codes; they go nowhere. Reads return 0xff (nothing drives the bus), as in QEMU.
 */
import type { BusDevice } from '../bus';

export class Port80 implements BusDevice {
  /** The last POST code written, for -d traces and the monitor. */
  lastCode = 0;

  read(_base: number, _offset: number, data: Uint8Array): void {
    data.fill(0xff);
  }

  write(_base: number, _offset: number, data: Uint8Array): void {
    this.lastCode = data[0]!;
  }
}
