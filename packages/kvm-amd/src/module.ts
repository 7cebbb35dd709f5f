/**
 * The kvm-amd module object: `host.insmod(kvmAmd, params)`.
 */
import { defineModule, KvmError, paramBool, paramInt } from '@kvmts/kvm-core';
import { z } from 'zod';

export const kvmAmdParamsSchema = z
  .object({
    npt: paramBool(true),
    nested: paramInt(0, 0, 0),
    avic: paramBool(false),
  })
  .strict();

export type KvmAmdParams = z.infer<typeof kvmAmdParamsSchema>;

export const kvmAmd = defineModule<KvmAmdParams>({
  name: 'kvm-amd',
  paramsSchema: kvmAmdParamsSchema,
  init() {
    // The driver lands with the engine (issue 4); until then loading reports the truth.
    throw new KvmError('ENODEV', 'kvm-amd: the silicon model is not built yet');
  },
  exit() {},
});
