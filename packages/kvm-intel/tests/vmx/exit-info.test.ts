import { describe, expect, it } from 'vitest';
import {
  decodeCrAccessQualification, decodeExitReason, decodeInterruptionInfo, decodeIoQualification, encodeCrAccessQualification,
  encodeEptViolationQualification, encodeExitReason, encodeInterruptionInfo, encodeIoQualification, vmxExitInfo as X,
} from '@kvmts/kvm-intel';

describe('exit qualifications', () => {
  it('I/O: size-1, direction, string, rep, operand encoding, port', () => {
    // OUT DX, AL to 0x3f8
    expect(encodeIoQualification({ size: 1, in: false, string: false, rep: false, immediate: false, port: 0x3f8 })).toBe(0x03f80000);
    // IN EAX, 0x60 (immediate)
    expect(encodeIoQualification({ size: 4, in: true, string: false, rep: false, immediate: true, port: 0x60 })).toBe(0x0060004b);
    // REP INSW
    const q = encodeIoQualification({ size: 2, in: true, string: true, rep: true, immediate: false, port: 0x1f0 });
    expect(q).toBe(0x01f00039);
    expect(decodeIoQualification(q)).toEqual({ size: 2, in: true, string: true, rep: true, immediate: false, port: 0x1f0 });
  });

  it('CR access: MOV to CR3 from RBX, MOV from CR0, CLTS, LMSW from memory', () => {
    expect(encodeCrAccessQualification({ cr: 3, accessType: X.CR_ACCESS_TYPE_MOV_TO_CR, lmswMemory: false, gpr: 3, lmswSource: 0 })).toBe(0x303);
    expect(encodeCrAccessQualification({ cr: 0, accessType: X.CR_ACCESS_TYPE_MOV_FROM_CR, lmswMemory: false, gpr: 0, lmswSource: 0 })).toBe(0x10);
    expect(encodeCrAccessQualification({ cr: 0, accessType: X.CR_ACCESS_TYPE_CLTS, lmswMemory: false, gpr: 0, lmswSource: 0 })).toBe(0x20);
    const q = encodeCrAccessQualification({ cr: 0, accessType: X.CR_ACCESS_TYPE_LMSW, lmswMemory: true, gpr: 0, lmswSource: 0x1 });
    expect(q).toBe(0x00010070);
    expect(decodeCrAccessQualification(q)).toMatchObject({ accessType: 3, lmswMemory: true, lmswSource: 1 });
  });

  it('EPT violation, DR access, task switch', () => {
    expect(encodeEptViolationQualification({
      read: false, write: true, fetch: false, readable: true, writable: false, executable: true, gvaValid: true, gvaTranslated: true, nmiUnblocking: false,
    })).toBe(0x1aa);
    expect(X.encodeDrAccessQualification({ dr: 7, fromDr: true, gpr: 1 })).toBe(0x117);
    expect(X.encodeTaskSwitchQualification(0x28, X.TASK_SWITCH_GATE)).toBe(0xc0000028);
    expect(X.decodeTaskSwitchQualification(0x40000030)).toEqual({ tssSelector: 0x30, source: X.TASK_SWITCH_IRET });
  });
});

describe('interruption information', () => {
  it('encodes vector, type, error-code valid, NMI unblocking, valid', () => {
    expect(encodeInterruptionInfo(14, X.INTR_TYPE_HARD_EXCEPTION, true)).toBe(0x80000b0e);
    expect(encodeInterruptionInfo(2, X.INTR_TYPE_NMI_INTR, false)).toBe(0x80000202);
    expect(encodeInterruptionInfo(0x30, X.INTR_TYPE_EXT_INTR, false)).toBe(0x80000030);
    expect(encodeInterruptionInfo(3, X.INTR_TYPE_SOFT_EXCEPTION, false, true)).toBe(0x80001603);
    expect(decodeInterruptionInfo(0x80000b0d)).toEqual({ vector: 13, type: 3, errorCodeValid: true, nmiUnblocking: false, valid: true });
    expect(decodeInterruptionInfo(0).valid).toBe(false);
  });
  it('the exit-reason field', () => {
    expect(encodeExitReason(33, true)).toBe(0x80000021);
    expect(decodeExitReason(0x80000022)).toMatchObject({ basic: 34, failedVmEntry: true });
    expect(decodeExitReason(0x1000001e)).toMatchObject({ basic: 30, pendingMtf: true, failedVmEntry: false });
  });
});
