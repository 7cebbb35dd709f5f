/**
 * DataViews of guest memory: a little-endian 16/32-bit word of a slot's Uint8Array in one
 * load or store (V8 turns DataView.getInt32(p, true) into a single unaligned access)
 * instead of byte loads, shifts and ORs. A slot's Uint8Array never changes size, so a
 * view made once stays valid; the last two arrays seen are kept in plain variables (one
 * RAM slot is the usual case), others in a WeakMap.
 */
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
