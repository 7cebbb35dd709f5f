/**
 * The interface between the engine (the "silicon") and a vendor's guest-mode controls
 * (kvm-intel's VMCS execution controls, kvm-amd's VMCB intercept vectors).
 *
 * How a vendor drives the engine:
 *   1. Load the guest state into the X86Cpu (registers, segment caches in VMX
 *      access-rights format, CRs, EFER, MSRs, interruptibility, activity state).
 *   2. Optionally queue an event with cpu.injectEvent(...) (VM-entry interruption info /
 *      VMCB EVENTINJ); it is delivered through the IDT before the first instruction.
 *   3. Call cpu.run(budget). The engine executes until something leaves guest mode and
 *      returns one of the ENGINE_EXIT_* codes; details are in cpu.exit (preallocated,
 *      reused for every exit, no allocation).
 *
 * At every potentially intercepted point the engine fills cpu.exit (reason + details)
 * and calls controller.intercept(cpu, cpu.exit). The controller answers from its own
 * controls (exception bitmap, I/O bitmaps, MSR bitmaps, CR masks, ...):
 *   true  -> the engine stops BEFORE executing the instruction (RIP still points at it,
 *            exit.instrLen holds its length) and run() returns exit.reason;
 *   false -> the engine executes the instruction itself, as hardware does when the
 *            control is clear (e.g. an I/O instruction then reaches cpu.ioPort*).
 * Events that always leave the engine (triple fault, MMIO on an unbacked gpa, TDP
 * violation, internal error) are still offered to intercept() first so the vendor
 * can record them, but run() returns regardless of the answer.
 */
import type { X86Cpu } from './cpu';

/** run() ran out of its instruction budget (not an architectural exit). */
export const ENGINE_EXIT_BUDGET = 0;
/** IN/OUT/INS/OUTS: port, size, isIn, isString, isRep, count (for REP, RCX). */
export const ENGINE_EXIT_IO = 1;
export const ENGINE_EXIT_CPUID = 2;
export const ENGINE_EXIT_HLT = 3;
/** RDMSR: msrIndex. */
export const ENGINE_EXIT_RDMSR = 4;
/** WRMSR: msrIndex, valueLo/valueHi (EDX:EAX). */
export const ENGINE_EXIT_WRMSR = 5;
/** MOV to/from CRn, CLTS, LMSW: crNumber, crAccessType, gpr, valueLo/valueHi (the value written). */
export const ENGINE_EXIT_CR_ACCESS = 6;
/** INVLPG: linearAddress. */
export const ENGINE_EXIT_INVLPG = 7;
export const ENGINE_EXIT_RDTSC = 8;
export const ENGINE_EXIT_RDTSCP = 9;
/** VMCALL (0F 01 C1). If not intercepted the engine raises #UD (no VMX in the guest). */
export const ENGINE_EXIT_VMCALL = 10;
/** VMMCALL (0F 01 D9). If not intercepted the engine raises #UD. */
export const ENGINE_EXIT_VMMCALL = 11;
/** An exception about to be delivered: vector, errorCode, hasErrorCode; for #PF linearAddress = CR2 value. */
export const ENGINE_EXIT_EXCEPTION = 12;
/** Interrupt window open (requested with cpu.requestInterruptWindow). */
export const ENGINE_EXIT_INTR_WINDOW = 13;
/** NMI window open (requested with cpu.requestNmiWindow). */
export const ENGINE_EXIT_NMI_WINDOW = 14;
/** An external interrupt is pending from cpu.interruptSource and can be taken. */
export const ENGINE_EXIT_EXTINT = 15;
export const ENGINE_EXIT_PAUSE = 16;
/** XSETBV: ecx (XCR index), valueLo/valueHi. */
export const ENGINE_EXIT_XSETBV = 17;
/** A triple fault: the CPU would shut down (KVM_EXIT_SHUTDOWN). Always leaves. */
export const ENGINE_EXIT_TRIPLE_FAULT = 18;
/** An access to a guest-physical address no memslot covers (or a write to a read-only slot). Always leaves. */
export const ENGINE_EXIT_MMIO = 19;
/** The TDP hook reported a violation (EPT violation / NPF): gpa, linearAddress, tdpQualification. Always leaves. */
export const ENGINE_EXIT_TDP_FAULT = 20;
/** The engine cannot continue (KVM_EXIT_INTERNAL_ERROR); internalMessage says why. Always leaves. */
export const ENGINE_EXIT_INTERNAL_ERROR = 21;
export const ENGINE_EXIT_INVD = 22;
export const ENGINE_EXIT_WBINVD = 23;
export const ENGINE_EXIT_RDPMC = 24;
export const ENGINE_EXIT_MONITOR = 25;
export const ENGINE_EXIT_MWAIT = 26;
/** SHUTDOWN requested by an NMI-less HLT with IF=0 is not an exit; this is for the vendor's forced exits. */
export const ENGINE_EXIT_KICK = 27;
/** GDTR/IDTR/LDTR/TR access (SGDT, SIDT, LGDT, LIDT, SLDT, STR, LLDT, LTR): descriptorInstr. */
export const ENGINE_EXIT_DESCRIPTOR = 28;
/** NMI about to be delivered (VMX NMI exiting). */
export const ENGINE_EXIT_NMI = 29;
export const ENGINE_EXIT_RSM = 30;
export const ENGINE_EXIT_INVLPGA = 31;
/** VMRUN/VMLOAD/VMSAVE/STGI/CLGI/SKINIT/VMX instructions in the guest: opcode in descriptorInstr. */
export const ENGINE_EXIT_VIRT_INSTR = 32;

export const ENGINE_EXIT_NAMES: readonly string[] = [
  'BUDGET', 'IO', 'CPUID', 'HLT', 'RDMSR', 'WRMSR', 'CR_ACCESS', 'INVLPG', 'RDTSC', 'RDTSCP',
  'VMCALL', 'VMMCALL', 'EXCEPTION', 'INTR_WINDOW', 'NMI_WINDOW', 'EXTINT', 'PAUSE', 'XSETBV',
  'TRIPLE_FAULT', 'MMIO', 'TDP_FAULT', 'INTERNAL_ERROR', 'INVD', 'WBINVD', 'RDPMC', 'MONITOR',
  'MWAIT', 'KICK', 'DESCRIPTOR', 'NMI', 'RSM', 'INVLPGA', 'VIRT_INSTR',
];

/** crAccessType values (the VMX exit qualification's "access type", SDM Table 28-3). */
export const CR_ACCESS_MOV_TO_CR = 0;
export const CR_ACCESS_MOV_FROM_CR = 1;
export const CR_ACCESS_CLTS = 2;
export const CR_ACCESS_LMSW = 3;

/** descriptorInstr values. */
export const DESC_SGDT = 0;
export const DESC_SIDT = 1;
export const DESC_LGDT = 2;
export const DESC_LIDT = 3;
export const DESC_SLDT = 4;
export const DESC_STR = 5;
export const DESC_LLDT = 6;
export const DESC_LTR = 7;

/** The details of the exit or intercept check in progress. One instance per X86Cpu, reused. */
export class EngineExit {
  reason = ENGINE_EXIT_BUDGET;
  /** Length of the instruction that caused it (0 for events between instructions). */
  instrLen = 0;
  // I/O
  port = 0;
  size = 0;
  isIn = false;
  isString = false;
  isRep = false;
  /** Address size of a string I/O instruction (16/32/64) and its segment (VCPU_SREG_*). */
  addrSize = 0;
  segment = 0;
  // MSR / XSETBV / CR value
  msrIndex = 0;
  valueLo = 0;
  valueHi = 0;
  // CR access
  crNumber = 0;
  crAccessType = 0;
  gpr = 0;
  // exceptions
  vector = 0;
  errorCode = 0;
  hasErrorCode = false;
  /** Vectoring information: the event whose delivery caused this exit (IDT-vectoring info / EXITINTINFO), valid if >= 0. */
  vectoringVector = -1;
  vectoringType = 0;
  vectoringErrorCode = 0;
  vectoringHasErrorCode = false;
  // memory
  /** #PF CR2 value / INVLPG operand / the linear address of a TDP fault (signed in long mode). */
  linearAddress = 0;
  gpa = 0;
  isWrite = false;
  isFetch = false;
  /** MMIO write data (little-endian bytes, `size` of them). */
  readonly data = new Uint8Array(16);
  /** TDP violation details as the hook reported them. */
  tdpQualification = 0;
  descriptorInstr = 0;
  internalMessage = '';
}

/** The vendor's guest-mode controls. */
export interface GuestModeController {
  /** Should this event exit? cpu.exit holds the reason and its details. */
  intercept(cpu: X86Cpu, exit: EngineExit): boolean;
}

/**
 * Two-dimensional paging (EPT / NPT): translate a guest-physical address to a
 * host-physical address in the VM's memslots' address space. Return the translated
 * address (a number >= 0), or -1 for a violation after filling cpu.exit.tdpQualification.
 * `access`: 0 read, 1 write, 2 fetch. With no hook the gpa is used directly.
 * Call cpu.flushTlb() when the TDP tables change.
 */
export interface TdpHook {
  translate(cpu: X86Cpu, gpa: number, access: number, linearAddress: number, isPageWalk: boolean): number;
}

/** The external-interrupt source (the in-kernel LAPIC/PIC, or KVM_INTERRUPT). */
export interface InterruptSource {
  /** Is an external interrupt pending (INTR asserted)? */
  hasInterrupt(): boolean;
  /** Acknowledge it (INTA): the vector to deliver. */
  acknowledge(): number;
}
