/**
 * Storage-to-storage and string instructions: MVC, CLC, NC/OC/XC, MVN/MVZ, TR/TRT,
 * MVCL/CLCL, MVCLE/CLCLE, MVST/CLST/SRST, TS. Moves go byte by byte left to right,
 * so overlapping MVC propagates bytes exactly as the architecture defines.
 */
import type { S390Cpu } from './cpu';
import { PGM_OPERATION } from './pgm';

const TWO32 = 4294967296;
/** MVCLE/CLCLE move at most this many bytes per execution (then cc 3, as hardware may). */
const CPU_DETERMINED = 4096;

/** Address held in GR r, in the current addressing mode. */
function regAddr(c: S390Cpu, r: number): number {
  return c.wrapAddr(c.gr[2 * r]!, c.gr[2 * r + 1]!);
}

/** Store an updated address back into GR r, keeping the bits the mode leaves alone. */
function setRegAddr(c: S390Cpu, r: number, a: number): void {
  const g = c.gr;
  if (c.amode64) {
    const lo = a >>> 0;
    g[2 * r] = Math.floor((a - lo) / TWO32) >>> 0;
    g[2 * r + 1] = lo;
  } else if (c.pswMask1 & 0x80000000) {
    g[2 * r + 1] = ((g[2 * r + 1]! & 0x80000000) | (a & 0x7fffffff)) >>> 0;
  } else {
    g[2 * r + 1] = ((g[2 * r + 1]! & 0xff000000) | (a & 0xffffff)) >>> 0;
  }
}

/** Length in GR r: 64 bits in 64-bit mode, else the low 32. */
function regLen(c: S390Cpu, r: number): number {
  if (c.amode64) return c.gr[2 * r]! * TWO32 + c.gr[2 * r + 1]!;
  return c.gr[2 * r + 1]!;
}

function setRegLen(c: S390Cpu, r: number, n: number): void {
  if (c.amode64) {
    const lo = n >>> 0;
    c.gr[2 * r] = Math.floor((n - lo) / TWO32) >>> 0;
    c.gr[2 * r + 1] = lo;
  } else c.gr[2 * r + 1] = n >>> 0;
}

export function execStorage(c: S390Cpu, h0: number, h1: number, h2: number): void {
  const op = h0 >>> 8;
  switch (op) {
    case 0x0e: mvcl(c, (h0 >>> 4) & 15, h0 & 15); return;
    case 0x0f: clcl(c, (h0 >>> 4) & 15, h0 & 15); return;
    case 0xa8: mvcle(c, (h0 >>> 4) & 15, h0 & 15, c.ea(h1 >>> 12, 0, h1 & 0xfff) & 0xff); return;
    case 0xa9: clcle(c, (h0 >>> 4) & 15, h0 & 15, c.ea(h1 >>> 12, 0, h1 & 0xfff) & 0xff); return;
    case 0x93: { // TS
      const a = c.ea(h1 >>> 12, 0, h1 & 0xfff);
      const v = c.rd8(a);
      c.wr8(a, 0xff);
      c.cc = v & 0x80 ? 1 : 0;
      return;
    }
    default:
      break;
  }
  // SS format: L (length - 1), two base-displacement operands.
  const l = h0 & 0xff;
  const a1 = c.ea(h1 >>> 12, 0, h1 & 0xfff);
  const a2 = c.ea(h2 >>> 12, 0, h2 & 0xfff);
  switch (op) {
    case 0xd2: { // MVC
      c.probeRead(a2, l + 1);
      c.probeWrite(a1, l + 1);
      for (let i = 0; i <= l; i++) c.wr8(c.wrapNum(a1 + i), c.rd8(c.wrapNum(a2 + i)));
      return;
    }
    case 0xd1: case 0xd3: { // MVN, MVZ
      const m = op === 0xd1 ? 0x0f : 0xf0;
      c.probeRead(a2, l + 1);
      c.probeWrite(a1, l + 1);
      for (let i = 0; i <= l; i++) {
        const d = c.wrapNum(a1 + i);
        c.wr8(d, (c.rd8(d) & ~m) | (c.rd8(c.wrapNum(a2 + i)) & m));
      }
      return;
    }
    case 0xd4: case 0xd6: case 0xd7: { // NC OC XC
      c.probeRead(a2, l + 1);
      c.probeWrite(a1, l + 1);
      let any = 0;
      for (let i = 0; i <= l; i++) {
        const d = c.wrapNum(a1 + i);
        const x = c.rd8(d);
        const y = c.rd8(c.wrapNum(a2 + i));
        const r = op === 0xd4 ? x & y : op === 0xd6 ? x | y : x ^ y;
        any |= r;
        c.wr8(d, r);
      }
      c.cc = any !== 0 ? 1 : 0;
      return;
    }
    case 0xd5: { // CLC
      for (let i = 0; i <= l; i++) {
        const x = c.rd8(c.wrapNum(a1 + i));
        const y = c.rd8(c.wrapNum(a2 + i));
        if (x !== y) { c.cc = x < y ? 1 : 2; return; }
      }
      c.cc = 0;
      return;
    }
    case 0xdc: { // TR
      c.probeWrite(a1, l + 1);
      for (let i = 0; i <= l; i++) {
        const d = c.wrapNum(a1 + i);
        c.wr8(d, c.rd8(c.wrapNum(a2 + c.rd8(d))));
      }
      return;
    }
    case 0xdd: { // TRT
      for (let i = 0; i <= l; i++) {
        const a = c.wrapNum(a1 + i);
        const f = c.rd8(c.wrapNum(a2 + c.rd8(a)));
        if (f !== 0) {
          const g = c.gr;
          if (c.amode64) { const lo = a >>> 0; g[2] = Math.floor((a - lo) / TWO32) >>> 0; g[3] = lo; }
          else if (c.pswMask1 & 0x80000000) g[3] = ((g[3]! & 0x80000000) | a) >>> 0;
          else g[3] = ((g[3]! & 0xff000000) | a) >>> 0;
          g[5] = ((g[5]! & 0xffffff00) | f) >>> 0;
          c.cc = i === l ? 2 : 1;
          return;
        }
      }
      c.cc = 0;
      return;
    }
    case 0xe8: { // MVCIN: move inverse
      c.probeWrite(a1, l + 1);
      for (let i = 0; i <= l; i++) c.wr8(c.wrapNum(a1 + i), c.rd8(c.wrapNum(a2 - i)));
      return;
    }
    default:
      c.pgm(PGM_OPERATION);
  }
}

function mvcl(c: S390Cpu, r1: number, r2: number): void {
  if ((r1 | r2) & 1) c.specification();
  const g = c.gr;
  let d = regAddr(c, r1);
  let s = regAddr(c, r2);
  let dl = g[2 * r1 + 3]! & 0xffffff;
  let sl = g[2 * r2 + 3]! & 0xffffff;
  const pad = g[2 * r2 + 3]! >>> 24;
  c.cc = dl === sl ? 0 : dl < sl ? 1 : 2;
  // Destructive overlap: cc 3, nothing moved.
  const n = Math.min(dl, sl);
  if (n > 0 && d > s && d < s + n) { c.cc = 3; return; }
  while (dl > 0) {
    const b = sl > 0 ? c.rd8(s) : pad;
    c.wr8(d, b);
    d = c.wrapNum(d + 1);
    dl--;
    if (sl > 0) { s = c.wrapNum(s + 1); sl--; }
  }
  setRegAddr(c, r1, d);
  setRegAddr(c, r2, s);
  g[2 * r1 + 3] = ((g[2 * r1 + 3]! & 0xff000000) | dl) >>> 0;
  g[2 * r2 + 3] = ((g[2 * r2 + 3]! & 0xff000000) | sl) >>> 0;
}

function clcl(c: S390Cpu, r1: number, r2: number): void {
  if ((r1 | r2) & 1) c.specification();
  const g = c.gr;
  let a = regAddr(c, r1);
  let b = regAddr(c, r2);
  let al = g[2 * r1 + 3]! & 0xffffff;
  let bl = g[2 * r2 + 3]! & 0xffffff;
  const pad = g[2 * r2 + 3]! >>> 24;
  c.cc = 0;
  while (al > 0 || bl > 0) {
    const x = al > 0 ? c.rd8(a) : pad;
    const y = bl > 0 ? c.rd8(b) : pad;
    if (x !== y) { c.cc = x < y ? 1 : 2; break; }
    if (al > 0) { a = c.wrapNum(a + 1); al--; }
    if (bl > 0) { b = c.wrapNum(b + 1); bl--; }
  }
  setRegAddr(c, r1, a);
  setRegAddr(c, r2, b);
  g[2 * r1 + 3] = ((g[2 * r1 + 3]! & 0xff000000) | al) >>> 0;
  g[2 * r2 + 3] = ((g[2 * r2 + 3]! & 0xff000000) | bl) >>> 0;
}

function mvcle(c: S390Cpu, r1: number, r3: number, pad: number): void {
  if ((r1 | r3) & 1) c.specification();
  let d = regAddr(c, r1);
  let s = regAddr(c, r3);
  let dl = regLen(c, r1 + 1);
  let sl = regLen(c, r3 + 1);
  // The lengths keep their order while the move goes on, so the cc can be taken now.
  const finalCc = dl === sl ? 0 : dl < sl ? 1 : 2;
  let budget = CPU_DETERMINED;
  while (dl > 0 && budget > 0) {
    const b = sl > 0 ? c.rd8(s) : pad;
    c.wr8(d, b);
    d = c.wrapNum(d + 1);
    dl--;
    if (sl > 0) { s = c.wrapNum(s + 1); sl--; }
    budget--;
  }
  setRegAddr(c, r1, d);
  setRegAddr(c, r3, s);
  setRegLen(c, r1 + 1, dl);
  setRegLen(c, r3 + 1, sl);
  c.cc = dl > 0 ? 3 : finalCc;
}

function clcle(c: S390Cpu, r1: number, r3: number, pad: number): void {
  if ((r1 | r3) & 1) c.specification();
  let a = regAddr(c, r1);
  let b = regAddr(c, r3);
  let al = regLen(c, r1 + 1);
  let bl = regLen(c, r3 + 1);
  let budget = CPU_DETERMINED;
  c.cc = 0;
  while ((al > 0 || bl > 0) && budget > 0) {
    const x = al > 0 ? c.rd8(a) : pad;
    const y = bl > 0 ? c.rd8(b) : pad;
    if (x !== y) { c.cc = x < y ? 1 : 2; break; }
    if (al > 0) { a = c.wrapNum(a + 1); al--; }
    if (bl > 0) { b = c.wrapNum(b + 1); bl--; }
    budget--;
  }
  if (c.cc === 0 && (al > 0 || bl > 0)) c.cc = 3;
  setRegAddr(c, r1, a);
  setRegAddr(c, r3, b);
  setRegLen(c, r1 + 1, al);
  setRegLen(c, r3 + 1, bl);
}

/** MVST r1,r2: copy the string ending with the byte in GR0 (inclusive). */
export function mvst(c: S390Cpu, r1: number, r2: number): void {
  const g = c.gr;
  if (g[1]! & 0xffffff00) c.specification();
  const end = g[1]! & 0xff;
  let d = regAddr(c, r1);
  let s = regAddr(c, r2);
  for (let i = 0; i < CPU_DETERMINED; i++) {
    const b = c.rd8(s);
    c.wr8(d, b);
    if (b === end) { setRegAddr(c, r1, d); c.cc = 1; return; }
    d = c.wrapNum(d + 1);
    s = c.wrapNum(s + 1);
  }
  setRegAddr(c, r1, d);
  setRegAddr(c, r2, s);
  c.cc = 3;
}

/** CLST r1,r2: compare strings ending with the byte in GR0. */
export function clst(c: S390Cpu, r1: number, r2: number): void {
  const g = c.gr;
  if (g[1]! & 0xffffff00) c.specification();
  const end = g[1]! & 0xff;
  let a = regAddr(c, r1);
  let b = regAddr(c, r2);
  for (let i = 0; i < CPU_DETERMINED; i++) {
    const x = c.rd8(a);
    const y = c.rd8(b);
    if (x === end && y === end) { c.cc = 0; return; }
    if (x === end) { setRegAddr(c, r1, a); setRegAddr(c, r2, b); c.cc = 1; return; }
    if (y === end) { setRegAddr(c, r1, a); setRegAddr(c, r2, b); c.cc = 2; return; }
    if (x !== y) { setRegAddr(c, r1, a); setRegAddr(c, r2, b); c.cc = x < y ? 1 : 2; return; }
    a = c.wrapNum(a + 1);
    b = c.wrapNum(b + 1);
  }
  setRegAddr(c, r1, a);
  setRegAddr(c, r2, b);
  c.cc = 3;
}

/** SRST r1,r2: search [r2, r1) for the byte in GR0. */
export function srst(c: S390Cpu, r1: number, r2: number): void {
  const g = c.gr;
  if (g[1]! & 0xffffff00) c.specification();
  const ch = g[1]! & 0xff;
  const end = regAddr(c, r1);
  let a = regAddr(c, r2);
  for (let i = 0; i < CPU_DETERMINED; i++) {
    if (a === end) { c.cc = 2; return; }
    if (c.rd8(a) === ch) { setRegAddr(c, r1, a); c.cc = 1; return; }
    a = c.wrapNum(a + 1);
  }
  setRegAddr(c, r2, a);
  c.cc = 3;
}
