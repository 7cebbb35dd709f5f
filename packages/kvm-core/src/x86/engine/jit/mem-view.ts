/**
 * DataViews of guest memory for the compiled tier: a little-endian 32-bit word of a slot's
 * Uint8Array in one load (V8 turns DataView.getInt32 into a single unaligned load) instead
 * of four byte loads, shifts and ORs. Used by the compiled blocks' code checks (sameCode)
 * and their memory accesses on a TLB hit (ld64). A slot's Uint8Array never changes size,
 * so a view made once stays valid; the last two arrays seen are kept in plain variables
 * (one RAM slot is the usual case), others in a WeakMap.
 */
import type { X86Cpu } from '../cpu';
import { TLB_WRITE_BASE } from './emit';

let m0: Uint8Array | null = null;
let v0: DataView | null = null;
let m1: Uint8Array | null = null;
let v1: DataView | null = null;
const views = new WeakMap<Uint8Array, DataView>();

/** The DataView over exactly the bytes of m. */
export function viewOf(m: Uint8Array): DataView {
  if (m === m0) return v0!;
  if (m === m1) return v1!;
  let v = views.get(m);
  if (v === undefined) {
    v = new DataView(m.buffer, m.byteOffset, m.byteLength);
    views.set(m, v);
  }
  m1 = m0;
  v1 = v0;
  m0 = m;
  v0 = v;
  return v;
}

/** The TLB arrays the fast paths read (X86Cpu keeps the tag array private to the class). */
interface TlbView {
  tlbTag: Float64Array;
  tlbMem: Uint8Array[];
  tlbOff: Int32Array;
  accessUser: number;
  hi: number;
}

/**
 * cpu.read64(la) with the TLB hit of a page-internal quadword inline: two 32-bit loads.
 * Anything else (a miss, MMIO, a page-crossing access) goes through cpu.read64. Returns
 * the low half, the high half in cpu.hi, as cpu.read64 does.
 */
export function ld64(cpu: X86Cpu, la: number): number {
  const t = cpu as unknown as TlbView;
  const o = la & 0xfff;
  const i = (la >>> 12) & 1023;
  if (o <= 0xff8 && t.tlbTag[i] === la - o + t.accessUser) {
    const v = viewOf(t.tlbMem[i]!);
    const p = t.tlbOff[i]! + o;
    t.hi = v.getInt32(p + 4, true);
    return v.getInt32(p, true);
  }
  return cpu.read64(la);
}

/** cpu.read32(la) with the TLB hit of a page-internal doubleword inline (one load). */
export function ld32(cpu: X86Cpu, la: number): number {
  const t = cpu as unknown as TlbView;
  const o = la & 0xfff;
  const i = (la >>> 12) & 1023;
  if (o <= 0xffc && t.tlbTag[i] === la - o + t.accessUser) return viewOf(t.tlbMem[i]!).getInt32(t.tlbOff[i]! + o, true);
  return cpu.read32(la);
}


/** cpu.write32(la, v) with the TLB hit of a page-internal doubleword inline (one store). */
export function st32(cpu: X86Cpu, la: number, v: number): void {
  const t = cpu as unknown as TlbView;
  const o = la & 0xfff;
  const i = TLB_WRITE_BASE + ((la >>> 12) & 1023);
  if (o <= 0xffc && t.tlbTag[i] === la - o + t.accessUser) {
    viewOf(t.tlbMem[i]!).setInt32(t.tlbOff[i]! + o, v, true);
    return;
  }
  cpu.write32(la, v);
}

/** cpu.write64(la, lo, hi) with the TLB hit of a page-internal quadword inline (two stores). */
export function st64(cpu: X86Cpu, la: number, lo: number, hi: number): void {
  const t = cpu as unknown as TlbView;
  const o = la & 0xfff;
  const i = TLB_WRITE_BASE + ((la >>> 12) & 1023);
  if (o <= 0xff8 && t.tlbTag[i] === la - o + t.accessUser) {
    const v = viewOf(t.tlbMem[i]!);
    const p = t.tlbOff[i]! + o;
    v.setInt32(p, lo, true);
    v.setInt32(p + 4, hi, true);
    return;
  }
  cpu.write64(la, lo, hi);
}
