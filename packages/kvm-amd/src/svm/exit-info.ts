/**
 * #VMEXIT information formats (AMD APM vol. 2, 15.7-15.20): EVENTINJ / EXITINTINFO,
 * the IOIO intercept's EXITINFO1 (EXITINFO2 = next RIP), MSR EXITINFO1, the #NPF error code
 * (EXITINFO1; EXITINFO2 = guest-physical address), and CR/DR decode-assist EXITINFO1.
 * Linux's names from arch/x86/include/asm/svm.h.
 */

// ---- EVENTINJ / EXITINTINFO (APM 15.20, figure 15-9): low dword here, error code in the high dword.
export const SVM_EVTINJ_VEC_MASK = 0xff;
export const SVM_EVTINJ_TYPE_SHIFT = 8;
export const SVM_EVTINJ_TYPE_MASK = 7 << 8;
export const SVM_EVTINJ_TYPE_INTR = 0;
export const SVM_EVTINJ_TYPE_NMI = 2;
export const SVM_EVTINJ_TYPE_EXEPT = 3;
export const SVM_EVTINJ_TYPE_SOFT = 4;
export const SVM_EVTINJ_VALID_ERR = 1 << 11;
export const SVM_EVTINJ_VALID = 1 << 31;

export interface SvmEvent {
  vector: number;
  /** SVM_EVTINJ_TYPE_* (0 INTR, 2 NMI, 3 exception, 4 software interrupt). */
  type: number;
  /** EV: an error code is pushed (in EVENTINJ_ERR / EXITINTINFO_ERR). */
  errorCodeValid: boolean;
  valid: boolean;
}

export function encodeSvmEvent(vector: number, type: number, errorCodeValid: boolean): number {
  return ((vector & 0xff) | ((type & 7) << 8) | (errorCodeValid ? SVM_EVTINJ_VALID_ERR : 0) | SVM_EVTINJ_VALID) >>> 0;
}

export function decodeSvmEvent(v: number): SvmEvent {
  return {
    vector: v & 0xff,
    type: (v >>> 8) & 7,
    errorCodeValid: (v & SVM_EVTINJ_VALID_ERR) !== 0,
    valid: (v & SVM_EVTINJ_VALID) !== 0,
  };
}

/**
 * Whether EVENTINJ is an event VMRUN refuses (APM 15.20: reserved TYPE 1 or 5-7; an
 * exception with vector 2 (NMI) or above 31). Returns a message or undefined.
 */
export function checkSvmEventInjection(v: number): string | undefined {
  if (!(v & SVM_EVTINJ_VALID)) return undefined;
  const type = (v >>> 8) & 7;
  const vector = v & 0xff;
  if (type !== SVM_EVTINJ_TYPE_INTR && type !== SVM_EVTINJ_TYPE_NMI && type !== SVM_EVTINJ_TYPE_EXEPT && type !== SVM_EVTINJ_TYPE_SOFT) {
    return `EVENTINJ type ${type} is reserved`;
  }
  if (type === SVM_EVTINJ_TYPE_EXEPT && (vector === 2 || vector > 31)) return `EVENTINJ exception vector ${vector} is illegal`;
  return undefined;
}

// ---- IOIO (APM 15.10.2, figure 15-2)
export const SVM_IOIO_TYPE_MASK = 1; // 1 = IN, 0 = OUT
export const SVM_IOIO_STR_MASK = 1 << 2;
export const SVM_IOIO_REP_MASK = 1 << 3;
export const SVM_IOIO_SZ8 = 1 << 4;
export const SVM_IOIO_SZ16 = 1 << 5;
export const SVM_IOIO_SZ32 = 1 << 6;
export const SVM_IOIO_A16 = 1 << 7;
export const SVM_IOIO_A32 = 1 << 8;
export const SVM_IOIO_A64 = 1 << 9;
export const SVM_IOIO_SEG_SHIFT = 10;
export const SVM_IOIO_PORT_SHIFT = 16;

/** Segment numbers in IOIO EXITINFO1[12:10] (decode assists): ES=0, CS, SS, DS, FS, GS. */
export const SVM_SEG_ES = 0;
export const SVM_SEG_CS = 1;
export const SVM_SEG_SS = 2;
export const SVM_SEG_DS = 3;
export const SVM_SEG_FS = 4;
export const SVM_SEG_GS = 5;

export interface IoioInfo {
  port: number;
  in: boolean;
  string: boolean;
  rep: boolean;
  /** Operand size in bytes. */
  size: 1 | 2 | 4;
  /** Address size in bits. */
  addressSize: 16 | 32 | 64;
  /** Effective segment of a string OUTS (DS unless overridden). */
  segment: number;
}

export function encodeIoioExitInfo1(i: IoioInfo): number {
  return (
    ((i.in ? SVM_IOIO_TYPE_MASK : 0) |
      (i.string ? SVM_IOIO_STR_MASK : 0) |
      (i.rep ? SVM_IOIO_REP_MASK : 0) |
      (i.size === 1 ? SVM_IOIO_SZ8 : i.size === 2 ? SVM_IOIO_SZ16 : SVM_IOIO_SZ32) |
      (i.addressSize === 16 ? SVM_IOIO_A16 : i.addressSize === 32 ? SVM_IOIO_A32 : SVM_IOIO_A64) |
      ((i.segment & 7) << SVM_IOIO_SEG_SHIFT) |
      ((i.port & 0xffff) << SVM_IOIO_PORT_SHIFT)) >>>
    0
  );
}

export function decodeIoioExitInfo1(v: number): IoioInfo {
  return {
    port: v >>> 16,
    in: (v & SVM_IOIO_TYPE_MASK) !== 0,
    string: (v & SVM_IOIO_STR_MASK) !== 0,
    rep: (v & SVM_IOIO_REP_MASK) !== 0,
    size: v & SVM_IOIO_SZ8 ? 1 : v & SVM_IOIO_SZ16 ? 2 : 4,
    addressSize: v & SVM_IOIO_A16 ? 16 : v & SVM_IOIO_A32 ? 32 : 64,
    segment: (v >>> SVM_IOIO_SEG_SHIFT) & 7,
  };
}

// ---- MSR intercept: EXITINFO1 = 0 for RDMSR, 1 for WRMSR
export const SVM_EXITINFO1_MSR_READ = 0;
export const SVM_EXITINFO1_MSR_WRITE = 1;

// ---- #NPF: EXITINFO1 = page-fault error code + bits 32/33, EXITINFO2 = guest-physical address.
export const PFERR_PRESENT_MASK = 1 << 0;
export const PFERR_WRITE_MASK = 1 << 1;
export const PFERR_USER_MASK = 1 << 2;
export const PFERR_RSVD_MASK = 1 << 3;
export const PFERR_FETCH_MASK = 1 << 4;
/** Bit 32 of EXITINFO1 (as bit 0 of the high dword): the fault was on the final guest-physical translation. */
export const PFERR_GUEST_FINAL_HI = 1 << 0;
/** Bit 33 (bit 1 of the high dword): the fault was on a guest page-table access during the guest walk. */
export const PFERR_GUEST_PAGE_HI = 1 << 1;

export interface NpfErrorCode {
  present: boolean;
  write: boolean;
  user: boolean;
  reserved: boolean;
  fetch: boolean;
  guestFinal: boolean;
  guestPageTable: boolean;
}

/** EXITINFO1 of #NPF as (lo, hi) dwords. */
export function encodeNpfExitInfo1(e: NpfErrorCode): [number, number] {
  const lo =
    (e.present ? PFERR_PRESENT_MASK : 0) | (e.write ? PFERR_WRITE_MASK : 0) | (e.user ? PFERR_USER_MASK : 0) |
    (e.reserved ? PFERR_RSVD_MASK : 0) | (e.fetch ? PFERR_FETCH_MASK : 0);
  const hi = (e.guestFinal ? PFERR_GUEST_FINAL_HI : 0) | (e.guestPageTable ? PFERR_GUEST_PAGE_HI : 0);
  return [lo, hi];
}

export function decodeNpfExitInfo1(lo: number, hi: number): NpfErrorCode {
  return {
    present: (lo & PFERR_PRESENT_MASK) !== 0,
    write: (lo & PFERR_WRITE_MASK) !== 0,
    user: (lo & PFERR_USER_MASK) !== 0,
    reserved: (lo & PFERR_RSVD_MASK) !== 0,
    fetch: (lo & PFERR_FETCH_MASK) !== 0,
    guestFinal: (hi & PFERR_GUEST_FINAL_HI) !== 0,
    guestPageTable: (hi & PFERR_GUEST_PAGE_HI) !== 0,
  };
}

// ---- CR/DR intercepts with decode assists (APM 15.33.1): EXITINFO1[3:0] = GPR, bit 63 = MOV (vs LMSW/CLTS)
export const SVM_EXITINFO_REG_MASK = 0x0f;
/** Bit 63 of EXITINFO1 as bit 31 of the high dword. */
export const SVM_CR_EXITINFO_MOV_HI = 1 << 31;

/** EXITINFO1 for a MOV CR/DR intercept: (lo, hi). `mov` false for LMSW/CLTS (CR0 only). */
export function encodeCrDrExitInfo1(gpr: number, mov: boolean): [number, number] {
  return [gpr & SVM_EXITINFO_REG_MASK, mov ? SVM_CR_EXITINFO_MOV_HI >>> 0 : 0];
}

// ---- task switch: EXITINFO1 = TSS selector, EXITINFO2 bits 36 (IRET), 38 (JMP), 44 (error code valid), 31:0 error code
export const SVM_EXITINFOSHIFT_TS_REASON_IRET = 36;
export const SVM_EXITINFOSHIFT_TS_REASON_JMP = 38;
export const SVM_EXITINFOSHIFT_TS_HAS_ERROR_CODE = 44;
