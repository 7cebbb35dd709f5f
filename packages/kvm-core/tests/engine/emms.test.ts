import { describe, expect, it } from 'vitest';
import { assemble, createMachine, enterLongMode, runToHlt } from './harness';

/**
 * EMMS (0F 77) has no ModRM byte (SDM Vol. 2A). Linux's restore_fpregs_from_fpstate runs
 * `fnclex; emms; fildl (%rdi)` on AMD (X86_BUG_FXSAVE_LEAK): decoding a ModRM for EMMS
 * swallowed FILD's opcode and the leftover 07 was #UD, killing init.
 */
describe('engine: EMMS', () => {
  it('takes two bytes, empties the x87 tags, and the next instruction decodes', () => {
    const code = assemble(`.code64
      lea val(%rip), %rdi
      movq (%rdi), %mm0        # MMX use marks the tags valid
      fnclex
      emms
      fildl (%rdi)            # db 07: right after EMMS
      fistpl 4(%rdi)
      mov 4(%rdi), %ebx
      hlt
      .align 4
    val: .long 42, 0
    `, 0x100000);
    const m = createMachine(code, 0x100000);
    enterLongMode(m);
    m.cpu.rip = 0x100000;
    const r = runToHlt(m);
    expect(r.name).toBe('HLT');
    expect(m.cpu.regs[6]).toBe(42);
  });
});
