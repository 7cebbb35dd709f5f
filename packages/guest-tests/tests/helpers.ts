/** Shared by the suites: the manifest, one build per process (cached on disk), the runner matrix. */
import { buildGuest, type BuildResult } from '../src/build';
import { loadManifest, type GuestEntry } from '../src/manifest';
import { runnerMatrix } from '../src/runner';

export const manifest = loadManifest();
export const exercisers = manifest.filter((g) => g.differential);
/**
 * Guests that need host-made images and netdevs (virtio): virtio-devices.test.ts runs them.
 * Every other device guest (uart, rtc, fw-cfg, pci, i8042, ioapic, vga, ac97) brings its
 * devices through its manifest vmmArgs and runs with the system guests.
 */
export const OWN_SUITE_GUESTS: readonly string[] = ['virtio-blk', 'virtio-net'];
export const systemGuests = manifest.filter((g) => !g.differential && !OWN_SUITE_GUESTS.includes(g.name));
export const deviceGuests = manifest.filter((g) => g.groups.includes('devices'));
export const matrix = runnerMatrix();

const built = new Map<string, BuildResult>();
export function build(entry: GuestEntry): BuildResult {
  let r = built.get(entry.name);
  if (!r) {
    r = buildGuest(entry);
    built.set(entry.name, r);
  }
  return r;
}

/** The switch that turns a runner leg on, for the names of skipped suites. */
export const RUNNER_SWITCH = 'KVMTS_GUEST_RUNNERS=qemu,qemu-lite';

/** The known gap of our own stack for this guest on this runner, if any (see the manifest). */
export function knownGap(entry: GuestEntry, runner: { name: string; vendor: string | null }): string | undefined {
  if (!runner.name.startsWith('qemu-lite')) return undefined;
  const gaps = entry.qemuLiteKnownGaps as Partial<Record<string, string>>;
  return gaps.all ?? (runner.vendor ? gaps[runner.vendor] : undefined);
}
