/**
 * -cpu: QEMU's CPU models and feature names (target/i386/cpu.c's feature_word_info),
 * turned into the CPUID table a vCPU gets through KVM_SET_CPUID2. The table starts from
 * KVM_GET_SUPPORTED_CPUID (what the engine implements); a model keeps only its own
 * features of it, `max`/`host` keep everything; +feat/-feat/feat=on|off adjust; what the
 * engine lacks is dropped with a warning, as QEMU does without `enforce`.
 */
import type { KvmCpuidEntry2 } from '@kvmts/kvm-core';

/** A feature word: a CPUID leaf/subleaf register. */
export type FeatureWord = '1.edx' | '1.ecx' | '7.ebx' | '7.ecx' | '7.edx' | '80000001.edx' | '80000001.ecx' | '40000001.eax';

const WORD_LEAF: Record<FeatureWord, { fn: number; index: number; reg: 'eax' | 'ebx' | 'ecx' | 'edx' }> = {
  '1.edx': { fn: 1, index: 0, reg: 'edx' },
  '1.ecx': { fn: 1, index: 0, reg: 'ecx' },
  '7.ebx': { fn: 7, index: 0, reg: 'ebx' },
  '7.ecx': { fn: 7, index: 0, reg: 'ecx' },
  '7.edx': { fn: 7, index: 0, reg: 'edx' },
  '80000001.edx': { fn: 0x80000001, index: 0, reg: 'edx' },
  '80000001.ecx': { fn: 0x80000001, index: 0, reg: 'ecx' },
  '40000001.eax': { fn: 0x40000001, index: 0, reg: 'eax' },
};

/** QEMU's feature names, by word and bit. */
export const CPU_FEATURES: Record<string, { word: FeatureWord; bit: number }> = {};
function names(word: FeatureWord, list: Record<number, string>): void {
  for (const [bit, name] of Object.entries(list)) CPU_FEATURES[name] = { word, bit: Number(bit) };
}
names('1.edx', {
  0: 'fpu', 1: 'vme', 2: 'de', 3: 'pse', 4: 'tsc', 5: 'msr', 6: 'pae', 7: 'mce', 8: 'cx8', 9: 'apic',
  11: 'sep', 12: 'mtrr', 13: 'pge', 14: 'mca', 15: 'cmov', 16: 'pat', 17: 'pse36', 19: 'clflush',
  21: 'ds', 22: 'acpi', 23: 'mmx', 24: 'fxsr', 25: 'sse', 26: 'sse2', 27: 'ss', 28: 'ht',
});
names('1.ecx', {
  0: 'pni', 1: 'pclmulqdq', 3: 'monitor', 5: 'vmx', 9: 'ssse3', 12: 'fma', 13: 'cx16', 17: 'pcid',
  19: 'sse4.1', 20: 'sse4.2', 21: 'x2apic', 22: 'movbe', 23: 'popcnt', 24: 'tsc-deadline', 25: 'aes',
  26: 'xsave', 28: 'avx', 29: 'f16c', 30: 'rdrand', 31: 'hypervisor',
});
names('7.ebx', {
  0: 'fsgsbase', 1: 'tsc-adjust', 3: 'bmi1', 4: 'hle', 5: 'avx2', 7: 'smep', 8: 'bmi2', 9: 'erms', 10: 'invpcid',
  11: 'rtm', 16: 'avx512f', 18: 'rdseed', 19: 'adx', 20: 'smap', 23: 'clflushopt', 29: 'sha-ni',
});
names('7.ecx', { 1: 'avx512vbmi', 2: 'umip', 3: 'pku', 16: 'la57', 22: 'rdpid' });
names('7.edx', { 4: 'fsrm', 10: 'md-clear', 26: 'spec-ctrl', 29: 'arch-capabilities' });
names('80000001.edx', { 11: 'syscall', 20: 'nx', 22: 'mmxext', 25: 'fxsr-opt', 26: 'pdpe1gb', 27: 'rdtscp', 29: 'lm' });
names('80000001.ecx', {
  0: 'lahf-lm', 2: 'svm', 4: 'cr8legacy', 5: 'abm', 6: 'sse4a', 7: 'misalignsse', 8: '3dnowprefetch',
  11: 'xop', 16: 'fma4', 21: 'tbm', 22: 'topoext',
});
names('40000001.eax', {
  0: 'kvmclock', 1: 'kvm-nopiodelay', 2: 'kvm-mmu', 4: 'kvm-asyncpf', 5: 'kvm-steal-time', 6: 'kvm-pv-eoi',
  7: 'kvm-pv-unhalt', 9: 'kvm-pv-tlb-flush', 10: 'kvm-asyncpf-vmexit', 11: 'kvm-pv-ipi', 12: 'kvm-poll-control',
  13: 'kvm-pv-sched-yield', 14: 'kvm-asyncpf-int', 15: 'kvm-msi-ext-dest-id', 24: 'kvmclock-stable-bit',
});
/** QEMU's alternative spellings. */
const ALIASES: Record<string, string> = {
  sse3: 'pni', 'sse4-1': 'sse4.1', 'sse4-2': 'sse4.2', 'sha': 'sha-ni', 'lahf_lm': 'lahf-lm', 'xd': 'nx',
  'i64': 'lm', 'ffxsr': 'fxsr-opt', 'kvm-pv-ipi': 'kvm-pv-ipi',
};

export function normalizeFeatureName(name: string): string {
  const n = name.replace(/_/g, '-');
  return ALIASES[n] ?? ALIASES[name] ?? n;
}

type Features = Partial<Record<FeatureWord, number>>;

const BASE_EDX = ['fpu', 'de', 'pse', 'tsc', 'msr', 'pae', 'mce', 'cx8', 'apic', 'sep', 'mtrr', 'pge', 'mca',
  'cmov', 'pat', 'pse36', 'clflush', 'mmx', 'fxsr', 'sse', 'sse2'];
/**
 * A qemu-lite addition to QEMU's models: IA32_ARCH_CAPABILITIES, which every host here
 * has (its silicon never speculates; kvm-core's x86/arch-capabilities.ts). QEMU's qemu64
 * lacks it, so a guest on a Meltdown-free host still assumes the worst (page-table
 * isolation, VERW on each return to user mode); with it the guest sees the truth. Its
 * IBRS_ALL needs IA32_SPEC_CTRL (spec-ctrl): then the guest uses enhanced IBRS, not retpolines.
 * Likewise ERMS/FSRM: the engine's REP MOVSB/STOSB are its fastest copy and fill (a page
 * at a time), and without them Linux copies and clears pages with unrolled MOV loops.
 */
const HOST_TRUTHS = ['arch-capabilities', 'spec-ctrl', 'erms', 'fsrm'];
const KVM_DEFAULT_PV = ['kvmclock', 'kvm-nopiodelay', 'kvm-asyncpf', 'kvm-steal-time', 'kvm-pv-eoi', 'kvmclock-stable-bit'];

function featureSet(list: readonly string[]): Features {
  const f: Features = {};
  for (const n of list) {
    const d = CPU_FEATURES[n]!;
    f[d.word] = ((f[d.word] ?? 0) | (1 << d.bit)) >>> 0;
  }
  return f;
}

export interface CpuModelDef {
  name: string;
  /** undefined: everything the engine supports (max, host). */
  features?: Features;
  family?: number;
  model?: number;
  stepping?: number;
}

/** The models of QEMU's builtin table that qemu-lite knows. */
export const CPU_MODELS: Record<string, CpuModelDef> = {
  qemu64: {
    name: 'qemu64', family: 15, model: 107, stepping: 1,
    features: featureSet([...BASE_EDX, 'pni', 'cx16', 'lm', 'syscall', 'nx', 'lahf-lm', 'svm', 'hypervisor', ...KVM_DEFAULT_PV, ...HOST_TRUTHS]),
  },
  kvm64: {
    name: 'kvm64', family: 15, model: 6, stepping: 1,
    features: featureSet([...BASE_EDX, 'pni', 'cx16', 'lm', 'syscall', 'nx', 'hypervisor', ...KVM_DEFAULT_PV, ...HOST_TRUTHS]),
  },
  qemu32: {
    name: 'qemu32', family: 6, model: 6, stepping: 3,
    features: featureSet([...BASE_EDX, 'pni', 'hypervisor', ...KVM_DEFAULT_PV, ...HOST_TRUTHS]),
  },
  max: { name: 'max' },
  host: { name: 'host' },
};

export interface CpuSpec {
  model: string;
  /** Features forced on / off, by QEMU name. */
  plus: string[];
  minus: string[];
  vendor?: string;
}

/** Parses QEMU's -cpu value; throws Error('...') naming the bad part. */
export function parseCpuSpec(value: string): CpuSpec {
  const parts = value.split(',');
  const model = parts[0]!;
  if (!(model in CPU_MODELS)) throw new Error(`-cpu: unknown CPU model '${model}' (known: ${Object.keys(CPU_MODELS).join(', ')})`);
  const spec: CpuSpec = { model, plus: [], minus: [] };
  for (const p of parts.slice(1)) {
    if (p === '') continue;
    let name: string;
    let on: boolean;
    if (p.startsWith('+') || p.startsWith('-')) {
      name = p.slice(1);
      on = p[0] === '+';
    } else if (p.includes('=')) {
      const [k, v] = [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)];
      if (k === 'vendor') {
        if (v.length !== 12) throw new Error(`-cpu: vendor '${v}' must be 12 characters`);
        spec.vendor = v;
        continue;
      }
      name = k;
      if (v === 'on' || v === 'true' || v === 'yes') on = true;
      else if (v === 'off' || v === 'false' || v === 'no') on = false;
      else throw new Error(`-cpu: property '${k}' takes on or off, not '${v}'`);
    } else {
      throw new Error(`-cpu: cannot parse '${p}' (expected +feature, -feature or feature=on|off)`);
    }
    const n = normalizeFeatureName(name);
    if (!(n in CPU_FEATURES)) throw new Error(`-cpu: unknown feature '${name}'`);
    (on ? spec.plus : spec.minus).push(n);
    const other = on ? spec.minus : spec.plus;
    const i = other.indexOf(n);
    if (i >= 0) other.splice(i, 1);
  }
  return spec;
}

function leafKey(fn: number, index: number): string {
  return `${fn}:${index}`;
}

export interface CpuidBuildResult {
  entries: KvmCpuidEntry2[];
  /** Requested features the engine does not implement (dropped, as QEMU warns). */
  unavailable: string[];
}

/**
 * The guest's CPUID for vCPU `apicId`, from KVM_GET_SUPPORTED_CPUID, the model and the
 * overrides. Leaves not in the supported table stay absent.
 */
export function buildCpuid(supported: readonly KvmCpuidEntry2[], spec: CpuSpec, apicId: number, cpus: number): CpuidBuildResult {
  const def = CPU_MODELS[spec.model]!;
  const entries = supported.map((e) => ({ ...e }));
  const byKey = new Map(entries.map((e) => [leafKey(e.function, e.index), e]));
  const unavailable: string[] = [];
  const supportedMask = (w: FeatureWord) => {
    const l = WORD_LEAF[w];
    const e = supported.find((s) => s.function === l.fn && s.index === l.index);
    return e === undefined ? 0 : e[l.reg] >>> 0;
  };
  for (const w of Object.keys(WORD_LEAF) as FeatureWord[]) {
    const l = WORD_LEAF[w];
    const e = byKey.get(leafKey(l.fn, l.index));
    if (e === undefined) continue;
    let want = def.features === undefined ? supportedMask(w) : (def.features[w] ?? 0);
    // The hypervisor bit is QEMU's to set (CPUID_EXT_HYPERVISOR is always on under KVM).
    const hv = w === '1.ecx' ? 1 << 31 : 0;
    for (const n of spec.plus) if (CPU_FEATURES[n]!.word === w) want |= 1 << CPU_FEATURES[n]!.bit;
    for (const n of spec.minus) if (CPU_FEATURES[n]!.word === w) want &= ~(1 << CPU_FEATURES[n]!.bit);
    const avail = (supportedMask(w) | hv) >>> 0;
    for (const n of spec.plus)
      if (CPU_FEATURES[n]!.word === w && !(avail & (1 << CPU_FEATURES[n]!.bit))) unavailable.push(n);
    e[l.reg] = (want & avail) >>> 0;
  }
  const leaf1 = byKey.get(leafKey(1, 0));
  if (leaf1 !== undefined) {
    if (def.family !== undefined) {
      // EAX: stepping 3:0, model 7:4, family 11:8, extended model 19:16, extended family 27:20.
      const fam = def.family;
      const model = def.model ?? 0;
      leaf1.eax = ((def.stepping ?? 0) | ((model & 0xf) << 4) | ((fam > 15 ? 15 : fam) << 8)
        | ((model >> 4) << 16) | ((fam > 15 ? fam - 15 : 0) << 20)) >>> 0;
    }
    // EBX: initial APIC ID in 31:24, logical processor count in 23:16, CLFLUSH size 8 qwords.
    leaf1.ebx = ((apicId << 24) | ((cpus & 0xff) << 16) | (8 << 8) | (leaf1.ebx & 0xff)) >>> 0;
    if (cpus > 1) leaf1.edx = (leaf1.edx | (1 << 28)) >>> 0; // HTT: more than one logical CPU
  }
  for (const e of entries) if (e.function === 0xb || e.function === 0x1f) e.edx = apicId;
  if (spec.vendor !== undefined) {
    const v = spec.vendor;
    const word = (o: number) => (v.charCodeAt(o) | (v.charCodeAt(o + 1) << 8) | (v.charCodeAt(o + 2) << 16) | (v.charCodeAt(o + 3) << 24)) >>> 0;
    const leaf0 = byKey.get(leafKey(0, 0));
    if (leaf0 !== undefined) {
      leaf0.ebx = word(0);
      leaf0.edx = word(4);
      leaf0.ecx = word(8);
    }
  }
  return { entries, unavailable: [...new Set(unavailable)] };
}

/** CPUID.1 EAX and EDX of a table (for the MP table's processor entries). */
export function cpuSignature(entries: readonly KvmCpuidEntry2[]): { eax: number; edx: number } {
  const l = entries.find((e) => e.function === 1 && e.index === 0);
  return { eax: l?.eax ?? 0, edx: l?.edx ?? 0 };
}
