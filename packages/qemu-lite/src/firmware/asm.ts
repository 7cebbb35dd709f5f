/**
 * A tiny x86 machine-code emitter for the few firmware routines qemu-lite places in guest
 * memory (IRQ handlers, the boot prologue). Instructions are emitted as their encodings
 * (Intel SDM vol. 2) with labels for short jumps; tests disassemble the result with
 * objdump to check it.
 */
export class Asm {
  private readonly bytes: number[] = [];
  private readonly labels = new Map<string, number>();
  private readonly fixups: { at: number; label: string }[] = [];

  /** Raw bytes (an encoding written out by hand, with the mnemonic in a comment). */
  emit(...b: number[]): this {
    for (const x of b) this.bytes.push(x & 0xff);
    return this;
  }

  imm16(v: number): this {
    return this.emit(v & 0xff, (v >> 8) & 0xff);
  }

  imm32(v: number): this {
    return this.emit(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  }

  label(name: string): this {
    this.labels.set(name, this.bytes.length);
    return this;
  }

  /** A short conditional/unconditional jump (opcode 0x70+cc or 0xEB) to a label. */
  jcc8(opcode: number, label: string): this {
    this.emit(opcode);
    this.fixups.push({ at: this.bytes.length, label });
    return this.emit(0);
  }

  get length(): number {
    return this.bytes.length;
  }

  assemble(): Uint8Array {
    for (const f of this.fixups) {
      const target = this.labels.get(f.label);
      if (target === undefined) throw new Error(`asm: undefined label ${f.label}`);
      const rel = target - (f.at + 1);
      if (rel < -128 || rel > 127) throw new Error(`asm: jump to ${f.label} out of rel8 range`);
      this.bytes[f.at] = rel & 0xff;
    }
    return Uint8Array.from(this.bytes);
  }
}
