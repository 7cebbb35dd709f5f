/**
 * The decoded-instruction cache: decode once, execute many times.
 *
 * An entry is keyed by the physical address of the instruction's first byte (after
 * two-dimensional paging: the memslot address space) and by the mode bits that change
 * decoding (64-bit mode, CS.D). It holds what decoding found: the prefix state, the
 * opcode's position, and the ModRM/SIB/displacement with the registers it names, so a
 * later execution skips the prefix loop and the ModRM decode and only recomputes the
 * effective address from the current registers.
 *
 * Self-modifying code: an entry also keeps the instruction's bytes (up to 15, as four
 * little-endian words) and a hit compares them with the bytes in memory now. Whatever
 * wrote the code (this vCPU, another vCPU, a device's DMA, userspace, a slot remap), a
 * changed instruction never matches its old entry, so nothing needs to track writes.
 * Only instructions that retired normally are entered, those that cross a page end too
 * when both pages were in the fetch TLB (execute.ts crossWindow).
 */

/**
 * 128 Ki entries (about 9 MiB per vCPU): the amd64 Debian kernel's boot interprets code at
 * some 300k addresses, and at 32 Ki entries its hot loops evicted each other (13.5 M full
 * decodes in a fast boot; 3 M at this size).
 */
export const DC_BITS = 17;
export const DC_SIZE = 1 << DC_BITS;
export const DC_MASK = DC_SIZE - 1;

/**
 * The entry of the instruction at physical address pa: neighbouring instructions get
 * neighbouring entries, and the folded page-number bits spread code that lies a multiple
 * of 128 KiB apart (a Linux kernel's hot code spans megabytes). Page and offset bits fold
 * onto each other, so some pairs a few pages apart still alias (0x1569e13 and 0x1571e0b).
 */
export function dcIndex(pa: number): number {
  // ToUint32 keeps the low 32 bits of the address (memory above 4 GiB aliases; the tag tells).
  const lo = pa >>> 0;
  return (lo ^ (lo >>> 12)) & DC_MASK;
}

/** Mode key bits: decoding depends on 64-bit mode and on CS.D (16/32-bit defaults). */
export const DC_MODE64 = 2;
export const DC_DEF32 = 1;

/** flags bits of an entry */
export const DCF_PREFIXED = 1;
export const DCF_HAS66 = 2;
export const DCF_LOCK = 4;
/** ModRM was decoded exactly once, from 32/64-bit addressing: replay it from the entry. */
export const DCF_MODRM = 8;
export const DCF_RIPREL = 16;
export const DCF_ISMEM = 32;

/**
 * The hit-path record of an entry, packed: step() and runFast check an entry on every
 * instruction, and one record of DCH_STRIDE int32s (16 bytes) in one array is one cache
 * line (and one array header) where the separate arrays below would be six. Fields (offsets
 * in the record): the low 32 bits of the physical address; the bits above them * 4 + the
 * mode key (dcTagHi) << 16 | the fast kind << 8 | the length (-1 when empty); the first
 * eight bytes as two words (the rest of a longer instruction is in w2, w3). The arrays tag,
 * len, kind and w0..w3 hold the same values for the other readers.
 */
export const DCH_STRIDE = 4;
export const DCH_TAG_LO = 0;
export const DCH_META = 1;
export const DCH_W0 = 2;
/** dcTagHi values from here on do not fit DCH_META: such an entry has no hit record (always decoded). */
export const DCH_TAG_HI_LIMIT = 0x8000;

const TWO32 = 0x1_0000_0000;

/** The high tag of physical address pa with mode key modeKey (DCH_META bits 16 and up). */
export function dcTagHi(pa: number, modeKey: number): number {
  return pa < TWO32 ? modeKey : Math.floor(pa / TWO32) * 4 + modeKey;
}

/** Masks keeping the first n bytes (0..3) of a little-endian word; 4 keeps all. */
export const BYTE_MASK = new Int32Array([0, 0xff, 0xffff, 0xffffff, -1]);

export class DecodeCache {
  /** The packed hit-path records (DCH_*), DC_SIZE * DCH_STRIDE int32s. */
  readonly hit = new Int32Array(DC_SIZE * DCH_STRIDE).fill(-1);
  /** physical address * 4 + mode key; -1 when empty */
  readonly tag = new Float64Array(DC_SIZE).fill(-1);
  /** Instruction length (1..15). */
  readonly len = new Uint8Array(DC_SIZE);
  /** The instruction bytes, little-endian words, bytes past len zero. */
  readonly w0 = new Int32Array(DC_SIZE);
  readonly w1 = new Int32Array(DC_SIZE);
  readonly w2 = new Int32Array(DC_SIZE);
  readonly w3 = new Int32Array(DC_SIZE);
  // ---- prefix state at the opcode
  /** The first opcode byte (after prefixes) and the offset of the byte after it. */
  readonly op = new Uint8Array(DC_SIZE);
  readonly opEnd = new Uint8Array(DC_SIZE);
  readonly opsize = new Uint8Array(DC_SIZE);
  readonly adsize = new Uint8Array(DC_SIZE);
  /** Segment override + 1 (0: none). */
  readonly seg = new Uint8Array(DC_SIZE);
  readonly rex = new Uint8Array(DC_SIZE);
  readonly rep = new Uint8Array(DC_SIZE);
  readonly lastPrefix = new Uint8Array(DC_SIZE);
  readonly flags = new Uint8Array(DC_SIZE);
  // ---- ModRM (DCF_MODRM)
  readonly modrm = new Uint8Array(DC_SIZE);
  /** d.reg and d.rm as decoded (rm includes REX.B for register operands only, as the decoder leaves it). */
  readonly reg = new Uint8Array(DC_SIZE);
  readonly rm = new Uint8Array(DC_SIZE);
  /** Offset of the byte after ModRM/SIB/displacement. */
  readonly modrmEnd = new Uint8Array(DC_SIZE);
  /** Effective address parts: base and index register numbers (-1 none), scale factor, displacement. */
  readonly base = new Int8Array(DC_SIZE);
  readonly index = new Int8Array(DC_SIZE);
  readonly scale = new Uint8Array(DC_SIZE);
  readonly disp = new Int32Array(DC_SIZE);
  /** The segment of the memory operand (override or default). */
  readonly eaSeg = new Uint8Array(DC_SIZE);
  // ---- fast forms (fast-path.ts)
  /** FK_* or FK_NONE (0): executed by the general path. */
  readonly kind = new Uint8Array(DC_SIZE);
  readonly aux = new Uint8Array(DC_SIZE);
  readonly imm = new Int32Array(DC_SIZE);
  /** 1 when the entry was decoded in 64-bit mode. */
  readonly mode64 = new Uint8Array(DC_SIZE);

  /** Drop every entry (reset; entries are otherwise validated by their bytes). */
  clear(): void {
    this.tag.fill(-1);
    this.hit.fill(-1);
  }
}
