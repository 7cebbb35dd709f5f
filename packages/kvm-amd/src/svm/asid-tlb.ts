/**
 * ASIDs and TLB_CONTROL (AMD APM vol. 2, 15.16) as a TLB-tag model: TLB entries are tagged
 * with the guest's ASID, so switching guests needs no flush; VMRUN's TLB_CONTROL asks for a
 * flush of everything (1), of this ASID (3) or of this ASID's non-global entries (7).
 *
 * The engine tags each software-TLB entry with `tag(asid, global)` when it fills it and
 * treats an entry as valid only while the tag is still current; a flush bumps generations
 * so stale tags stop matching without walking the TLB.
 */
import { TLB_CONTROL_DO_NOTHING, TLB_CONTROL_FLUSH_ALL_ASID, TLB_CONTROL_FLUSH_ASID, TLB_CONTROL_FLUSH_ASID_LOCAL } from './vmcb';

export class SvmAsidTlb {
  /**
   * Current epoch of each ASID's global and non-global entries. Epochs come from one
   * counter, so a tag names (ASID, flush generation) uniquely and never collides.
   */
  private readonly epochGlobal: Float64Array;
  private readonly epochLocal: Float64Array;
  private counter = 0;

  /** `maxAsids` as CPUID 8000_000A EBX reports (NASID); ASID 0 is the host. */
  constructor(readonly maxAsids = 256) {
    this.epochGlobal = new Float64Array(maxAsids);
    this.epochLocal = new Float64Array(maxAsids);
    this.flushAll();
  }

  private flushAll(): void {
    for (let a = 0; a < this.maxAsids; a++) {
      this.epochGlobal[a] = ++this.counter;
      this.epochLocal[a] = ++this.counter;
    }
  }

  /**
   * Applies VMRUN's TLB_CONTROL for `asid`. Returns false for an undefined TLB_CONTROL
   * encoding (the caller fails VMRUN with VMEXIT_INVALID).
   */
  vmrun(asid: number, tlbControl: number): boolean {
    if (!Number.isInteger(asid) || asid <= 0 || asid >= this.maxAsids) throw new RangeError(`ASID ${asid} outside 1..${this.maxAsids - 1}`);
    switch (tlbControl) {
      case TLB_CONTROL_DO_NOTHING:
        return true;
      case TLB_CONTROL_FLUSH_ALL_ASID:
        this.flushAll();
        return true;
      case TLB_CONTROL_FLUSH_ASID:
        this.epochGlobal[asid] = ++this.counter;
        this.epochLocal[asid] = ++this.counter;
        return true;
      case TLB_CONTROL_FLUSH_ASID_LOCAL:
        this.epochLocal[asid] = ++this.counter;
        return true;
      default:
        return false;
    }
  }

  /** A guest CR3 write (or INVLPGA of the whole ASID) drops that ASID's non-global entries. */
  flushAsidLocal(asid: number): void {
    this.epochLocal[asid] = ++this.counter;
  }

  /** The tag for a TLB entry filled now for `asid`; global entries survive FLUSH_ASID_LOCAL. */
  tag(asid: number, global: boolean): number {
    return global ? this.epochGlobal[asid]! : this.epochLocal[asid]!;
  }

  /** Whether an entry tagged earlier is still valid. */
  isCurrent(tagValue: number, asid: number, global: boolean): boolean {
    return tagValue === this.tag(asid, global);
  }
}
