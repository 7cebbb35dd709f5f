/** Builds VMCSes that pass every VM-entry check, for real-mode (unrestricted), protected and long-mode guests. */
import { Vmcs, VMCS_FIELDS as F, vmxCapabilities, vmxControls as C, type VmxCapabilities } from '@kvmts/kvm-intel';

export type GuestMode = 'real-unrestricted' | 'protected' | 'long';

export function caps(): VmxCapabilities {
  return vmxCapabilities({ ept: true, vpid: true, unrestricted_guest: true });
}

function seg(v: Vmcs, name: 'ES' | 'CS' | 'SS' | 'DS' | 'FS' | 'GS' | 'TR' | 'LDTR', sel: number, base: number, limit: number, ar: number): void {
  v.write32(F[`GUEST_${name}_SELECTOR`], sel);
  v.writeNumber(F[`GUEST_${name}_BASE`], base);
  v.write32(F[`GUEST_${name}_LIMIT`], limit);
  v.write32(F[`GUEST_${name}_AR_BYTES`], ar);
}

export function validVmcs(mode: GuestMode, c: VmxCapabilities = caps()): Vmcs {
  const v = new Vmcs({ revisionId: c.revisionId });
  // controls: the TRUE allowed-0 bits plus what KVM turns on
  v.write32(F.PIN_BASED_VM_EXEC_CONTROL, c.truePinBased.allowed0 | C.PIN_BASED_EXT_INTR_MASK | C.PIN_BASED_NMI_EXITING | C.PIN_BASED_VIRTUAL_NMIS);
  v.write32(F.CPU_BASED_VM_EXEC_CONTROL, c.trueProcBased.allowed0 | C.CPU_BASED_HLT_EXITING | C.CPU_BASED_USE_IO_BITMAPS | C.CPU_BASED_USE_MSR_BITMAPS | C.CPU_BASED_ACTIVATE_SECONDARY_CONTROLS);
  v.write32(F.SECONDARY_VM_EXEC_CONTROL, C.SECONDARY_EXEC_ENABLE_EPT | C.SECONDARY_EXEC_ENABLE_VPID | (mode === 'real-unrestricted' ? C.SECONDARY_EXEC_UNRESTRICTED_GUEST : 0));
  v.write32(F.VM_EXIT_CONTROLS, c.trueExit.allowed0 | C.VM_EXIT_HOST_ADDR_SPACE_SIZE | C.VM_EXIT_LOAD_IA32_EFER | C.VM_EXIT_SAVE_IA32_EFER);
  v.write32(F.VM_ENTRY_CONTROLS, c.trueEntry.allowed0 | C.VM_ENTRY_LOAD_IA32_EFER | (mode === 'long' ? C.VM_ENTRY_IA32E_MODE : 0));
  v.writeNumber(F.IO_BITMAP_A, 0x10000);
  v.writeNumber(F.IO_BITMAP_B, 0x11000);
  v.writeNumber(F.MSR_BITMAP, 0x12000);
  v.writeNumber(F.EPT_POINTER, 0x20000 + 6 + (3 << 3));
  v.write32(F.VIRTUAL_PROCESSOR_ID, 1);
  // host: a 64-bit Linux host
  v.writeNumber(F.HOST_CR0, 0x80050033);
  v.writeNumber(F.HOST_CR3, 0x1000);
  v.writeNumber(F.HOST_CR4, 0x2020 | 0x10000);
  v.write32(F.HOST_CS_SELECTOR, 0x10);
  v.write32(F.HOST_SS_SELECTOR, 0x18);
  v.write32(F.HOST_DS_SELECTOR, 0);
  v.write32(F.HOST_TR_SELECTOR, 0x40);
  v.write64(F.HOST_IA32_EFER, 0x501, 0);
  v.write64(F.HOST_RIP, 0x81000000, 0xffffffff);
  v.write64(F.HOST_GS_BASE, 0x00001000, 0xffff8880);
  // guest
  v.write64(F.VMCS_LINK_POINTER, 0xffffffff, 0xffffffff);
  v.writeNumber(F.GUEST_RFLAGS, 0x2);
  v.writeNumber(F.GUEST_RIP, 0xfff0);
  v.write32(F.GUEST_GDTR_LIMIT, 0xffff);
  v.write32(F.GUEST_IDTR_LIMIT, 0xffff);
  seg(v, 'LDTR', 0, 0, 0xffff, 0x10082);
  if (mode === 'real-unrestricted') {
    v.writeNumber(F.GUEST_CR0, 0x60000010 | 0x20); // CD NW ET NE: the reset value with NE
    v.writeNumber(F.GUEST_CR4, 0x2000);
    seg(v, 'CS', 0xf000, 0xf0000, 0xffff, 0x9b);
    for (const s of ['DS', 'ES', 'FS', 'GS', 'SS'] as const) seg(v, s, 0, 0, 0xffff, 0x93);
    seg(v, 'TR', 0, 0, 0xffff, 0x8b);
  } else if (mode === 'protected') {
    v.write32(F.GUEST_CR0, 0x80000031); // PE ET NE PG
    v.writeNumber(F.GUEST_CR4, 0x2010); // VMXE PSE
    v.writeNumber(F.GUEST_CR3, 0x3000);
    seg(v, 'CS', 0x08, 0, 0xffffffff, 0xc09b);
    for (const s of ['DS', 'ES', 'FS', 'GS', 'SS'] as const) seg(v, s, 0x10, 0, 0xffffffff, 0xc093);
    seg(v, 'TR', 0x18, 0x5000, 0x67, 0x8b);
    v.write64(F.GUEST_IA32_EFER, 0, 0);
  } else {
    v.writeNumber(F.GUEST_CR0, 0x80000031);
    v.writeNumber(F.GUEST_CR4, 0x2020); // VMXE PAE
    v.writeNumber(F.GUEST_CR3, 0x3000);
    seg(v, 'CS', 0x08, 0, 0xffffffff, 0xa09b); // L=1, G=1
    for (const s of ['DS', 'ES', 'FS', 'GS', 'SS'] as const) seg(v, s, 0x10, 0, 0xffffffff, 0xc093);
    seg(v, 'TR', 0x18, 0x5000, 0x67, 0x8b);
    v.write64(F.GUEST_IA32_EFER, 0x500, 0); // LME LMA
    v.write64(F.GUEST_RIP, 0x00400000, 0xffffffff);
  }
  return v;
}
