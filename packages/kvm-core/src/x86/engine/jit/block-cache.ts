/**
 * The block cache of the compiled tier: direct-mapped by the physical address of a block's
 * first instruction, tagged like the decode cache (physical address * 4 + mode key) and by
 * the linear RIP it was compiled at, with
 * a hotness counter per slot for blocks not compiled yet. A block checks its own bytes on
 * entry (compiler.ts), so nothing here tracks writes: a changed block returns 0 and its
 * slot is dropped; another block aliasing the slot replaces it.
 */
import type { X86Cpu } from '../cpu';

export const BC_BITS = 16;
export const BC_SIZE = 1 << BC_BITS;
export const BC_MASK = BC_SIZE - 1;

/**
 * The slot of the block starting at physical address pa: the low bits keep neighbouring
 * block starts apart, the folded page-number bits spread code that lies 64 KiB apart (a
 * kernel's text is megabytes: without them every 64 KiB would alias).
 */
export function bcIndex(pa: number): number {
  const lo = pa >>> 0;
  return (lo ^ (lo >>> 13)) & BC_MASK;
}

/**
 * The probe filter's slot of a block start at linear address rip (any number: ToInt32 keeps
 * the low 32 bits, enough to spread a kernel's text; aliases only cost a full lookup).
 */
export function probeIndex(rip: number): number {
  const lo = rip | 0;
  return (lo ^ (lo >>> 13)) & BC_MASK;
}

/** A probe-filter count that lets every probe through: a compiled region may start here. */
export const PROBE_LIVE = 0xffff;

/**
 * A probe at block start rip that the filter answers alone (the interpreter's straight run,
 * execute.ts runFast, goes on without returning to the run loop): true when no region
 * starts at any RIP of its slot and this execution is not one that tries a compilation (it
 * is counted, as run-block.ts counts it); false when the run loop must call runBlock (which
 * counts it then).
 */
export function probeCold(bc: BlockCache, rip: number): boolean {
  const threshold = jitParams.threshold;
  const straightAt = threshold * jitParams.straightFactor;
  const pi = probeIndex(rip);
  const seen = bc.probe[pi]!;
  if (seen === PROBE_LIVE || straightAt >= PROBE_LIVE) return false;
  const hot = seen + 1;
  if (hot === threshold || hot >= straightAt) return false;
  bc.probe[pi] = hot;
  return true;
}

/**
 * The linear address of code at rip (CS base and limit outside 64-bit mode), or NaN when
 * rip lies past the CS limit (no block runs there: the interpreter raises the #GP).
 */
export function codeLinear(cpu: X86Cpu, rip: number): number {
  if (cpu.mode64) return rip;
  if (rip > cpu.segLimit[1]!) return NaN;
  return (cpu.segBase[1]! + rip) >>> 0;
}

/**
 * A compiled block: (cpu, the page's memory, the offset of the block's first byte in it,
 * the GPRs, the instruction budget left) -> instructions retired (d.ip holds the next RIP);
 * 0 when it left before its first instruction (a crossing instruction's next page is not
 * in the fetch TLB: the interpreter fetches it), -1 when its bytes changed (the slot is dropped).
 */
export type BlockFn = (cpu: unknown, m: Uint8Array, o: number, R: Int32Array, left: number, depth: number, entry: number) => number;

/**
 * Tunables of the compiled tier. threshold: executions of a block start before it is
 * compiled; 0 turns the tier off (interpreter only), 1 compiles every block at once (the
 * tests that drive the compiled tier). KVMTS_JIT_THRESHOLD sets the initial value.
 * The default, DEFAULT_THRESHOLD, was chosen by measuring Debian Linux boots and the bench
 * guests (README "The engine's compiled tier"): a lower bar compiles code that V8 never
 * gets to optimise, a higher one leaves hot loops to the interpreter for longer.
 */
export const DEFAULT_THRESHOLD = 2000;

export const jitParams = {
  threshold: envInt('KVMTS_JIT_THRESHOLD', DEFAULT_THRESHOLD, 0),
  /**
   * A region without a loop (no jump back inside it) is compiled only after threshold *
   * straightFactor executions: straight-line code gains little per entry, and each new
   * function costs V8 a parse, a slow unoptimised start and an optimisation. Unrolled
   * code, a basic block of MAX_BLOCK instructions without a branch, is the exception
   * (compiler.ts): it compiles at threshold.
   */
  straightFactor: envInt('KVMTS_JIT_STRAIGHT', 20, 1),
  /** Check every block against the interpreter (verify.ts; KVMTS_JIT_VERIFY=1): a debugging mode, slow. */
  verify: (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.KVMTS_JIT_VERIFY === '1',
  /** Called with the JavaScript source of each block compiled (debugging, tests). */
  onCompile: null as ((rip: number, source: string) => void) | null,
};

/** An integer >= min from the environment variable `name`, or dflt when it is unset or not one. */
function envInt(name: string, dflt: number, min: number): number {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name];
  if (env === undefined || env === '') return dflt;
  const n = Number(env);
  return Number.isInteger(n) && n >= min ? n : dflt;
}

/**
 * Counters of the compiled tier (measuring: tools/bench prints them with KVMTS_JIT_STATS=1).
 * Plain number fields, incremented where they happen; never read by the engine.
 */
export const jitStats = {
  /** Regions compiled (cache lookups that made a region) and new functions built (not shared). */
  regions: 0,
  functions: 0,
  /** Characters of generated source of the new functions, and ms spent in `new Function` and its factory call. */
  sourceChars: 0,
  compileMs: 0,
  /** Region entries from the run loop and the instructions they retired (chained regions included). */
  entries: 0,
  instructions: 0,
};

/** How many lookups an address that cannot start a block waits before it is tried again. */
export const BC_RETRY = 4096;

export class BlockCache {
  /** physical address * 4 + mode key; -1 when empty */
  readonly tag = new Float64Array(BC_SIZE).fill(-1);
  /**
   * The linear RIP the block was compiled at: its code bakes RIP in (RIP-relative operands,
   * return addresses, branch targets), and one physical page can be mapped at several
   * linear addresses (the vDSO, a PIE binary in each process), so a lookup matches both.
   */
  readonly rip = new Float64Array(BC_SIZE);
  /** The compiled block, or null: this address starts no compilable block (retried after BC_RETRY lookups). */
  readonly fn: (BlockFn | null)[] = new Array<BlockFn | null>(BC_SIZE).fill(null);
  /** The basic block of the region the address enters (compiler.ts: every basic block is an entry). */
  readonly entry = new Uint8Array(BC_SIZE);
  /** Instructions in the region's first basic block (the budget check) and its length in bytes (the CS-limit check). */
  readonly count = new Uint8Array(BC_SIZE);
  readonly len = new Uint16Array(BC_SIZE);
  /** Lookups of a null entry since it was made. */
  readonly misses = new Uint16Array(BC_SIZE);
  /** Hotness of a block start not compiled yet: its key and its executions. */
  readonly hotTag = new Float64Array(BC_SIZE).fill(-1);
  readonly hot = new Uint32Array(BC_SIZE);
  /**
   * The probe filter, indexed by probeIndex(linear RIP). Most probes are at branch targets
   * where no region starts, cold ones and straight-line code still short of its threshold:
   * this one small array answers them without the translation and the cache lookup. A
   * count (below PROBE_LIVE) says that no region starts at any RIP of this slot and how
   * many times its starts ran; run-block.ts goes on to the lookup only at the counts that
   * try a compilation. Registering a region sets its entries' slots to PROBE_LIVE: every
   * probe there looks the block cache up, and the block cache's hotTag/hot count.
   */
  readonly probe = new Uint16Array(BC_SIZE);
  /**
   * The keys (physical address * 4 + mode key) of the continuations of long straight
   * regions (compiler.ts CompiledBlock.continuations) not compiled yet: each is compiled as
   * a long region too when it becomes hot.
   */
  readonly continuations = new Set<number>();
  /** Statistics: blocks compiled, block executions. */
  compiled = 0;

  clear(): void {
    this.tag.fill(-1);
    this.fn.fill(null);
    this.hotTag.fill(-1);
    this.probe.fill(0);
    this.continuations.clear();
  }
}
