/**
 * The VGA's linear framebuffer is a KVM memory slot with KVM_MEM_LOG_DIRTY_PAGES: the
 * guest's stores land at memory speed, and KVM_GET_DIRTY_LOG (through EPT/NPT write
 * protection) tells exactly which framebuffer pages the guest wrote. In-process run of the
 * VGA guest on each vendor; the log is read when the guest stops.
 */
import { kvmAmd } from '@kvmts/kvm-amd';
import { kvmIntel } from '@kvmts/kvm-intel';
import type { KvmModule } from '@kvmts/kvm-core';
import { runMachine } from '@kvmts/qemu-lite';
import { describe, expect, it } from 'vitest';
import { build, manifest } from './helpers';

const entry = manifest.find((g) => g.name === 'vga-64')!;

describe('VGA framebuffer dirty log', () => {
  for (const [name, module] of [['kvm-intel', kvmIntel], ['kvm-amd', kvmAmd]] as const) {
    it(`640x480x32: exactly the 300 framebuffer pages the guest drew are dirty (${name})`, { timeout: 180_000 }, async () => {
      let log: Uint8Array | null = null;
      let second: Uint8Array | null = null;
      const serial: number[] = [];
      const r = await runMachine({
        kernel: build(entry).elf, append: 'bpp=32', noReboot: true,
        serial: [{ kind: 'callback', write: (b) => serial.push(...b) }],
        devices: [{ driver: 'isa-debug-exit', iobase: 0xf4, iosize: 4 }, { driver: 'VGA' }],
      }, {
        module: module as KvmModule<unknown>,
        onMachineEnd: (m) => {
          log = m.vga!.lfbDirtyLog();
          second = m.vga!.lfbDirtyLog();
        },
      });
      expect(r.status, Buffer.from(serial).toString()).toBe(1);
      const dirty: number[] = [];
      for (let p = 0; p < log!.length * 8; p++) if (log![p >> 3]! & (1 << (p & 7))) dirty.push(p);
      // 640 x 480 x 4 bytes = 300 pages; each holds a border pixel, nothing beyond was written.
      expect(dirty.length).toBe(300);
      expect(dirty[0]).toBe(0);
      expect(dirty.at(-1)).toBe(299);
      // KVM_GET_DIRTY_LOG clears the log: nothing was written since.
      expect(second!.every((b) => b === 0)).toBe(true);
    });
  }
});
