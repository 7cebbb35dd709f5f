/**
 * The execution loop: event injection on entry, NMI / interrupt windows and external
 * interrupts at instruction boundaries (honouring STI and MOV SS blocking), one
 * instruction per step, exceptions with the double-fault and triple-fault rules, and
 * the exits to the vendor.
 */
import {
  DB_VECTOR, DF_VECTOR, EVENT_TYPE_EXT_INTR, EVENT_TYPE_HW_EXCEPTION, EVENT_TYPE_NMI, FLAG_IF, FLAG_RF, FLAG_TF, NMI_VECTOR,
  PF_VECTOR,
} from './constants';
import type { X86Cpu } from './cpu';
import { d } from './decoder';
import { replayed, runFast, step } from './execute';
import { EXIT, FAULT } from './fault';
import {
  ENGINE_EXIT_BUDGET, ENGINE_EXIT_EXCEPTION, ENGINE_EXIT_EXTINT, ENGINE_EXIT_INTERNAL_ERROR, ENGINE_EXIT_INTR_WINDOW,
  ENGINE_EXIT_KICK,
  ENGINE_EXIT_MMIO, ENGINE_EXIT_NMI, ENGINE_EXIT_NMI_WINDOW, ENGINE_EXIT_TRIPLE_FAULT,
} from './guest-mode';
import { deliverEvent, makesDoubleFault } from './interrupts';
import { runBlock } from './jit/run-block';
import { jitParams } from './jit/block-cache';

const NO_EXIT = -1;


/**
 * Run until an exit or until `budget` instructions retired. Returns ENGINE_EXIT_*.
 * ENGINE_EXIT_BUDGET with cpu.halted set means the CPU is in the HLT state waiting for
 * an interrupt (HLT not intercepted).
 */
export function runCpu(cpu: X86Cpu, budget: number, emulateOnly = false): number {
  cpu.resetExitReason();
  if (cpu.shutdown) return triple(cpu);
  if (emulateOnly) return emulateOne(cpu);
  if (cpu.injectPending) {
    cpu.injectPending = false;
    cpu.rip += cpu.injectInstrLen;
    const r = deliverWithDoubleFault(cpu, cpu.injectVector, cpu.injectType, cpu.injectErrorCode, cpu.injectHasErrorCode);
    if (r !== NO_EXIT) return r;
  }
  const exit = cpu.exit;
  let n = 0;
  // Look for a compiled block only where blocks start: after a taken branch, a block,
  // an event delivery or an exception (the interpreter's fall-through steps skip the probe).
  let probe = true;
  let afterBlock = false;
  const jit = jitParams.threshold !== 0;
  while (n < budget) {
    if (cpu.kickRequested) {
      cpu.kickRequested = false;
      exit.reason = ENGINE_EXIT_KICK;
      exit.instrLen = 0;
      return ENGINE_EXIT_KICK;
    }
    if (!cpu.stiBlocking && !cpu.movSsBlocking) {
      if (cpu.requestNmiWindow && !cpu.nmiBlocking) {
        exit.reason = ENGINE_EXIT_NMI_WINDOW;
        exit.instrLen = 0;
        return ENGINE_EXIT_NMI_WINDOW;
      }
      if (cpu.nmiPending && !cpu.nmiBlocking) {
        exit.reason = ENGINE_EXIT_NMI;
        exit.instrLen = 0;
        if (cpu.controller.intercept(cpu, exit)) return ENGINE_EXIT_NMI;
        cpu.nmiPending = false;
        cpu.nmiBlocking = true;
        const r = deliverWithDoubleFault(cpu, NMI_VECTOR, EVENT_TYPE_NMI, 0, false);
        if (r !== NO_EXIT) return r;
        probe = true;
        continue;
      }
      if (cpu.flags & FLAG_IF) {
        if (cpu.requestInterruptWindow) {
          exit.reason = ENGINE_EXIT_INTR_WINDOW;
          exit.instrLen = 0;
          return ENGINE_EXIT_INTR_WINDOW;
        }
        const src = cpu.interruptSource;
        if (src !== null && src.hasInterrupt()) {
          exit.reason = ENGINE_EXIT_EXTINT;
          exit.instrLen = 0;
          if (cpu.controller.intercept(cpu, exit)) return ENGINE_EXIT_EXTINT;
          const vector = src.acknowledge();
          const r = deliverWithDoubleFault(cpu, vector & 0xff, EVENT_TYPE_EXT_INTR, 0, false);
          if (r !== NO_EXIT) return r;
          probe = true;
          continue;
        }
      }
    }
    if (cpu.halted) return ENGINE_EXIT_BUDGET;
    if (cpu.insnBreakpoints && !(cpu.flags & FLAG_RF)) {
      // Instruction breakpoints are faults, taken before the instruction (SDM 17.3.1.1);
      // the pushed EFLAGS has RF set so the handler's IRET does not re-trigger it.
      const la = cpu.mode64 ? cpu.rip : (cpu.segBase[1]! + cpu.rip) >>> 0;
      const hit = cpu.matchInsnBreakpoints(la);
      if (hit) {
        cpu.dr[6] = ((cpu.dr[6]! & ~0xf) | hit) >>> 0;
        cpu.flags |= FLAG_RF;
        const r = raiseException(cpu, DB_VECTOR, 0, false);
        if (r !== NO_EXIT) return r;
        probe = true;
        continue;
      }
    }
    const rf = cpu.flags & FLAG_RF;
    const tf = cpu.flags & FLAG_TF;
    cpu.stiBlocking = false;
    cpu.movSsBlocking = false;
    cpu.mmioLogNext = 0;
    try {
      // The compiled tier (jit/) runs whole blocks when nothing per-instruction is armed:
      // single-step, RF, instruction breakpoints, an MMIO read being replayed.
      const k = !probe || (rf | tf) !== 0 || cpu.insnBreakpoints || cpu.mmioLogCount !== 0 ? 0 : runBlock(cpu, budget - n);
      if (k !== 0) {
        cpu.rip = d.ip;
        cpu.instret += k;
        n += k;
        afterBlock = true;
      } else {
        let fast = step(cpu);
        let delta = d.ip - d.ipStart;
        // A block that ended at an instruction it could not compile, or one the interpreter
        // replayed without a fast form (REP STOS in a kernel function's prologue): the code
        // after that instruction may start a block of its own.
        probe = afterBlock || (!fast && replayed) || delta <= 0 || delta > 15;
        afterBlock = false;
        cpu.rip = d.ip;
        cpu.instret++;
        n++;
        // RF lasts for one instruction (one that loads it, like IRET, sets it for the next).
        if (rf) cpu.flags &= ~FLAG_RF;
        if (cpu.mmioLogCount !== 0 && d.ip !== d.ipStart) cpu.mmioLogCount = 0;
        if (fast && (rf | tf) === 0 && !cpu.insnBreakpoints) {
          // A fast form (fast-path.ts) changes nothing the loop head checks (no IF, TF, HLT,
          // kick, interrupt or NMI state): run the next ones straight away, up to the budget,
          // or a pending MMIO write; at a branch target a compiled block may take over.
          let stepNext = false;
          while (fast && n < budget && !cpu.mmioWritePending && cpu.mmioLogCount === 0) {
            if (probe && jit) {
              // A block may start here: enter the compiled tier without going round the loop
              // head when it would do nothing (runBlock asks mayContinue before a block runs).
              const kb = runBlock(cpu, budget - n, true);
              if (kb !== 0) {
                cpu.rip = d.ip;
                cpu.instret += kb;
                n += kb;
                afterBlock = true;
                break;
              }
            }
            if (!stepNext) {
              // The cached fast forms from here on, without a step() each (execute.ts).
              const r = runFast(cpu, budget - n, jit);
              if (r >= 2) {
                const k = r >>> 1;
                cpu.instret += k;
                n += k;
                probe = (r & 1) !== 0;
                // It stopped before an instruction that is not a cached fast form: step() runs it.
                stepNext = !probe;
                continue;
              }
            }
            stepNext = false;
            cpu.mmioLogNext = 0;
            fast = step(cpu);
            delta = d.ip - d.ipStart;
            probe = (!fast && replayed) || delta <= 0 || delta > 15;
            cpu.rip = d.ip;
            cpu.instret++;
            n++;
          }
        }
      }
    } catch (e) {
      cpu.rip = d.ipStart;
      probe = true;
      const retired = cpu.jitRetired;
      if (retired !== 0) {
        // A compiled block faulted or exited after `retired` instructions.
        cpu.jitRetired = 0;
        cpu.instret += retired;
        n += retired;
      }
      if (e === FAULT) {
        cpu.mmioLogCount = 0;
        cpu.mmioWritePending = false;
        const r = raiseException(cpu, cpu.faultVector, cpu.faultErrorCode, cpu.faultHasErrorCode);
        if (r !== NO_EXIT) return r;
        n++;
        continue;
      }
      if (e === EXIT) return exit.reason;
      // A host exception inside the engine is an engine bug; the guest never sees it.
      exit.internalMessage = `host exception: ${e instanceof Error ? `${e.message}\n${e.stack}` : String(e)}`;
      exit.reason = ENGINE_EXIT_INTERNAL_ERROR;
      return ENGINE_EXIT_INTERNAL_ERROR;
    }
    if (cpu.mmioWritePending) {
      cpu.mmioWritePending = false;
      exit.reason = ENGINE_EXIT_MMIO;
      exit.instrLen = 0;
      cpu.controller.intercept(cpu, exit);
      return ENGINE_EXIT_MMIO;
    }
    if (tf) {
      // Single-step trap after the instruction (DR6.BS).
      cpu.dr[6] = (cpu.dr[6]! | 0x4000) >>> 0;
      const r = raiseException(cpu, DB_VECTOR, 0, false);
      if (r !== NO_EXIT) return r;
      probe = true;
    }
  }
  return ENGINE_EXIT_BUDGET;
}

/**
 * Execute exactly the instruction at RIP, taking no interrupts first (the instruction
 * emulator KVM uses after an MMIO or string-I/O exit). Exceptions are delivered (or
 * offered to the controller) as usual. Returns ENGINE_EXIT_BUDGET when it retired.
 */
function emulateOne(cpu: X86Cpu): number {
  const exit = cpu.exit;
  cpu.stiBlocking = false;
  cpu.movSsBlocking = false;
  cpu.mmioLogNext = 0;
  try {
    step(cpu);
    cpu.rip = d.ip;
    cpu.instret++;
    if (cpu.mmioLogCount !== 0 && d.ip !== d.ipStart) cpu.mmioLogCount = 0;
  } catch (e) {
    cpu.rip = d.ipStart;
    if (e === FAULT) {
      cpu.mmioLogCount = 0;
      cpu.mmioWritePending = false;
      const r = raiseException(cpu, cpu.faultVector, cpu.faultErrorCode, cpu.faultHasErrorCode);
      return r !== NO_EXIT ? r : ENGINE_EXIT_BUDGET;
    }
    if (e === EXIT) return exit.reason;
    exit.internalMessage = `host exception: ${e instanceof Error ? `${e.message}\n${e.stack}` : String(e)}`;
    exit.reason = ENGINE_EXIT_INTERNAL_ERROR;
    return ENGINE_EXIT_INTERNAL_ERROR;
  }
  if (cpu.mmioWritePending) {
    cpu.mmioWritePending = false;
    exit.reason = ENGINE_EXIT_MMIO;
    exit.instrLen = 0;
    return ENGINE_EXIT_MMIO;
  }
  return ENGINE_EXIT_BUDGET;
}

/** An exception raised by an instruction: the exception-bitmap check, CR2, then delivery. */
export function raiseException(cpu: X86Cpu, vector: number, errorCode: number, hasErrorCode: boolean): number {
  const e = cpu.exit;
  e.reason = ENGINE_EXIT_EXCEPTION;
  e.vector = vector;
  e.errorCode = errorCode;
  e.hasErrorCode = hasErrorCode;
  e.instrLen = 0;
  e.linearAddress = vector === PF_VECTOR ? cpu.pfAddress : 0;
  if (cpu.controller.intercept(cpu, e)) return ENGINE_EXIT_EXCEPTION;
  if (vector === PF_VECTOR) cpu.cr2 = cpu.pfAddress;
  return deliverWithDoubleFault(cpu, vector, vector === NMI_VECTOR ? EVENT_TYPE_NMI : EVENT_TYPE_HW_EXCEPTION, errorCode, hasErrorCode);
}

/** Deliver an event; faults during delivery combine per SDM Table 6-5 (#DF, then shutdown). */
export function deliverWithDoubleFault(cpu: X86Cpu, vector: number, type: number, errorCode: number, hasErrorCode: boolean): number {
  let v = vector;
  let t = type;
  let ec = errorCode;
  let he = hasErrorCode;
  const savedRip = cpu.rip;
  for (;;) {
    try {
      deliverEvent(cpu, v, t, ec, he);
      return NO_EXIT;
    } catch (err) {
      cpu.rip = savedRip;
      if (err === EXIT) {
        // An exit during delivery (TDP fault on the IDT or stack): the event is the
        // exit's vectoring information, so the vendor can re-inject it (IDT-vectoring info / EXITINTINFO).
        const e = cpu.exit;
        if (e.vectoringVector < 0) {
          e.vectoringVector = v;
          e.vectoringType = t;
          e.vectoringErrorCode = ec;
          e.vectoringHasErrorCode = he;
        }
        return e.reason;
      }
      if (err !== FAULT) {
        cpu.exit.internalMessage = `host exception: ${err instanceof Error ? `${err.message}\n${err.stack}` : String(err)}`;
        cpu.exit.reason = ENGINE_EXIT_INTERNAL_ERROR;
        return ENGINE_EXIT_INTERNAL_ERROR;
      }
      const v2 = cpu.faultVector;
      if (v === DF_VECTOR) return triple(cpu);
      const e = cpu.exit;
      // The second exception is offered to the controller with the first as vectoring information.
      e.vectoringVector = v;
      e.vectoringType = t;
      e.vectoringErrorCode = ec;
      e.vectoringHasErrorCode = he;
      if (makesDoubleFault(v, v2) || (t !== EVENT_TYPE_HW_EXCEPTION && t !== EVENT_TYPE_NMI && false)) {
        v = DF_VECTOR; ec = 0; he = true;
      } else {
        v = v2; ec = cpu.faultErrorCode; he = cpu.faultHasErrorCode;
      }
      t = EVENT_TYPE_HW_EXCEPTION;
      e.reason = ENGINE_EXIT_EXCEPTION;
      e.vector = v;
      e.errorCode = ec;
      e.hasErrorCode = he;
      e.instrLen = 0;
      e.linearAddress = v === PF_VECTOR ? cpu.pfAddress : 0;
      if (cpu.controller.intercept(cpu, e)) return ENGINE_EXIT_EXCEPTION;
      e.vectoringVector = -1;
      if (v === PF_VECTOR) cpu.cr2 = cpu.pfAddress;
    }
  }
}

function triple(cpu: X86Cpu): number {
  cpu.shutdown = true;
  const e = cpu.exit;
  e.reason = ENGINE_EXIT_TRIPLE_FAULT;
  e.instrLen = 0;
  cpu.controller.intercept(cpu, e);
  return ENGINE_EXIT_TRIPLE_FAULT;
}
