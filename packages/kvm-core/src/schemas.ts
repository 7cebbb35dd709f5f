/**
 * zod schemas for every argument object that crosses the API boundary, and the one
 * helper that turns a validation failure into KvmError EINVAL naming the field.
 */
import { z } from 'zod';
import { KvmError } from './errors';

export function parseArg<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = issue && issue.path.length > 0 ? `${what}.${issue.path.join('.')}` : what;
  throw new KvmError('EINVAL', `${path}: ${issue?.message ?? 'invalid argument'}`);
}

const uint = (bits: number) => z.number().int().min(0).max(2 ** bits - 1);
export const u8 = uint(8);
export const u16 = uint(16);
export const u32 = uint(32);
export const u64 = z.bigint().min(0n).max((1n << 64n) - 1n);
/** A 64-bit value given as a non-negative safe integer (guest-physical addresses, sizes). */
export const u53 = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const memoryRegionSchema = z.object({
  slot: u32,
  flags: u32,
  guestPhysAddr: u53,
  memorySize: u53,
  userspaceAddr: z.instanceof(Uint8Array, { message: 'must be a Uint8Array (the mapping)' }),
}).strict();

export const vcpuIdSchema = u32;

export const kvmRegsSchema = z.object({
  rax: u64, rbx: u64, rcx: u64, rdx: u64, rsi: u64, rdi: u64, rsp: u64, rbp: u64,
  r8: u64, r9: u64, r10: u64, r11: u64, r12: u64, r13: u64, r14: u64, r15: u64,
  rip: u64, rflags: u64,
}).strict();

export const kvmSegmentSchema = z.object({
  base: u64, limit: u32, selector: u16, type: z.number().int().min(0).max(15),
  present: u8, dpl: z.number().int().min(0).max(3), db: u8, s: u8, l: u8, g: u8, avl: u8, unusable: u8,
}).strict();

export const kvmDtableSchema = z.object({ base: u64, limit: u16 }).strict();

export const kvmSregsSchema = z.object({
  cs: kvmSegmentSchema, ds: kvmSegmentSchema, es: kvmSegmentSchema, fs: kvmSegmentSchema,
  gs: kvmSegmentSchema, ss: kvmSegmentSchema, tr: kvmSegmentSchema, ldt: kvmSegmentSchema,
  gdt: kvmDtableSchema, idt: kvmDtableSchema,
  cr0: u64, cr2: u64, cr3: u64, cr4: u64, cr8: u64, efer: u64, apicBase: u64,
  interruptBitmap: z.tuple([u64, u64, u64, u64]),
}).strict();

export const cpuidEntrySchema = z.object({
  function: u32, index: u32, flags: u32, eax: u32, ebx: u32, ecx: u32, edx: u32,
}).strict();

export const msrEntrySchema = z.object({ index: u32, data: u64 }).strict();

export const mpStateSchema = z.object({ mpState: z.number().int().min(0).max(10) }).strict();
