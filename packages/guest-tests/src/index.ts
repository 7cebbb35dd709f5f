export { GUESTS_DIR, BUILD_DIR, GuestEntrySchema, GuestModeSchema, ManifestSchema, VendorSchema, loadManifest, parseManifest } from './manifest';
export type { GuestEntry, GuestMode, Vendor } from './manifest';
export { buildAll, buildGuest, cflags, checkToolchain, RUNTIME_COMMON, RUNTIME_GUEST, RUNTIME_HOST } from './build';
export type { BuildOptions, BuildResult } from './build';
export { EXERCISER_FEATURES, QEMU_LITE_CLI, QemuLiteRunner, QemuRunner, commonArgs, hostCpuFlags, matchHostCpu, runOptionsFor, runnerMatrix } from './runner';
export type { GuestRunner, RunOptions, RunResult } from './runner';
export { QEMU_TCG_DIFFERENCES, blockOf, compareOutputs } from './compare';
export type { Comparison, KnownDifference } from './compare';
