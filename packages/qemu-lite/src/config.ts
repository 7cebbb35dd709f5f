/**
 * The machine configuration: everything the command line decides, as one zod-validated
 * object. runMachine(config) takes it, so guest-test suites build it directly.
 */
import { z } from 'zod';
import { MiB } from './machine/pc-layout';

export const ACCEL_NAMES = ['kvm-intel', 'kvm-amd', 'kvm-s390'] as const;
export type AccelName = (typeof ACCEL_NAMES)[number];
export const MACHINE_TYPES = ['pc', 'microvm', 's390-ccw-virtio'] as const;
export type MachineType = (typeof MACHINE_TYPES)[number];
/** -d log items: QEMU's names plus `exits` (every VM exit) and `io` (PIO/MMIO dispatch). */
export const LOG_ITEMS = ['exits', 'io', 'guest_errors', 'unimp', 'cpu_reset'] as const;
export type LogItem = (typeof LOG_ITEMS)[number];

const u32 = z.number().int().min(0).max(0xffffffff);

export const serialBackendSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('stdio') }),
  z.object({ kind: z.literal('file'), path: z.string().min(1) }),
  z.object({ kind: z.literal('none') }),
  /** In-process sink (runMachine callers, tests): bytes go to the callback. */
  z.object({ kind: z.literal('callback'), write: z.custom<(bytes: Uint8Array) => void>((v) => typeof v === 'function') }),
]);
export type SerialBackend = z.infer<typeof serialBackendSchema>;

export const deviceConfigSchema = z.discriminatedUnion('driver', [
  z.object({
    driver: z.literal('isa-debug-exit'),
    iobase: z.number().int().min(0).max(0xffff).default(0x501),
    iosize: z.number().int().min(1).max(4).default(2),
  }),
  z.object({ driver: z.literal('pc-testdev') }),
  z.object({ driver: z.literal('pci-testdev') }),
  /** The standard VGA with Bochs VBE (QEMU's -device VGA / -vga std). */
  z.object({ driver: z.literal('VGA') }),
  /** Intel AC'97 (QEMU's -device AC97); audiodev names an -audiodev (none: output discarded). */
  z.object({ driver: z.literal('AC97'), audiodev: z.string().min(1).optional() }),
  z.object({
    driver: z.literal('loader'),
    file: z.string().min(1),
    addr: u32,
    /** With cpu-num, that vCPU starts at addr (QEMU's generic loader). */
    cpuNum: z.number().int().min(0).optional(),
    /** qemu-lite: the CPU mode the entry runs in (QEMU leaves the CPU in reset state). */
    mode: z.enum(['real', 'protected', 'long']).default('protected'),
  }),
]);
export type DeviceConfig = z.infer<typeof deviceConfigSchema>;

/** -display: none, or png:PATH (the screen as PNG when the guest stops, on SIGUSR1, by screendump). */
export const displayConfigSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('none') }),
  z.object({ kind: z.literal('png'), path: z.string().min(1) }),
]);
export type DisplayConfig = z.infer<typeof displayConfigSchema>;

/** -audiodev DRIVER,id=ID[,path=FILE][,out.frequency=HZ]. */
export const audiodevConfigSchema = z.object({
  driver: z.enum(['wav', 'none']),
  id: z.string().min(1),
  path: z.string().min(1).optional(),
  frequency: z.number().int().min(8000).max(192000).optional(),
});
export type AudiodevConfig = z.infer<typeof audiodevConfigSchema>;

export const cpuSpecSchema = z.object({
  model: z.string(),
  plus: z.array(z.string()),
  minus: z.array(z.string()),
  vendor: z.string().length(12).optional(),
});

export const machineConfigSchema = z.object({
  machine: z.enum(MACHINE_TYPES).default('pc'),
  /** undefined: the host CPU's vendor module (kvm-intel or kvm-amd). */
  accel: z.enum(ACCEL_NAMES).optional(),
  memSize: z.number().int().min(2 * MiB).max(1024 * 1024 * MiB).default(128 * MiB),
  smp: z.number().int().min(1).max(255).default(1),
  cpu: cpuSpecSchema.default({ model: 'qemu64', plus: [], minus: [] }),
  kernel: z.string().min(1).optional(),
  /** Multiboot modules: each "path args..." as given to -initrd. */
  initrd: z.array(z.string().min(1)).default([]),
  append: z.string().default(''),
  /** COM1, COM2 backends, in order. */
  serial: z.array(serialBackendSchema).max(4).default([{ kind: 'stdio' }]),
  noReboot: z.boolean().default(false),
  /** -machine acpi=on|off: whether the firmware tables include ACPI (RSDP, FADT, MADT, DSDT). */
  acpi: z.boolean().default(true),
  /** Ctrl-C on a stdio TTY ends qemu-lite (QEMU's stdio signal=on); -nographic passes it to the guest. */
  stdioSignals: z.boolean().default(true),
  startPaused: z.boolean().default(false),
  /** -monitor unix:PATH,server=on,wait=off: the monitor on a UNIX socket while the guest runs. */
  monitorSocket: z.string().min(1).optional(),
  name: z.string().optional(),
  log: z.array(z.enum(LOG_ITEMS)).default([]),
  logfile: z.string().optional(),
  devices: z.array(deviceConfigSchema).default([]),
  display: displayConfigSchema.default({ kind: 'none' }),
  audiodevs: z.array(audiodevConfigSchema).default([]),
  /** Wall-clock seconds the RTC starts from (default: the host's time at start). */
  rtcBaseSec: z.number().optional(),
});
export type MachineConfig = z.infer<typeof machineConfigSchema>;
export type MachineConfigInput = z.input<typeof machineConfigSchema>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Validates a config object; ConfigError naming the field on failure. */
export function parseMachineConfig(input: MachineConfigInput): MachineConfig {
  const r = machineConfigSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new ConfigError(`config.${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return r.data;
}
