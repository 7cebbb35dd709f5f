/**
 * The kvm-s390 module object: `host.insmod(kvmS390)` registers the s390 architecture
 * backend with kvm-core (kvm_s390_init -> kvm_init).
 */
import { defineModule, kvmArchExit, kvmArchInit, paramInt } from '@kvmts/kvm-core';
import { z } from 'zod';
import { S390Backend } from './kvm-s390';

export const kvmS390ParamsSchema = z
  .object({
    nested: paramInt(0, 0, 0),
  })
  .strict();

export type KvmS390Params = z.infer<typeof kvmS390ParamsSchema>;

export const kvmS390 = defineModule<KvmS390Params>({
  name: 'kvm-s390',
  paramsSchema: kvmS390ParamsSchema,
  init(host) {
    kvmArchInit(host, new S390Backend('kvm-s390'));
  },
  exit(host) {
    kvmArchExit(host, 's390');
  },
});
