/**
 * The x86 execution engine: the "silicon" that kvm-intel and kvm-amd drive.
 *
 *   const cpu = new X86Cpu(vm.memslots, vcpu.regs);   // shares KvmVcpuX86.regs
 *   cpu.controller = { intercept(cpu, exit) { ...VMCS controls / VMCB intercepts... } };
 *   cpu.tdp = eptOrNptWalker;                          // optional two-dimensional paging
 *   cpu.interruptSource = lapic;                       // optional in-kernel irqchip
 *   cpu.injectEvent(vector, EVENT_TYPE_EXT_INTR);      // VM-entry event injection
 *   const reason = cpu.run(budget);                    // ENGINE_EXIT_*, details in cpu.exit
 *
 * The full contract (what exits, when, with which details) is documented in guest-mode.ts.
 * Architectural state: see X86Cpu (cpu.ts). Segment access rights use the VMX format
 * (constants.ts AR_*), so a VMCS guest-state area maps 1:1; state.ts converts to/from
 * the uapi structs (kvm_segment, kvm_dtable) for get/set_sregs.
 *
 * Files: decoder.ts (prefixes, REX, ModRM/SIB/EA, operands), decode-cache.ts (decoded
 * instructions by physical address), fast-path.ts (frequent forms run from the cache),
 * execute.ts (one-byte map),
 * execute-0f.ts (0F map, SSE routing), alu.ts (arithmetic and flags), stack.ts,
 * string-io.ts (string ops, port I/O, I/O bitmap), far.ts (far JMP/CALL/RET, call gates),
 * interrupts.ts (IDT/IVT delivery, TSS/IST stacks, #DF rules, IRET), task.ts (hardware
 * task switches), segments.ts (descriptors, hidden caches), paging.ts (page walk),
 * cpu.ts (state, TLB, memory pipeline, MMIO), system.ts (CRs, DRs, descriptor tables,
 * CPUID, MSRs, SYSCALL/SYSENTER, XSAVE, CMPXCHG8B/16B), msr.ts, cpuid.ts, run.ts (the
 * loop, events, exceptions), fpu-host.ts + fpu-sse/ (the x87/SSE unit's contract).
 *
 * Not implemented (reported as such): data breakpoints (DR0-3 with RW != 0; instruction
 * breakpoints and single-step work), #AC alignment checks, 16-bit TSS task switches, VME/PVI, PAE PDPTE
 * caching at CR3 load (entries are read at walk time), A20 masking, AVX/VEX, SMM.
 * Speed: decoded instructions are cached by physical address (decode-cache.ts) and the most
 * frequent forms run straight from the cache entry (fast-path.ts); hot blocks of them are
 * compiled to JavaScript (jit/compiler.ts), tuned by jitParams.
 */
export { X86Cpu, NO_INTERCEPTS, isCanonical, addSigned64, type EngineTscClock } from './cpu';
export {
  EngineExit, ENGINE_EXIT_NAMES, ENGINE_EXIT_BUDGET, ENGINE_EXIT_IO, ENGINE_EXIT_CPUID, ENGINE_EXIT_HLT,
  ENGINE_EXIT_RDMSR, ENGINE_EXIT_WRMSR, ENGINE_EXIT_CR_ACCESS, ENGINE_EXIT_INVLPG, ENGINE_EXIT_RDTSC,
  ENGINE_EXIT_RDTSCP, ENGINE_EXIT_VMCALL, ENGINE_EXIT_VMMCALL, ENGINE_EXIT_EXCEPTION, ENGINE_EXIT_INTR_WINDOW,
  ENGINE_EXIT_NMI_WINDOW, ENGINE_EXIT_EXTINT, ENGINE_EXIT_PAUSE, ENGINE_EXIT_XSETBV, ENGINE_EXIT_TRIPLE_FAULT,
  ENGINE_EXIT_MMIO, ENGINE_EXIT_TDP_FAULT, ENGINE_EXIT_INTERNAL_ERROR, ENGINE_EXIT_INVD, ENGINE_EXIT_WBINVD,
  ENGINE_EXIT_RDPMC, ENGINE_EXIT_MONITOR, ENGINE_EXIT_MWAIT, ENGINE_EXIT_KICK, ENGINE_EXIT_DESCRIPTOR,
  ENGINE_EXIT_NMI, ENGINE_EXIT_RSM, ENGINE_EXIT_INVLPGA, ENGINE_EXIT_VIRT_INSTR,
  CR_ACCESS_MOV_TO_CR, CR_ACCESS_MOV_FROM_CR, CR_ACCESS_CLTS, CR_ACCESS_LMSW,
  DESC_SGDT, DESC_SIDT, DESC_LGDT, DESC_LIDT, DESC_SLDT, DESC_STR, DESC_LLDT, DESC_LTR,
} from './guest-mode';
export type { GuestModeController, TdpHook, InterruptSource } from './guest-mode';
export { msrRead, msrWrite, msrValue, readTsc } from './msr';
export { writeCr0, writeCr3, writeCr4 } from './system';
export { ACCESS_READ, ACCESS_WRITE, ACCESS_FETCH, MAXPHYADDR } from './paging';
export { defaultCpuid } from './cpuid';
export { jitParams, BlockCache } from './jit/block-cache';
export * as x86Constants from './constants';
export {
  getSegment, setSegment, segmentAr, getDtable, setDtable, getRip, setRip, addrToU64, u64ToAddr,
  getInterruptibility, setInterruptibility,
} from './state';
export {
  EVENT_TYPE_EXT_INTR, EVENT_TYPE_NMI, EVENT_TYPE_HW_EXCEPTION, EVENT_TYPE_SW_INTR, EVENT_TYPE_PRIV_SW_EXCEPTION,
  EVENT_TYPE_SW_EXCEPTION,
} from './constants';
