/**
 * The guest manifest (guests/manifest.json), like kvm-unit-tests' unittests.cfg: one
 * entry per guest image, validated with zod when it is loaded.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KvmError } from '@kvmts/kvm-core';
import { z } from 'zod';

/** packages/guest-tests/guests: the C/asm sources and manifest.json. */
export const GUESTS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../guests');
/** packages/guest-tests/build: build outputs (gitignored). */
export const BUILD_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../build');

export const GuestModeSchema = z.union([z.literal(32), z.literal(64)]);
export type GuestMode = z.infer<typeof GuestModeSchema>;
export const VendorSchema = z.enum(['intel', 'amd']);
export type Vendor = z.infer<typeof VendorSchema>;

export const GuestEntrySchema = z.strictObject({
  /** Unique name; the image is build/<name>.elf, the host build build/<name>.host. */
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'name: lowercase letters, digits and dashes'),
  /** The guest's own sources, relative to guests/ (the runtime in lib/ is always linked). */
  sources: z.array(z.string().min(1)).min(1),
  /** 32: 32-bit protected mode; 64: long mode (an ELF32 multiboot image with a 32-bit entry). */
  mode: GuestModeSchema,
  machine: z.enum(['pc']).default('pc'),
  smp: z.number().int().min(1).max(16).default(1),
  /** Guest RAM in MiB. */
  memory: z.number().int().min(16).max(4096).default(128),
  /** Kernel command line (-append). */
  append: z.string().default(''),
  /** Expected exit status of the VMM: isa-debug-exit code c gives (c << 1) | 1; 0 is an ACPI power-off. */
  exitCode: z.number().int().min(0).max(255),
  /** Lines (substrings) that must appear in the serial output. */
  expect: z.array(z.string()).default([]),
  /**
   * Lines only qemu-lite must print: what the guest tests of features QEMU 7.2's TCG lacks
   * (TSC-deadline, x2APIC) and skips there, while KVM has them.
   */
  qemuLiteExpect: z.array(z.string()).default([]),
  vendors: z.array(VendorSchema).min(1).default(['intel', 'amd']),
  groups: z.array(z.string()).default([]),
  /** A differential exerciser: also built as a host Linux program; outputs must match byte for byte. */
  differential: z.boolean().default(false),
  /** Extra VMM options (QEMU spelling), e.g. ["-cpu", "max"] for the instructions the exercisers use. */
  vmmArgs: z.array(z.string()).default([]),
  /**
   * Reported checks (text after "FAIL: ") that QEMU's TCG is known to fail although the
   * guest follows the SDM/APM; on qemu-tcg only these may fail (and the exit status is then
   * that of a failing run, 3). Each needs a comment in the guest's source.
   */
  qemuTcgKnownFailures: z.array(z.string().min(1)).default([]),
  /**
   * Known gaps of our own stack (engine, vendors, qemu-lite) for this guest, by vendor
   * ("intel" | "amd" | "all") with the reason. Such a run is an expected failure (vitest
   * it.fails): when the gap is fixed the test turns red until the entry is removed.
   */
  qemuLiteKnownGaps: z.partialRecord(z.enum(['intel', 'amd', 'all']), z.string().min(1)).default({}),
  /** Also run on QEMU's TCG (false: the guest needs KVM's paravirtual interface, which TCG lacks). */
  tcg: z.boolean().default(true),
  /** Typed into COM1 (the VMM's stdin) once `after` appears on the console. */
  input: z.strictObject({ after: z.string().min(1), data: z.string().min(1) }).optional(),
  /** Per-run limit in milliseconds. */
  timeoutMs: z.number().int().positive().default(30_000),
});
export type GuestEntry = z.infer<typeof GuestEntrySchema>;

export const ManifestSchema = z.strictObject({
  guests: z.array(GuestEntrySchema).min(1),
});

/** Parses a manifest object; throws KvmError(EINVAL) naming the offending field. */
export function parseManifest(data: unknown): GuestEntry[] {
  const r = ManifestSchema.safeParse(data);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new KvmError('EINVAL', `manifest: ${issue.path.join('.')}: ${issue.message}`);
  }
  const seen = new Set<string>();
  for (const g of r.data.guests) {
    if (seen.has(g.name)) throw new KvmError('EINVAL', `manifest: guests: duplicate name ${g.name}`);
    seen.add(g.name);
  }
  return r.data.guests;
}

/** Loads guests/manifest.json. */
export function loadManifest(file = join(GUESTS_DIR, 'manifest.json')): GuestEntry[] {
  return parseManifest(JSON.parse(readFileSync(file, 'utf8')));
}
