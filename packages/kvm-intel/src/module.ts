/**
 * The kvm-intel module object: `host.insmod(kvmIntel, params)`.
 */
import { defineModule, KvmError, paramBool, paramInt } from '@kvmts/kvm-core';
import { z } from 'zod';

export const kvmIntelParamsSchema = z
  .object({
    ept: paramBool(true),
    vpid: paramBool(true),
    unrestricted_guest: paramBool(true),
    enable_apicv: paramBool(false),
    nested: paramInt(0, 0, 0),
  })
  .strict();

export type KvmIntelParams = z.infer<typeof kvmIntelParamsSchema>;

export const kvmIntel = defineModule<KvmIntelParams>({
  name: 'kvm-intel',
  paramsSchema: kvmIntelParamsSchema,
  init() {
    // The driver lands with the engine (issue 4); until then loading reports the truth.
    throw new KvmError('ENODEV', 'kvm-intel: the silicon model is not built yet');
  },
  exit() {},
});
