#include "vm.h"

#ifdef __x86_64__
#define POOL_PAGES 64
static u8 pool[POOL_PAGES][4096] __aligned(4096);
static int pool_next;

void *alloc_page(void)
{
	if (pool_next == POOL_PAGES)
		return NULL;
	void *p = pool[pool_next++];
	memset(p, 0, 4096);
	return p;
}

u64 *vm_new_root(void)
{
	extern u64 boot_pml4[];
	u64 *root = alloc_page();
	if (root)
		root[0] = boot_pml4[0];
	return root;
}

static unsigned index_of(ulong va, int level) { return (va >> (12 + 9 * (level - 1))) & 511; }

u64 *vm_get_entry(u64 *root, ulong va, int level)
{
	u64 *table = root;
	for (int l = 4; l > level; l--) {
		u64 *e = &table[index_of(va, l)];
		if (!(*e & PT_PRESENT)) {
			u64 *next = alloc_page();
			if (!next)
				return NULL;
			*e = (ulong)next | PT_PRESENT | PT_WRITABLE | PT_USER;
		} else if (*e & PT_PAGE_SIZE) {
			return NULL;
		}
		table = (u64 *)(ulong)(*e & PT_ADDR_MASK);
	}
	return &table[index_of(va, level)];
}

bool vm_install(u64 *root, ulong va, u64 phys, u64 flags, int level)
{
	u64 *e = vm_get_entry(root, va, level);
	if (!e)
		return false;
	*e = (phys & PT_ADDR_MASK) | flags | PT_PRESENT | (level > 1 ? PT_PAGE_SIZE : 0);
	return true;
}

s64 vm_translate(u64 *root, ulong va)
{
	u64 *table = root;
	for (int l = 4; l >= 1; l--) {
		u64 e = table[index_of(va, l)];
		if (!(e & PT_PRESENT))
			return -1;
		if (l == 1 || (l <= 3 && (e & PT_PAGE_SIZE))) {
			u64 page = 1ull << (12 + 9 * (l - 1));
			return (s64)((e & PT_ADDR_MASK & ~(page - 1)) | (va & (page - 1)));
		}
		table = (u64 *)(ulong)(e & PT_ADDR_MASK);
	}
	return -1;
}
#endif
