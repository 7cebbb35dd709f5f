import { describe, expect, it } from 'vitest';
import {
  INTERCEPT, SVM_EXIT, SVM_INTERCEPTS, svmCr0WriteExitCode, svmCrExitCode, svmDrExitCode, svmExceptionExitCode,
  svmInterceptExitCode, Vmcb,
} from '@kvmts/kvm-amd';

describe('SVM intercepts', () => {
  it('instruction intercepts use their VMCB bit and exit code', () => {
    const v = new Vmcb();
    expect(svmInterceptExitCode(v, 'CPUID')).toBe(-2); // CPUID is not unconditional on SVM
    v.setIntercept(INTERCEPT.CPUID, true);
    v.setIntercept(INTERCEPT.HLT, true);
    v.setIntercept(INTERCEPT.VMMCALL, true);
    expect(svmInterceptExitCode(v, 'CPUID')).toBe(0x72);
    expect(svmInterceptExitCode(v, 'HLT')).toBe(0x78);
    expect(svmInterceptExitCode(v, 'VMMCALL')).toBe(0x81);
    expect(svmInterceptExitCode(v, 'RDTSC')).toBe(-2);
    // every table entry's bit lies in words 3/4 and its code is a named exit code
    for (const [name, [bit, code]] of Object.entries(SVM_INTERCEPTS)) {
      expect(bit >= 96 && bit < 160, name).toBe(true);
      expect(Object.values(SVM_EXIT)).toContain(code);
    }
  });
  it('exception, CR and DR intercepts', () => {
    const v = new Vmcb();
    v.setIntercept(INTERCEPT.EXCEPTION_OFFSET + 14, true);
    expect(svmExceptionExitCode(v, 14)).toBe(0x4e);
    expect(svmExceptionExitCode(v, 13)).toBe(-2);
    v.setIntercept(INTERCEPT.CR3_WRITE, true);
    expect(svmCrExitCode(v, 3, true)).toBe(0x13);
    expect(svmCrExitCode(v, 3, false)).toBe(-2);
    v.setIntercept(INTERCEPT.DR7_WRITE, true);
    expect(svmDrExitCode(v, 7, true)).toBe(0x37);
    expect(svmDrExitCode(v, 7, false)).toBe(-2);
  });
  it('selective CR0 write: only changes outside TS/MP exit', () => {
    const v = new Vmcb();
    v.setIntercept(INTERCEPT.SELECTIVE_CR0, true);
    expect(svmCr0WriteExitCode(v, 0x80000011, 0x80000019)).toBe(-2); // TS only
    expect(svmCr0WriteExitCode(v, 0x80000011, 0x80000013)).toBe(-2); // MP only
    expect(svmCr0WriteExitCode(v, 0x80000011, 0x00000011)).toBe(SVM_EXIT.CR0_SEL_WRITE); // PG
    v.setIntercept(INTERCEPT.CR0_WRITE, true);
    expect(svmCr0WriteExitCode(v, 0x80000011, 0x80000019)).toBe(SVM_EXIT.WRITE_CR0);
  });
});
