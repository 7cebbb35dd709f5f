/**
 * ACPI tables for the pc machine (ACPI 6.x spec ch. 5), laid out as a BIOS leaves them:
 * the RSDP (revision 2) in the F segment, RSDT and XSDT pointing to the FADT and MADT,
 * the FADT pointing to the FACS, the DSDT and the PIIX4 PM registers, a MADT with the
 * LAPICs, the IOAPIC and QEMU's interrupt source overrides, and a DSDT whose AML declares
 * \_S5 so that ACPI soft-off works.
 */
import type { GuestMemory } from '../machine/guest-memory';
import { checksum8, writeAscii } from './checksum';

export const ACPI_OEM_ID = 'KVMTS ';
export const ACPI_OEM_TABLE_ID = 'QEMULITE';
export const ACPI_CREATOR_ID = 'QLTE';
export const ACPI_TABLE_HEADER_SIZE = 36;
export const RSDP_SIZE = 36;
export const FADT_SIZE = 244;
export const FACS_SIZE = 64;

export const APIC_DEFAULT_ADDRESS = 0xfee00000;
export const IOAPIC_DEFAULT_ADDRESS = 0xfec00000;
export const IOAPIC_ID = 0;

// MADT entry types
export const MADT_LOCAL_APIC = 0;
export const MADT_IO_APIC = 1;
export const MADT_INT_SRC_OVR = 2;
export const MADT_LOCAL_APIC_NMI = 4;
export const MADT_PCAT_COMPAT = 1;

// FADT flags (ACPI spec table 5.10)
export const FADT_F_WBINVD = 1 << 0;
export const FADT_F_PROC_C1 = 1 << 2;
export const FADT_F_SLP_BUTTON = 1 << 5;
export const FADT_F_RTC_S4 = 1 << 7;
export const FADT_F_RESET_REG_SUP = 1 << 10;
/** IA-PC boot architecture flags: legacy devices, 8042. */
export const FADT_BOOT_ARCH_LEGACY_DEVICES = 1 << 0;
export const FADT_BOOT_ARCH_8042 = 1 << 1;

// AML opcodes (ACPI spec ch. 20)
export const AML_ZERO_OP = 0x00;
export const AML_NAME_OP = 0x08;
export const AML_PACKAGE_OP = 0x12;

/** A PCI interrupt route for the _PRT: slot, pin (1 = INTA) and the GSI it reaches. */
export interface PciIrqRoute {
  slot: number;
  pin: number;
  gsi: number;
}

export interface AcpiConfig {
  cpus: number;
  /**
   * PCI INTx routes, one per slot and pin (all 32 slots x 4 pins, as QEMU's _PRT lists
   * them): with them the DSDT gets \_SB.PCI0 (PNP0A03) and its _PRT, and the MADT
   * overrides for those GSIs (level, active high, as QEMU's for IRQ 5, 9, 10, 11).
   */
  pciRoutes?: readonly PciIrqRoute[];
  /** The host bridge's 32-bit MMIO window (its _CRS). */
  pciWindows?: PciHostWindows;
  pmBase: number;
  sciIrq: number;
  /** The reset register (PIIX3 RCR at 0xcf9) and the value that resets. */
  resetPort: number;
  resetValue: number;
}

export interface AcpiPlacement {
  rsdp: number;
  rsdt: number;
  xsdt: number;
  fadt: number;
  facs: number;
  dsdt: number;
  madt: number;
}

class TableWriter {
  readonly buf: Uint8Array;
  readonly dv: DataView;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.dv = new DataView(this.buf.buffer);
  }
}

/** The 36-byte system description table header; the checksum is filled by finishTable. */
function header(t: TableWriter, signature: string, revision: number): void {
  writeAscii(t.buf, 0, signature, 4);
  t.dv.setUint32(4, t.buf.length, true);
  t.buf[8] = revision;
  writeAscii(t.buf, 10, ACPI_OEM_ID, 6);
  writeAscii(t.buf, 16, ACPI_OEM_TABLE_ID, 8);
  t.dv.setUint32(24, 1, true);
  writeAscii(t.buf, 28, ACPI_CREATOR_ID, 4);
  t.dv.setUint32(32, 1, true);
}

function finishTable(t: TableWriter): Uint8Array {
  t.buf[9] = 0;
  t.buf[9] = checksum8(t.buf);
  return t.buf;
}

/** AML PkgLength encoding (ACPI 20.2.4) for a body of `len` bytes (the encoding counts itself). */
export function amlPkgLength(len: number): number[] {
  if (len + 1 <= 0x3f) return [len + 1];
  if (len + 2 <= 0xfff) {
    const t = len + 2;
    return [0x40 | (t & 0x0f), t >> 4];
  }
  const t = len + 3;
  return [0x80 | (t & 0x0f), (t >> 4) & 0xff, t >> 12];
}

/** AML for Name(_S5, Package(4){0, 0, 0, 0}): S5 is SLP_TYP 0, as PIIX4 PM decodes it. */
export function amlS5(): number[] {
  const body = [4, AML_ZERO_OP, AML_ZERO_OP, AML_ZERO_OP, AML_ZERO_OP];
  return [AML_NAME_OP, 0x5f, 0x53, 0x35, 0x5f, AML_PACKAGE_OP, ...amlPkgLength(body.length), ...body];
}

export const AML_BYTE_PREFIX = 0x0a;
export const AML_DWORD_PREFIX = 0x0c;
export const AML_ONE_OP = 0x01;
export const AML_SCOPE_OP = 0x10;
export const AML_EXT_OP_PREFIX = 0x5b;
export const AML_DEVICE_OP = 0x82;
/** EISAID("PNP0A03"), the PCI host bridge, as the DWORD AML stores it. */
export const EISA_ID_PNP0A03 = 0x030ad041;

function amlName(seg: string): number[] {
  return [...seg.padEnd(4, '_')].map((c) => c.charCodeAt(0));
}

/** The smallest AML encoding of an integer (ZeroOp, OneOp, ByteConst or DWordConst). */
export function amlInteger(v: number): number[] {
  if (v === 0) return [AML_ZERO_OP];
  if (v === 1) return [AML_ONE_OP];
  if (v <= 0xff) return [AML_BYTE_PREFIX, v];
  return [AML_DWORD_PREFIX, ...le32(v)];
}

function amlPackage(elements: number[][]): number[] {
  const body = [elements.length, ...elements.flat()];
  return [AML_PACKAGE_OP, ...amlPkgLength(body.length), ...body];
}

/**
 * Scope(\_SB) { Device(PCI0) { Name(_HID, EISAID("PNP0A03")) Name(_ADR, 0) Name(_UID, 0)
 * Name(_PRT, Package() { Package() { 0xSSSSFFFF, pin, 0, GSI }, ... }) } }: the PCI
 * routing table with GSIs directly (Source 0), as ACPI 6.x 6.2.13 allows.
 */
/** ACPI 6.4.3 resource descriptors for the host bridge's _CRS. */
const RES_GENERAL_PRODUCER_FIXED = 0x0c; // producer, positive decode, min and max fixed
function le16(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff];
}
function wordAddress(type: number, typeFlags: number, min: number, max: number): number[] {
  return [0x88, 0x0d, 0x00, type, RES_GENERAL_PRODUCER_FIXED, typeFlags, ...le16(0), ...le16(min), ...le16(max), ...le16(0), ...le16(max - min + 1)];
}
function dwordMemory(min: number, max: number): number[] {
  // Type-specific flags: read-write, cacheable (as QEMU's DWordMemory).
  return [0x87, 0x17, 0x00, 0, RES_GENERAL_PRODUCER_FIXED, 0x03, ...le32(0), ...le32(min), ...le32(max), ...le32(0), ...le32(max - min + 1)];
}

/** The PCI windows the host bridge decodes (QEMU's i440FX _CRS without the 64-bit window). */
export interface PciHostWindows {
  /** The 32-bit MMIO window [memBase, memEnd). */
  memBase: number;
  memEnd: number;
}

/**
 * ResourceTemplate() { WordBusNumber 0-0xff, IO(Decode16, 0xcf8, 0xcf8, 1, 8),
 * WordIO 0-0xcf7, WordIO 0xd00-0xffff, DWordMemory 0xa0000-0xbffff (VGA), DWordMemory the
 * PCI hole }: without it Linux's ACPI host bridge has no windows for the BARs.
 */
export function amlPciCrs(w: PciHostWindows): number[] {
  const res = [
    ...wordAddress(2, 0, 0, 0xff),
    0x47, 0x01, ...le16(0xcf8), ...le16(0xcf8), 0x01, 0x08,
    ...wordAddress(1, 0x03, 0x0000, 0x0cf7),
    ...wordAddress(1, 0x03, 0x0d00, 0xffff),
    ...dwordMemory(0xa0000, 0xbffff),
    ...dwordMemory(w.memBase, w.memEnd - 1),
    0x79, 0x00,
  ];
  const body = [...amlInteger(res.length), ...res];
  return [AML_NAME_OP, ...amlName('_CRS'), 0x11, ...amlPkgLength(body.length), ...body];
}

export function amlPci0(routes: readonly PciIrqRoute[], windows?: PciHostWindows): number[] {
  const prt = amlPackage(routes.map((r) => amlPackage([amlInteger(((r.slot << 16) | 0xffff) >>> 0), amlInteger(r.pin - 1), [AML_ZERO_OP], amlInteger(r.gsi)])));
  const body = [
    ...amlName('PCI0'),
    AML_NAME_OP, ...amlName('_HID'), AML_DWORD_PREFIX, ...le32(EISA_ID_PNP0A03),
    AML_NAME_OP, ...amlName('_ADR'), AML_ZERO_OP,
    AML_NAME_OP, ...amlName('_UID'), AML_ZERO_OP,
    ...(windows !== undefined ? amlPciCrs(windows) : []),
    AML_NAME_OP, ...amlName('_PRT'), ...prt,
  ];
  const device = [AML_EXT_OP_PREFIX, AML_DEVICE_OP, ...amlPkgLength(body.length), ...body];
  const scope = [0x5c, ...amlName('_SB_'), ...device];
  return [AML_SCOPE_OP, ...amlPkgLength(scope.length), ...scope];
}

export function buildDsdt(pciRoutes: readonly PciIrqRoute[] = [], windows?: PciHostWindows): Uint8Array {
  const aml = [...amlS5(), ...(pciRoutes.length > 0 ? amlPci0(pciRoutes, windows) : [])];
  const t = new TableWriter(ACPI_TABLE_HEADER_SIZE + aml.length);
  header(t, 'DSDT', 2);
  t.buf.set(aml, ACPI_TABLE_HEADER_SIZE);
  return finishTable(t);
}

export function buildFacs(): Uint8Array {
  const b = new Uint8Array(FACS_SIZE);
  writeAscii(b, 0, 'FACS', 4);
  new DataView(b.buffer).setUint32(4, FACS_SIZE, true);
  b[32] = 1; // version
  return b;
}

/** Generic Address Structure (12 bytes) for a system I/O register. */
function gasIo(t: TableWriter, off: number, bitWidth: number, port: number, accessSize: number): void {
  t.buf[off] = 1; // SystemIO
  t.buf[off + 1] = bitWidth;
  t.buf[off + 2] = 0;
  t.buf[off + 3] = accessSize;
  t.dv.setBigUint64(off + 4, BigInt(port), true);
}

export function buildFadt(cfg: AcpiConfig, facs: number, dsdt: number): Uint8Array {
  const t = new TableWriter(FADT_SIZE);
  header(t, 'FACP', 3);
  const d = t.dv;
  d.setUint32(36, facs, true);
  d.setUint32(40, dsdt, true);
  t.buf[45] = 0; // preferred PM profile: unspecified
  d.setUint16(46, cfg.sciIrq, true);
  d.setUint32(48, 0, true); // SMI_CMD 0: always in ACPI mode, SCI_EN set by firmware
  d.setUint32(56, cfg.pmBase, true); // PM1a_EVT_BLK
  d.setUint32(64, cfg.pmBase + 4, true); // PM1a_CNT_BLK
  d.setUint32(76, cfg.pmBase + 8, true); // PM_TMR_BLK
  t.buf[88] = 4; // PM1_EVT_LEN
  t.buf[89] = 2; // PM1_CNT_LEN
  t.buf[91] = 4; // PM_TMR_LEN
  d.setUint16(96, 0xfff, true); // P_LVL2_LAT: C2 not supported
  d.setUint16(98, 0xfff, true); // P_LVL3_LAT: C3 not supported
  t.buf[108] = 0x32; // CENTURY: the CMOS century byte
  d.setUint16(109, FADT_BOOT_ARCH_LEGACY_DEVICES | FADT_BOOT_ARCH_8042, true);
  d.setUint32(112, FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_SLP_BUTTON | FADT_F_RTC_S4 | FADT_F_RESET_REG_SUP, true);
  gasIo(t, 116, 8, cfg.resetPort, 1); // RESET_REG
  t.buf[128] = cfg.resetValue;
  d.setBigUint64(132, BigInt(facs), true); // X_FIRMWARE_CTRL
  d.setBigUint64(140, BigInt(dsdt), true); // X_DSDT
  gasIo(t, 148, 32, cfg.pmBase, 2); // X_PM1a_EVT_BLK
  gasIo(t, 172, 16, cfg.pmBase + 4, 2); // X_PM1a_CNT_BLK
  gasIo(t, 208, 32, cfg.pmBase + 8, 3); // X_PM_TMR_BLK
  return finishTable(t);
}

export function buildMadt(cfg: AcpiConfig): Uint8Array {
  const entries: number[][] = [];
  for (let i = 0; i < cfg.cpus; i++) entries.push([MADT_LOCAL_APIC, 8, i, i, 1, 0, 0, 0]);
  const io = [MADT_IO_APIC, 12, IOAPIC_ID, 0, ...le32(IOAPIC_DEFAULT_ADDRESS), ...le32(0)];
  entries.push(io);
  // IRQ0 is wired to IOAPIC pin 2 (the PIT through the override); IRQ9 (SCI) level, active high.
  entries.push([MADT_INT_SRC_OVR, 10, 0, 0, ...le32(2), 0, 0]);
  entries.push([MADT_INT_SRC_OVR, 10, 0, cfg.sciIrq, ...le32(cfg.sciIrq), 0x0d, 0x00]);
  // The ISA IRQs the PIRQ links are steered to are level, active high (QEMU's 10 and 11).
  const pciIrqs = [...new Set((cfg.pciRoutes ?? []).map((r) => r.gsi))].filter((g) => g < 16 && g !== cfg.sciIrq).sort((a, b) => a - b);
  for (const irq of pciIrqs) entries.push([MADT_INT_SRC_OVR, 10, 0, irq, ...le32(irq), 0x0d, 0x00]);
  entries.push([MADT_LOCAL_APIC_NMI, 6, 0xff, 0, 0, 1]);
  const bodyLen = entries.reduce((n, e) => n + e.length, 0);
  const t = new TableWriter(ACPI_TABLE_HEADER_SIZE + 8 + bodyLen);
  header(t, 'APIC', 1);
  t.dv.setUint32(36, APIC_DEFAULT_ADDRESS, true);
  t.dv.setUint32(40, MADT_PCAT_COMPAT, true);
  let o = 44;
  for (const e of entries) {
    t.buf.set(e, o);
    o += e.length;
  }
  return finishTable(t);
}

export function buildRsdt(tables: readonly number[]): Uint8Array {
  const t = new TableWriter(ACPI_TABLE_HEADER_SIZE + 4 * tables.length);
  header(t, 'RSDT', 1);
  tables.forEach((a, i) => t.dv.setUint32(ACPI_TABLE_HEADER_SIZE + 4 * i, a, true));
  return finishTable(t);
}

export function buildXsdt(tables: readonly number[]): Uint8Array {
  const t = new TableWriter(ACPI_TABLE_HEADER_SIZE + 8 * tables.length);
  header(t, 'XSDT', 1);
  tables.forEach((a, i) => t.dv.setBigUint64(ACPI_TABLE_HEADER_SIZE + 8 * i, BigInt(a), true));
  return finishTable(t);
}

export function buildRsdp(rsdt: number, xsdt: number): Uint8Array {
  const b = new Uint8Array(RSDP_SIZE);
  const d = new DataView(b.buffer);
  writeAscii(b, 0, 'RSD PTR ', 8);
  writeAscii(b, 9, ACPI_OEM_ID, 6);
  b[15] = 2; // revision: ACPI 2.0+
  d.setUint32(16, rsdt, true);
  d.setUint32(20, RSDP_SIZE, true);
  d.setBigUint64(24, BigInt(xsdt), true);
  b[8] = checksum8(b, 0, 20); // covers the ACPI 1.0 part
  b[32] = checksum8(b, 0, 36); // extended checksum covers all 36 bytes
  return b;
}

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

/** Lays the tables out from `tablesBase` (0xE0000 in the pc machine) and the RSDP at `rsdpAddr`. */
export function installAcpiTables(mem: GuestMemory, cfg: AcpiConfig, tablesBase: number, rsdpAddr: number): AcpiPlacement {
  let at = tablesBase;
  const place = (bytes: Uint8Array, align: number) => {
    at = Math.ceil(at / align) * align;
    const addr = at;
    mem.write(addr, bytes);
    at += bytes.length;
    return addr;
  };
  const facs = place(buildFacs(), 64);
  const dsdt = place(buildDsdt(cfg.pciRoutes ?? [], cfg.pciWindows), 16);
  const fadt = place(buildFadt(cfg, facs, dsdt), 16);
  const madt = place(buildMadt(cfg), 16);
  const rsdt = place(buildRsdt([fadt, madt]), 16);
  const xsdt = place(buildXsdt([fadt, madt]), 16);
  if (rsdpAddr % 16 !== 0) throw new RangeError('the RSDP must be 16-byte aligned');
  mem.write(rsdpAddr, buildRsdp(rsdt, xsdt));
  return { rsdp: rsdpAddr, rsdt, xsdt, fadt, facs, dsdt, madt };
}
