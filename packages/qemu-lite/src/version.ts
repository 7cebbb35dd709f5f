export const QEMU_LITE_VERSION = '0.1.0';
