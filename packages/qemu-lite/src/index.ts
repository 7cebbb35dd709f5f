/**
 * @kvmts/qemu-lite: the userspace VMM. Uses only kvm-core's public API.
 */
export { QEMU_LITE_VERSION } from './version';

// Running a machine
export { runMachine, registerMachine, runPcMachine } from './run-machine';
export type { RunMachineOptions, RunMachineResult, MachineRunContext, MachineRunner } from './run-machine';
export {
  machineConfigSchema, parseMachineConfig, ConfigError, ACCEL_NAMES, MACHINE_TYPES, LOG_ITEMS,
} from './config';
export type { MachineConfig, MachineConfigInput, AccelName, MachineType, LogItem, SerialBackend, DeviceConfig, DisplayConfig, AudiodevConfig } from './config';
export { parseCommandLine, CliError, HELP_TEXT } from './cli-args';
export type { CliAction } from './cli-args';
export { cliMain, demoGuestPath } from './cli-main';
export { hostAccel, loadAccelModule, ACCEL_PACKAGES } from './accel';
export { HostClock, KvmClock, ManualClock } from './clock';
export type { Clock } from './clock';
export { monitorCommand, runMonitor } from './monitor';

// The pc machine and its parts
export { PcMachine, COM_PORTS, ACPI_TABLES_BASE, RSDP_ADDR, MP_FLOATING_ADDR } from './machine/pc';
export { RunLoop, describeExit } from './machine/run-loop';
export { MachineEvents } from './machine/machine-events';
export type { MachineRequest } from './machine/machine-events';
export { GuestMemory, GuestMemoryError } from './machine/guest-memory';
export { pcMemoryLayout, pcRamRegions, pcE820, parseMemSize, E820_RAM, E820_RESERVED } from './machine/pc-layout';
export type { E820Entry, PcMemoryLayout } from './machine/pc-layout';
export { setBootCpuState } from './machine/boot-cpu-state';
export { Bus, BusError } from './bus';
export type { BusDevice, BusRange } from './bus';
export type { IrqLine } from './irq';
export { buildCpuid, parseCpuSpec, CPU_MODELS, CPU_FEATURES } from './cpu-model';
export type { CpuSpec } from './cpu-model';

// Devices
export { Serial } from './devices/serial';
export { CmosRtc } from './devices/rtc';
export { I8042 } from './devices/i8042';
export { FwCfg } from './devices/fw-cfg';
export { AcpiPm } from './devices/acpi-pm';
export { IsaDebugExit } from './devices/isa-debug-exit';
export { PcTestdev } from './devices/pc-testdev';
export { PciTestdev } from './devices/pci-testdev';
export { PciHost } from './pci/pci-host';

// Display and sound (issue 8: VGA with Bochs VBE, PNG screen dumps; AC'97 with WAV output)
export { VgaCore } from './devices/vga/vga';
export type { VgaOptions } from './devices/vga/vga';
export { PciVga, VGA_LFB_SLOT, PCI_VGA_DEFAULT_LFB, PCI_VGA_DEFAULT_MMIO } from './devices/vga/vga-pci';
export { VGA_FONT_8X16 } from './devices/vga/vga-font';
export { writeVgaScreenInfo } from './devices/vga/screen-info';
export { renderVga, vgaScreenMode } from './display/vga-render';
export type { VgaScreenMode } from './display/vga-render';
export { encodePng, decodePng, crc32, PngError } from './display/png';
export type { RgbImage } from './display/png';
export { screendump, PngDisplay } from './display/screendump';
export { Ac97, Ac97BusMaster, AC97_DEFAULT_NAM, AC97_DEFAULT_NABM } from './devices/ac97/ac97';
export type { AudioSink, Ac97Options } from './devices/ac97/ac97';
export { WavWriter, wavHeader, parseWav } from './audio/wav';
export type { WavFormat, ParsedWav } from './audio/wav';
export { WavAudiodev, NoAudiodev } from './audio/audiodev';
export type { AudiodevBackend } from './audio/audiodev';
export { pcPciIntxIrq, PC_PIRQ_IRQS, PC_VGA_SLOT } from './machine/pc';

// Loaders and firmware
export { loadKernel, loadFlat } from './loaders/kernel';
export { loadMultiboot, findMultibootHeader, MULTIBOOT_BOOTLOADER_MAGIC } from './loaders/multiboot';
export { parseElf, loadElf, LoaderError } from './loaders/elf';
export { loadLinux } from './loaders/linux';
export { installAcpiTables } from './firmware/acpi';
export { installMpTable } from './firmware/mptable';
export { setupBiosAreas, bootPrologue } from './firmware/bios';

// The s390-ccw-virtio machine
export { runS390Machine, s390MachineConfigSchema, PSW_MASK_64 } from './s390/machine';
export type { S390MachineConfig, S390MachineResult } from './s390/machine';
export { Sclp } from './s390/sclp';
export { loadS390Image } from './s390/elf';
export { parseS390Args, runS390Cli, s390ArgsSchema, S390_MACHINE_NAME } from './s390/args';
export type { S390Args } from './s390/args';
