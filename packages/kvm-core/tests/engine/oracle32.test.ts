/**
 * 32-bit instruction semantics against the host CPU (a gcc -m32 helper): BCD adjusts,
 * one-byte INC/DEC, SALC and 16-bit forms that only exist or differ outside 64-bit mode.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble, createMachine } from './harness';

/** The helper binary, named by a hash of its sources so an edit rebuilds it. */
const HELPER = join(tmpdir(), `kvmts-oracle-host32-${createHash('sha256').update(['oracle-host32.c', 'oracle-host32.S'].map((f) => readFileSync(join(__dirname, f), 'utf8')).join('')).digest('hex').slice(0, 12)}`);
const CF = 1, PF = 4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800;
const ALL = CF | PF | AF | ZF | SF | OF;

const TEMPLATES: { asm: string; mask: number }[] = [
  { asm: 'daa', mask: CF | AF | SF | ZF | PF },
  { asm: 'das', mask: CF | AF | SF | ZF | PF },
  { asm: 'aaa', mask: CF | AF },
  { asm: 'aas', mask: CF | AF },
  // AL in 1..4 with AF set: AAS's AX - 6 borrows from AH (then AH - 1 again).
  { asm: 'andb $0x13, %al\nsubb $0x0f, %al\naas', mask: CF | AF },
  { asm: 'aam', mask: SF | ZF | PF },
  { asm: 'aam $7', mask: SF | ZF | PF },
  { asm: 'aad', mask: SF | ZF | PF },
  { asm: 'aad $3', mask: SF | ZF | PF },
  { asm: 'addb %bl, %al\ndaa', mask: CF | AF | SF | ZF | PF },
  { asm: 'subb %bl, %al\ndas', mask: CF | AF | SF | ZF | PF },
  { asm: '.byte 0xd6', mask: ALL },
  { asm: 'inc %eax', mask: ALL }, { asm: 'dec %esi', mask: ALL }, { asm: 'incw %dx', mask: ALL },
  { asm: 'addw %bx, %ax', mask: ALL }, { asm: 'sbbw $0x1234, %cx', mask: ALL },
  { asm: 'imulw %bx, %cx', mask: CF | OF }, { asm: 'mulw %bx', mask: CF | OF },
  { asm: 'rclw $3, %si', mask: CF }, { asm: 'rcrb %cl, %dh', mask: 0 },
  { asm: 'cwtl', mask: ALL }, { asm: 'cltd', mask: ALL }, { asm: 'xchgw %ax, %di', mask: ALL },
  { asm: 'lea 0x10(%bx,%si), %ax', mask: ALL }, { asm: 'lea -4(%ebp,%edi,2), %ecx', mask: ALL },
];

let seed = 777;
function rnd(): number {
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return seed;
}

describe('engine: 32-bit instruction semantics vs the host CPU', () => {
  it('matches the host (gcc -m32) on BCD, short INC/DEC, SALC and 16-bit forms', () => {
    if (!existsSync(HELPER)) {
      execFileSync('gcc', ['-m32', '-no-pie', '-O1', '-o', `${HELPER}.${process.pid}`, join(__dirname, 'oracle-host32.c'), join(__dirname, 'oracle-host32.S')]);
  renameSync(`${HELPER}.${process.pid}`, HELPER);
    }
    const bin = assemble('.code32\n' + TEMPLATES.map((t) => `${t.asm}\n.balign 16, 0x90\n`).join(''), 0);
    expect(bin.length).toBe(16 * TEMPLATES.length);
    const PER = 64;
    const cases: { t: number; regs: number[] }[] = [];
    for (let t = 0; t < TEMPLATES.length; t++) {
      for (let k = 0; k < PER; k++) {
        const regs = Array.from({ length: 8 }, () => (rnd() % 4 === 0 ? rnd() & 0xff : rnd()) >>> 0);
        regs[4] = 0;
        regs.push(((rnd() & ALL) | 2) >>> 0);
        cases.push({ t, regs });
      }
    }
    const input = Buffer.alloc(cases.length * (16 + 36));
    cases.forEach((c, i) => {
      input.set(bin.subarray(16 * c.t, 16 * c.t + 16), i * 52);
      c.regs.forEach((v, r) => input.writeUInt32LE(v, i * 52 + 16 + 4 * r));
    });
    const out = execFileSync(HELPER, { input, maxBuffer: 16 << 20 });
    expect(out.length).toBe(cases.length * 36);

    const m = createMachine(new Uint8Array(0), 0x1000);
    const cpu = m.cpu;
    cpu.cr0 = 0x11;
    cpu.segSel[1] = 0x08; cpu.segBase[1] = 0; cpu.segLimit[1] = 0xffffffff; cpu.segAr[1] = 0xc09b;
    for (const s of [0, 2, 3, 4, 5]) { cpu.segSel[s] = 0x10; cpu.segBase[s] = 0; cpu.segLimit[s] = 0xffffffff; cpu.segAr[s] = 0xc093; }
    cpu.updateMode();
    const failures: string[] = [];
    cases.forEach((c, i) => {
      const t = TEMPLATES[c.t]!;
      m.mem.set(bin.subarray(16 * c.t, 16 * c.t + 16), 0x1000);
      m.mem[0x1010] = 0xf4;
      for (let r = 0; r < 8; r++) { cpu.regs[2 * r] = c.regs[r]! | 0; cpu.regs[2 * r + 1] = 0; }
      cpu.regs[8] = 0x80000;
      cpu.flags = c.regs[8]!;
      cpu.rip = 0x1000;
      const reason = cpu.run(100);
      if (reason !== 3) { failures.push(`${t.asm}: exit ${reason}`); return; }
      for (let r = 0; r < 8; r++) {
        if (r === 4) continue;
        const want = out.readUInt32LE(i * 36 + 4 * r);
        if ((cpu.regs[2 * r]! >>> 0) !== want) {
          failures.push(`${t.asm.replace('\n', '; ')} in=${c.regs.map((v) => v.toString(16)).join(',')}: r${r} got ${(cpu.regs[2 * r]! >>> 0).toString(16)} want ${want.toString(16)}`);
          return;
        }
      }
      const wf = out.readUInt32LE(i * 36 + 32) & t.mask;
      const gf = cpu.flags & t.mask;
      if (wf !== gf) failures.push(`${t.asm.replace('\n', '; ')} in=${c.regs.map((v) => v.toString(16)).join(',')}: flags got ${gf.toString(16)} want ${wf.toString(16)}`);
    });
    if (failures.length) console.log(failures.length, 'failures\n' + failures.slice(0, 30).join('\n'));
    expect(failures.slice(0, 10)).toEqual([]);
  });
});
