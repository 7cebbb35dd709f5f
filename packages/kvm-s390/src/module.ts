/**
 * The kvm-s390 module object: `host.insmod(kvmS390)`.
 */
import { defineModule, KvmError, paramInt } from '@kvmts/kvm-core';
import { z } from 'zod';

export const kvmS390ParamsSchema = z
  .object({
    nested: paramInt(0, 0, 0),
  })
  .strict();

export type KvmS390Params = z.infer<typeof kvmS390ParamsSchema>;

export const kvmS390 = defineModule<KvmS390Params>({
  name: 'kvm-s390',
  paramsSchema: kvmS390ParamsSchema,
  init() {
    // The SIE backend lands with issue 9; until then loading reports the truth.
    throw new KvmError('ENODEV', 'kvm-s390: the SIE model is not built yet');
  },
  exit() {},
});
