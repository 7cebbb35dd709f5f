/**
 * @kvmts/qemu-lite: the userspace VMM. Uses only kvm-core's public API.
 */
export { QEMU_LITE_VERSION } from './version';

// Running a machine
export { runMachine, registerMachine, runPcMachine } from './run-machine';
export type { RunMachineOptions, RunMachineResult, MachineRunContext, MachineRunner, MachineCarry } from './run-machine';
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
export { PciVga, type PciVgaOptions } from './devices/vga/vga-pci';
export { VGA_FONT_8X16 } from './devices/vga/vga-font';
export { writeVgaScreenInfo } from './devices/vga/screen-info';
export { renderVga, vgaScreenMode } from './display/vga-render';
export type { VgaScreenMode } from './display/vga-render';
export { encodePng, decodePng, crc32, PngError } from './display/png';
export type { RgbImage } from './display/png';
export { screendump, PngDisplay } from './display/screendump';
export { Ac97, Ac97BusMaster } from './devices/ac97/ac97';
export type { AudioSink, Ac97Options } from './devices/ac97/ac97';
export { WavWriter, wavHeader, parseWav } from './audio/wav';
export type { WavFormat, ParsedWav } from './audio/wav';
export { WavAudiodev, NoAudiodev } from './audio/audiodev';
export type { AudiodevBackend } from './audio/audiodev';
export { PC_VGA_SLOT } from './machine/pc';

// Loaders and firmware
export { loadKernel, loadFlat } from './loaders/kernel';
export { loadMultiboot, findMultibootHeader, MULTIBOOT_BOOTLOADER_MAGIC } from './loaders/multiboot';
export { parseElf, loadElf, LoaderError } from './loaders/elf';
export { loadLinux, parseSetupHeader, XLF_KERNEL_64, XLF_CAN_BE_LOADED_ABOVE_4G } from './loaders/linux';
export type { LinuxBootParams, LinuxLoadResult, LinuxBootPath, SetupHeader } from './loaders/linux';
export { findPvhEntry, setupPvhStartInfo, XEN_HVM_START_MAGIC_VALUE, XEN_ELFNOTE_PHYS32_ENTRY } from './loaders/pvh';
export { bzImagePayload, decompressBzImagePayload, payloadFormat } from './loaders/bzimage-payload';
export { xzDecompress, xzDecodeStream, XzError } from './loaders/xz/xz';
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

// PCI infrastructure (BARs, capabilities, MSI-X, INTx routing) and virtio (issue 8).
export {
  PciFunction, PCI_COMMAND, PCI_COMMAND_IO, PCI_COMMAND_MEMORY, PCI_COMMAND_MASTER, PCI_COMMAND_INTX_DISABLE,
  PCI_BASE_ADDRESS_0, PCI_INTERRUPT_LINE, PCI_INTERRUPT_PIN, PCI_CAPABILITY_LIST, PCI_CAP_ID_MSIX, PCI_CAP_ID_VNDR,
  PCI_STATUS, PCI_STATUS_CAP_LIST, PCI_STATUS_INTERRUPT,
} from './pci/pci-device';
export type { PciBarRegion, PciBarType, PciSlotContext, PciFunctionIds } from './pci/pci-device';
export { Piix3, pciSlotPirq, PIIX_PIRQRC, SEABIOS_PCI_IRQS } from './pci/piix';
export { assignPciResources, pcPciWindows, PciAssignError } from './pci/pci-assign';
export type { PciWindows } from './pci/pci-assign';
export { Msix, PCI_MSIX_ENTRY_SIZE, PCI_MSIX_FLAGS_ENABLE, PCI_MSIX_FLAGS_MASKALL, PCI_MSIX_ENTRY_CTRL_MASKBIT } from './pci/msix';
export { MsiRoutes, MsiRoute, MSI_FIRST_GSI } from './pci/msi-routes';
export { Virtqueue, VirtqueueError, DescChain, vringNeedEvent, VIRTQUEUE_MAX_SIZE } from './virtio/virtqueue';
export type { VirtqueueMemory } from './virtio/virtqueue';
export { VirtioPciDevice, VIRTIO_PCI_MODERN_BAR, VIRTIO_PCI_MSIX_BAR } from './virtio/virtio-pci';
export type { VirtioPciContext } from './virtio/virtio-pci';
export type { VirtioDeviceModel, VirtioTransport } from './virtio/virtio-device';
export * as virtioIds from './virtio/virtio-ids';
export { VirtioBlk, VIRTIO_BLK_S_OK, VIRTIO_BLK_S_IOERR, VIRTIO_BLK_S_UNSUPP } from './devices/virtio-blk';
export { VirtioNet, parseMac, VIRTIO_NET_HDR_SIZE } from './devices/virtio-net';
export { RawImage, BlockError } from './block/raw-image';
export { Qcow2Image, isQcow2, QCOW2_MAGIC } from './block/qcow2';
export type { BlockDriver } from './block/block-driver';
export { SocketNetBackend } from './net/socket';
export { DgramNetBackend } from './net/dgram';
export type { NetBackend } from './net/net-client';
export { buildDsdt, amlPci0, amlPciCrs } from './firmware/acpi';
export type { PciIrqRoute, PciHostWindows } from './firmware/acpi';
export { buildMpConfigTable } from './firmware/mptable';
