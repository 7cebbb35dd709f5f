/**
 * @kvmts/qemu-lite: the userspace VMM. Uses only kvm-core's public API.
 */
export { QEMU_LITE_VERSION } from './version';
export { runS390Machine, s390MachineConfigSchema, PSW_MASK_64 } from './s390/machine';
export type { S390MachineConfig, S390MachineResult } from './s390/machine';
export { Sclp } from './s390/sclp';
export { loadS390Image } from './s390/elf';
export { parseS390Args, runS390Cli, s390ArgsSchema, S390_MACHINE_NAME } from './s390/args';
export type { S390Args } from './s390/args';
