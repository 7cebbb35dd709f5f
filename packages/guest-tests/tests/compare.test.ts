/** The block-wise comparison: known differences excuse only their own blocks, guests and runner. */
import { describe, expect, it } from 'vitest';
import { QEMU_TCG_DIFFERENCES, blockOf, compareOutputs, type KnownDifference } from '../src/compare';
import { commonArgs, matchHostCpu } from '../src/runner';

const ref = ['ex-sse 64-bit', '  addps 1 -> 2', 'addps: n=1 crc=aaaa', '  addps.de 0 f', 'addps.de: n=1 crc=bbbb', 'ex-sse done', ''].join('\n');

describe('compareOutputs', () => {
  it('finds the block of sample and summary lines', () => {
    expect(blockOf('  addps.de 0 f')).toBe('addps.de');
    expect(blockOf('addps.de: n=1 crc=bbbb')).toBe('addps.de');
    expect(blockOf('ex-sse done')).toBe('');
  });

  it('accepts identical output', () => {
    expect(compareOutputs('ex-sse-64', ref, ref, QEMU_TCG_DIFFERENCES)).toMatchObject({ mismatches: [], excused: {} });
  });

  it('excuses a listed block and counts it', () => {
    const act = ref.replace('  addps.de 0 f', '  addps.de 0 0').replace('crc=bbbb', 'crc=cccc');
    const c = compareOutputs('ex-sse-64', ref, act, QEMU_TCG_DIFFERENCES);
    expect(c.mismatches).toEqual([]);
    expect(c.excused).toEqual({ 'sse-mxcsr-de': 2 });
  });

  it('does not excuse an unlisted block', () => {
    const act = ref.replace('crc=aaaa', 'crc=dddd');
    expect(compareOutputs('ex-sse-64', ref, act, QEMU_TCG_DIFFERENCES).mismatches).toEqual([
      { line: 3, reference: 'addps: n=1 crc=aaaa', actual: 'addps: n=1 crc=dddd' },
    ]);
  });

  it('does not excuse a listed block for another guest or without the list', () => {
    const act = ref.replace('crc=bbbb', 'crc=cccc');
    expect(compareOutputs('ex-alu-64', ref, act, QEMU_TCG_DIFFERENCES).mismatches).toHaveLength(1);
    expect(compareOutputs('ex-sse-64', ref, act, []).mismatches).toHaveLength(1);
  });

  it('reports missing and extra lines', () => {
    const short = ref.split('\n').slice(0, 3).join('\n');
    const c = compareOutputs('ex-sse-64', ref, short, QEMU_TCG_DIFFERENCES);
    expect(c.mismatches.map((m) => m.actual)).toContain('<missing>');
    const known: KnownDifference[] = [{ id: 'x', guests: /./, block: /.*/, why: 'test' }];
    // A line in another block than the reference's is never excused, even by a catch-all.
    const shifted = ref.replace('  addps 1 -> 2\n', '');
    expect(compareOutputs('g', ref, shifted, known).mismatches.length).toBeGreaterThan(0);
  });
});

describe('commonArgs', () => {
  it('gives QEMU the machine, kernel, memory, vCPUs, serial on stdio, no reboot, isa-debug-exit', () => {
    const a = commonArgs({ kernel: 'k.elf', smp: 4, memory: 256, append: 'x=1', extraArgs: ['-cpu', 'max'] });
    expect(a.join(' ')).toBe(
      '-machine pc -kernel k.elf -append x=1 -m 256 -smp 4 -display none -vga none -monitor none -serial stdio -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=4 -cpu max',
    );
  });
});

describe('matchHostCpu', () => {
  it('turns off the exerciser features the host lacks', () => {
    const flags = new Set(['popcnt', 'abm', 'movbe', 'bmi1', 'ssse3', 'sse4_1', 'sse4_2']);
    expect(matchHostCpu(['-cpu', 'max'], flags)).toEqual(['-cpu', 'max,-bmi2,-adx']);
    expect(matchHostCpu(['-m', '64'], flags)).toEqual(['-m', '64']);
  });
});
