/**
 * Memory slots (virt/kvm/kvm_main.c: kvm_set_memory_region and friends).
 * Each slot maps a page-aligned guest-physical range onto userspace bytes (a Uint8Array
 * standing in for the mmap'ed region). No copies: the guest and the VMM share the bytes.
 */
import { KvmError } from '../errors';
import {
  KVM_MEM_LOG_DIRTY_PAGES, KVM_MEM_READONLY, KVM_USER_MEM_SLOTS, PAGE_SIZE,
} from '../uapi/kvm';
import type { KvmUserspaceMemoryRegion } from '../uapi/structs';

export const PAGE_SHIFT = 12;
/** Guest-physical addresses are at most 52 bits (MAXPHYADDR). */
export const MAX_GUEST_PHYS_ADDR = 2 ** 52;
const VALID_FLAGS = KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY;

export interface MemorySlot {
  readonly id: number;
  readonly flags: number;
  readonly baseGfn: number;
  readonly npages: number;
  readonly guestPhysAddr: number;
  readonly memorySize: number;
  /** The slot's bytes: exactly memorySize long. */
  readonly hva: Uint8Array;
  /** One bit per page, LSB first (the layout of Linux's unsigned long bitmap). */
  readonly dirtyBitmap: Uint8Array | null;
}

/** How a change to the slot table looks, for listeners (MMU, TLBs, decode caches). */
export type MemslotChange = 'create' | 'delete' | 'move' | 'flags-only';

export class Memslots {
  /** Sorted by guestPhysAddr for lookup. */
  private sorted: MemorySlot[] = [];
  private readonly byId = new Map<number, MemorySlot>();
  private lastHit: MemorySlot | null = null;
  /** Bumped on every change (kvm_memslots.generation); caches compare it. */
  generation = 0;
  private readonly listeners: ((change: MemslotChange, slot: MemorySlot) => void)[] = [];

  onChange(listener: (change: MemslotChange, slot: MemorySlot) => void): void {
    this.listeners.push(listener);
  }

  get(id: number): MemorySlot | undefined {
    return this.byId.get(id);
  }

  all(): readonly MemorySlot[] {
    return this.sorted;
  }

  /** The slot that contains gpa, or undefined (an MMIO address). */
  find(gpa: number): MemorySlot | undefined {
    const hit = this.lastHit;
    if (hit !== null && gpa >= hit.guestPhysAddr && gpa < hit.guestPhysAddr + hit.memorySize) return hit;
    const s = this.sorted;
    let lo = 0;
    let hi = s.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const slot = s[mid]!;
      if (gpa < slot.guestPhysAddr) hi = mid - 1;
      else if (gpa >= slot.guestPhysAddr + slot.memorySize) lo = mid + 1;
      else {
        this.lastHit = slot;
        return slot;
      }
    }
    return undefined;
  }

  /**
   * KVM_SET_USER_MEMORY_REGION. Validates everything first, then applies: a rejected
   * request leaves the table exactly as it was.
   */
  set(region: KvmUserspaceMemoryRegion): void {
    const { slot: id, flags, guestPhysAddr: gpa, memorySize: size, userspaceAddr: hva } = region;
    if (flags & ~VALID_FLAGS) throw new KvmError('EINVAL', `flags: unknown bits 0x${(flags & ~VALID_FLAGS).toString(16)}`);
    if ((id & 0xffff) >= KVM_USER_MEM_SLOTS || id >>> 16 !== 0)
      throw new KvmError('EINVAL', `slot: ${id} is out of range (address space 0, slots 0..${KVM_USER_MEM_SLOTS - 1})`);
    if (size % PAGE_SIZE !== 0) throw new KvmError('EINVAL', `memorySize: 0x${size.toString(16)} is not page aligned`);
    if (gpa % PAGE_SIZE !== 0) throw new KvmError('EINVAL', `guestPhysAddr: 0x${gpa.toString(16)} is not page aligned`);
    if (hva.byteOffset % PAGE_SIZE !== 0) throw new KvmError('EINVAL', 'userspaceAddr: the mapping does not start on a page boundary');
    if (gpa + size > MAX_GUEST_PHYS_ADDR) throw new KvmError('EINVAL', 'guestPhysAddr + memorySize: beyond the 52-bit physical address space');

    const old = this.byId.get(id);
    if (size === 0) {
      if (old === undefined) throw new KvmError('EINVAL', `slot: ${id} does not exist, nothing to delete`);
      this.remove(old);
      this.emit('delete', old);
      return;
    }
    if (hva.length < size) throw new KvmError('EFAULT', `userspaceAddr: the mapping has ${hva.length} bytes, memorySize needs ${size}`);

    let change: MemslotChange = 'create';
    if (old !== undefined) {
      if (old.hva.buffer !== hva.buffer || old.hva.byteOffset !== hva.byteOffset)
        throw new KvmError('EINVAL', `userspaceAddr: slot ${id} cannot change its mapping`);
      if (old.memorySize !== size) throw new KvmError('EINVAL', `memorySize: slot ${id} cannot change size`);
      if ((old.flags ^ flags) & KVM_MEM_READONLY) throw new KvmError('EINVAL', `flags: slot ${id} cannot toggle KVM_MEM_READONLY`);
      change = old.guestPhysAddr !== gpa ? 'move' : 'flags-only';
    }
    if (change !== 'flags-only') {
      for (const other of this.sorted) {
        if (other.id === id) continue;
        if (gpa < other.guestPhysAddr + other.memorySize && other.guestPhysAddr < gpa + size)
          throw new KvmError('EEXIST', `guestPhysAddr: [0x${gpa.toString(16)}, 0x${(gpa + size).toString(16)}) overlaps slot ${other.id}`);
      }
    }

    const npages = size / PAGE_SIZE;
    const wantsLog = (flags & KVM_MEM_LOG_DIRTY_PAGES) !== 0;
    let dirtyBitmap: Uint8Array | null = null;
    if (wantsLog) dirtyBitmap = old?.dirtyBitmap ?? new Uint8Array(Math.ceil(npages / 64) * 8);
    const slot: MemorySlot = {
      id, flags, baseGfn: gpa / PAGE_SIZE, npages, guestPhysAddr: gpa, memorySize: size,
      hva: hva.length === size ? hva : hva.subarray(0, size), dirtyBitmap,
    };
    if (old !== undefined) this.remove(old);
    this.byId.set(id, slot);
    this.sorted.push(slot);
    this.sorted.sort((a, b) => a.guestPhysAddr - b.guestPhysAddr);
    this.generation++;
    this.emit(change, slot);
  }

  /** Mark the page holding gpa dirty if its slot logs dirty pages (mark_page_dirty). */
  markDirty(gpa: number): void {
    const slot = this.find(gpa);
    if (slot?.dirtyBitmap) {
      const rel = Math.floor((gpa - slot.guestPhysAddr) / PAGE_SIZE);
      slot.dirtyBitmap[rel >> 3]! |= 1 << (rel & 7);
    }
  }

  /** KVM_GET_DIRTY_LOG: a copy of the bitmap, then the slot's bitmap is cleared. */
  getDirtyLog(id: number): Uint8Array {
    if ((id & 0xffff) >= KVM_USER_MEM_SLOTS || id >>> 16 !== 0) throw new KvmError('EINVAL', `slot: ${id} is out of range`);
    const slot = this.byId.get(id);
    if (slot === undefined) throw new KvmError('ENOENT', `slot: ${id} does not exist`);
    if (slot.dirtyBitmap === null) throw new KvmError('ENOENT', `slot: ${id} does not log dirty pages (KVM_MEM_LOG_DIRTY_PAGES is not set)`);
    const copy = slot.dirtyBitmap.slice();
    slot.dirtyBitmap.fill(0);
    // Write-protection is re-armed by the listeners (TLBs drop their writable entries).
    this.generation++;
    this.emit('flags-only', slot);
    return copy;
  }

  private remove(slot: MemorySlot): void {
    this.byId.delete(slot.id);
    this.sorted = this.sorted.filter((s) => s !== slot);
    if (this.lastHit === slot) this.lastHit = null;
    this.generation++;
  }

  private emit(change: MemslotChange, slot: MemorySlot): void {
    for (const l of this.listeners) l(change, slot);
  }
}
