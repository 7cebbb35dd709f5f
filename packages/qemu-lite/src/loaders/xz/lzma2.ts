/**
 * LZMA2 decoding (xz filter ID 0x21) in one call, after xz-embedded's xz_dec_lzma2.c
 * and the LZMA SDK's LzmaDec.c: a range decoder, the LZMA literal/match/rep model, and
 * LZMA2's chunk framing (control byte, unpacked/packed sizes, properties, dictionary and
 * state resets, uncompressed chunks). The output buffer is the dictionary, as in
 * xz-embedded's single-call mode: a match copies from bytes already written.
 *
 * The decoder is the loader's hot path (tens of MB for a kernel): state in class fields
 * and a Uint16Array of probabilities, no allocation per symbol.
 */

export class XzError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XzError';
  }
}

const RC_BIT_MODEL_TOTAL = 1 << 11;
const RC_MOVE_BITS = 5;
/**
 * The range coder's range and code are 32-bit unsigned, kept as int32 (V8 keeps those in
 * integer registers): unsigned comparisons flip the sign bit of both sides, and a
 * normalisation is due when the top byte of range is zero (range < 2^24).
 */
const SIGN = 0x80000000 | 0;

function overrun(): XzError {
  return new XzError('LZMA2 data is corrupt (LZMA chunk overruns its packed size)');
}

const STATES = 12;
const LIT_STATES = 7;
const POS_STATES_MAX = 16;
const MATCH_LEN_MIN = 2;
const LEN_LOW_SYMBOLS = 8;
const LEN_MID_SYMBOLS = 8;
const LEN_HIGH_SYMBOLS = 256;
const DIST_STATES = 4;
const DIST_SLOTS = 64;
const DIST_MODEL_START = 4;
const DIST_MODEL_END = 14;
const FULL_DISTANCES = 128;
const ALIGN_BITS = 4;
const ALIGN_SIZE = 16;
const LITERAL_CODER_SIZE = 0x300;
const LITERAL_CODERS_MAX = 16;

// The probability array's layout (one Uint16Array, offsets in entries).
const IS_MATCH = 0;
const IS_REP = IS_MATCH + STATES * POS_STATES_MAX;
const IS_REP0 = IS_REP + STATES;
const IS_REP1 = IS_REP0 + STATES;
const IS_REP2 = IS_REP1 + STATES;
const IS_REP0_LONG = IS_REP2 + STATES;
const DIST_SLOT = IS_REP0_LONG + STATES * POS_STATES_MAX;
const DIST_SPECIAL = DIST_SLOT + DIST_STATES * DIST_SLOTS;
const DIST_ALIGN = DIST_SPECIAL + FULL_DISTANCES - DIST_MODEL_END;
// A length coder: choice, choice2, low[16][8], mid[16][8], high[256].
const LEN_CHOICE = 0;
const LEN_CHOICE2 = 1;
const LEN_LOW = 2;
const LEN_MID = LEN_LOW + POS_STATES_MAX * LEN_LOW_SYMBOLS;
const LEN_HIGH = LEN_MID + POS_STATES_MAX * LEN_MID_SYMBOLS;
const LEN_CODER_SIZE = LEN_HIGH + LEN_HIGH_SYMBOLS;
const MATCH_LEN = DIST_ALIGN + ALIGN_SIZE;
const REP_LEN = MATCH_LEN + LEN_CODER_SIZE;
const LITERAL = REP_LEN + LEN_CODER_SIZE;
const PROBS_SIZE = LITERAL + LITERAL_CODERS_MAX * LITERAL_CODER_SIZE;

/** The result of one LZMA2 decode: where the input ended and the output grew to. */
export interface Lzma2Result {
  out: Uint8Array;
  outEnd: number;
  inEnd: number;
}

export class Lzma2Decoder {
  private readonly probs = new Uint16Array(PROBS_SIZE);
  // Range decoder
  private range = 0;
  private code = 0;
  private inPos = 0;
  private input: Uint8Array = new Uint8Array(0);
  // LZMA state
  private state = 0;
  private rep0 = 0;
  private rep1 = 0;
  private rep2 = 0;
  private rep3 = 0;
  private lc = 0;
  private lp = 0;
  private pb = 0;
  // Output (= dictionary)
  private out: Uint8Array = new Uint8Array(0);
  private pos = 0;
  /** Start of the current dictionary: matches may not reach before it. */
  private dictStart = 0;

  /**
   * Decodes the LZMA2 stream at input[inStart, inEnd) (up to its end marker) into `out`
   * from `outStart`, growing `out` (a new array, returned) when a chunk does not fit.
   */
  decode(input: Uint8Array, inStart: number, inEnd: number, out: Uint8Array, outStart: number): Lzma2Result {
    this.input = input;
    this.out = out;
    this.pos = outStart;
    this.dictStart = outStart;
    let p = inStart;
    let needDictReset = true;
    let needProps = true;
    for (;;) {
      if (p >= inEnd) throw new XzError('LZMA2 data is truncated (no end marker)');
      const control = input[p++]!;
      if (control === 0x00) break;
      if (control >= 0xe0 || control === 0x01) {
        needProps = true;
        needDictReset = false;
        this.dictStart = this.pos;
      } else if (needDictReset) {
        throw new XzError('LZMA2 data is corrupt (first chunk does not reset the dictionary)');
      }
      if (control >= 0x80) {
        if (p + 4 > inEnd) throw new XzError('LZMA2 data is truncated (chunk header)');
        const unpacked = (control & 0x1f) * 0x10000 + (input[p]! << 8) + input[p + 1]! + 1;
        const packed = (input[p + 2]! << 8) + input[p + 3]! + 1;
        p += 4;
        if (control >= 0xc0) {
          if (p >= inEnd) throw new XzError('LZMA2 data is truncated (properties)');
          this.setProps(input[p++]!);
          needProps = false;
          this.resetState();
        } else if (needProps) {
          throw new XzError('LZMA2 data is corrupt (LZMA chunk without properties)');
        } else if (control >= 0xa0) {
          this.resetState();
        }
        if (p + packed > inEnd) throw new XzError('LZMA2 data is truncated (LZMA chunk)');
        this.ensure(unpacked);
        this.decodeLzmaChunk(p, p + packed, this.pos + unpacked);
        p += packed;
      } else {
        if (control > 2) throw new XzError(`LZMA2 data is corrupt (control byte 0x${control.toString(16)})`);
        if (p + 2 > inEnd) throw new XzError('LZMA2 data is truncated (chunk header)');
        const size = (input[p]! << 8) + input[p + 1]! + 1;
        p += 2;
        if (p + size > inEnd) throw new XzError('LZMA2 data is truncated (uncompressed chunk)');
        this.ensure(size);
        this.out.set(input.subarray(p, p + size), this.pos);
        this.pos += size;
        p += size;
      }
    }
    const r = { out: this.out, outEnd: this.pos, inEnd: p };
    this.input = new Uint8Array(0);
    this.out = new Uint8Array(0);
    return r;
  }

  private ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.out.length) return;
    const grown = new Uint8Array(Math.max(need, this.out.length * 2, 1 << 16));
    grown.set(this.out.subarray(0, this.pos));
    this.out = grown;
  }

  private setProps(props: number): void {
    if (props > (4 * 5 + 4) * 9 + 8) throw new XzError('LZMA2 data is corrupt (properties byte)');
    this.pb = Math.floor(props / 45);
    props -= this.pb * 45;
    this.lp = Math.floor(props / 9);
    this.lc = props - this.lp * 9;
    if (this.lc + this.lp > 4) throw new XzError('LZMA2 data is corrupt (lc + lp > 4)');
  }

  private resetState(): void {
    this.state = 0;
    this.rep0 = this.rep1 = this.rep2 = this.rep3 = 0;
    this.probs.fill(RC_BIT_MODEL_TOTAL >>> 1);
  }

  // --- range decoder -----------------------------------------------------------------

  private inEnd = 0;

  private rcNormalize(): void {
    if (this.range >>> 24 === 0) {
      if (this.inPos >= this.inEnd) throw overrun();
      this.range <<= 8;
      this.code = (this.code << 8) | this.input[this.inPos++]!;
    }
  }

  private bit(i: number): number {
    this.rcNormalize();
    const probs = this.probs;
    const prob = probs[i]!;
    const bound = Math.imul(this.range >>> 11, prob);
    if ((this.code ^ SIGN) < (bound ^ SIGN)) {
      this.range = bound;
      probs[i] = prob + ((RC_BIT_MODEL_TOTAL - prob) >>> RC_MOVE_BITS);
      return 0;
    }
    this.range = (this.range - bound) | 0;
    this.code = (this.code - bound) | 0;
    probs[i] = prob - (prob >>> RC_MOVE_BITS);
    return 1;
  }

  /** A bit tree of `limit` leaves rooted at probs[base + 1]; returns symbol - limit. */
  private bittree(base: number, limit: number): number {
    const probs = this.probs;
    const input = this.input;
    let range = this.range;
    let code = this.code;
    let symbol = 1;
    do {
      if (range >>> 24 === 0) {
        if (this.inPos >= this.inEnd) throw overrun();
        range <<= 8;
        code = (code << 8) | input[this.inPos++]!;
      }
      const pi = base + symbol;
      const prob = probs[pi]!;
      const bound = Math.imul(range >>> 11, prob);
      if ((code ^ SIGN) < (bound ^ SIGN)) {
        range = bound;
        probs[pi] = prob + ((RC_BIT_MODEL_TOTAL - prob) >>> RC_MOVE_BITS);
        symbol <<= 1;
      } else {
        range = (range - bound) | 0;
        code = (code - bound) | 0;
        probs[pi] = prob - (prob >>> RC_MOVE_BITS);
        symbol = (symbol << 1) | 1;
      }
    } while (symbol < limit);
    this.range = range;
    this.code = code;
    return symbol - limit;
  }

  /** A reverse bit tree of `bits` bits; returns the value (LSB first). */
  private bittreeReverse(base: number, bits: number): number {
    let symbol = 1;
    let v = 0;
    for (let i = 0; i < bits; i++) {
      const b = this.bit(base + symbol);
      symbol = (symbol << 1) + b;
      v |= b << i;
    }
    return v;
  }

  /** `count` bits with probability 1/2 each (MSB first), appended to `v`. */
  private direct(v: number, count: number): number {
    const input = this.input;
    let range = this.range;
    let code = this.code;
    for (let i = 0; i < count; i++) {
      if (range >>> 24 === 0) {
        if (this.inPos >= this.inEnd) throw overrun();
        range <<= 8;
        code = (code << 8) | input[this.inPos++]!;
      }
      range >>>= 1;
      let b = 0;
      if ((code ^ SIGN) >= (range ^ SIGN)) {
        code = (code - range) | 0;
        b = 1;
      }
      v = v * 2 + b;
    }
    this.range = range;
    this.code = code;
    return v;
  }

  // --- LZMA ----------------------------------------------------------------------------

  private len(coder: number, posState: number): number {
    if (!this.bit(coder + LEN_CHOICE)) return MATCH_LEN_MIN + this.bittree(coder + LEN_LOW + posState * LEN_LOW_SYMBOLS, LEN_LOW_SYMBOLS);
    if (!this.bit(coder + LEN_CHOICE2))
      return MATCH_LEN_MIN + LEN_LOW_SYMBOLS + this.bittree(coder + LEN_MID + posState * LEN_MID_SYMBOLS, LEN_MID_SYMBOLS);
    return MATCH_LEN_MIN + LEN_LOW_SYMBOLS + LEN_MID_SYMBOLS + this.bittree(coder + LEN_HIGH, LEN_HIGH_SYMBOLS);
  }

  /**
   * One LZMA chunk. The range decoder's and the model's state live in locals for the
   * chunk, and the two hottest bit decodes (IS_MATCH and a literal after a match) are
   * written out in place, as LzmaDec.c's macros are: the decoder turns tens of MB of
   * kernel per boot, and the range coder's fields read and written per bit were most of
   * its time. The bit trees (a plain literal, lengths, distance slots) keep the state in
   * locals too and hand it back in the fields.
   */
  private decodeLzmaChunk(inStart: number, inEnd: number, outLimit: number): void {
    const input = this.input;
    if (inEnd - inStart < 5 || input[inStart] !== 0) throw new XzError('LZMA2 data is corrupt (range coder init)');
    let code = (input[inStart + 1]! << 24) | (input[inStart + 2]! << 16) | (input[inStart + 3]! << 8) | input[inStart + 4]!;
    let range = -1;
    let inPos = inStart + 5;
    this.inEnd = inEnd;
    const probs = this.probs;
    const out = this.out;
    const dictStart = this.dictStart;
    let pos = this.pos;
    let state = this.state;
    let rep0 = this.rep0;
    let rep1 = this.rep1;
    let rep2 = this.rep2;
    let rep3 = this.rep3;
    const pbMask = (1 << this.pb) - 1;
    const lpMask = (1 << this.lp) - 1;
    const lc = this.lc;
    let prob = 0;
    let bound = 0;
    while (pos < outLimit) {
      // Positions count from the dictionary reset (xz-embedded's dict.pos).
      const posState = (pos - dictStart) & pbMask;
      // RC_BIT(IS_MATCH[state][posState])
      if (range >>> 24 === 0) {
        if (inPos >= inEnd) throw overrun();
        range <<= 8;
        code = (code << 8) | input[inPos++]!;
      }
      let pi = IS_MATCH + state * POS_STATES_MAX + posState;
      prob = probs[pi]!;
      bound = Math.imul(range >>> 11, prob);
      if ((code ^ SIGN) < (bound ^ SIGN)) {
        range = bound;
        probs[pi] = prob + ((RC_BIT_MODEL_TOTAL - prob) >>> RC_MOVE_BITS);
        // A literal.
        const prev = pos > dictStart ? out[pos - 1]! : 0;
        const base = LITERAL + LITERAL_CODER_SIZE * ((((pos - dictStart) & lpMask) << lc) + (prev >>> (8 - lc)));
        let symbol = 1;
        if (state < LIT_STATES) {
          this.range = range;
          this.code = code;
          this.inPos = inPos;
          symbol = this.bittree(base, 0x100);
          range = this.range;
          code = this.code;
          inPos = this.inPos;
        } else {
          // After a match: the byte at rep0 steers the first bits while they agree.
          let matchByte = out[pos - rep0 - 1]!;
          let offset = 0x100;
          do {
            matchByte <<= 1;
            const matchBit = matchByte & offset;
            if (range >>> 24 === 0) {
              if (inPos >= inEnd) throw overrun();
              range <<= 8;
              code = (code << 8) | input[inPos++]!;
            }
            pi = base + offset + matchBit + symbol;
            prob = probs[pi]!;
            bound = Math.imul(range >>> 11, prob);
            if ((code ^ SIGN) < (bound ^ SIGN)) {
              range = bound;
              probs[pi] = prob + ((RC_BIT_MODEL_TOTAL - prob) >>> RC_MOVE_BITS);
              symbol <<= 1;
              offset &= ~matchBit;
            } else {
              range = (range - bound) | 0;
              code = (code - bound) | 0;
              probs[pi] = prob - (prob >>> RC_MOVE_BITS);
              symbol = (symbol << 1) | 1;
              offset &= matchBit;
            }
          } while (symbol < 0x100);
        }
        out[pos++] = symbol & 0xff;
        state = state <= 3 ? 0 : state <= 9 ? state - 3 : state - 6;
        continue;
      }
      range = (range - bound) | 0;
      code = (code - bound) | 0;
      probs[pi] = prob - (prob >>> RC_MOVE_BITS);
      // A match or a rep: the rarer symbols go through bit() with the state stored back.
      this.range = range;
      this.code = code;
      this.inPos = inPos;
      let len: number;
      if (this.bit(IS_REP + state)) {
        if (pos === dictStart) throw new XzError('LZMA2 data is corrupt (repeated match before any data)');
        if (!this.bit(IS_REP0 + state)) {
          if (!this.bit(IS_REP0_LONG + state * POS_STATES_MAX + posState)) {
            // Short rep: one byte at rep0.
            state = state < LIT_STATES ? 9 : 11;
            out[pos] = out[pos - rep0 - 1]!;
            pos++;
            range = this.range;
            code = this.code;
            inPos = this.inPos;
            continue;
          }
        } else {
          let tmp: number;
          if (!this.bit(IS_REP1 + state)) {
            tmp = rep1;
          } else {
            if (!this.bit(IS_REP2 + state)) {
              tmp = rep2;
            } else {
              tmp = rep3;
              rep3 = rep2;
            }
            rep2 = rep1;
          }
          rep1 = rep0;
          rep0 = tmp;
        }
        state = state < LIT_STATES ? 8 : 11;
        len = this.len(REP_LEN, posState);
      } else {
        state = state < LIT_STATES ? 7 : 10;
        rep3 = rep2;
        rep2 = rep1;
        rep1 = rep0;
        len = this.len(MATCH_LEN, posState);
        const distState = len < DIST_STATES + MATCH_LEN_MIN ? len - MATCH_LEN_MIN : DIST_STATES - 1;
        const slot = this.bittree(DIST_SLOT + distState * DIST_SLOTS, DIST_SLOTS);
        if (slot < DIST_MODEL_START) {
          rep0 = slot;
        } else {
          const limit = (slot >>> 1) - 1;
          let d = (2 + (slot & 1)) * 2 ** limit;
          if (slot < DIST_MODEL_END) {
            d += this.bittreeReverse(DIST_SPECIAL + d - slot - 1, limit);
          } else {
            d = this.direct(2 + (slot & 1), limit - ALIGN_BITS) * ALIGN_SIZE;
            d += this.bittreeReverse(DIST_ALIGN, ALIGN_BITS);
          }
          rep0 = d;
        }
      }
      range = this.range;
      code = this.code;
      inPos = this.inPos;
      // Copy len bytes from rep0 + 1 back; matches never cross an LZMA2 chunk.
      const dist = rep0 + 1;
      if (dist > pos - dictStart) throw new XzError('LZMA2 data is corrupt (match distance beyond the dictionary)');
      if (pos + len > outLimit) throw new XzError('LZMA2 data is corrupt (match runs past the chunk)');
      const end = pos + len;
      if (dist >= len) {
        out.copyWithin(pos, pos - dist, end - dist);
      } else {
        for (let src = pos - dist; pos < end; ) out[pos++] = out[src++]!;
      }
      pos = end;
    }
    this.pos = pos;
    this.state = state;
    this.rep0 = rep0;
    this.rep1 = rep1;
    this.rep2 = rep2;
    this.rep3 = rep3;
    this.range = range;
    this.code = code;
    this.inPos = inPos;
    // The encoder's flush leaves one last normalization for the decoder (LzmaDec's final NORMALIZE).
    this.rcNormalize();
    if (this.inPos !== inEnd || this.code !== 0) throw new XzError('LZMA2 data is corrupt (LZMA chunk does not end cleanly)');
  }
}
