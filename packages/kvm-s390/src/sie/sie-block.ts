/**
 * The SIE state description (struct kvm_s390_sie_block, 512 bytes) as a byte-accurate
 * big-endian model: the fields live at their architectural offsets in `bytes`, and the
 * named accessors read and write them there. KVM fills it, SIE (the engine) reads it on
 * entry and writes the guest state and the interception back on exit.
 */
export const SIE_BLOCK_SIZE = 512;

/** Offsets (arch/s390/include/asm/kvm_host_types.h). */
export const SIE_CPUFLAGS = 0x000;
export const SIE_PREFIX = 0x004;
export const SIE_PROG0C = 0x00c;
export const SIE_PROG20 = 0x020;
export const SIE_CPUTM = 0x028;
export const SIE_CKC = 0x030;
export const SIE_EPOCH = 0x038;
export const SIE_LCTL = 0x044;
export const SIE_ICTL = 0x048;
export const SIE_ECA = 0x04c;
export const SIE_ICPTCODE = 0x050;
export const SIE_ICPTSTATUS = 0x051;
export const SIE_IPA = 0x056;
export const SIE_IPB = 0x058;
export const SIE_SCAOH = 0x05c;
export const SIE_ECB = 0x061;
export const SIE_ECB2 = 0x062;
export const SIE_ECB3 = 0x063;
export const SIE_SCAOL = 0x064;
export const SIE_TODPR = 0x06e;
export const SIE_MSO = 0x080;
export const SIE_MSL = 0x088;
export const SIE_GPSW = 0x090;
export const SIE_GG14 = 0x0a0;
export const SIE_GG15 = 0x0a8;
export const SIE_EIPARAMS = 0x0c0;
export const SIE_EXTCPUADDR = 0x0c4;
export const SIE_EIC = 0x0c6;
export const SIE_PGMILC = 0x0cc;
export const SIE_IPRCC = 0x0ce;
export const SIE_DXC = 0x0d0;
export const SIE_GCR = 0x100;
export const SIE_FAC = 0x1a0;

/** cpuflags (CPUSTAT_*) */
export const CPUSTAT_STOPPED = 0x80000000;
export const CPUSTAT_WAIT = 0x10000000;
export const CPUSTAT_ECALL_PEND = 0x08000000;
export const CPUSTAT_STOP_INT = 0x04000000;
export const CPUSTAT_IO_INT = 0x02000000;
export const CPUSTAT_EXT_INT = 0x01000000;
export const CPUSTAT_RUNNING = 0x00800000;
export const CPUSTAT_GED = 0x00008000;
export const CPUSTAT_ZARCH = 0x00000800;
export const CPUSTAT_SM = 0x00000080;

/** lctl: intercept LCTL(G) of CR0 (bit 15-n for CRn). */
export const LCTL_CR0 = 0x8000;
export const LCTL_CR6 = 0x0200;
export const LCTL_CR9 = 0x0040;
export const LCTL_CR10 = 0x0020;
export const LCTL_CR11 = 0x0010;
export const LCTL_CR14 = 0x0002;

export class SieBlock {
  readonly bytes = new Uint8Array(SIE_BLOCK_SIZE);
  readonly view = new DataView(this.bytes.buffer);

  get cpuflags(): number { return this.view.getUint32(SIE_CPUFLAGS); }
  set cpuflags(v: number) { this.view.setUint32(SIE_CPUFLAGS, v >>> 0); }
  /** The prefix register (bits 1-18 significant: an 8 KiB aligned address below 2 GiB). */
  get prefix(): number { return this.view.getUint32(SIE_PREFIX); }
  set prefix(v: number) { this.view.setUint32(SIE_PREFIX, v >>> 0); }
  get cputm(): bigint { return this.view.getBigUint64(SIE_CPUTM); }
  set cputm(v: bigint) { this.view.setBigUint64(SIE_CPUTM, BigInt.asUintN(64, v)); }
  get ckc(): bigint { return this.view.getBigUint64(SIE_CKC); }
  set ckc(v: bigint) { this.view.setBigUint64(SIE_CKC, v); }
  get epoch(): bigint { return this.view.getBigUint64(SIE_EPOCH); }
  set epoch(v: bigint) { this.view.setBigUint64(SIE_EPOCH, BigInt.asUintN(64, v)); }
  get lctl(): number { return this.view.getUint16(SIE_LCTL); }
  set lctl(v: number) { this.view.setUint16(SIE_LCTL, v); }
  get ictl(): number { return this.view.getUint32(SIE_ICTL); }
  set ictl(v: number) { this.view.setUint32(SIE_ICTL, v >>> 0); }
  get eca(): number { return this.view.getUint32(SIE_ECA); }
  set eca(v: number) { this.view.setUint32(SIE_ECA, v >>> 0); }
  get icptcode(): number { return this.bytes[SIE_ICPTCODE]!; }
  set icptcode(v: number) { this.bytes[SIE_ICPTCODE] = v; }
  get ipa(): number { return this.view.getUint16(SIE_IPA); }
  set ipa(v: number) { this.view.setUint16(SIE_IPA, v); }
  get ipb(): number { return this.view.getUint32(SIE_IPB); }
  set ipb(v: number) { this.view.setUint32(SIE_IPB, v >>> 0); }
  get mso(): bigint { return this.view.getBigUint64(SIE_MSO); }
  set mso(v: bigint) { this.view.setBigUint64(SIE_MSO, v); }
  get msl(): bigint { return this.view.getBigUint64(SIE_MSL); }
  set msl(v: bigint) { this.view.setBigUint64(SIE_MSL, v); }
  get pgmilc(): number { return this.view.getUint16(SIE_PGMILC); }
  set pgmilc(v: number) { this.view.setUint16(SIE_PGMILC, v); }
  get iprcc(): number { return this.view.getUint16(SIE_IPRCC); }
  set iprcc(v: number) { this.view.setUint16(SIE_IPRCC, v); }
  get todpr(): number { return this.view.getUint16(SIE_TODPR); }
  set todpr(v: number) { this.view.setUint16(SIE_TODPR, v); }

  /** gpsw as its four words (mask0, mask1, addr hi, addr lo). */
  gpswWord(i: 0 | 1 | 2 | 3): number { return this.view.getUint32(SIE_GPSW + 4 * i); }
  setGpswWord(i: 0 | 1 | 2 | 3, v: number): void { this.view.setUint32(SIE_GPSW + 4 * i, v >>> 0); }
  get gpswMask(): bigint { return this.view.getBigUint64(SIE_GPSW); }
  set gpswMask(v: bigint) { this.view.setBigUint64(SIE_GPSW, v); }
  get gpswAddr(): bigint { return this.view.getBigUint64(SIE_GPSW + 8); }
  set gpswAddr(v: bigint) { this.view.setBigUint64(SIE_GPSW + 8, v); }

  /** Guest control register n (gcr[16] at 0x100). */
  gcrWord(n: number, half: 0 | 1): number { return this.view.getUint32(SIE_GCR + 8 * n + 4 * half); }
  setGcrWord(n: number, half: 0 | 1, v: number): void { this.view.setUint32(SIE_GCR + 8 * n + 4 * half, v >>> 0); }
  /** gg14 / gg15 as words. */
  ggWord(r: 14 | 15, half: 0 | 1): number { return this.view.getUint32((r === 14 ? SIE_GG14 : SIE_GG15) + 4 * half); }
  setGgWord(r: 14 | 15, half: 0 | 1, v: number): void { this.view.setUint32((r === 14 ? SIE_GG14 : SIE_GG15) + 4 * half, v >>> 0); }
}
