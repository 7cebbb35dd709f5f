/**
 * qemu-lite -d exits shows each exit in the vendor's terms, as Linux's kvm_exit
 * tracepoint does: on kvm-intel the VMX basic exit reason with its exit qualification, on
 * kvm-amd the SVM exit code with EXITINFO1/EXITINFO2 (vcpu.archIoctl('getExitInfo')).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { QemuLiteRunner, runOptionsFor } from '../src/runner';
import { build, manifest } from './helpers';

const hello = manifest.find((g) => g.name === 'hello-32')!;

/** The kvm_exit line logged just before the KVM_RUN exit for an OUT to the UART's THR. */
function exitBeforeThrWrite(log: string): string {
  const lines = log.split('\n');
  const i = lines.findIndex((l) => /KVM_EXIT_IO out port 0x3f8 size 1 count 1/.test(l));
  expect(i, 'an OUT to 0x3f8 reached userspace').toBeGreaterThan(0);
  return lines[i - 1]!;
}

describe('qemu-lite -d exits: the vendor view of each exit', () => {
  for (const vendor of ['intel', 'amd'] as const) {
    it(`kvm-${vendor}: I/O exits with the ${vendor === 'intel' ? 'VMX qualification' : 'SVM EXITINFO1/2'}`, { timeout: 120_000 }, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'kvmts-trace-'));
      const logfile = join(dir, 'exits.log');
      const b = build(hello);
      const opts = runOptionsFor(hello, b.elf);
      const r = await new QemuLiteRunner(vendor).run({ ...opts, extraArgs: [...(opts.extraArgs ?? []), '-d', 'exits', '-D', logfile] });
      expect(r.status).toBe(hello.exitCode);
      const log = readFileSync(logfile, 'utf8');
      const hw = exitBeforeThrWrite(log);
      if (vendor === 'intel') {
        // Exit qualification (SDM Table 28-5): port in 31:16, size-1 in 2:0, bit 3 = IN.
        expect(hw).toMatch(/kvm_exit: vmx reason EXIT_REASON_IO_INSTRUCTION rip 0x[0-9a-f]+ info1 0x0000000003f80000 /);
        expect(log).toMatch(/kvm_exit: vmx reason EXIT_REASON_EPT_VIOLATION /);
        expect(log).not.toMatch(/SVM_EXIT/);
      } else {
        // EXITINFO1 (APM 15.10.2): port in 31:16, SZ8 bit 4, bit 0 = IN; EXITINFO2 = next RIP.
        const m = /kvm_exit: svm reason SVM_EXIT_IOIO rip 0x([0-9a-f]+) info1 0x0000000003f80010 info2 0x([0-9a-f]{16}) /.exec(hw);
        expect(m, hw).not.toBeNull();
        // RIP stays on the OUT until userspace completes it (complete_fast_pio_out);
        // EXITINFO2 is the next RIP: OUT DX, AL is one byte.
        expect(BigInt(`0x${m![2]}`)).toBe(BigInt(`0x${m![1]}`) + 1n);
        expect(log).toMatch(/kvm_exit: svm reason SVM_EXIT_NPF /);
        expect(log).not.toMatch(/EXIT_REASON_/);
      }
    });
  }
});
