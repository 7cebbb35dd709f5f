/**
 * npx tsx tools/bench/linux-profile.ts [qemu-lite options...]: boot a Linux guest
 * in-process (the options are qemu-lite's; COM1 goes to stdout) until the initramfs's
 * shell prompt and report where the wall time went: instructions retired (KVM stats),
 * process CPU seconds, time the run loop slept with every vCPU halted, idle wake-ups,
 * exits by reason, and the guest's printk clock at the prompt. A measuring tool, never
 * asserted. Env: KVMTS_JIT_STATS=1 (compiled-tier counters), KVMTS_PROFILE_RIPS=FILE (guest
 * RIP samples), KVMTS_PROFILE_JIT_DUMP=FILE (the source of each compiled region),
 * KVMTS_PROFILE_STOP_S=N (stop after N s).
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { jitParams, jitStats, uapi } from '@kvmts/kvm-core';
import { parseCommandLine, runMachine, loadAccelModule, type PcMachine, type RunLoop } from '@kvmts/qemu-lite';

const PROMPT = /kvmts:[^\r\n]*# /;

async function main(): Promise<void> {
  const action = parseCommandLine(process.argv.slice(2));
  if (action.kind !== 'run') throw new Error('linux-profile: give qemu-lite run options');
  const cfg = action.config;
  let out = '';
  let loopRef: RunLoop | undefined;
  let machine: PcMachine | undefined;
  let idleMs = 0;
  let idleCalls = 0;
  let done = false;
  let typing = false;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let atPrompt: { wall: number; cpu: number; instr: number; idleMs: number; idleCalls: number } | undefined;
  const instructions = () => (machine?.vcpus ?? []).reduce((n, v) => n + (v.getStats().instructions_retired ?? 0), 0);
  const report = (label: string, wall: number, cpu: number, instr: number, idle: number, calls: number) => {
    process.stderr.write(`${label}: ${wall.toFixed(1)} s wall, ${cpu.toFixed(1)} s CPU, ${(instr / 1e6).toFixed(0)} M instructions `
      + `(${(instr / 1e6 / Math.max(wall - idle / 1000, 1e-9)).toFixed(1)} MIPS of non-idle wall, ${(instr / 1e6 / cpu).toFixed(1)} per CPU s), `
      + `idle ${(idle / 1000).toFixed(1)} s in ${calls} sleeps\n`);
  };
  const timer = setInterval(() => {
    const wall = (performance.now() - t0) / 1000;
    const cu = process.cpuUsage(c0);
    report(`  progress`, wall, (cu.user + cu.system) / 1e6, instructions(), idleMs, idleCalls);
    if (process.env.KVMTS_JIT_STATS === '1') {
      process.stderr.write(`    jit: ${JSON.stringify(jitStats, (_k, v: unknown) => typeof v === 'number' ? Math.round(v) : v)}\n`);
    }
    if ((machine?.vcpus.length ?? 0) > 1 || process.env.KVMTS_PROFILE_TYPE !== undefined) {
      const states = machine!.vcpus.map((v) => `vcpu${v.vcpuId} mp_state ${v.getMpState().mpState} rip 0x${v.getRegs().rip.toString(16)} ${(v.getStats().instructions_retired ?? 0)} instructions`);
      process.stderr.write(`    ${states.join('; ')}\n`);
    }
  }, 10_000);
  // KVMTS_PROFILE_RIPS=FILE: sample every vCPU's RIP each KVMTS_PROFILE_RIPS_MS (default 10)
  // and write 'seconds vcpu rip' lines to FILE at the end (where the guest spends its time).
  const ripFile = process.env.KVMTS_PROFILE_RIPS;
  const ripSamples: string[] = [];
  const sampler = ripFile === undefined ? undefined : setInterval(() => {
    const wall = ((performance.now() - t0) / 1000).toFixed(2);
    for (const v of machine?.vcpus ?? []) ripSamples.push(`${wall} ${v.vcpuId} ${v.getRegs().rip.toString(16)}`);
  }, Number(process.env.KVMTS_PROFILE_RIPS_MS ?? 10));
  // KVMTS_PROFILE_STOP_S: end the run after that many seconds (e.g. under node --cpu-prof).
  // KVMTS_PROFILE_JIT_DUMP=FILE: append the JavaScript of every compiled region, under its RIP.
  const dumpFile = process.env.KVMTS_PROFILE_JIT_DUMP;
  if (dumpFile !== undefined) {
    writeFileSync(dumpFile, '');
    jitParams.onCompile = (rip, source) => appendFileSync(dumpFile, `// ---- region at rip 0x${BigInt.asUintN(64, BigInt(rip)).toString(16)}\n${source}\n`);
  }
  const stopS = Number(process.env.KVMTS_PROFILE_STOP_S ?? 0);
  if (stopS > 0) setTimeout(() => { machine?.events.exit(0, 'KVMTS_PROFILE_STOP_S'); loopRef?.kick(); }, stopS * 1000);
  const module = await loadAccelModule(cfg.accel ?? 'kvm-intel');
  const r = await runMachine({ ...cfg, serial: [{ kind: 'callback', write: (b: Uint8Array) => {
    const s = Buffer.from(b).toString('latin1');
    process.stdout.write(s);
    out += s;
    if (!done && PROMPT.test(out.slice(-200))) {
      done = true;
      const cu = process.cpuUsage(c0);
      atPrompt = { wall: (performance.now() - t0) / 1000, cpu: (cu.user + cu.system) / 1e6, instr: instructions(), idleMs, idleCalls };
      // KVMTS_PROFILE_TYPE: type one command at the prompt and stop at the next prompt.
      const cmd = process.env.KVMTS_PROFILE_TYPE;
      if (cmd !== undefined) {
        machine?.serials[0]?.enqueueRawBytes([...Buffer.from(`${cmd}\n`)]);
        loopRef?.kick();
        out = '';
        typing = true;
        return;
      }
      machine?.events.exit(0, 'prompt');
      loopRef?.kick();
    } else if (typing && PROMPT.test(out.slice(-200))) {
      typing = false;
      const cu = process.cpuUsage(c0);
      report(`command '${process.env.KVMTS_PROFILE_TYPE}' done`, (performance.now() - t0) / 1000, (cu.user + cu.system) / 1e6, instructions(), idleMs, idleCalls);
      machine?.events.exit(0, 'command done');
      loopRef?.kick();
    }
  } }] }, {
    module,
    onMachine: (m, loop) => {
      machine = m;
      loopRef = loop;
      const l = loop as unknown as { idle: () => Promise<void> };
      const idle = l.idle.bind(loop);
      l.idle = async () => {
        const s = performance.now();
        idleCalls++;
        await idle();
        idleMs += performance.now() - s;
      };
    },
    onMachineEnd: (m) => {
      const exits = [...(loopRef?.exitCounts ?? new Map<number, number>())].map(([k, v]) => `${uapi.KVM_EXIT_NAMES[k] ?? k} ${v}`).join(', ');
      process.stderr.write(`\nexits to the VMM: ${exits}\n`);
      for (const v of m.vcpus) process.stderr.write(`vcpu${v.vcpuId}: ${JSON.stringify(v.getStats())}\n`);
    },
  });
  clearInterval(timer);
  if (sampler !== undefined) {
    clearInterval(sampler);
    writeFileSync(ripFile!, ripSamples.join('\n') + '\n');
    process.stderr.write(`${ripSamples.length} RIP samples written to ${ripFile}\n`);
  }
  if (atPrompt) report('shell prompt', atPrompt.wall, atPrompt.cpu, atPrompt.instr, atPrompt.idleMs, atPrompt.idleCalls);
  else process.stderr.write(`no prompt: ${r.reason}\n`);
  const ts = [...out.matchAll(/^\[\s*(\d+\.\d+)\]/gm)].pop();
  if (ts) process.stderr.write(`last printk timestamp ${ts[1]} s\n`);
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
