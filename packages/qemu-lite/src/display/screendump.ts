/**
 * Screen dumps: the VGA's picture as a PNG file. `-display png:PATH` writes PATH when the
 * guest stops and whenever qemu-lite gets SIGUSR1; the monitor's `screendump FILE`
 * (QEMU's command) writes any file on demand.
 */
import { renameSync, writeFileSync } from 'node:fs';
import type { VgaCore } from '../devices/vga/vga';
import { encodePng } from './png';
import { renderVga } from './vga-render';

/** Renders the VGA and writes it to `file` as PNG (through a rename, so readers never see half a file). */
export function screendump(vga: VgaCore, file: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, encodePng(renderVga(vga)));
  renameSync(tmp, file);
}

/** The png display backend. */
export class PngDisplay {
  private readonly onSignal = () => this.dump();
  private attached = false;

  constructor(private readonly vga: VgaCore, readonly path: string, private readonly warn: (m: string) => void = () => {}) {}

  dump(): void {
    try {
      screendump(this.vga, this.path);
    } catch (e) {
      this.warn(`-display png: cannot write '${this.path}': ${(e as Error).message}`);
    }
  }

  /** SIGUSR1 writes the screen (the process's listener also keeps Node's inspector off this signal). */
  attachSignal(): void {
    if (this.attached) return;
    process.on('SIGUSR1', this.onSignal);
    this.attached = true;
  }

  /** Writes the final screen and stops listening. */
  close(): void {
    if (this.attached) process.off('SIGUSR1', this.onSignal);
    this.attached = false;
    this.dump();
  }
}
