#!/usr/bin/env node
/**
 * qemu-lite's command line (issue 6 brings the options, machine and devices).
 */
import { QEMU_LITE_VERSION } from './version';

const args = process.argv.slice(2);
if (args.includes('-version') || args.includes('--version')) {
  process.stdout.write(`QEMU-lite emulator version ${QEMU_LITE_VERSION}\n`);
  process.exit(0);
}
process.stderr.write('qemu-lite: the pc machine is not built yet (issue 6)\n');
process.exit(1);
