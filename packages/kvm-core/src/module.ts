/**
 * Loadable modules: the shape of kvm-intel.ko, kvm-amd.ko and kvm-s390 here.
 * `init` registers the module's backend with kvm-core (as kvm_x86_vendor_init does);
 * `exit` unregisters it.
 */
import { z } from 'zod';
import type { Host } from './host';

export interface KvmModule<P = unknown> {
  readonly name: string;
  /** Module parameters, validated by insmod (`modprobe kvm-intel ept=0`). */
  readonly paramsSchema: z.ZodType<P>;
  init(host: Host, params: P): void;
  exit(host: Host): void;
}

export function defineModule<P>(module: KvmModule<P>): KvmModule<P> {
  return module;
}

/**
 * A boolean module parameter as Linux's param_set_bool takes it: true/false, 1/0,
 * or the strings "1", "0", "Y", "N", "y", "n".
 */
export function paramBool(defaultValue: boolean) {
  return z
    .union([z.boolean(), z.literal(0), z.literal(1), z.enum(['0', '1', 'Y', 'N', 'y', 'n'])])
    .transform((v) => v === true || v === 1 || v === '1' || v === 'Y' || v === 'y')
    .default(defaultValue);
}

/** An integer module parameter within [min, max], as a number or a decimal string. */
export function paramInt(defaultValue: number, min: number, max: number) {
  return z
    .union([z.number(), z.string().regex(/^-?\d+$/).transform(Number)])
    .pipe(z.number().int().min(min).max(max))
    .default(defaultValue);
}
