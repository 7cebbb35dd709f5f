import { describe, expect, it } from 'vitest';
import { assemble, consoleText, createMachine, runToHlt } from './harness';

describe('engine: real mode', () => {
  it('runs arithmetic, stack, calls and prints through port 0xE9', () => {
    const code = assemble(`
      .code16
      start:
        xor %ax, %ax
        mov %ax, %ss
        mov $0x7000, %sp
        mov $msg, %si
      1: lodsb
        test %al, %al
        jz 2f
        call putc
        jmp 1b
      2: mov $7, %ax
        mov $6, %bx
        mul %bx
        add $('0' - 42 + 'A'), %al
        call putc
        hlt
      putc:
        out %al, $0xe9
        ret
      msg: .asciz "hi "
    `, 0x7c00);
    const m = createMachine(code, 0x7c00);
    const r = runToHlt(m);
    expect(r.name).toBe('HLT');
    expect(consoleText(m)).toBe('hi ' + String.fromCharCode('0'.charCodeAt(0) - 42 + 'A'.charCodeAt(0) + 42));
  });
});
