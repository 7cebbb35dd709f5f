/**
 * The guest registers of a compiled region in JavaScript locals.
 *
 * The emitter (emit.ts) writes guest register slot n (R[n]: the low or high half of a
 * GPR, as in cpu.regs) as `R[n]`. A region's function keeps every slot its code names in
 * a local `rn` instead: read from R once on entry, written back on every way out (the
 * exit, a chain into another region, a fault or exit thrown). TurboFan keeps locals in
 * machine registers or stack slots; a typed-array element costs a load of its backing
 * store and a bounds check each time, and cannot be kept across the calls of the memory
 * slow paths.
 *
 * A helper that reads or writes cpu.regs itself (emit.ts withRegs) is bracketed by
 * SYNC_OUT (the locals to R, `sy = 1`) and SYNC_IN (`sy = 0`, R to the locals). While sy
 * is 1, R is the truth: a fault thrown inside the helper leaves R as the helper left it.
 */

/** Marks the emitter puts around a statement calling a helper that uses cpu.regs. */
export const SYNC_OUT = '/*SO*/';
export const SYNC_IN = '/*SI*/';
/** Marks the region compiler puts where the locals are declared and where they go back to R. */
export const REG_LOAD = '/*RL*/';
export const REG_STORE = '/*RS*/';

/** A name R[n] of the source (not part of a longer name such as TR[...] or cpu.R[...]). */
const SLOT = /(?<![\w$.])R\[(\d+)\]/g;
/** An assignment to R[n] (the emitter writes registers only with `R[n] = `). */
const SLOT_WRITE = /(?<![\w$.])R\[(\d+)\] =(?!=)/g;

/**
 * The region source with every R[n] as a local rn, and the marks expanded: REG_LOAD
 * declares the locals (from R), REG_STORE and SYNC_OUT write back those the code assigns,
 * SYNC_IN reads them all again. Only the slots the code names are locals.
 */
export function localiseRegisters(source: string): string {
  const used = new Set<number>();
  // The slots the code assigns: only these can differ from R (a SYNC_IN reloads the others
  // with the values R has), so only these are written back.
  const written = new Set<number>();
  for (const m of source.matchAll(SLOT_WRITE)) written.add(Number(m[1]));
  let s = source.replace(SLOT, (_m, n: string) => {
    used.add(Number(n));
    return `r${n}`;
  });
  const slots = [...used].sort((a, b) => a - b);
  const store = slots.filter((n) => written.has(n)).map((n) => `R[${n}] = r${n};`).join(' ');
  const load = slots.map((n) => `r${n} = R[${n}];`).join(' ');
  s = s.replace(REG_LOAD, slots.length === 0 ? '' : `let ${slots.map((n) => `r${n} = R[${n}]`).join(', ')};`);
  s = s.replaceAll(REG_STORE, store);
  s = s.replaceAll(SYNC_OUT, `${store} sy = 1;`);
  s = s.replaceAll(SYNC_IN, `sy = 0; ${load}`);
  return s;
}
