/**
 * The VMCB (AMD APM vol. 2, appendix B): a 4 KiB, byte-accurate structure over an
 * ArrayBuffer. The control area (offsets 0x000-0x3FF) holds intercept vectors and VMRUN
 * controls, the state-save area starts at 0x400. Offsets and names follow the APM and
 * Linux's arch/x86/include/asm/svm.h (struct vmcb_control_area / vmcb_save_area).
 * Accessors are little-endian DataView reads; 64-bit fields travel as (lo, hi) halves or as
 * a number for addresses, bigint only for the rare full-width paths.
 */

export const VMCB_SIZE = 4096;
export const VMCB_SAVE_AREA_OFFSET = 0x400;

/** Control-area offsets (APM table B-1). */
export const VMCB_CONTROL = {
  /** Intercept vectors: word 0 CR reads (15:0) / writes (31:16). */
  INTERCEPT_CR: 0x000,
  /** Word 1: DR reads (15:0) / writes (31:16). */
  INTERCEPT_DR: 0x004,
  /** Word 2: one bit per exception vector. */
  INTERCEPT_EXCEPTIONS: 0x008,
  /** Word 3: INTR ... SHUTDOWN (SVM_INTERCEPT_MISC1). */
  INTERCEPT_MISC1: 0x00c,
  /** Word 4: VMRUN ... CR write traps (SVM_INTERCEPT_MISC2). */
  INTERCEPT_MISC2: 0x010,
  /** Word 5: INVLPGB, INVPCID, MCOMMIT, TLBSYNC. */
  INTERCEPT_MISC3: 0x014,
  PAUSE_FILTER_THRESHOLD: 0x03c,
  PAUSE_FILTER_COUNT: 0x03e,
  IOPM_BASE_PA: 0x040,
  MSRPM_BASE_PA: 0x048,
  TSC_OFFSET: 0x050,
  /** Guest ASID (u32). */
  GUEST_ASID: 0x058,
  /** TLB_CONTROL (u8). */
  TLB_CONTROL: 0x05c,
  /** V_TPR 3:0, V_IRQ 8, V_GIF 9, V_INTR_PRIO 19:16, V_IGN_TPR 20, V_INTR_MASKING 24, AVIC_ENABLE 31 (Linux int_ctl). */
  INT_CTL: 0x060,
  /** V_INTR_VECTOR (7:0). */
  INT_VECTOR: 0x064,
  /** Bit 0 INTERRUPT_SHADOW, bit 1 GUEST_INTERRUPT_MASK (Linux int_state). */
  INT_STATE: 0x068,
  EXITCODE: 0x070,
  EXITCODE_HI: 0x074,
  EXITINFO1: 0x078,
  EXITINFO2: 0x080,
  EXITINTINFO: 0x088,
  EXITINTINFO_ERR: 0x08c,
  /** NP_ENABLE bit 0, SEV bit 1, SEV-ES bit 2 (Linux nested_ctl). */
  NESTED_CTL: 0x090,
  AVIC_APIC_BAR: 0x098,
  GHCB_GPA: 0x0a0,
  EVENTINJ: 0x0a8,
  EVENTINJ_ERR: 0x0ac,
  N_CR3: 0x0b0,
  /** LBR virtualization enable bit 0, virtual VMLOAD/VMSAVE bit 1 (Linux virt_ext). */
  VIRT_EXT: 0x0b8,
  VMCB_CLEAN: 0x0c0,
  NRIP: 0x0c8,
  /** Number of guest instruction bytes fetched (u8), then 15 bytes. */
  GUEST_INSN_LEN: 0x0d0,
  GUEST_INSN_BYTES: 0x0d1,
  AVIC_BACKING_PAGE: 0x0e0,
  AVIC_LOGICAL_TABLE: 0x0f0,
  AVIC_PHYSICAL_TABLE: 0x0f8,
  VMSA_PA: 0x108,
} as const;

/** State-save area offsets from the start of the VMCB (APM table B-2, + 0x400). */
export const VMCB_SAVE = {
  ES: 0x400,
  CS: 0x410,
  SS: 0x420,
  DS: 0x430,
  FS: 0x440,
  GS: 0x450,
  GDTR: 0x460,
  LDTR: 0x470,
  IDTR: 0x480,
  TR: 0x490,
  VMPL: 0x4ca,
  CPL: 0x4cb,
  EFER: 0x4d0,
  CR4: 0x548,
  CR3: 0x550,
  CR0: 0x558,
  DR7: 0x560,
  DR6: 0x568,
  RFLAGS: 0x570,
  RIP: 0x578,
  RSP: 0x5d8,
  S_CET: 0x5e0,
  SSP: 0x5e8,
  ISST_ADDR: 0x5f0,
  RAX: 0x5f8,
  STAR: 0x600,
  LSTAR: 0x608,
  CSTAR: 0x610,
  SFMASK: 0x618,
  KERNEL_GS_BASE: 0x620,
  SYSENTER_CS: 0x628,
  SYSENTER_ESP: 0x630,
  SYSENTER_EIP: 0x638,
  CR2: 0x640,
  G_PAT: 0x668,
  DBGCTL: 0x670,
  BR_FROM: 0x678,
  BR_TO: 0x680,
  LASTEXCPFROM: 0x688,
  LASTEXCPTO: 0x690,
  SPEC_CTRL: 0x6e0,
} as const;

/** Segment layout inside the save area: selector u16, attrib u16, limit u32, base u64. */
export const VMCB_SEG_SELECTOR = 0;
export const VMCB_SEG_ATTRIB = 2;
export const VMCB_SEG_LIMIT = 4;
export const VMCB_SEG_BASE = 8;

/** VMCB segment attribute format (12 bits: descriptor bits 47:40 and 55:52), Linux's SVM_SELECTOR_*. */
export const SVM_SELECTOR_TYPE_MASK = 0xf;
export const SVM_SELECTOR_S_MASK = 1 << 4;
export const SVM_SELECTOR_DPL_SHIFT = 5;
export const SVM_SELECTOR_P_MASK = 1 << 7;
export const SVM_SELECTOR_AVL_MASK = 1 << 8;
export const SVM_SELECTOR_L_MASK = 1 << 9;
export const SVM_SELECTOR_DB_MASK = 1 << 10;
export const SVM_SELECTOR_G_MASK = 1 << 11;

// INT_CTL bits
export const V_TPR_MASK = 0x0f;
export const V_IRQ_MASK = 1 << 8;
export const V_GIF_MASK = 1 << 9;
export const V_INTR_PRIO_SHIFT = 16;
export const V_INTR_PRIO_MASK = 0xf << 16;
export const V_IGN_TPR_MASK = 1 << 20;
export const V_INTR_MASKING_MASK = 1 << 24;
export const AVIC_ENABLE_MASK = 1 << 31;
// INT_STATE bits
export const SVM_INTERRUPT_SHADOW_MASK = 1 << 0;
export const SVM_GUEST_INTERRUPT_MASK = 1 << 1;
// NESTED_CTL
export const SVM_NESTED_CTL_NP_ENABLE = 1 << 0;
// VIRT_EXT
export const LBR_CTL_ENABLE_MASK = 1 << 0;

/** TLB_CONTROL values (APM 15.16.1). */
export const TLB_CONTROL_DO_NOTHING = 0;
export const TLB_CONTROL_FLUSH_ALL_ASID = 1;
export const TLB_CONTROL_FLUSH_ASID = 3;
export const TLB_CONTROL_FLUSH_ASID_LOCAL = 7;

/** VMCB clean bits (APM 15.15.3): a set bit lets the CPU use its cached copy of that group. */
export const VMCB_CLEAN = {
  INTERCEPTS: 0, // intercept vectors, TSC offset, pause filter
  PERM_MAP: 1, // IOPM_BASE_PA, MSRPM_BASE_PA
  ASID: 2,
  INTR: 3, // V_TPR, V_IRQ, V_INTR_PRIO, V_IGN_TPR, V_INTR_MASKING, V_INTR_VECTOR
  NPT: 4, // NP_ENABLE, N_CR3, G_PAT
  CR: 5, // CR0, CR3, CR4, EFER
  DR: 6, // DR6, DR7
  DT: 7, // GDTR, IDTR
  SEG: 8, // CS, DS, SS, ES, CPL
  CR2: 9,
  LBR: 10,
  AVIC: 11,
} as const;

export interface VmcbSegment {
  selector: number;
  attrib: number;
  limit: number;
  base: number;
}

const TWO32 = 4294967296;

export class Vmcb {
  readonly bytes: Uint8Array;
  private readonly view: DataView;

  constructor(buffer: ArrayBuffer = new ArrayBuffer(VMCB_SIZE), byteOffset = 0) {
    if (buffer.byteLength - byteOffset < VMCB_SIZE) throw new RangeError('a VMCB needs 4096 bytes');
    this.bytes = new Uint8Array(buffer, byteOffset, VMCB_SIZE);
    this.view = new DataView(buffer, byteOffset, VMCB_SIZE);
  }

  u8(off: number): number {
    return this.view.getUint8(off);
  }
  setU8(off: number, v: number): void {
    this.view.setUint8(off, v);
  }
  u16(off: number): number {
    return this.view.getUint16(off, true);
  }
  setU16(off: number, v: number): void {
    this.view.setUint16(off, v, true);
  }
  u32(off: number): number {
    return this.view.getUint32(off, true);
  }
  setU32(off: number, v: number): void {
    this.view.setUint32(off, v >>> 0, true);
  }
  /** Bits 63:32 of a 64-bit field. */
  hi32(off: number): number {
    return this.view.getUint32(off + 4, true);
  }
  setU64(off: number, lo: number, hi: number): void {
    this.view.setUint32(off, lo >>> 0, true);
    this.view.setUint32(off + 4, hi >>> 0, true);
  }
  /** A 64-bit field as a number: exact below 2^53 (addresses); use u32/hi32 for all bits. */
  num(off: number): number {
    return this.hi32(off) * TWO32 + this.u32(off);
  }
  /** Writes a number; negative values (signed canonical addresses) as 64-bit two's complement. */
  setNum(off: number, v: number): void {
    if (v < 0) {
      this.setU64(off, ((v % TWO32) + TWO32) % TWO32, ~Math.floor((-v - 1) / TWO32));
      return;
    }
    const lo = v % TWO32;
    this.setU64(off, lo, (v - lo) / TWO32);
  }
  /** A 64-bit field read as signed: exact for canonical addresses. */
  numSigned(off: number): number {
    return (this.hi32(off) | 0) * TWO32 + this.u32(off);
  }
  big(off: number): bigint {
    return this.view.getBigUint64(off, true);
  }
  setBig(off: number, v: bigint): void {
    this.view.setBigUint64(off, BigInt.asUintN(64, v), true);
  }

  segment(off: number): VmcbSegment {
    return { selector: this.u16(off), attrib: this.u16(off + 2), limit: this.u32(off + 4), base: this.num(off + 8) };
  }
  setSegment(off: number, s: VmcbSegment): void {
    this.setU16(off, s.selector);
    this.setU16(off + 2, s.attrib);
    this.setU32(off + 4, s.limit);
    this.setNum(off + 8, s.base);
  }

  // ---- intercept bits: `bit` is Linux's INTERCEPT_* number (word * 32 + bit)
  isIntercept(bit: number): boolean {
    return (this.u32((bit >>> 5) * 4) & (1 << (bit & 31))) !== 0;
  }
  setIntercept(bit: number, on: boolean): void {
    const off = (bit >>> 5) * 4;
    const m = 1 << (bit & 31);
    this.setU32(off, on ? this.u32(off) | m : this.u32(off) & ~m);
  }

  clear(): void {
    this.bytes.fill(0);
  }
}

/** Intercept bit numbers (Linux enum in svm.h: word * 32 + bit). */
export const INTERCEPT = {
  CR0_READ: 0,
  CR3_READ: 3,
  CR4_READ: 4,
  CR8_READ: 8,
  CR0_WRITE: 16,
  CR3_WRITE: 19,
  CR4_WRITE: 20,
  CR8_WRITE: 24,
  DR0_READ: 32,
  DR7_READ: 39,
  DR0_WRITE: 48,
  DR7_WRITE: 55,
  EXCEPTION_OFFSET: 64,
  INTR: 96,
  NMI: 97,
  SMI: 98,
  INIT: 99,
  VINTR: 100,
  SELECTIVE_CR0: 101,
  STORE_IDTR: 102,
  STORE_GDTR: 103,
  STORE_LDTR: 104,
  STORE_TR: 105,
  LOAD_IDTR: 106,
  LOAD_GDTR: 107,
  LOAD_LDTR: 108,
  LOAD_TR: 109,
  RDTSC: 110,
  RDPMC: 111,
  PUSHF: 112,
  POPF: 113,
  CPUID: 114,
  RSM: 115,
  IRET: 116,
  INTn: 117,
  INVD: 118,
  PAUSE: 119,
  HLT: 120,
  INVLPG: 121,
  INVLPGA: 122,
  IOIO_PROT: 123,
  MSR_PROT: 124,
  TASK_SWITCH: 125,
  FERR_FREEZE: 126,
  SHUTDOWN: 127,
  VMRUN: 128,
  VMMCALL: 129,
  VMLOAD: 130,
  VMSAVE: 131,
  STGI: 132,
  CLGI: 133,
  SKINIT: 134,
  RDTSCP: 135,
  ICEBP: 136,
  WBINVD: 137,
  MONITOR: 138,
  MWAIT: 139,
  MWAIT_COND: 140,
  XSETBV: 141,
  RDPRU: 142,
  TRAP_EFER_WRITE: 143,
  TRAP_CR0_WRITE: 144,
  INVLPGB: 160,
  INVLPGB_ILLEGAL: 161,
  INVPCID: 162,
  MCOMMIT: 163,
  TLBSYNC: 164,
} as const;
