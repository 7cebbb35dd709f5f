/**
 * The engine <-> FPU/SSE unit contract, end to end: x87 and SSE instructions in a 64-bit
 * guest. Skipped while fpu-sse/ holds only the contract stub (it implements no opcode).
 */
import { describe, expect, it } from 'vitest';
import { isSseOpcode } from '../../src/x86/engine/fpu-sse/index';
import { ENGINE_EXIT_EXCEPTION, ENGINE_EXIT_HLT } from '../../src/x86/engine/guest-mode';
import { assemble, createMachine, enterLongMode } from './harness';

const unitPresent = isSseOpcode(0x0f, 0x58, 0);

describe('engine + FPU/SSE unit', () => {
  it.skipIf(!unitPresent)('runs SSE and x87 arithmetic with memory operands, RIP-relative addressing and immediates', () => {
    const code = assemble(`
      .code64
        movaps a(%rip), %xmm0
        addps b(%rip), %xmm0
        movaps %xmm0, 0x100000
        mov $7, %eax
        cvtsi2sd %eax, %xmm1
        mulsd c(%rip), %xmm1
        cvttsd2si %xmm1, %ebx
        pshufd $0x1b, %xmm0, %xmm2
        movd %xmm2, %ecx
        fninit                    # after RESET FTW=0x5555 (SDM Table 9-1): a full stack until FNINIT
        fld1
        fildl d(%rip)
        faddp
        fistpl 0x100010
        fnstsw %ax
        ucomisd c(%rip), %xmm1
        seta %dl
        hlt
      .p2align 4
      a: .float 1, 2, 3, 4
      b: .float 10, 20, 30, 40
      c: .double 1.5
      d: .long 41
    `, 0x8000);
    const m = createMachine(code, 0x8000);
    enterLongMode(m);
    m.cpu.rip = 0x8000;
    m.cpu.regs[8] = 0x90000;
    m.interceptOverride = (_c, e) => e.reason === ENGINE_EXIT_HLT || e.reason === ENGINE_EXIT_EXCEPTION;
    const r = m.cpu.run(1000);
    expect(r).toBe(ENGINE_EXIT_HLT);
    const f = new Float32Array(m.mem.buffer, 0x100000, 4);
    expect(Array.from(f)).toEqual([11, 22, 33, 44]);
    expect(m.cpu.regs[6]).toBe(10); // (int)(7 * 1.5)
    expect(new Float32Array(new Int32Array([m.cpu.regs[2]!]).buffer)[0]).toBe(44);
    expect(new Int32Array(m.mem.buffer, 0x100010, 1)[0]).toBe(42);
    expect(m.cpu.regs[4]! & 0xff).toBe(1);
  });

  it.skipIf(!unitPresent)('EMMS (0F 77) has no ModRM byte: the next instruction decodes from the following byte', () => {
    // Linux's restore_fpregs_from_fpstate on AMD (X86_BUG_FXSAVE_LEAK): fnclex; emms; fildl.
    const code = assemble(`
      .code64
        lea d(%rip), %rbx
        mov $0x1234, %ebp
        fnclex
        emms
        fildl (%rbx)
        jmp 1f
        .byte 0x22, 0x8d, 0x76, 0x00
      1: fistpl 0x100010
        hlt
      d: .long 41
    `, 0x8000);
    const m = createMachine(code, 0x8000);
    enterLongMode(m);
    m.cpu.rip = 0x8000;
    m.cpu.regs[8] = 0x90000;
    m.interceptOverride = (_c, e) => e.reason === ENGINE_EXIT_HLT || e.reason === ENGINE_EXIT_EXCEPTION;
    expect(m.cpu.run(1000)).toBe(ENGINE_EXIT_HLT);
    expect(m.cpu.regs[10]).toBe(0x1234); // EBP untouched (a swallowed DB byte made "add %ebx, %ebp")
    expect(new Int32Array(m.mem.buffer, 0x100010, 1)[0]).toBe(41);
  });

  it.skipIf(!unitPresent)('CR0.TS gives #NM and CR4.OSFXSR=0 gives #UD for SSE', () => {
    const code = assemble(`.code64\n addps %xmm1, %xmm0\n hlt\n`, 0x8000);
    const m = createMachine(code, 0x8000);
    enterLongMode(m);
    m.cpu.rip = 0x8000;
    m.interceptOverride = (_c, e) => e.reason === ENGINE_EXIT_EXCEPTION || e.reason === ENGINE_EXIT_HLT;
    m.cpu.cr0 |= 8;
    expect(m.cpu.run(10)).toBe(ENGINE_EXIT_EXCEPTION);
    expect(m.cpu.exit.vector).toBe(7);
    m.cpu.cr0 &= ~8;
    m.cpu.cr4 &= ~0x200;
    expect(m.cpu.run(10)).toBe(ENGINE_EXIT_EXCEPTION);
    expect(m.cpu.exit.vector).toBe(6);
  });
});
