/**
 * The simulated host kernel: a module registry and /dev/kvm. No global state, so a
 * process can hold several hosts, each with its own vendor module (how tests swap
 * kvm-intel for kvm-amd).
 */
import { z } from 'zod';
import type { KvmArch, KvmArchBackend } from './arch';
import { KvmError } from './errors';
import { Kvm } from './kvm';
import type { KvmModule } from './module';

export interface LsmodEntry {
  readonly name: string;
  /** Users: live VMs created through the module (and modules depending on kvm). */
  readonly refcount: number;
  readonly usedBy: readonly string[];
  readonly params: unknown;
}

interface LoadedModule {
  readonly module: KvmModule<unknown>;
  readonly params: unknown;
  refcount: number;
}

export class Host {
  private readonly modules = new Map<string, LoadedModule>();
  private readonly backends = new Map<KvmArch, KvmArchBackend>();

  /**
   * Load a module: validate its parameters with its zod schema, then run its init.
   * A failed init leaves nothing loaded.
   */
  insmod<P>(module: KvmModule<P>, params?: Partial<P> | Record<string, unknown>): void {
    if (this.modules.has(module.name)) throw new KvmError('EEXIST', `module '${module.name}' is already loaded`);
    const parsed = module.paramsSchema.safeParse(params ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? issue.path.join('.') : 'params';
      throw new KvmError('EINVAL', `${module.name}: parameter ${where}: ${issue?.message ?? 'invalid'}`);
    }
    module.init(this, parsed.data);
    this.modules.set(module.name, { module: module as KvmModule<unknown>, params: parsed.data, refcount: 0 });
  }

  /** Unload a module; EBUSY while a VM created through it is alive, ENOENT if not loaded. */
  rmmod(name: string): void {
    const loaded = this.modules.get(name);
    if (loaded === undefined) throw new KvmError('ENOENT', `module '${name}' is not loaded`);
    if (loaded.refcount > 0) throw new KvmError('EBUSY', `module '${name}' is in use by ${loaded.refcount} VM(s)`);
    loaded.module.exit(this);
    for (const [arch, backend] of this.backends) if (backend.moduleName === name) this.backends.delete(arch);
    this.modules.delete(name);
  }

  /** Loaded modules, with `kvm` (this core, always present) first, as lsmod shows it. */
  lsmod(): LsmodEntry[] {
    const vendors = [...this.modules.keys()];
    const out: LsmodEntry[] = [{ name: 'kvm', refcount: vendors.length, usedBy: vendors, params: {} }];
    for (const [name, m] of this.modules) out.push({ name, refcount: m.refcount, usedBy: [], params: m.params });
    return out;
  }

  /** open("/dev/kvm"). Works with no vendor loaded; creating a VM then fails with ENODEV. */
  open(path: '/dev/kvm' | string): Kvm {
    const p = z.literal('/dev/kvm').safeParse(path);
    if (!p.success) throw new KvmError('ENOENT', `path: ${JSON.stringify(path)} is not a device this host has (only /dev/kvm)`);
    return new Kvm(this);
  }

  // ---- kvm-core internal: used by kvmArchInit / Kvm / Vm ----

  /** @internal */
  registerArch(backend: KvmArchBackend): void {
    const existing = this.backends.get(backend.arch);
    if (existing !== undefined)
      throw new KvmError('EEXIST', `already loaded vendor module '${existing.moduleName}'`);
    this.backends.set(backend.arch, backend);
  }

  /** @internal */
  unregisterArch(arch: KvmArch): void {
    this.backends.delete(arch);
  }

  /** @internal */
  archBackend(arch: KvmArch): KvmArchBackend | undefined {
    return this.backends.get(arch);
  }

  /** @internal */
  archBackends(): KvmArchBackend[] {
    return [...this.backends.values()];
  }

  /** @internal A VM takes a reference on the module whose backend created it. */
  moduleGet(name: string): void {
    const m = this.modules.get(name);
    if (m !== undefined) m.refcount++;
  }

  /** @internal */
  modulePut(name: string): void {
    const m = this.modules.get(name);
    if (m !== undefined && m.refcount > 0) m.refcount--;
  }
}

export function createHost(): Host {
  return new Host();
}

/**
 * Register an architecture backend from a module's init (kvm_init for that arch).
 * EEXIST when another module already provides the architecture.
 */
export function kvmArchInit(host: Host, backend: KvmArchBackend): void {
  host.registerArch(backend);
}

export function kvmArchExit(host: Host, arch: KvmArch): void {
  host.unregisterArch(arch);
}
