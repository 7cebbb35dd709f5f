/**
 * @kvmts/qemu-lite: the userspace VMM. Uses only kvm-core's public API.
 */
export { QEMU_LITE_VERSION } from './version';
