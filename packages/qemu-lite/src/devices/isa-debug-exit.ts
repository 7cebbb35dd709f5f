/**
 * isa-debug-exit (QEMU hw/misc/debugexit.c): a guest write of value v ends the VM with
 * exit status (v << 1) | 1, so a test's status can never be mistaken for a clean 0.
 */
import type { BusDevice } from '../bus';
import { dataToU32 } from '../bus';

export const ISA_DEBUG_EXIT_DEFAULT_IOBASE = 0x501;
export const ISA_DEBUG_EXIT_DEFAULT_IOSIZE = 2;

export class IsaDebugExit implements BusDevice {
  constructor(private readonly exit: (status: number) => void) {}

  read(_base: number, _offset: number, data: Uint8Array): void {
    data.fill(0);
  }

  write(_base: number, _offset: number, data: Uint8Array): void {
    const v = dataToU32(data);
    this.exit(((v << 1) | 1) >>> 0);
  }
}
