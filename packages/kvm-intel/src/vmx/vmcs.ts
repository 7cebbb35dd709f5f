/**
 * A VMCS region and the VMX instructions that act on it (SDM vol. 3C ch. 24 and 31):
 * VMREAD/VMWRITE with their width rules, VMCLEAR/VMPTRLD and the launch state that
 * VMLAUNCH/VMRESUME check.
 *
 * The first 8 bytes of a VMCS region are architectural (revision identifier with the
 * shadow-VMCS indicator in bit 31, then the VMX-abort indicator); the rest is an
 * implementation-specific format, here two Uint32Arrays (low and high halves) indexed by
 * a dense slot per supported field. 64-bit values travel as (lo, hi) 32-bit halves on the
 * driver's paths and as bigint only at the VMREAD/VMWRITE instruction boundary.
 */
import {
  VMCS_FIELD_ENCODINGS,
  VMCS_FIELD_TYPE_READ_ONLY_DATA,
  VMCS_FIELD_WIDTH_16,
  VMCS_FIELD_WIDTH_32,
  VMCS_FIELD_WIDTH_64,
  vmcsFieldTypeCode,
  vmcsFieldWidthCode,
} from './vmcs-fields';
import { VMXERR } from './vm-instruction-errors';

/** encoding (full) -> slot, or -1. The VMCS encoding space is 15 bits. */
const SLOT_OF = new Int16Array(0x8000).fill(-1);
VMCS_FIELD_ENCODINGS.forEach((enc, i) => {
  SLOT_OF[enc] = i;
});
const NUM_SLOTS = VMCS_FIELD_ENCODINGS.length;

const TWO32 = 4294967296;

/** Launch state (SDM 24.1): VMCLEAR makes it clear, a successful VMLAUNCH makes it launched. */
export type VmcsLaunchState = 'clear' | 'launched';

/** Result of VMREAD: error 0 on success (VMsucceed), else a VM-instruction error number. */
export interface VmreadResult {
  error: number;
  value: bigint;
}

export interface VmcsOptions {
  revisionId: number;
  /** IA32_VMX_MISC bit 29: VMWRITE may write any supported field, read-only data included. */
  vmwriteAnyField?: boolean;
}

function slotOrThrow(encoding: number): number {
  const s = encoding >= 0 && encoding < 0x8000 ? SLOT_OF[encoding & ~1]! : -1;
  if (s < 0) throw new RangeError(`VMCS field 0x${encoding.toString(16)} is not supported`);
  return s;
}

export class Vmcs {
  /** Bits 30:0 of the first dword. */
  revisionId: number;
  /** Bit 31 of the first dword: shadow-VMCS indicator. */
  shadow = false;
  /** Second dword: written by the processor on a VMX abort. */
  abortIndicator = 0;
  launchState: VmcsLaunchState = 'clear';
  readonly vmwriteAnyField: boolean;
  private readonly lo = new Uint32Array(NUM_SLOTS);
  private readonly hi = new Uint32Array(NUM_SLOTS);

  constructor(options: VmcsOptions) {
    this.revisionId = options.revisionId & 0x7fffffff;
    this.vmwriteAnyField = options.vmwriteAnyField ?? false;
  }

  // ---- the driver's accessors (no width rules, no read-only check: the silicon writes
  // exit information with these). `encoding` must be a supported full encoding.

  /** Low 32 bits (the whole value of 16- and 32-bit fields). */
  read32(encoding: number): number {
    return this.lo[slotOrThrow(encoding)]!;
  }

  /** Bits 63:32 of a 64-bit or natural-width field. */
  readHigh32(encoding: number): number {
    return this.hi[slotOrThrow(encoding)]!;
  }

  /**
   * A 64-bit/natural field as a JS number: exact for physical addresses and canonical
   * linear addresses (< 2^53); callers needing all 64 bits use read32/readHigh32.
   */
  readNumber(encoding: number): number {
    const s = slotOrThrow(encoding);
    return this.hi[s]! * TWO32 + this.lo[s]!;
  }

  /** Writes a field of any width from a 32-bit value (a 16-bit field keeps bits 15:0; the high half is cleared). */
  write32(encoding: number, value: number): void {
    const s = slotOrThrow(encoding);
    this.lo[s] = vmcsFieldWidthCode(encoding) === VMCS_FIELD_WIDTH_16 ? value & 0xffff : value >>> 0;
    this.hi[s] = 0;
  }

  write64(encoding: number, lo: number, hi: number): void {
    const s = slotOrThrow(encoding);
    const w = vmcsFieldWidthCode(encoding);
    if (w === VMCS_FIELD_WIDTH_16) {
      this.lo[s] = lo & 0xffff;
      this.hi[s] = 0;
    } else if (w === VMCS_FIELD_WIDTH_32) {
      this.lo[s] = lo >>> 0;
      this.hi[s] = 0;
    } else {
      this.lo[s] = lo >>> 0;
      this.hi[s] = hi >>> 0;
    }
  }

  /**
   * Writes an integer given as a number: non-negative values (< 2^64) as is, negative
   * ones (e.g. canonical kernel addresses, which the engine keeps signed) as 64-bit two's
   * complement. 32-bit bit masks built with `|` can be negative int32s: write those
   * with write32, not here.
   */
  writeNumber(encoding: number, value: number): void {
    if (value < 0) {
      const lo = ((value % TWO32) + TWO32) % TWO32;
      this.write64(encoding, lo, ~Math.floor((-value - 1) / TWO32));
      return;
    }
    const lo = value % TWO32;
    this.write64(encoding, lo, (value - lo) / TWO32);
  }

  /** A 64-bit/natural field read as signed: exact for canonical linear addresses (|v| < 2^53). */
  readSignedNumber(encoding: number): number {
    const s = slotOrThrow(encoding);
    return (this.hi[s]! | 0) * TWO32 + this.lo[s]!;
  }

  // ---- the instructions

  /**
   * VMREAD (SDM 31.3). `operandSize` is 64 in 64-bit mode, else 32: a field longer than the
   * operand is truncated; a high-access encoding reads bits 63:32 as a 32-bit field.
   */
  vmread(encoding: number, operandSize: 32 | 64 = 64): VmreadResult {
    const e = Number(encoding);
    if (!Number.isInteger(e) || e < 0 || e > 0x7fff || SLOT_OF[e & ~1]! < 0) {
      return { error: VMXERR.UNSUPPORTED_VMCS_COMPONENT, value: 0n };
    }
    const w = vmcsFieldWidthCode(e);
    if (e & 1) {
      if (w !== VMCS_FIELD_WIDTH_64) return { error: VMXERR.UNSUPPORTED_VMCS_COMPONENT, value: 0n };
      return { error: 0, value: BigInt(this.hi[SLOT_OF[e - 1]!]!) };
    }
    const s = SLOT_OF[e]!;
    const lo = BigInt(this.lo[s]!);
    if (operandSize === 32 || w === VMCS_FIELD_WIDTH_16 || w === VMCS_FIELD_WIDTH_32) return { error: 0, value: lo };
    return { error: 0, value: (BigInt(this.hi[s]!) << 32n) | lo };
  }

  /**
   * VMWRITE (SDM 31.3). High bits of the source beyond the field are ignored; a field longer
   * than the operand has its high bits cleared; a high-access encoding writes bits 63:32
   * only. Read-only data fields fail with error 13 unless IA32_VMX_MISC bit 29.
   * Returns 0 (VMsucceed) or the VM-instruction error number.
   */
  vmwrite(encoding: number, value: bigint, operandSize: 32 | 64 = 64): number {
    const e = Number(encoding);
    if (!Number.isInteger(e) || e < 0 || e > 0x7fff || SLOT_OF[e & ~1]! < 0) return VMXERR.UNSUPPORTED_VMCS_COMPONENT;
    const w = vmcsFieldWidthCode(e);
    if ((e & 1) && w !== VMCS_FIELD_WIDTH_64) return VMXERR.UNSUPPORTED_VMCS_COMPONENT;
    if (vmcsFieldTypeCode(e) === VMCS_FIELD_TYPE_READ_ONLY_DATA && !this.vmwriteAnyField) {
      return VMXERR.VMWRITE_READ_ONLY_VMCS_COMPONENT;
    }
    const v = BigInt.asUintN(operandSize, value);
    const lo = Number(v & 0xffffffffn);
    const hi = Number(v >> 32n);
    const s = SLOT_OF[e & ~1]!;
    if (e & 1) {
      this.hi[s] = lo;
    } else if (w === VMCS_FIELD_WIDTH_16) {
      this.lo[s] = lo & 0xffff;
    } else if (w === VMCS_FIELD_WIDTH_32) {
      this.lo[s] = lo;
    } else {
      this.lo[s] = lo;
      this.hi[s] = hi;
    }
    return 0;
  }

  /** Clears every field (used by VMCLEAR of a fresh region and by tests). */
  clearFields(): void {
    this.lo.fill(0);
    this.hi.fill(0);
  }
}

/** A VMX instruction's outcome (SDM 31.2 conventions). */
export type VmxInstructionStatus =
  | { status: 'VMsucceed' }
  | { status: 'VMfailInvalid' }
  | { status: 'VMfailValid'; error: number };

/**
 * The per-logical-processor VMX state that VMXON/VMCLEAR/VMPTRLD/VMLAUNCH act on: VMX
 * operation, the VMXON pointer and the current-VMCS pointer. VMCS regions are looked up
 * by physical address through `regionAt` (the region's first dword is its revision id).
 */
export class VmxRootOperation {
  inVmxOperation = false;
  vmxonPointer = -1;
  currentVmcsPointer = -1;
  private readonly regions = new Map<number, Vmcs>();

  constructor(
    readonly revisionId: number,
    /** Physical-address width: pointers must be 4 KiB aligned and below 2^width. */
    readonly physAddrWidth = 46,
    readonly vmwriteAnyField = false,
  ) {}

  private validPointer(pa: number): boolean {
    return Number.isInteger(pa) && pa >= 0 && pa % 4096 === 0 && pa < 2 ** this.physAddrWidth;
  }

  /** The region at `pa`, created with this processor's revision id when first touched. */
  regionAt(pa: number): Vmcs {
    let r = this.regions.get(pa);
    if (!r) {
      r = new Vmcs({ revisionId: this.revisionId, vmwriteAnyField: this.vmwriteAnyField });
      this.regions.set(pa, r);
    }
    return r;
  }

  get currentVmcs(): Vmcs | null {
    return this.currentVmcsPointer < 0 ? null : this.regions.get(this.currentVmcsPointer) ?? null;
  }

  private fail(error: number): VmxInstructionStatus {
    return this.currentVmcs ? this.failValid(error) : { status: 'VMfailInvalid' };
  }

  private failValid(error: number): VmxInstructionStatus {
    this.currentVmcs!.write32(0x4400 /* VM_INSTRUCTION_ERROR */, error);
    return { status: 'VMfailValid', error };
  }

  vmxon(pa: number): VmxInstructionStatus {
    if (this.inVmxOperation) return this.fail(VMXERR.VMXON_IN_VMX_ROOT_OPERATION);
    if (!this.validPointer(pa) || this.regionAt(pa).revisionId !== this.revisionId) return { status: 'VMfailInvalid' };
    this.inVmxOperation = true;
    this.vmxonPointer = pa;
    this.currentVmcsPointer = -1;
    return { status: 'VMsucceed' };
  }

  vmxoff(): VmxInstructionStatus {
    this.inVmxOperation = false;
    this.vmxonPointer = -1;
    this.currentVmcsPointer = -1;
    return { status: 'VMsucceed' };
  }

  /** VMCLEAR: launch state becomes clear; if it was current, there is no current VMCS anymore. */
  vmclear(pa: number): VmxInstructionStatus {
    if (!this.validPointer(pa)) return this.fail(VMXERR.VMCLEAR_INVALID_ADDRESS);
    if (pa === this.vmxonPointer) return this.fail(VMXERR.VMCLEAR_VMXON_POINTER);
    this.regionAt(pa).launchState = 'clear';
    if (pa === this.currentVmcsPointer) this.currentVmcsPointer = -1;
    return { status: 'VMsucceed' };
  }

  vmptrld(pa: number): VmxInstructionStatus {
    if (!this.validPointer(pa)) return this.fail(VMXERR.VMPTRLD_INVALID_ADDRESS);
    if (pa === this.vmxonPointer) return this.fail(VMXERR.VMPTRLD_VMXON_POINTER);
    const r = this.regionAt(pa);
    if (r.revisionId !== this.revisionId || r.shadow) return this.fail(VMXERR.VMPTRLD_INCORRECT_VMCS_REVISION_ID);
    this.currentVmcsPointer = pa;
    return { status: 'VMsucceed' };
  }

  /**
   * The launch-state part of VMLAUNCH/VMRESUME (SDM 31.3, before the VM-entry checks):
   * no current VMCS is VMfailInvalid; VMLAUNCH needs clear (error 4), VMRESUME launched (5).
   */
  checkLaunchState(resume: boolean): VmxInstructionStatus {
    const v = this.currentVmcs;
    if (!v) return { status: 'VMfailInvalid' };
    if (!resume && v.launchState !== 'clear') return this.failValid(VMXERR.VMLAUNCH_NONCLEAR_VMCS);
    if (resume && v.launchState !== 'launched') return this.failValid(VMXERR.VMRESUME_NONLAUNCHED_VMCS);
    return { status: 'VMsucceed' };
  }
}
