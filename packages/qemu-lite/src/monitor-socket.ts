/**
 * The human monitor on a UNIX socket while the guest runs (QEMU's
 * `-monitor unix:PATH,server=on,wait=off`): each connection gets the banner and a
 * `(qemu) ` prompt per command; `quit` ends the VM, `screendump FILE` dumps the screen.
 */
import { existsSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { monitorCommand, type MonitorTarget } from './monitor';

export class MonitorSocket {
  private readonly server: Server;
  private readonly clients = new Set<Socket>();

  /** `onQuit` ends the VM (the run loop sees the request at its next check). */
  constructor(readonly path: string, target: MonitorTarget, onQuit: () => void) {
    if (existsSync(path)) unlinkSync(path); // a stale socket from an earlier run, as QEMU does
    this.server = createServer((sock) => {
      this.clients.add(sock);
      sock.on('close', () => this.clients.delete(sock));
      sock.on('error', () => sock.destroy());
      sock.write('QEMU-lite monitor - type \'help\' for more information\n(qemu) ');
      const rl = createInterface({ input: sock, terminal: false });
      rl.on('line', (line) => {
        const r = monitorCommand(line, target);
        if (!sock.writable) return;
        sock.write(r.output);
        if (r.result === 'quit') {
          sock.end();
          onQuit();
          return;
        }
        sock.write('(qemu) ');
      });
    });
    this.server.listen(path);
  }

  close(): void {
    for (const c of this.clients) c.destroy();
    this.server.close();
    try {
      unlinkSync(this.path);
    } catch { /* already gone */ }
  }
}
