#!/usr/bin/env node
/**
 * qemu-lite's executable: QEMU's command line for the pc machine (see cli-args.ts).
 */
import { cliMain } from './cli-main';

const io = {
  out: (s: string) => process.stdout.write(s),
  err: (s: string) => process.stderr.write(s),
};

cliMain(process.argv.slice(2), io, { stdin: process.stdin, handleSignals: true }).then(
  (status) => {
    // Let stdout drain before exiting with the guest's status.
    process.stdout.write('', () => process.exit(status));
  },
  (e: unknown) => {
    process.stderr.write(`qemu-lite: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
