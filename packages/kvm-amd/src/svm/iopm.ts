/**
 * The I/O permissions map (AMD APM vol. 2, 15.10.1): 12 KiB, one bit per port. An access of
 * N bytes checks the bits of ports port..port+N-1; the third 4 KiB page holds the bits past
 * port FFFF that such accesses reach, so there is no wrap-around special case.
 * Runs per IN/OUT: no allocation.
 */
export const IOPM_SIZE = 3 * 4096;

export function iopmIntercepts(iopm: Uint8Array, port: number, size: number): boolean {
  for (let p = port; p < port + size; p++) {
    if (iopm[p >>> 3]! & (1 << (p & 7))) return true;
  }
  return false;
}

export function setIopmIntercept(iopm: Uint8Array, port: number, intercept: boolean): void {
  if (port < 0 || port > 0xffff) throw new RangeError(`port ${port} out of range`);
  if (intercept) iopm[port >>> 3]! |= 1 << (port & 7);
  else iopm[port >>> 3]! &= ~(1 << (port & 7));
}

/** Whether IN/OUT/INS/OUTS exits: only with the IOIO_PROT intercept, then the IOPM decides. */
export function ioioExits(ioioProtIntercept: boolean, iopm: Uint8Array, port: number, size: number): boolean {
  return ioioProtIntercept && iopmIntercepts(iopm, port, size);
}
