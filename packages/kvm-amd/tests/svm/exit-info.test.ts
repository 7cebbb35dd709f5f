import { describe, expect, it } from 'vitest';
import {
  decodeIoioExitInfo1, decodeSvmEvent, encodeCrDrExitInfo1, encodeIoioExitInfo1, encodeNpfExitInfo1, encodeSvmEvent, svmExitInfo as X,
} from '@kvmts/kvm-amd';

describe('EVENTINJ / EXITINTINFO', () => {
  it('vector, type, EV, V', () => {
    expect(encodeSvmEvent(14, X.SVM_EVTINJ_TYPE_EXEPT, true)).toBe(0x80000b0e);
    expect(encodeSvmEvent(2, X.SVM_EVTINJ_TYPE_NMI, false)).toBe(0x80000202);
    expect(encodeSvmEvent(0x20, X.SVM_EVTINJ_TYPE_INTR, false)).toBe(0x80000020);
    expect(encodeSvmEvent(0x80, X.SVM_EVTINJ_TYPE_SOFT, false)).toBe(0x80000480);
    expect(decodeSvmEvent(0x80000b0d)).toEqual({ vector: 13, type: 3, errorCodeValid: true, valid: true });
    expect(decodeSvmEvent(0x0d).valid).toBe(false);
  });
  it('rejects reserved types and non-exception vectors', () => {
    expect(X.checkSvmEventInjection(0x80000500)).toMatch(/reserved/);
    expect(X.checkSvmEventInjection(0x80000700)).toMatch(/reserved/);
    expect(X.checkSvmEventInjection(0x80000302)).toMatch(/vector 2/);
    expect(X.checkSvmEventInjection(0x80000300 | 40)).toMatch(/vector 40/);
    expect(X.checkSvmEventInjection(0x00000500)).toBeUndefined();
    expect(X.checkSvmEventInjection(0x80000306)).toBeUndefined();
  });
});

describe('IOIO EXITINFO1', () => {
  it('OUT DX, AL / IN EAX / REP OUTSW with a segment', () => {
    expect(encodeIoioExitInfo1({ port: 0x3f8, in: false, string: false, rep: false, size: 1, addressSize: 64, segment: 0 })).toBe(0x03f80210);
    expect(encodeIoioExitInfo1({ port: 0x60, in: true, string: false, rep: false, size: 4, addressSize: 32, segment: 0 })).toBe(0x00600141);
    const v = encodeIoioExitInfo1({ port: 0x1f0, in: false, string: true, rep: true, size: 2, addressSize: 16, segment: X.SVM_SEG_DS });
    expect(v).toBe(0x01f00000 | (3 << 10) | 0x80 | 0x20 | 0x8 | 0x4);
    expect(decodeIoioExitInfo1(v)).toEqual({ port: 0x1f0, in: false, string: true, rep: true, size: 2, addressSize: 16, segment: 3 });
  });
});

describe('#NPF and CR/DR decode assists', () => {
  it('error code and bits 32/33', () => {
    expect(encodeNpfExitInfo1({ present: true, write: true, user: true, reserved: false, fetch: false, guestFinal: true, guestPageTable: false })).toEqual([0x7, 0x1]);
    expect(encodeNpfExitInfo1({ present: false, write: false, user: true, reserved: false, fetch: true, guestFinal: false, guestPageTable: true })).toEqual([0x14, 0x2]);
  });
  it('MOV CR: GPR in 3:0 and bit 63', () => {
    expect(encodeCrDrExitInfo1(3, true)).toEqual([3, 0x80000000]);
    expect(encodeCrDrExitInfo1(0, false)).toEqual([0, 0]);
    expect(X.SVM_EXITINFO1_MSR_WRITE).toBe(1);
  });
});
