/*
 * Bit instructions: bt bts btr btc (register and memory bit strings), bsf bsr, popcnt,
 * lzcnt, tzcnt, bswap, movbe; and (32-bit builds) the BCD adjustments daa das aaa aas
 * aam aad. Features come from CPUID (popcnt, lzcnt, movbe); a missing one prints
 * "skipped", so host and guest must agree on the CPU model.
 * Undefined flags masked (SDM): bt*: OF SF AF PF; bsf/bsr: all but ZF (and the
 * destination for a zero source); lzcnt/tzcnt: OF SF AF PF; daa/das: OF; aaa/aas:
 * OF SF ZF PF; aam/aad: OF AF CF.
 */
#include "exerciser.h"

static bool has_popcnt, has_lzcnt, has_movbe;

static void features(void)
{
	u32 a, b, c, d;
	ex_cpuid(1, 0, &a, &b, &c, &d);
	has_popcnt = (c >> 23) & 1;
	has_movbe = (c >> 22) & 1;
	ex_cpuid(0x80000001, 0, &a, &b, &c, &d);
	has_lzcnt = (c >> 5) & 1;
	printf("features: popcnt=%d lzcnt=%d movbe=%d\n", has_popcnt, has_lzcnt, has_movbe);
}

#define BT(name, insn, T)                                                                       \
	block_begin(&blk, name);                                                                \
	for (int i = 0; i < 100; i++) {                                                         \
		T a = (T)operand(&g, i), r = a;                                                 \
		T bit = (T)(lcg_next(&g) >> 40);                                                \
		ulong fl = (i & 1) ? 0x2 | ARITH : 0x2;                                         \
		asm volatile("push %[f]\n\tpopf\n\t" insn " %[b], %[a]\n\tpushf\n\tpop %[f]"       \
			     : [a] "+r"(r), [f] "+r"(fl) : [b] "r"(bit) : "cc");                        \
		block_add(&blk, "%llx %llx -> %llx %lx", (unsigned long long)a, (unsigned long long)bit, \
			  (unsigned long long)r, fl & (CF | ZF));                                 \
	}                                                                                       \
	block_end(&blk);

static void bt_tests(void)
{
	struct block blk;
	struct lcg g = { 31337 };
	BT("bt_w", "btw", u16) BT("bts_w", "btsw", u16) BT("btr_w", "btrw", u16) BT("btc_w", "btcw", u16)
	BT("bt_l", "btl", u32) BT("bts_l", "btsl", u32) BT("btr_l", "btrl", u32) BT("btc_l", "btcl", u32)
#ifdef __x86_64__
	BT("bt_q", "btq", u64) BT("bts_q", "btsq", u64) BT("btr_q", "btrq", u64) BT("btc_q", "btcq", u64)
#endif
	/* Memory bit strings: a register bit offset reaches outside the addressed dword. */
	static u32 bits[16];
	block_begin(&blk, "bt_mem");
	for (int i = 0; i < 200; i++) {
		long off = (long)(lcg_next(&g) >> 50) % 384 - 128;
		ulong fl = 0x2;
		for (int k = 0; k < 16; k++)
			bits[k] = 0x9e3779b9u * (u32)(k + 1);
		static const char op[4][4] = { "bt", "bts", "btr", "btc" };
		int which = i & 3;
		u32 *base = &bits[8];
		switch (which) {
		case 0: asm volatile("push %[f]\n\tpopf\n\tbtl %k[o], %[m]\n\tpushf\n\tpop %[f]" : [f] "+r"(fl), [m] "+m"(*base) : [o] "r"(off) : "cc", "memory"); break;
		case 1: asm volatile("push %[f]\n\tpopf\n\tbtsl %k[o], %[m]\n\tpushf\n\tpop %[f]" : [f] "+r"(fl), [m] "+m"(*base) : [o] "r"(off) : "cc", "memory"); break;
		case 2: asm volatile("push %[f]\n\tpopf\n\tbtrl %k[o], %[m]\n\tpushf\n\tpop %[f]" : [f] "+r"(fl), [m] "+m"(*base) : [o] "r"(off) : "cc", "memory"); break;
		default: asm volatile("push %[f]\n\tpopf\n\tbtcl %k[o], %[m]\n\tpushf\n\tpop %[f]" : [f] "+r"(fl), [m] "+m"(*base) : [o] "r"(off) : "cc", "memory"); break;
		}
		block_add(&blk, "%s %ld -> %lx crc=%08x", op[which], off, fl & CF, crc32_update(0, bits, sizeof(bits)));
	}
	block_end(&blk);
}

#define SCAN(name, insn, T, mask, skip_zero)                                                      \
	block_begin(&blk, name);                                                                  \
	for (int i = 0; i < 150; i++) {                                                           \
		T a = (T)operand(&g, i), r = (T)0x5a5a5a5a5a5a5a5aull;                            \
		ulong fl = (i & 1) ? 0x2 | ARITH : 0x2;                                           \
		asm volatile("push %[f]\n\tpopf\n\t" insn " %[a], %[r]\n\tpushf\n\tpop %[f]"         \
			     : [r] "+r"(r), [f] "+r"(fl) : [a] "r"(a) : "cc");                            \
		if ((skip_zero) && !a)                                                            \
			r = 0;                                                                    \
		block_add(&blk, "%llx -> %llx %lx", (unsigned long long)a, (unsigned long long)r, fl & (mask)); \
	}                                                                                         \
	block_end(&blk);

static void scan_tests(void)
{
	struct block blk;
	struct lcg g = { 8080 };
	SCAN("bsf_w", "bsfw", u16, ZF, 1) SCAN("bsr_w", "bsrw", u16, ZF, 1)
	SCAN("bsf_l", "bsfl", u32, ZF, 1) SCAN("bsr_l", "bsrl", u32, ZF, 1)
#ifdef __x86_64__
	SCAN("bsf_q", "bsfq", u64, ZF, 1) SCAN("bsr_q", "bsrq", u64, ZF, 1)
#endif
	if (has_popcnt) {
		SCAN("popcnt_w", "popcntw", u16, ARITH, 0) SCAN("popcnt_l", "popcntl", u32, ARITH, 0)
#ifdef __x86_64__
		SCAN("popcnt_q", "popcntq", u64, ARITH, 0)
#endif
	} else {
		printf("popcnt skipped\n");
	}
	if (has_lzcnt) {
		SCAN("lzcnt_w", "lzcntw", u16, CF | ZF, 0) SCAN("lzcnt_l", "lzcntl", u32, CF | ZF, 0)
		SCAN("tzcnt_w", "tzcntw", u16, CF | ZF, 0) SCAN("tzcnt_l", "tzcntl", u32, CF | ZF, 0)
#ifdef __x86_64__
		SCAN("lzcnt_q", "lzcntq", u64, CF | ZF, 0) SCAN("tzcnt_q", "tzcntq", u64, CF | ZF, 0)
#endif
	} else {
		printf("lzcnt skipped\n");
	}

	block_begin(&blk, "bswap");
	for (int i = 0; i < 60; i++) {
		u32 a = (u32)operand(&g, i), r = a;
		asm("bswap %0" : "+r"(r));
#ifdef __x86_64__
		u64 b = operand(&g, i + 1), s = b;
		asm("bswap %0" : "+r"(s));
		block_add(&blk, "%x -> %x %llx -> %llx", a, r, (unsigned long long)b, (unsigned long long)s);
#else
		block_add(&blk, "%x -> %x", a, r);
#endif
	}
	block_end(&blk);

	if (has_movbe) {
		block_begin(&blk, "movbe");
		for (int i = 0; i < 60; i++) {
			u64 m = operand(&g, i);
			u16 w;
			u32 l;
			u64 st = 0;
			asm("movbew %1, %0" : "=r"(w) : "m"(*(u16 *)&m));
			asm("movbel %1, %0" : "=r"(l) : "m"(*(u32 *)&m));
			asm("movbel %1, %0" : "=m"(*(u32 *)&st) : "r"((u32)m));
			block_add(&blk, "%llx -> %x %x %llx", (unsigned long long)m, w, l, (unsigned long long)st);
		}
		block_end(&blk);
	} else {
		printf("movbe skipped\n");
	}
}

#ifndef __x86_64__
#define BCD(name, insn, mask)                                                                  \
	block_begin(&blk, name);                                                               \
	for (int v = 0; v < 256; v++)                                                          \
		for (int f = 0; f < 4; f++) {                                                  \
			ulong fl = 0x2 | ((f & 1) ? CF : 0) | ((f & 2) ? AF : 0);              \
			u32 ax = 0x1200 | v;                                                   \
			asm volatile("push %[f]\n\tpopf\n\t" insn "\n\tpushf\n\tpop %[f]"        \
				     : "+a"(ax), [f] "+r"(fl) :: "cc");                                \
			block_add(&blk, "%x %d -> %x %lx", v, f, ax & 0xffff, fl & (mask));    \
		}                                                                              \
	block_end(&blk);

static void bcd_tests(void)
{
	struct block blk;
	BCD("daa", "daa", ARITH & ~OF)
	BCD("das", "das", ARITH & ~OF)
	BCD("aaa", "aaa", CF | AF)
	BCD("aas", "aas", CF | AF)
	BCD("aam10", "aam", SF | ZF | PF)
	BCD("aam7", "aam $7", SF | ZF | PF)
	BCD("aad10", "aad", SF | ZF | PF)
	BCD("aad7", "aad $7", SF | ZF | PF)
}
#endif

int main(void)
{
	printf("ex-bits %d-bit\n", (int)sizeof(long) * 8);
	features();
	bt_tests();
	scan_tests();
#ifndef __x86_64__
	bcd_tests();
#endif
	printf("ex-bits done\n");
	return 0;
}
