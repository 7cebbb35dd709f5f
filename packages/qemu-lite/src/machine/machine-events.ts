/**
 * What devices and exits ask of the machine (QEMU's qemu_system_*_request): end the VM
 * with a status, reset it, or power it off. The run loop checks the pending request
 * after every exit it dispatches.
 */
export type MachineRequest =
  | { kind: 'exit'; status: number; reason: string }
  | { kind: 'reset'; reason: string };

export class MachineEvents {
  pending: MachineRequest | null = null;

  constructor(private readonly noReboot: boolean) {}

  /** The guest or the host ends the VM with this exit status. */
  exit(status: number, reason: string): void {
    if (this.pending === null || this.pending.kind === 'reset') this.pending = { kind: 'exit', status, reason };
  }

  /** A guest power-off (ACPI S5, KVM_SYSTEM_EVENT_SHUTDOWN): status 0. */
  shutdown(reason: string): void {
    this.exit(0, reason);
  }

  /** A reset (keyboard controller, port 0x92, 0xcf9, triple fault): with -no-reboot, exit 0. */
  reset(reason: string): void {
    if (this.noReboot) this.exit(0, `${reason} (-no-reboot)`);
    else if (this.pending === null) this.pending = { kind: 'reset', reason };
  }
}
