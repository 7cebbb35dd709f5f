/*
 * Shared by the instruction exercisers. Each exerciser is one source built twice: as a
 * host Linux program (HOST_BUILD, lib/host/start.c) and as a guest (lib/x86). Both print
 * the same text, so the outputs can be compared byte for byte.
 *
 * A "block" is one instruction form: every case is formatted as a line and folded into a
 * CRC-32; the first SAMPLES lines are printed, then "name: n=<cases> crc=<crc>".
 *
 * Everything is built with -mgeneral-regs-only: the compiler never keeps a value in an
 * x87 or XMM register, so inline asm that uses them lists no such clobbers (gcc rejects
 * them for that target anyway).
 *
 * Flags that the SDM/APM call undefined after an instruction are masked out before
 * printing (they differ between CPU generations and emulators); every mask cites which.
 */
#ifndef KVMTS_EXERCISER_H
#define KVMTS_EXERCISER_H

#include "libc.h"

#ifndef SAMPLES
#define SAMPLES 2
#endif

#define CF 0x0001u
#define PF 0x0004u
#define AF 0x0010u
#define ZF 0x0040u
#define SF 0x0080u
#define DF 0x0400u
#define OF 0x0800u
#define ARITH (CF | PF | AF | ZF | SF | OF)

struct block {
	const char *name;
	u32 crc;
	unsigned n;
};

static inline void block_begin(struct block *b, const char *name)
{
	b->name = name;
	b->crc = 0;
	b->n = 0;
}

static void __attribute__((format(printf, 2, 3), unused)) block_add(struct block *b, const char *fmt, ...)
{
	char line[200];
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (len >= (int)sizeof(line))
		len = sizeof(line) - 1;
	b->crc = crc32_update(b->crc, line, (size_t)len);
	if (b->n < SAMPLES)
		printf("  %s %s\n", b->name, line);
	b->n++;
}

static inline void block_end(struct block *b)
{
	printf("%s: n=%u crc=%08x\n", b->name, b->n, b->crc);
}

/* CPUID without processor.h (the host build has no port I/O helpers). */
static inline void ex_cpuid(u32 leaf, u32 sub, u32 *a, u32 *b, u32 *c, u32 *d)
{
	asm volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "0"(leaf), "2"(sub));
}

/* Hand-picked edge values followed by LCG values. */
static const u64 edge_values[] = {
	0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000,
	0xffffffff, 0x100000000ull, 0x7fffffffffffffffull, 0x8000000000000000ull, 0xffffffffffffffffull,
	0x5555555555555555ull, 0xaaaaaaaaaaaaaaaaull, 0x0123456789abcdefull, 0xfedcba9876543210ull,
};
#define N_EDGE ((int)ARRAY_SIZE(edge_values))

static inline u64 operand(struct lcg *g, int i)
{
	if (i < N_EDGE)
		return edge_values[i];
	u64 v = lcg_next(g);
	/* Vary the magnitude: small, medium and full-width values. */
	switch (v & 3) {
	case 0: return v >> 56;
	case 1: return (v >> 8) & 0xffff;
	default: return v ^ (v >> 17);
	}
}

#endif
