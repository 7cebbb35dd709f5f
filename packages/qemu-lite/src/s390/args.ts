/**
 * QEMU's command line for the s390 machine: `-M s390-ccw-virtio -accel kvm-s390
 * -kernel guest.elf [-append ...] [-m 64] [-smp 2] [-nographic]`, validated with zod.
 * The CLI layer owns module loading: it hands the kvm-s390 module object to
 * runS390Cli, so qemu-lite itself imports only kvm-core.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { KvmModule } from '@kvmts/kvm-core';
import { runS390Machine } from './machine';

export const S390_MACHINE_NAME = 's390-ccw-virtio';

export const s390ArgsSchema = z.object({
  machine: z.literal(S390_MACHINE_NAME),
  accel: z.literal('kvm-s390').default('kvm-s390'),
  kernel: z.string().min(1),
  append: z.string().optional(),
  memoryMiB: z.number().int().min(1).max(4096).default(128),
  smp: z.number().int().min(1).max(64).default(1),
}).strict();

export type S390Args = z.infer<typeof s390ArgsSchema>;

/** -m: a size in MiB, or with a K/M/G suffix as QEMU takes it. */
function parseMem(v: string): number {
  const m = /^(\d+)([kKmMgG]?)$/.exec(v);
  if (m === null) return NaN;
  const n = Number(m[1]);
  const unit = m[2]!.toLowerCase();
  return unit === 'g' ? n * 1024 : unit === 'k' ? n / 1024 : n;
}

export function parseS390Args(argv: readonly string[]): S390Args {
  const raw: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`qemu-lite: option ${a} needs an argument`);
      return v;
    };
    switch (a) {
      case '-M': case '-machine': raw.machine = val().split(',')[0]; break;
      case '-accel': raw.accel = val().split(',')[0]; break;
      case '-kernel': raw.kernel = val(); break;
      case '-append': raw.append = val(); break;
      case '-m': raw.memoryMiB = parseMem(val().split(',')[0]!.replace(/^size=/, '')); break;
      case '-smp': raw.smp = Number(val().split(',')[0]!.replace(/^cpus=/, '')); break;
      case '-nographic': case '-no-reboot': break;
      default: throw new Error(`qemu-lite: unsupported option for ${S390_MACHINE_NAME}: ${a}`);
    }
  }
  const r = s390ArgsSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new Error(`qemu-lite: ${issue?.path.join('.') || 'arguments'}: ${issue?.message ?? 'invalid'}`);
  }
  return r.data;
}

/** Run the s390 machine from argv; returns the process exit status (0: clean 0xfff wait). */
export function runS390Cli(argv: readonly string[], module: KvmModule<unknown>, output: (b: Uint8Array) => void): number {
  const args = parseS390Args(argv);
  const r = runS390Machine({
    module, kernel: readFileSync(args.kernel), append: args.append, memoryMiB: args.memoryMiB, smp: args.smp, output,
  });
  return r.exitCode;
}
