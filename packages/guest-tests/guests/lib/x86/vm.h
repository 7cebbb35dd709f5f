/* Page-table helpers for 4-level paging (64-bit guests), like kvm-unit-tests' lib/x86/vm.c. */
#ifndef KVMTS_X86_VM_H
#define KVMTS_X86_VM_H
#include "processor.h"

#define PT_PRESENT (1ull << 0)
#define PT_WRITABLE (1ull << 1)
#define PT_USER (1ull << 2)
#define PT_ACCESSED (1ull << 5)
#define PT_DIRTY (1ull << 6)
#define PT_PAGE_SIZE (1ull << 7)
#define PT_NX (1ull << 63)
#define PT_ADDR_MASK 0x000ffffffffff000ull

#ifdef __x86_64__
/* A zeroed 4 KiB page from a static pool (never freed); NULL when the pool is empty. */
void *alloc_page(void);
/* A new PML4 whose entry 0 shares the boot identity map of the low 4 GiB. */
u64 *vm_new_root(void);
/*
 * The entry that maps va at the given level (1 = PTE, 2 = PDE, 3 = PDPTE), allocating the
 * tables above it; NULL if a larger page already maps va or the pool is empty.
 */
u64 *vm_get_entry(u64 *root, ulong va, int level);
/* Map one page of 4 KiB (level 1), 2 MiB (level 2) or 1 GiB (level 3); false on failure. */
bool vm_install(u64 *root, ulong va, u64 phys, u64 flags, int level);
/* Software walk: the physical address va translates to, or -1 if not mapped. */
s64 vm_translate(u64 *root, ulong va);
#endif
#endif
