/**
 * A loader for big-endian ELF64 s390x executables (PT_LOAD segments at p_paddr), and
 * raw images whose IPL PSW is at byte 0 (the IPL PSW's address at bytes 4-7 when in
 * the ESA format, as QEMU's s390 loader takes it).
 */
export interface LoadedImage {
  entry: bigint;
  /** Highest byte the image occupies. */
  end: number;
}

export function loadS390Image(image: Uint8Array, ram: Uint8Array): LoadedImage {
  const dv = new DataView(image.buffer, image.byteOffset, image.byteLength);
  if (image.length >= 64 && dv.getUint32(0) === 0x7f454c46) {
    if (image[4] !== 2 || image[5] !== 2) throw new Error('kernel: not a big-endian ELF64 image');
    if (dv.getUint16(18) !== 22) throw new Error('kernel: ELF machine is not EM_S390 (22)');
    const entry = dv.getBigUint64(24);
    const phoff = Number(dv.getBigUint64(32));
    const phentsize = dv.getUint16(54);
    const phnum = dv.getUint16(56);
    let end = 0;
    for (let i = 0; i < phnum; i++) {
      const p = phoff + i * phentsize;
      if (dv.getUint32(p) !== 1) continue; // PT_LOAD
      const off = Number(dv.getBigUint64(p + 8));
      const paddr = Number(dv.getBigUint64(p + 24));
      const filesz = Number(dv.getBigUint64(p + 32));
      const memsz = Number(dv.getBigUint64(p + 40));
      if (paddr + memsz > ram.length) throw new Error(`kernel: segment at 0x${paddr.toString(16)} does not fit in guest RAM`);
      ram.set(image.subarray(off, off + filesz), paddr);
      ram.fill(0, paddr + filesz, paddr + memsz);
      end = Math.max(end, paddr + memsz);
    }
    return { entry, end };
  }
  // Raw image: loaded at 0; the IPL PSW (ESA 8-byte format) is its first doubleword.
  if (image.length > ram.length) throw new Error('kernel: the raw image does not fit in guest RAM');
  ram.set(image, 0);
  return { entry: BigInt(dv.getUint32(4) & 0x7fffffff), end: image.length };
}
