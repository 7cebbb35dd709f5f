/**
 * The pc machine (QEMU's pc-i440fx): RAM in memory slots with the PC layout, the
 * in-kernel PIC/IOAPIC/LAPIC and PIT, legacy devices on the PIO and MMIO buses, PCI host
 * with i440FX/PIIX3/PIIX4-PM, fw_cfg, the firmware tables a BIOS would leave, the kernel,
 * and the vCPUs with their CPUID and boot state.
 * `-M microvm` is the same board without PCI, ACPI, the i8042 and port 0x92 (QEMU's
 * microvm legacy devices: PIC, IOAPIC, PIT, RTC, UARTs, fw_cfg); its virtio-mmio
 * transports are not built yet.
 */
import { readFileSync } from 'node:fs';
import { ARCH_CAP_IBRS_ALL, KvmError, MSR_IA32_ARCH_CAPABILITIES, uapi, type Kvm, type Vcpu, type Vm } from '@kvmts/kvm-core';
import { Bus, hex } from '../bus';
import type { Clock } from '../clock';
import type { MachineConfig } from '../config';
import { buildCpuid, cpuSignature } from '../cpu-model';
import { ACPI_PM_BASE, ACPI_PM_SIZE, ACPI_SCI_IRQ, AcpiPm } from '../devices/acpi-pm';
import {
  FW_CFG_CMDLINE_DATA, FW_CFG_CMDLINE_SIZE, FW_CFG_E820_TABLE, FW_CFG_INITRD_DATA, FW_CFG_INITRD_SIZE, FW_CFG_IO_BASE,
  FW_CFG_IO_SIZE, FW_CFG_KERNEL_CMDLINE, FW_CFG_KERNEL_DATA, FW_CFG_KERNEL_SIZE, FW_CFG_MAX_CPUS, FW_CFG_NB_CPUS,
  FW_CFG_NOGRAPHIC, FW_CFG_RAM_SIZE, FwCfg,
} from '../devices/fw-cfg';
import { I8042 } from '../devices/i8042';
import { IsaDebugExit } from '../devices/isa-debug-exit';
import {
  PC_TESTDEV_FLUSH, PC_TESTDEV_IOMEM_BASE, PC_TESTDEV_IOMEM_LEN, PC_TESTDEV_IOPORT, PC_TESTDEV_IOPORT_BYTE,
  PC_TESTDEV_IRQ_BASE, PC_TESTDEV_IRQ_COUNT, PcTestdev,
} from '../devices/pc-testdev';
import { PciTestdev } from '../devices/pci-testdev';
import { Port80 } from '../devices/port80';
import { Port92 } from '../devices/port92';
import { CmosRtc } from '../devices/rtc';
import { Serial } from '../devices/serial';
import { installAcpiTables } from '../firmware/acpi';
import { BIOS_PROLOGUE_ADDR, bootPrologue, setupBiosAreas } from '../firmware/bios';
import { installMpTable } from '../firmware/mptable';
import { NO_IRQ, SharedIrqLine, type IrqLine } from '../irq';
import { loadFlat, loadKernel, type KernelEntry } from '../loaders/kernel';
import { PciHost, PCI_CONFIG_ADDRESS, PCI_CONFIG_DATA } from '../pci/pci-host';
import { i440fxHostBridge, pciSlotPirq, piix3IsaBridge, Piix4Pm, type Piix3 } from '../pci/piix';
import { assignPciResources, pcPciWindows } from '../pci/pci-assign';
import { MsiRoutes } from '../pci/msi-routes';
import { PCI_INTERRUPT_PIN } from '../pci/pci-device';
import { RawImage } from '../block/raw-image';
import { Qcow2Image } from '../block/qcow2';
import { VirtioBlk } from '../devices/virtio-blk';
import { parseMac, VirtioNet } from '../devices/virtio-net';
import { DgramNetBackend } from '../net/dgram';
import type { NetBackend } from '../net/net-client';
import { SocketNetBackend } from '../net/socket';
import { VirtioPciDevice } from '../virtio/virtio-pci';
import { NoAudiodev, WavAudiodev, type AudiodevBackend } from '../audio/audiodev';
import { Ac97 } from '../devices/ac97/ac97';
import { PciVga } from '../devices/vga/vga-pci';
import { hasLinuxBootParams, writeVgaScreenInfo } from '../devices/vga/screen-info';
import { PngDisplay } from '../display/screendump';
import { setBootCpuState } from './boot-cpu-state';
import { openCharBackend, type CharBackend } from './char-backend';
import { GuestMemory } from './guest-memory';
import type { MachineEvents } from './machine-events';
import { pcGsiRouting } from './pc-irq-routing';
import { pcE820, pcMemoryLayout, pcRamRegions, type PcMemoryLayout } from './pc-layout';

export const COM_PORTS = [0x3f8, 0x2f8, 0x3e8, 0x2e8] as const;
export const COM_IRQS = [4, 3, 4, 3] as const;
export const RTC_IRQ = 8;
export const KBD_IRQ = 1;
export const AUX_IRQ = 12;
export const ACPI_TABLES_BASE = 0xe0000;
export const RSDP_ADDR = 0xf0000;
export const MP_FLOATING_ADDR = 0xf0040;
/** PIIX3 Reset Control Register: bit 2 (with bit 1 for a hard reset) resets the system. */
export const PIIX_RCR_PORT = 0xcf9;
export const PIIX_RCR_RESET_VALUE = 0x06;

/** KVM_SET_IDENTITY_MAP_ADDR / KVM_SET_TSS_ADDR values QEMU uses (3 pages below the BIOS ROM). */
export const PC_IDENTITY_MAP_ADDR = 0xfeffc000;
export const PC_TSS_ADDR = 0xfeffd000;
/** QEMU's pc puts -vga std in slot 2. */
export const PC_VGA_SLOT = 2;

/** Runs an ioctl that the architecture may not provide (ENOTTY is fine, anything else is not). */
function optionalIoctl(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof KvmError && e.errno === 'ENOTTY')) throw e;
  }
}

export interface PcMachineIo {
  stdout(bytes: Uint8Array): void;
  /** Host-side diagnostics (warnings). */
  warn(message: string): void;
}

export class PcMachine {
  readonly pio = new Bus('pio', 0x10000);
  readonly mmio = new Bus('mmio', 2 ** 52);
  readonly layout: PcMemoryLayout;
  readonly mem: GuestMemory;
  readonly vcpus: Vcpu[] = [];
  readonly serials: Serial[] = [];
  /** The I/O base of each UART in `serials`. */
  readonly serialPorts: number[] = [];
  readonly backends: CharBackend[] = [];
  readonly rtc: CmosRtc;
  /** Absent on microvm. */
  readonly kbd: I8042 | undefined;
  readonly fwCfg = new FwCfg();
  readonly pci = new PciHost();
  /** ACPI PM (PIIX4): absent on microvm. */
  readonly pm: AcpiPm | undefined;
  readonly pmFunction: Piix4Pm | undefined;
  /** The full PC board (false: microvm). */
  readonly isPc: boolean;
  readonly port80 = new Port80();
  pcTestdev: PcTestdev | undefined;
  kernel: KernelEntry | undefined;
  /** -device VGA / -vga std. */
  vga: PciVga | undefined;
  /** -display png:PATH. */
  display: PngDisplay | undefined;
  /** -device AC97. */
  ac97: Ac97 | undefined;
  /** -audiodev backends by id. */
  readonly audiodevs = new Map<string, AudiodevBackend>();
  private pmRegisteredAt = -1;
  /** The next free KVM memory slot: RAM takes the first ones, then RAM-backed BARs (VGA LFB). */
  private nextMemSlot = 0;
  /** PIIX3 with the PIRQ router (pc only). */
  piix3: Piix3 | undefined;
  /** MSI routes (GSI routing + irqfd) for MSI-X, created with the first MSI-X device. */
  private msiRoutes: MsiRoutes | undefined;
  /** virtio PCI devices, in creation order. */
  readonly virtio: VirtioPciDevice[] = [];
  /** -netdev backends by id. */
  readonly netdevs = new Map<string, NetBackend>();
  /** Set by the run loop's owner: wake halted vCPUs after asynchronous device work. */
  deviceKick: () => void = () => {};

  constructor(
    readonly config: MachineConfig,
    readonly kvm: Kvm,
    readonly vm: Vm,
    readonly clock: Clock,
    readonly events: MachineEvents,
    readonly io: PcMachineIo,
    /** The kernel to boot when config.kernel is unset (the demo guest), if any. */
    defaultKernel?: string,
  ) {
    this.isPc = config.machine === 'pc';
    this.layout = pcMemoryLayout(config.memSize);
    this.mem = this.setupMemory();

    // Where VMX keeps its real-mode TSS and identity-mapped page table (QEMU's choice,
    // just below the BIOS ROM); an arch or vendor without these ioctls does not need them.
    optionalIoctl(() => vm.setIdentityMapAddr(PC_IDENTITY_MAP_ADDR));
    optionalIoctl(() => vm.setTssAddr(PC_TSS_ADDR));
    // In-kernel irqchip and PIT, as QEMU with kernel-irqchip=on.
    vm.createIrqchip();
    vm.setGsiRouting(pcGsiRouting());
    vm.createPit2({ flags: uapi.KVM_PIT_SPEAKER_DUMMY });
    // QEMU's kvm-pit lost_tick_policy: discard turns KVM's reinjection off (see config).
    if (config.pitLostTickPolicy === 'discard') vm.reinjectControl({ pitReinject: 0 });

    const actions = { reset: () => events.reset('keyboard controller reset') };
    config.serial.forEach((b, i) => {
      if (b.kind === 'none' || i >= COM_PORTS.length) return;
      const backend = openCharBackend(b, io.stdout);
      this.backends.push(backend);
      const s = new Serial(this.irq(COM_IRQS[i]!), (byte) => backend.write(byte));
      this.serials.push(s);
      this.serialPorts.push(COM_PORTS[i]!);
      this.pio.register({ base: COM_PORTS[i]!, size: 8 }, s);
    });
    // Under -icount the RTC starts at the VM clock's own wall time, so runs repeat exactly.
    const rtcBase = config.rtcBaseSec ?? (config.icountShift !== undefined ? Number(vm.getClock().realtime ?? 0n) / 1e9 : Date.now() / 1000);
    this.rtc = new CmosRtc(this.irq(RTC_IRQ), clock, Math.floor(rtcBase));
    this.rtc.setMemoryFields(this.layout.belowFourGEnd, this.layout.aboveFourG, config.smp);
    this.pio.register({ base: 0x70, size: 2 }, this.rtc);
    this.pio.register({ base: 0x80, size: 1 }, this.port80);
    this.pio.register({ base: FW_CFG_IO_BASE, size: FW_CFG_IO_SIZE }, this.fwCfg);
    if (this.isPc) {
      const kbd = new I8042(this.irq(KBD_IRQ), this.irq(AUX_IRQ), actions);
      this.kbd = kbd;
      this.pio.register({ base: 0x60, size: 1 }, { read: (b, _o, d) => kbd.read(b, 0, d), write: (b, _o, d) => kbd.write(b, 0, d) });
      this.pio.register({ base: 0x64, size: 1 }, { read: (b, _o, d) => kbd.read(b, 4, d), write: (b, _o, d) => kbd.write(b, 4, d) });
      this.pio.register({ base: 0x92, size: 1 }, new Port92({ reset: () => events.reset('port 0x92 reset') }));

      // PCI: 0xcf8 dword is CONFIG_ADDRESS; a byte at 0xcf9 is PIIX3's reset control register.
      this.pio.register({ base: PCI_CONFIG_ADDRESS, size: 4 }, {
        read: (b, o, d) => (o === 1 && d.length === 1 ? d.fill(0) : this.pci.addressPort.read(b, o, d)),
        write: (b, o, d) => {
          if (o === 1 && d.length === 1) {
            if (d[0]! & 0x04) events.reset('reset control register 0xcf9');
          } else {
            this.pci.addressPort.write(b, o, d);
          }
        },
      });
      this.pio.register({ base: PCI_CONFIG_DATA, size: 4 }, this.pci.dataPort);
      const pm = new AcpiPm(clock, this.irq(ACPI_SCI_IRQ), {
        powerOff: () => events.shutdown('ACPI S5 power-off'),
        suspend: (typ) => io.warn(`guest requested ACPI sleep type ${typ}; only S5 (power-off) is implemented, ignored`),
      });
      // SMI_CMD is 0 in our FADT, so the system starts in ACPI mode (SCI_EN set).
      pm.pm1Cnt = 1;
      this.pm = pm;
      const piix3 = piix3IsaBridge((irq) => this.irq(irq));
      this.piix3 = piix3;
      this.pci.setSlotContext((device, _fn, pin) => ({
        pio: this.pio, mmio: this.mmio, warn: io.warn,
        intx: pin === 0 ? NO_IRQ : piix3.intxLine(device, pin),
      }));
      this.pci.addFunction(0, 0, i440fxHostBridge());
      this.pci.addFunction(1, 0, piix3);
      this.pmFunction = new Piix4Pm(ACPI_PM_BASE, ACPI_SCI_IRQ, (base, enabled) => this.mapPm(base, enabled));
      this.pci.addFunction(1, 3, this.pmFunction);
      this.mapPm(ACPI_PM_BASE, true);
    }

    for (const n of config.netdevs) this.netdevs.set(n.id, this.openNetdev(n));
    for (const a of config.audiodevs)
      this.audiodevs.set(a.id, a.driver === 'wav' ? new WavAudiodev(a.id, a.path ?? `${a.id}.wav`, a.frequency) : new NoAudiodev(a.id));
    for (const d of config.devices) this.addDevice(d);
    if (this.isPc && this.piix3 !== undefined) {
      const piix3 = this.piix3;
      assignPciResources(this.pci, pcPciWindows(this.layout.belowFourGEnd), (slot, pin) => piix3.pirqIrq(pciSlotPirq(slot, pin)));
      this.setPciElcr();
    }
    if (config.display.kind === 'png') {
      if (this.vga === undefined) throw new Error('-display png: no display device (add -vga std or -device VGA)');
      this.display = new PngDisplay(this.vga.core, config.display.path, io.warn);
      this.display.attachSignal();
    }

    this.setupFirmware();
    this.setupVcpus(defaultKernel);
  }

  private readonly irqLines = new Map<number, SharedIrqLine>();

  /** A new source on ISA interrupt `gsi` (KVM_IRQ_LINE; shared lines are ORed). */
  irq(gsi: number): IrqLine {
    let line = this.irqLines.get(gsi);
    if (line === undefined) {
      const vm = this.vm;
      line = new SharedIrqLine({ set: (level) => vm.irqLine(gsi, level) });
      this.irqLines.set(gsi, line);
    }
    return line.source();
  }

  private setupMemory(): GuestMemory {
    const alloc = (n: number) => {
      try {
        return new Uint8Array(n);
      } catch {
        throw new Error(`cannot allocate ${n} bytes of guest RAM (-m ${this.config.memSize / (1024 * 1024)}M); try a smaller -m`);
      }
    };
    const lowBytes = alloc(this.layout.belowFourGEnd);
    const regions = [];
    for (const r of pcRamRegions(this.layout)) {
      const slot = this.nextMemSlot++;
      const bytes = r.guestPhysAddr < 2 ** 32
        ? lowBytes.subarray(r.guestPhysAddr, r.guestPhysAddr + r.size)
        : alloc(r.size);
      this.vm.setUserMemoryRegion({ slot, flags: 0, guestPhysAddr: r.guestPhysAddr, memorySize: r.size, userspaceAddr: bytes });
      regions.push({ guestPhysAddr: r.guestPhysAddr, bytes });
    }
    return new GuestMemory(regions);
  }

  /** (Re)maps the ACPI PM registers where PMBA points (PIIX4 PM function). */
  private mapPm(base: number, enabled: boolean): void {
    if (this.pmRegisteredAt >= 0) {
      this.pio.deregister(this.pmRegisteredAt);
      this.pmRegisteredAt = -1;
    }
    if (!enabled || base === 0) return;
    if (this.pm === undefined) return;
    try {
      this.pio.register({ base, size: ACPI_PM_SIZE }, this.pm);
      this.pmRegisteredAt = base;
    } catch (e) {
      this.io.warn(`PIIX4 PM: cannot map PM registers at ${hex(base)}: ${(e as Error).message}`);
    }
  }

  private addDevice(d: MachineConfig['devices'][number]): void {
    switch (d.driver) {
      case 'isa-debug-exit':
        this.pio.register({ base: d.iobase, size: d.iosize }, new IsaDebugExit((status) => this.events.exit(status, `isa-debug-exit (status ${status})`)));
        break;
      case 'pc-testdev': {
        const lines: IrqLine[] = [];
        const t = new PcTestdev((n) => (n < PC_TESTDEV_IRQ_COUNT ? (lines[n] ??= this.irq(n)) : { set() {} }));
        this.pcTestdev = t;
        this.pio.register({ base: PC_TESTDEV_IOPORT, size: 4 }, t.ioport);
        this.pio.register({ base: PC_TESTDEV_FLUSH, size: 4 }, t.flush);
        this.pio.register({ base: PC_TESTDEV_IOPORT_BYTE, size: 4 }, t.ioportByte);
        this.pio.register({ base: PC_TESTDEV_IRQ_BASE, size: PC_TESTDEV_IRQ_COUNT }, t.irqLines);
        this.mmio.register({ base: PC_TESTDEV_IOMEM_BASE, size: PC_TESTDEV_IOMEM_LEN }, t.iomemDevice);
        break;
      }
      case 'pci-testdev': {
        if (!this.isPc) throw new Error("-device pci-testdev: no PCI bus on this machine (use -M pc)");
        const slot = this.pci.freeSlot();
        const t = new PciTestdev(this.pio, this.mmio);
        this.pci.addFunction(slot, 0, t);
        break;
      }
      case 'virtio-blk-pci': {
        const drive = this.config.drives.find((x) => x.id === d.drive);
        if (drive === undefined) throw new Error(`-device virtio-blk-pci: drive '${d.drive}' not found`);
        const image = drive.format === 'qcow2' ? new Qcow2Image(drive.file, drive.readonly) : new RawImage(drive.file, drive.readonly);
        this.addVirtio(new VirtioBlk({ image, serial: d.serial ?? '' }), d.addr, 'virtio-blk-pci');
        break;
      }
      case 'virtio-net-pci': {
        const backend = this.netdevs.get(d.netdev);
        if (backend === undefined) throw new Error(`-device virtio-net-pci: netdev '${d.netdev}' not found`);
        // QEMU's default MAC: 52:54:00:12:34:56 plus the NIC's index.
        const mac = parseMac(d.mac ?? `52:54:00:12:34:${(0x56 + this.virtio.filter((v) => v.model instanceof VirtioNet).length).toString(16)}`)!;
        this.addVirtio(new VirtioNet(mac, backend), d.addr, 'virtio-net-pci');
        break;
      }
      case 'VGA': {
        if (!this.isPc) throw new Error('-device VGA: no PCI bus on this machine (use -M pc)');
        if (this.vga !== undefined) throw new Error('-device VGA: only one VGA card is supported');
        const slot = this.pci.getFunction(PC_VGA_SLOT, 0) === undefined ? PC_VGA_SLOT : this.pci.freeSlot();
        this.vga = new PciVga({ vm: this.vm, pio: this.pio, mmio: this.mmio, lfbSlot: this.nextMemSlot++, warn: (m) => this.io.warn(`qemu-lite: ${m}`) });
        this.pci.addFunction(slot, 0, this.vga);
        break;
      }
      case 'AC97': {
        if (!this.isPc) throw new Error('-device AC97: no PCI bus on this machine (use -M pc)');
        const sink = d.audiodev === undefined ? new NoAudiodev('(none)') : this.audiodevs.get(d.audiodev);
        if (sink === undefined) throw new Error(`-device AC97: audiodev '${d.audiodev}' not found`);
        // BARs and INTERRUPT_LINE come from assignPciResources; INTA goes through the PIIX3 PIRQ link.
        this.ac97 = new Ac97({ mem: this.mem, clock: this.clock, sink });
        this.pci.addFunction(this.pci.freeSlot(), 0, this.ac97);
        break;
      }
      case 'loader':
        break; // loaded with the kernel, after the firmware tables
    }
  }

  private addVirtio(model: VirtioBlk | VirtioNet, addr: number | undefined, what: string): void {
    if (!this.isPc) throw new Error(`-device ${what}: no PCI bus on this machine (use -M pc)`);
    this.msiRoutes ??= new MsiRoutes(this.vm);
    const dev = new VirtioPciDevice(model, {
      mem: this.mem, msi: this.msiRoutes, vm: this.vm, kick: () => this.deviceKick(), warn: (m) => this.io.warn(`qemu-lite: ${m}`),
    });
    const slot = addr ?? this.pci.freeSlot();
    if (this.pci.getFunction(slot, 0) !== undefined) throw new Error(`-device ${what}: PCI slot ${slot} is already in use`);
    this.pci.addFunction(slot, 0, dev);
    this.virtio.push(dev);
  }

  private openNetdev(n: MachineConfig['netdevs'][number]): NetBackend {
    const fail = (m: string) => {
      this.events.exit(1, m);
      this.deviceKick();
    };
    switch (n.type) {
      case 'socket':
        return n.mode === 'listen'
          ? SocketNetBackend.listen(n.id, n.addr.host, n.addr.port, fail)
          : SocketNetBackend.connect(n.id, n.addr.host, n.addr.port, fail);
      case 'dgram':
        return new DgramNetBackend(n.id, n.local, n.remote, fail);
      case 'callback': {
        const b: NetBackend = {
          id: n.id, stats: { tx: 0, rx: 0, dropped: 0 },
          send: (f) => {
            b.stats.tx++;
            n.send(f);
          },
          receive: () => {},
          close: () => {},
        };
        n.attach((f) => {
          b.stats.rx++;
          b.receive(f);
        });
        return b;
      }
    }
  }

  /**
   * As SeaBIOS's PIIX setup: the ISA IRQs PCI links are steered to are level-triggered in
   * the PIC's ELCR (0x4d0/0x4d1), so a PIC-mode guest sees INTx as level interrupts.
   */
  private setPciElcr(): void {
    const piix3 = this.piix3;
    if (piix3 === undefined || this.pciIntx().length === 0) return;
    let bits = 0;
    for (let i = 0; i < 4; i++) {
      const irq = piix3.pirqIrq(i);
      if (irq >= 0) bits |= 1 << irq;
    }
    for (const [chip, shift] of [[uapi.KVM_IRQCHIP_PIC_MASTER, 0], [uapi.KVM_IRQCHIP_PIC_SLAVE, 8]] as const) {
      const mine = (bits >> shift) & 0xff;
      if (mine === 0) continue;
      optionalIoctl(() => {
        const st = this.vm.getIrqchip<{ elcr: number; elcrMask: number }>(chip);
        this.vm.setIrqchip(chip, { ...st, elcr: (st.elcr | mine) & st.elcrMask });
      });
    }
  }

  /** PCI functions with an interrupt pin and the ISA IRQ their PIRQ link is steered to (MP table, _PRT). */
  pciIntx(): { slot: number; pin: number; irq: number }[] {
    const piix3 = this.piix3;
    if (piix3 === undefined) return [];
    const out: { slot: number; pin: number; irq: number }[] = [];
    for (const { device, fn, f } of this.pci.list()) {
      const pin = f.config[PCI_INTERRUPT_PIN]!;
      if (fn !== 0 || pin === 0 || device < 2) continue;
      out.push({ slot: device, pin, irq: piix3.pirqIrq(pciSlotPirq(device, pin)) });
    }
    return out;
  }

  private setupFirmware(): void {
    const mem = this.mem;
    setupBiosAreas(mem, { serialPorts: this.serialPorts });
    if (this.isPc && this.config.acpi) {
      const piix3 = this.piix3;
      const pciRoutes = [];
      if (piix3 !== undefined) {
        for (let slot = 0; slot < 32; slot++)
          for (let pin = 1; pin <= 4; pin++) {
            const gsi = piix3.pirqIrq(pciSlotPirq(slot, pin));
            if (gsi >= 0) pciRoutes.push({ slot, pin, gsi });
          }
      }
      installAcpiTables(mem, {
        cpus: this.config.smp, pmBase: ACPI_PM_BASE, sciIrq: ACPI_SCI_IRQ, pciRoutes,
        pciWindows: pcPciWindows(this.layout.belowFourGEnd),
        resetPort: PIIX_RCR_PORT, resetValue: PIIX_RCR_RESET_VALUE,
      }, ACPI_TABLES_BASE, RSDP_ADDR);
    }
    const e820 = pcE820(this.layout);
    const f = this.fwCfg;
    f.addU64(FW_CFG_RAM_SIZE, this.config.memSize);
    f.addU16(FW_CFG_NB_CPUS, this.config.smp);
    f.addU16(FW_CFG_MAX_CPUS, this.config.smp);
    f.addU16(FW_CFG_NOGRAPHIC, 1);
    const e820Bytes = new Uint8Array(20 * e820.length);
    const old = new Uint8Array(4 + 20 * e820.length);
    const dv = new DataView(e820Bytes.buffer);
    const dvOld = new DataView(old.buffer);
    dvOld.setUint32(0, e820.length, true);
    e820.forEach((e, i) => {
      for (const [view, off] of [[dv, 20 * i], [dvOld, 4 + 20 * i]] as const) {
        view.setBigUint64(off, BigInt(e.addr), true);
        view.setBigUint64(off + 8, BigInt(e.size), true);
        view.setUint32(off + 16, e.type, true);
      }
    });
    f.add(FW_CFG_E820_TABLE, old);
    f.addFile('etc/e820', e820Bytes);
  }

  private setupVcpus(defaultKernel: string | undefined): void {
    const cfg = this.config;
    const e820 = pcE820(this.layout);
    const kernelPath = cfg.kernel ?? (cfg.devices.some((d) => d.driver === 'loader') ? undefined : defaultKernel);
    if (kernelPath !== undefined) {
      const image = readFileSync(kernelPath);
      const modules = cfg.initrd.map((m) => ({ cmdline: m, data: readFileSync(m.split(/\s+/)[0]!) }));
      this.kernel = loadKernel(this.mem, image, {
        kernelPath, append: cfg.append, modules, belowFourGEnd: this.layout.belowFourGEnd, e820,
        rsdpAddr: this.isPc ? RSDP_ADDR : undefined, fastBoot: cfg.linuxFastBoot, vgaText: this.vga !== undefined,
      });
      // Linux without its real-mode setup learns about the text console from us (vgacon).
      if (this.kernel.protocol === 'linux' && this.vga !== undefined && hasLinuxBootParams(this.mem, this.kernel.esi)) writeVgaScreenInfo(this.mem, this.kernel.esi, this.vga.core);
      this.fwCfg.addU32(FW_CFG_KERNEL_SIZE, image.length);
      this.fwCfg.add(FW_CFG_KERNEL_DATA, image);
      this.fwCfg.addString(FW_CFG_KERNEL_CMDLINE, cfg.append);
      this.fwCfg.addU32(FW_CFG_CMDLINE_SIZE, cfg.append.length + 1);
      this.fwCfg.addString(FW_CFG_CMDLINE_DATA, cfg.append);
      if (modules.length > 0) {
        this.fwCfg.addU32(FW_CFG_INITRD_SIZE, modules[0]!.data.length);
        this.fwCfg.add(FW_CFG_INITRD_DATA, modules[0]!.data);
      }
    }
    const entries = new Map<number, { mode: 'real' | 'protected' | 'long'; entry: number; eax: number; ebx: number; esi: number }>();
    if (this.kernel !== undefined) entries.set(0, this.kernel);
    for (const d of cfg.devices) {
      if (d.driver !== 'loader') continue;
      loadFlat(this.mem, readFileSync(d.file), d.addr, d.file);
      if (d.cpuNum !== undefined) {
        if (d.cpuNum >= cfg.smp) throw new KvmError('EINVAL', `-device loader: cpu-num ${d.cpuNum} does not exist (-smp ${cfg.smp})`);
        entries.set(d.cpuNum, { mode: d.mode, entry: d.addr, eax: 0, ebx: 0, esi: 0 });
      }
    }
    if (entries.size === 0) throw new Error('no kernel: give -kernel FILE (or -device loader,file=,addr=,cpu-num=0)');

    const supported = this.kvm.getSupportedCpuid();
    for (let i = 0; i < cfg.smp; i++) {
      const vcpu = this.vm.createVcpu(i);
      const { entries: cpuid, unavailable } = buildCpuid(supported, cfg.cpu, i, cfg.smp);
      if (i === 0) for (const f of unavailable) this.io.warn(`warning: host doesn't support requested feature: ${f}`);
      vcpu.setCpuid2(cpuid);
      // QEMU's kvm_put_msrs: a CPU with arch-capabilities gets what KVM reports as the feature
      // MSR; without spec-ctrl (IA32_SPEC_CTRL) it cannot claim enhanced IBRS (IBRS_ALL).
      const leaf7 = cpuid.find((c) => c.function === 7 && c.index === 0);
      if (leaf7 !== undefined && (leaf7.edx >>> 29) & 1) {
        const caps = this.kvm.getMsrs([MSR_IA32_ARCH_CAPABILITIES]);
        if (!((leaf7.edx >>> 26) & 1)) for (const c of caps) c.data &= ~ARCH_CAP_IBRS_ALL;
        vcpu.setMsrs(caps);
      }
      this.vcpus.push(vcpu);
      const e = entries.get(i);
      if (e !== undefined) {
        // The prologue (in the F segment) programs the PIC and PIT as SeaBIOS would, then
        // jumps to the entry in the entry's CPU mode.
        if (e.mode === 'real' && e.entry >= 0x100000) throw new Error(`real-mode entry 0x${e.entry.toString(16)} is above 1 MiB`);
        this.mem.write(BIOS_PROLOGUE_ADDR + 0x100 * i, bootPrologue(e.entry, e.eax, e.ebx, e.mode));
        setBootCpuState(vcpu, this.mem, e.mode, { rip: BIOS_PROLOGUE_ADDR + 0x100 * i, rsi: e.esi });
      } else if (i !== 0) {
        // APs wait for INIT/SIPI, as after a BIOS has parked them.
        vcpu.setMpState({ mpState: uapi.KVM_MP_STATE_UNINITIALIZED });
      }
    }
    const sig = cpuSignature(this.vcpus[0]!.getCpuid2());
    installMpTable(this.mem, { cpus: cfg.smp, cpuSignature: sig.eax, cpuFeatures: sig.edx, pciIntsrc: this.pciIntx() }, MP_FLOATING_ADDR);
  }

  /** Device timers (RTC) and output flushing; called by the run loop between slices. */
  poll(): void {
    this.rtc.poll();
    this.ac97?.drain();
    for (const b of this.backends) b.flush();
  }

  /**
   * The earliest deadline in VM-clock ns (Infinity: none): the VMM's devices (RTC) and
   * the in-kernel timers (PIT, LAPIC timers), which wake halted vCPUs.
   */
  nextDeadlineNs(): number {
    const dev = Math.min(this.rtc.nextDeadlineNs(), this.ac97?.nextDeadlineNs() ?? Infinity);
    const kernel = this.vm.nextTimerDeadline();
    return kernel >= 0 && kernel < dev ? kernel : dev;
  }

  /** Under -icount every vCPU idle means time jumps to the next deadline (QEMU's sleep=off). */
  get virtualClock(): boolean {
    return this.config.icountShift !== undefined;
  }

  warpClock(ns: number): void {
    this.vm.warpClock(ns);
  }

  close(): void {
    for (const b of this.backends) b.close();
    for (const v of this.virtio) v.close();
    for (const n of this.netdevs.values()) n.close();
    // The guest stopped: the screen as it was, and the audio finalized (RIFF sizes).
    this.display?.close();
    this.ac97?.drain();
    for (const a of this.audiodevs.values()) a.close();
  }
}
