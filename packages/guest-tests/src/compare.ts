/**
 * Comparing an exerciser's output on two machines, block by block. The host is the
 * reference for user-mode instructions; where an emulator is known to differ, the
 * difference is listed here with the reason, and only lines of those named blocks may
 * differ. Nothing is skipped silently: the comparison reports how many lines each known
 * difference excused.
 */

export interface KnownDifference {
  id: string;
  /** Guest names the difference applies to. */
  guests: RegExp;
  /** Block names (the first word of a sample line, or the word before ':' of a summary). */
  block: RegExp;
  why: string;
}

/** Where QEMU 7.2's TCG (Debian bookworm) differs from the host CPU. */
export const QEMU_TCG_DIFFERENCES: readonly KnownDifference[] = [
  {
    id: 'sse-mxcsr-de',
    guests: /^ex-sse-/,
    block: /\.de$/,
    why: 'TCG never sets MXCSR.DE (denormal operand) for SSE arithmetic, compares and conversions',
  },
  {
    id: 'sse-two-nans',
    guests: /^ex-sse-/,
    block: /\.nan2$/,
    why: 'with NaNs in both operands x86 returns the first source operand (quieted); TCG returns the QNaN',
  },
  {
    id: 'sse-daz-minmax',
    guests: /^ex-sse-/,
    block: /^(min|max)(ps|pd|ss|sd)\.daz$/,
    why: 'with MXCSR.DAZ, MIN/MAX treat a denormal input as zero and return it; TCG returns the denormal',
  },
  {
    id: 'x87-status-word',
    guests: /^ex-x87-/,
    block: /\.(fsw|de)$/,
    why: 'TCG sets neither FSW.DE (denormal operand) nor C1 as the round-up indicator, and computes fprem1 quotient bits wrongly for negative quotients',
  },
  {
    id: 'x87-fcomi-osa',
    guests: /^ex-x87-/,
    block: /^fcomi\.osa$/,
    why: 'FCOMI/FUCOMI clear OF, SF and AF; TCG leaves them unchanged',
  },
  {
    id: 'bmi1-blsi-cf',
    guests: /^ex-misc-/,
    block: /^blsi(64)?\.cf$/,
    why: 'BLSI sets CF when the source is nonzero; TCG inverts it',
  },
  {
    id: 'adx',
    guests: /^ex-misc-/,
    block: /^adcx_adox(64)?$/,
    why: 'TCG computes ADCX/ADOX carries wrongly (CF/OF from the wrong flag or input)',
  },
];

export interface Comparison {
  /** Lines that differ and no known difference excuses (must be empty). */
  mismatches: { line: number; reference: string; actual: string }[];
  /** Lines excused, per known difference id. */
  excused: Record<string, number>;
  lines: number;
}

/** The block a line of exerciser output belongs to. */
export function blockOf(line: string): string {
  if (line.startsWith('  ')) return line.trim().split(' ')[0] ?? '';
  const colon = line.indexOf(':');
  return colon > 0 ? line.slice(0, colon) : '';
}

export function compareOutputs(guest: string, reference: string, actual: string, known: readonly KnownDifference[] = []): Comparison {
  const r = reference.split('\n');
  const a = actual.split('\n');
  const applicable = known.filter((k) => k.guests.test(guest));
  const out: Comparison = { mismatches: [], excused: {}, lines: r.length };
  const n = Math.max(r.length, a.length);
  for (let i = 0; i < n; i++) {
    const ref = r[i] ?? '<missing>';
    const act = a[i] ?? '<missing>';
    if (ref === act) continue;
    const block = blockOf(ref);
    const k = blockOf(act) === block ? applicable.find((d) => d.block.test(block)) : undefined;
    if (k) out.excused[k.id] = (out.excused[k.id] ?? 0) + 1;
    else out.mismatches.push({ line: i + 1, reference: ref, actual: act });
  }
  return out;
}
