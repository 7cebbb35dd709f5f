/**
 * VMCS component encodings (Intel SDM vol. 3, appendix B), with the names Linux uses in
 * arch/x86/include/asm/vmx.h (`enum vmcs_field`).
 *
 * An encoding is a 32-bit value (SDM 24.11.2, "VMREAD, VMWRITE, and Encodings of VMCS Fields"):
 *   bit 0       access type: 0 = full, 1 = high (only for 64-bit fields: the upper 32 bits)
 *   bits 9:1    index
 *   bits 11:10  type: 0 control, 1 VM-exit information (read-only data), 2 guest state, 3 host state
 *   bit 12      reserved (0)
 *   bits 14:13  width: 0 16-bit, 1 64-bit, 2 32-bit, 3 natural width
 *   bits 31:15  reserved (0)
 * Only the "full" encodings are listed; `encoding + 1` is the high half of a 64-bit field.
 */

export const VMCS_FIELDS = {
  // 16-bit control fields (B.1.1)
  VIRTUAL_PROCESSOR_ID: 0x0000,
  POSTED_INTR_NV: 0x0002,
  EPTP_INDEX: 0x0004,
  LAST_PID_POINTER_INDEX: 0x0008,
  // 16-bit guest-state fields (B.1.2)
  GUEST_ES_SELECTOR: 0x0800,
  GUEST_CS_SELECTOR: 0x0802,
  GUEST_SS_SELECTOR: 0x0804,
  GUEST_DS_SELECTOR: 0x0806,
  GUEST_FS_SELECTOR: 0x0808,
  GUEST_GS_SELECTOR: 0x080a,
  GUEST_LDTR_SELECTOR: 0x080c,
  GUEST_TR_SELECTOR: 0x080e,
  GUEST_INTR_STATUS: 0x0810,
  GUEST_PML_INDEX: 0x0812,
  // 16-bit host-state fields (B.1.3)
  HOST_ES_SELECTOR: 0x0c00,
  HOST_CS_SELECTOR: 0x0c02,
  HOST_SS_SELECTOR: 0x0c04,
  HOST_DS_SELECTOR: 0x0c06,
  HOST_FS_SELECTOR: 0x0c08,
  HOST_GS_SELECTOR: 0x0c0a,
  HOST_TR_SELECTOR: 0x0c0c,
  // 64-bit control fields (B.2.1)
  IO_BITMAP_A: 0x2000,
  IO_BITMAP_B: 0x2002,
  MSR_BITMAP: 0x2004,
  VM_EXIT_MSR_STORE_ADDR: 0x2006,
  VM_EXIT_MSR_LOAD_ADDR: 0x2008,
  VM_ENTRY_MSR_LOAD_ADDR: 0x200a,
  EXECUTIVE_VMCS_POINTER: 0x200c,
  PML_ADDRESS: 0x200e,
  TSC_OFFSET: 0x2010,
  VIRTUAL_APIC_PAGE_ADDR: 0x2012,
  APIC_ACCESS_ADDR: 0x2014,
  POSTED_INTR_DESC_ADDR: 0x2016,
  VM_FUNCTION_CONTROL: 0x2018,
  EPT_POINTER: 0x201a,
  EOI_EXIT_BITMAP0: 0x201c,
  EOI_EXIT_BITMAP1: 0x201e,
  EOI_EXIT_BITMAP2: 0x2020,
  EOI_EXIT_BITMAP3: 0x2022,
  EPTP_LIST_ADDRESS: 0x2024,
  VMREAD_BITMAP: 0x2026,
  VMWRITE_BITMAP: 0x2028,
  VE_INFORMATION_ADDRESS: 0x202a,
  XSS_EXIT_BITMAP: 0x202c,
  ENCLS_EXITING_BITMAP: 0x202e,
  TSC_MULTIPLIER: 0x2032,
  TERTIARY_VM_EXEC_CONTROL: 0x2034,
  PID_POINTER_TABLE: 0x2042,
  // 64-bit read-only data field (B.2.2)
  GUEST_PHYSICAL_ADDRESS: 0x2400,
  // 64-bit guest-state fields (B.2.3)
  VMCS_LINK_POINTER: 0x2800,
  GUEST_IA32_DEBUGCTL: 0x2802,
  GUEST_IA32_PAT: 0x2804,
  GUEST_IA32_EFER: 0x2806,
  GUEST_IA32_PERF_GLOBAL_CTRL: 0x2808,
  GUEST_PDPTR0: 0x280a,
  GUEST_PDPTR1: 0x280c,
  GUEST_PDPTR2: 0x280e,
  GUEST_PDPTR3: 0x2810,
  GUEST_BNDCFGS: 0x2812,
  GUEST_IA32_RTIT_CTL: 0x2814,
  GUEST_IA32_LBR_CTL: 0x2816,
  GUEST_IA32_PKRS: 0x2818,
  // 64-bit host-state fields (B.2.4)
  HOST_IA32_PAT: 0x2c00,
  HOST_IA32_EFER: 0x2c02,
  HOST_IA32_PERF_GLOBAL_CTRL: 0x2c04,
  HOST_IA32_PKRS: 0x2c06,
  // 32-bit control fields (B.3.1)
  PIN_BASED_VM_EXEC_CONTROL: 0x4000,
  CPU_BASED_VM_EXEC_CONTROL: 0x4002,
  EXCEPTION_BITMAP: 0x4004,
  PAGE_FAULT_ERROR_CODE_MASK: 0x4006,
  PAGE_FAULT_ERROR_CODE_MATCH: 0x4008,
  CR3_TARGET_COUNT: 0x400a,
  VM_EXIT_CONTROLS: 0x400c,
  VM_EXIT_MSR_STORE_COUNT: 0x400e,
  VM_EXIT_MSR_LOAD_COUNT: 0x4010,
  VM_ENTRY_CONTROLS: 0x4012,
  VM_ENTRY_MSR_LOAD_COUNT: 0x4014,
  VM_ENTRY_INTR_INFO_FIELD: 0x4016,
  VM_ENTRY_EXCEPTION_ERROR_CODE: 0x4018,
  VM_ENTRY_INSTRUCTION_LEN: 0x401a,
  TPR_THRESHOLD: 0x401c,
  SECONDARY_VM_EXEC_CONTROL: 0x401e,
  PLE_GAP: 0x4020,
  PLE_WINDOW: 0x4022,
  NOTIFY_WINDOW: 0x4024,
  // 32-bit read-only data fields (B.3.2)
  VM_INSTRUCTION_ERROR: 0x4400,
  VM_EXIT_REASON: 0x4402,
  VM_EXIT_INTR_INFO: 0x4404,
  VM_EXIT_INTR_ERROR_CODE: 0x4406,
  IDT_VECTORING_INFO_FIELD: 0x4408,
  IDT_VECTORING_ERROR_CODE: 0x440a,
  VM_EXIT_INSTRUCTION_LEN: 0x440c,
  VMX_INSTRUCTION_INFO: 0x440e,
  // 32-bit guest-state fields (B.3.3)
  GUEST_ES_LIMIT: 0x4800,
  GUEST_CS_LIMIT: 0x4802,
  GUEST_SS_LIMIT: 0x4804,
  GUEST_DS_LIMIT: 0x4806,
  GUEST_FS_LIMIT: 0x4808,
  GUEST_GS_LIMIT: 0x480a,
  GUEST_LDTR_LIMIT: 0x480c,
  GUEST_TR_LIMIT: 0x480e,
  GUEST_GDTR_LIMIT: 0x4810,
  GUEST_IDTR_LIMIT: 0x4812,
  GUEST_ES_AR_BYTES: 0x4814,
  GUEST_CS_AR_BYTES: 0x4816,
  GUEST_SS_AR_BYTES: 0x4818,
  GUEST_DS_AR_BYTES: 0x481a,
  GUEST_FS_AR_BYTES: 0x481c,
  GUEST_GS_AR_BYTES: 0x481e,
  GUEST_LDTR_AR_BYTES: 0x4820,
  GUEST_TR_AR_BYTES: 0x4822,
  GUEST_INTERRUPTIBILITY_INFO: 0x4824,
  GUEST_ACTIVITY_STATE: 0x4826,
  GUEST_SMBASE: 0x4828,
  GUEST_SYSENTER_CS: 0x482a,
  VMX_PREEMPTION_TIMER_VALUE: 0x482e,
  // 32-bit host-state field (B.3.4)
  HOST_IA32_SYSENTER_CS: 0x4c00,
  // natural-width control fields (B.4.1)
  CR0_GUEST_HOST_MASK: 0x6000,
  CR4_GUEST_HOST_MASK: 0x6002,
  CR0_READ_SHADOW: 0x6004,
  CR4_READ_SHADOW: 0x6006,
  CR3_TARGET_VALUE0: 0x6008,
  CR3_TARGET_VALUE1: 0x600a,
  CR3_TARGET_VALUE2: 0x600c,
  CR3_TARGET_VALUE3: 0x600e,
  // natural-width read-only data fields (B.4.2)
  EXIT_QUALIFICATION: 0x6400,
  IO_RCX: 0x6402,
  IO_RSI: 0x6404,
  IO_RDI: 0x6406,
  IO_RIP: 0x6408,
  GUEST_LINEAR_ADDRESS: 0x640a,
  // natural-width guest-state fields (B.4.3)
  GUEST_CR0: 0x6800,
  GUEST_CR3: 0x6802,
  GUEST_CR4: 0x6804,
  GUEST_ES_BASE: 0x6806,
  GUEST_CS_BASE: 0x6808,
  GUEST_SS_BASE: 0x680a,
  GUEST_DS_BASE: 0x680c,
  GUEST_FS_BASE: 0x680e,
  GUEST_GS_BASE: 0x6810,
  GUEST_LDTR_BASE: 0x6812,
  GUEST_TR_BASE: 0x6814,
  GUEST_GDTR_BASE: 0x6816,
  GUEST_IDTR_BASE: 0x6818,
  GUEST_DR7: 0x681a,
  GUEST_RSP: 0x681c,
  GUEST_RIP: 0x681e,
  GUEST_RFLAGS: 0x6820,
  GUEST_PENDING_DBG_EXCEPTIONS: 0x6822,
  GUEST_SYSENTER_ESP: 0x6824,
  GUEST_SYSENTER_EIP: 0x6826,
  GUEST_S_CET: 0x6828,
  GUEST_SSP: 0x682a,
  GUEST_INTR_SSP_TABLE: 0x682c,
  // natural-width host-state fields (B.4.4)
  HOST_CR0: 0x6c00,
  HOST_CR3: 0x6c02,
  HOST_CR4: 0x6c04,
  HOST_FS_BASE: 0x6c06,
  HOST_GS_BASE: 0x6c08,
  HOST_TR_BASE: 0x6c0a,
  HOST_GDTR_BASE: 0x6c0c,
  HOST_IDTR_BASE: 0x6c0e,
  HOST_IA32_SYSENTER_ESP: 0x6c10,
  HOST_IA32_SYSENTER_EIP: 0x6c12,
  HOST_RSP: 0x6c14,
  HOST_RIP: 0x6c16,
  HOST_S_CET: 0x6c18,
  HOST_SSP: 0x6c1a,
  HOST_INTR_SSP_TABLE: 0x6c1c,
} as const;

export type VmcsFieldName = keyof typeof VMCS_FIELDS;

/** Field width, bits 14:13 of the encoding. */
export const VMCS_FIELD_WIDTH_16 = 0;
export const VMCS_FIELD_WIDTH_64 = 1;
export const VMCS_FIELD_WIDTH_32 = 2;
export const VMCS_FIELD_WIDTH_NATURAL = 3;
export type VmcsFieldWidth = 'u16' | 'u64' | 'u32' | 'natural';

/** Field type, bits 11:10 of the encoding. */
export const VMCS_FIELD_TYPE_CONTROL = 0;
export const VMCS_FIELD_TYPE_READ_ONLY_DATA = 1;
export const VMCS_FIELD_TYPE_GUEST = 2;
export const VMCS_FIELD_TYPE_HOST = 3;
export type VmcsFieldType = 'control' | 'read-only' | 'guest' | 'host';

const WIDTHS: readonly VmcsFieldWidth[] = ['u16', 'u64', 'u32', 'natural'];
const TYPES: readonly VmcsFieldType[] = ['control', 'read-only', 'guest', 'host'];

export interface VmcsFieldEncoding {
  encoding: number;
  /** Bit 0: the upper 32 bits of a 64-bit field. */
  high: boolean;
  index: number;
  type: VmcsFieldType;
  width: VmcsFieldWidth;
}

/** Splits an encoding into its bit fields; does not say whether the field exists. */
export function decodeVmcsFieldEncoding(encoding: number): VmcsFieldEncoding {
  return {
    encoding: encoding >>> 0,
    high: (encoding & 1) !== 0,
    index: (encoding >>> 1) & 0x1ff,
    type: TYPES[(encoding >>> 10) & 3]!,
    width: WIDTHS[(encoding >>> 13) & 3]!,
  };
}

export function vmcsFieldWidthCode(encoding: number): number {
  return (encoding >>> 13) & 3;
}

export function vmcsFieldTypeCode(encoding: number): number {
  return (encoding >>> 10) & 3;
}

const NAME_BY_ENCODING = new Map<number, VmcsFieldName>();
for (const [name, enc] of Object.entries(VMCS_FIELDS) as [VmcsFieldName, number][]) {
  NAME_BY_ENCODING.set(enc, name);
}

/** The SDM/Linux name of a full encoding (`..._HIGH` for the high half of a 64-bit field). */
export function vmcsFieldName(encoding: number): string | undefined {
  const e = encoding >>> 0;
  if (e & 1) {
    const full = NAME_BY_ENCODING.get(e - 1);
    return full !== undefined && vmcsFieldWidthCode(e) === VMCS_FIELD_WIDTH_64 ? `${full}_HIGH` : undefined;
  }
  return NAME_BY_ENCODING.get(e);
}

/**
 * Whether this model's VMCS supports the encoding (a full field it knows, or the high
 * half of a 64-bit one). VMREAD/VMWRITE of anything else fail with error 12.
 */
export function isSupportedVmcsEncoding(encoding: number): boolean {
  if (encoding < 0 || encoding > 0x7fff || !Number.isInteger(encoding)) return false;
  if (encoding & 1) return vmcsFieldWidthCode(encoding) === VMCS_FIELD_WIDTH_64 && NAME_BY_ENCODING.has(encoding - 1);
  return NAME_BY_ENCODING.has(encoding);
}

/** All full encodings, in table order. */
export const VMCS_FIELD_ENCODINGS: readonly number[] = Object.values(VMCS_FIELDS);

/** Highest index (bits 9:1) among all supported encodings: reported in IA32_VMX_VMCS_ENUM. */
export const VMCS_MAX_FIELD_INDEX: number = VMCS_FIELD_ENCODINGS.reduce((m, e) => Math.max(m, (e >>> 1) & 0x1ff), 0);
