/**
 * Character backends for the UARTs (QEMU's chardevs): stdio, a file, an in-process
 * callback, or nothing. Output is buffered and flushed by the run loop, so a guest that
 * prints byte by byte does not cost a system call per byte.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { SerialBackend } from '../config';

export interface CharBackend {
  write(byte: number): void;
  flush(): void;
  close(): void;
}

class BufferedBackend implements CharBackend {
  private buf = new Uint8Array(4096);
  private len = 0;

  constructor(private readonly sink: (bytes: Uint8Array) => void, private readonly onClose: () => void = () => {}) {}

  write(byte: number): void {
    if (this.len === this.buf.length) this.flush();
    this.buf[this.len++] = byte;
    // A newline flushes, so interactive output appears line by line at least.
    if (byte === 0x0a) this.flush();
  }

  flush(): void {
    if (this.len === 0) return;
    this.sink(this.buf.slice(0, this.len));
    this.len = 0;
  }

  close(): void {
    this.flush();
    this.onClose();
  }
}

export function openCharBackend(b: SerialBackend, stdout: (bytes: Uint8Array) => void): CharBackend {
  switch (b.kind) {
    case 'stdio':
      return new BufferedBackend(stdout);
    case 'callback':
      return new BufferedBackend(b.write);
    case 'file': {
      const fd = openSync(b.path, 'w');
      return new BufferedBackend((bytes) => writeSync(fd, bytes), () => closeSync(fd));
    }
    case 'none':
      return { write() {}, flush() {}, close() {} };
  }
}
