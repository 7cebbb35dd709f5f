/**
 * Entering the compiled tier from the run loop: look the block up by the physical address
 * of RIP, count executions of blocks not compiled yet and compile the hot ones.
 */
import type { X86Cpu } from '../cpu';
import { DC_DEF32, DC_MODE64 } from '../decode-cache';
import { d } from '../decoder';
import { BC_RETRY, bcIndex, codeLinear, jitParams, jitStats, PROBE_LIVE, probeIndex } from './block-cache';
import { compileBlock } from './compiler';
import { verifyBlock } from './verify';
import { mayContinue } from './may-continue';

/** Verify mode: the source of the block in each slot (for the mismatch report). */
const verifySources = new Map<number, string>();

/**
 * Run the compiled block at RIP if there is one with at most `left` instructions; returns
 * the instructions it retired (d.ip is the next RIP), or 0 when the interpreter must run
 * the next instruction. Faults and exits propagate as from step(), with d.ipStart the
 * faulting instruction and cpu.jitRetired the instructions retired before it. With events,
 * a block runs only when mayContinue (the caller skipped the run loop's head).
 */
export function runBlock(cpu: X86Cpu, left: number, events = false): number {
  const threshold = jitParams.threshold;
  if (threshold === 0) return 0;
  const rip = cpu.rip;
  const bc = cpu.blocks;
  // A region is tried at `threshold` executions, and one without a loop again at
  // threshold * straightFactor (compileBlock returns false for it before that).
  const straightAt = threshold * jitParams.straightFactor;
  // The probe filter (block-cache.ts) counts the executions of a start where no region
  // begins: only the counts that try a compilation go on to the lookup.
  let hot = 0;
  const pi = probeIndex(rip);
  const seen = bc.probe[pi]!;
  if (seen !== PROBE_LIVE && straightAt < PROBE_LIVE) {
    hot = seen + 1;
    // After the last try the count starts again (a start that could not be compiled is
    // retried, as the block cache retries its null entries).
    bc.probe[pi] = hot >= straightAt ? 0 : hot;
    if (hot !== threshold && hot !== straightAt) return 0;
  }
  d.ipStart = rip;
  const mode64 = cpu.mode64;
  const la = codeLinear(cpu, rip);
  if (Number.isNaN(la)) return 0;
  const ti = cpu.fetchEntry(la);
  const po = la & 0xfff;
  const pa = cpu.tlbHpa[ti]! + po;
  const modeKey = mode64 ? DC_MODE64 : cpu.csDefault32 ? DC_DEF32 : 0;
  const key = pa * 4 + modeKey;
  const bi = bcIndex(pa);
  if (bc.tag[bi] === key && (bc.rip[bi] === rip || bc.fn[bi] === null)) {
    const fn = bc.fn[bi];
    if (fn === null) {
      if (++bc.misses[bi] >= BC_RETRY) bc.tag[bi] = -1;
      return 0;
    }
    if (bc.count[bi]! > left) return 0;
    if (!mode64 && rip + bc.len[bi]! - 1 > cpu.segLimit[1]!) return 0;
    // Called from the fast-form loop (events): only where the run loop's head would do nothing.
    if (events && !mayContinue(cpu)) return 0;
    if (d.cpu !== cpu || d.regs !== cpu.regs) {
      d.cpu = cpu;
      d.regs = cpu.regs;
    }
    const r = jitParams.verify
      ? verifyBlock(cpu, fn, cpu.tlbMem[ti]!, cpu.tlbOff[ti]! + po, left, bc.entry[bi]!, verifySources.get(bi))
      : fn(cpu, cpu.tlbMem[ti]!, cpu.tlbOff[ti]! + po, cpu.regs, left, 0, bc.entry[bi]!);
    jitStats.entries++;
    if (r < 0) {
      // The code changed since it was compiled.
      bc.tag[bi] = -1;
      bc.hotTag[bi] = -1;
      return 0;
    }
    jitStats.instructions += r;
    return r;
  }
  if (hot === 0) {
    // A slot of the filter where some region starts: the block cache counts this start.
    if (bc.hotTag[bi] !== key) {
      bc.hotTag[bi] = key;
      bc.hot[bi] = 1;
      hot = 1;
    } else {
      hot = ++bc.hot[bi]!;
    }
    if (hot < threshold || (hot > threshold && hot !== straightAt)) return 0;
  }
  const continued = bc.continuations.has(key);
  const b = compileBlock(cpu, pa, rip, modeKey, cpu.tlbMem[ti]!, cpu.tlbOff[ti]! + po, threshold === 1 || hot >= straightAt, continued);
  if (continued && b !== undefined) bc.continuations.delete(key);
  if (b === undefined || b === false) {
    // undefined: its first instruction is not in the decode cache now (evicted by an
    // alias); the interpreter enters it again right away, so the next probe tries again.
    // false: straight code not due yet (threshold * straightFactor).
    if (b === undefined && hot === threshold) {
      if (seen !== PROBE_LIVE) bc.probe[pi] = threshold - 1;
      else bc.hot[bi] = threshold - 1;
    }
    return 0;
  }
  // null: no block can start here. The mark saves the next tries, but not at the cost of
  // a region compiled at an aliasing address (its slot keeps it; this start is tried
  // again after threshold more executions): marks evicting live regions kept the i386
  // kernel's blake2s pieces from being entered for thousands of runs.
  bc.hotTag[bi] = -1;
  if (b === null && bc.fn[bi] !== null && bc.tag[bi] !== -1) return 0;
  bc.tag[bi] = key;
  bc.rip[bi] = rip;
  bc.misses[bi] = 0;
  if (b === null) {
    bc.fn[bi] = null;
    return 0;
  }
  bc.compiled++;
  if (jitParams.onCompile !== null) jitParams.onCompile(rip, b.source);
  // Every basic block of the region enters it: a loop is compiled once, whichever of its
  // blocks became hot first. A slot that holds a compiled region already keeps it.
  for (let j = 0; j < b.entries.length; j++) {
    const en = b.entries[j]!;
    const pj = pa + en.delta;
    const bj = bcIndex(pj);
    if (j !== 0 && bc.fn[bj] !== null && bc.tag[bj] !== -1) continue;
    bc.tag[bj] = pj * 4 + modeKey;
    bc.rip[bj] = en.rip;
    bc.fn[bj] = b.fn;
    bc.entry[bj] = j;
    bc.count[bj] = en.count;
    bc.len[bj] = en.len;
    bc.misses[bj] = 0;
    bc.probe[probeIndex(en.rip)] = PROBE_LIVE;
    if (bc.hotTag[bj] === pj * 4 + modeKey) bc.hotTag[bj] = -1;
    if (jitParams.verify) verifySources.set(bj, b.source);
  }
  // Where long straight code goes on: it is compiled as a long region too (continued), at
  // its next probe there. The probe filter counts it, or where a region starts at an
  // aliasing RIP (PROBE_LIVE) the block cache's hot count does; an unrolled body whose
  // continuation met such a slot waited threshold more runs for each piece (the i386
  // kernel's blake2s: 20 M instructions interpreted).
  for (const cont of b.continuations) {
    const key = (pa + cont.delta) * 4 + modeKey;
    const bk = bcIndex(pa + cont.delta);
    const known = !Number.isNaN(cont.delta);
    if (known && bc.tag[bk] === key) continue;
    if (known) bc.continuations.add(key);
    const pc = probeIndex(cont.rip);
    if (bc.probe[pc] !== PROBE_LIVE) {
      if (bc.probe[pc]! < threshold - 1) bc.probe[pc] = threshold - 1;
    } else if (known && (bc.hotTag[bk] !== key || bc.hot[bk]! < threshold - 1)) {
      bc.hotTag[bk] = key;
      bc.hot[bk] = threshold - 1;
    }
  }
  return 0;
}

