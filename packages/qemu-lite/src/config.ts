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
  /** virtio-blk on PCI, backed by a -drive (by its id). */
  z.object({
    driver: z.literal('virtio-blk-pci'),
    drive: z.string().min(1),
    /** PCI slot (addr=); default: the lowest free one. */
    addr: z.number().int().min(2).max(31).optional(),
    /** GET_ID answer (default: empty, as QEMU). */
    serial: z.string().max(20).optional(),
  }),
  /** virtio-net on PCI, backed by a -netdev (by its id). */
  z.object({
    driver: z.literal('virtio-net-pci'),
    netdev: z.string().min(1),
    mac: z.string().regex(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i, 'mac: must be six hex bytes separated by colons').optional(),
    addr: z.number().int().min(2).max(31).optional(),
  }),
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

/** -drive: a raw image file (if=virtio makes its virtio-blk-pci; if=none waits for a -device). */
export const driveConfigSchema = z.object({
  id: z.string().min(1),
  file: z.string().min(1),
  format: z.enum(['raw', 'qcow2']).default('raw'),
  interface: z.enum(['virtio', 'none']).default('none'),
  readonly: z.boolean().default(false),
});
export type DriveConfig = z.infer<typeof driveConfigSchema>;

const hostPortSchema = z.object({ host: z.string(), port: z.number().int().min(0).max(65535) });

/** -netdev socket (stream of 4-byte big-endian length + frame) or dgram (a UDP datagram per frame). */
export const netdevConfigSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('socket'), id: z.string().min(1), mode: z.enum(['listen', 'connect']), addr: hostPortSchema }),
  z.object({ type: z.literal('dgram'), id: z.string().min(1), local: hostPortSchema, remote: hostPortSchema }),
  /** In-process backend (tests): frames go to `send`, the NIC gets frames through `attach`. */
  z.object({
    type: z.literal('callback'), id: z.string().min(1),
    send: z.custom<(frame: Uint8Array) => void>((v) => typeof v === 'function'),
    attach: z.custom<(receive: (frame: Uint8Array) => void) => void>((v) => typeof v === 'function'),
  }),
]);
export type NetdevConfig = z.infer<typeof netdevConfigSchema>;
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
  /**
   * -machine linux-fast-boot=on: a bzImage's payload is decompressed by qemu-lite and the
   * kernel ELF entered directly (PVH when it has the note), skipping the guest's own
   * decompressor. Off by default: the unmodified boot protocol.
   */
  linuxFastBoot: z.boolean().default(false),
  /**
   * -global kvm-pit.lost_tick_policy=delay|discard: whether PIT ticks that expire while
   * the guest has not yet acknowledged the previous IRQ0 are queued and reinjected
   * (KVM_REINJECT_CONTROL on, QEMU's default with KVM) or dropped. qemu-lite's default is
   * discard, as QEMU's TCG i8254: a vCPU that runs far slower than hardware (and on a
   * shared host) cannot catch up on a backlog; reinjecting it starves the guest in
   * back-to-back timer interrupts (soft lockups, jiffies racing ahead of the other timers).
   */
  pitLostTickPolicy: z.enum(['delay', 'discard']).default('discard'),
  /** Ctrl-C on a stdio TTY ends qemu-lite (QEMU's stdio signal=on); -nographic passes it to the guest. */
  stdioSignals: z.boolean().default(true),
  startPaused: z.boolean().default(false),
  /** -monitor unix:PATH,server=on,wait=off: the monitor on a UNIX socket while the guest runs. */
  monitorSocket: z.string().min(1).optional(),
  name: z.string().optional(),
  log: z.array(z.enum(LOG_ITEMS)).default([]),
  logfile: z.string().optional(),
  devices: z.array(deviceConfigSchema).default([]),
  /** -drive entries (block backends). */
  drives: z.array(driveConfigSchema).default([]),
  /** -netdev entries (network backends). */
  netdevs: z.array(netdevConfigSchema).default([]),
  /**
   * -icount shift=N: the VM runs on the deterministic virtual clock, 2^N ns per executed
   * instruction, skipping idle time (KVM's clock source 'virtual'). The RTC then starts at
   * the virtual clock's fixed wall time unless rtcBaseSec says otherwise.
   */
  icountShift: z.number().int().min(0).max(10).optional(),
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
