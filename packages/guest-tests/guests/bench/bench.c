/*
 * The benchmark guest behind `npm run bench`: a fixed integer workload (sieve, CRC-32,
 * memcpy/memset, multiply/divide, calls, quicksort), 32- and 64-bit builds. It prints
 * one checksum per kernel so a run that computes wrong answers cannot pass for a fast
 * one; the host side measures wall time and instructions retired. The command line's
 * `rounds=N` repeats the workload N times (default 4, the test suites' short run):
 * `npm run bench` asks for more, so a MIPS figure covers seconds of guest time, as
 * sustained-speed figures do, rather than a tenth of a second.
 */
#include "libc.h"
#include "x86/setup.h"

#define DEFAULT_ROUNDS 4
#define MAX_ROUNDS 10000

static u8 sieve_buf[65536];
static u32 sort_buf[8192];
static u8 copy_src[16384], copy_dst[16384];

static u32 bench_sieve(void)
{
	u32 count = 0;
	memset(sieve_buf, 1, sizeof(sieve_buf));
	sieve_buf[0] = sieve_buf[1] = 0;
	for (u32 i = 2; i * i < sizeof(sieve_buf); i++)
		if (sieve_buf[i])
			for (u32 j = i * i; j < sizeof(sieve_buf); j += i)
				sieve_buf[j] = 0;
	for (u32 i = 0; i < sizeof(sieve_buf); i++)
		count += sieve_buf[i];
	return count;
}

static u32 bench_crc(void)
{
	u32 crc = 0;
	for (int r = 0; r < 4; r++)
		crc = crc32_update(crc, sieve_buf, sizeof(sieve_buf) / 4);
	return crc;
}

static u32 bench_memcpy(void)
{
	u32 sum = 0;
	for (u32 i = 0; i < sizeof(copy_src); i++)
		copy_src[i] = (u8)(i * 7 + 3);
	for (int r = 0; r < 16; r++) {
		memcpy(copy_dst, copy_src, sizeof(copy_src));
		memset(copy_src, r, 1024);
		sum += copy_dst[(r * 977) % sizeof(copy_dst)];
	}
	return sum;
}

static u64 bench_muldiv(void)
{
	u64 acc = 1;
	u32 a = 0x12345678;
	for (u32 i = 1; i < 20000; i++) {
		a = a * 1103515245u + 12345u;
		acc = acc * 6364136223846793005ull + a;
		acc ^= (acc / (i | 1)) + (a % (i + 7));
	}
	return acc;
}

static u32 __attribute__((noinline)) fib(u32 n)
{
	return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

static void qsort_u32(u32 *a, int lo, int hi)
{
	while (lo < hi) {
		u32 pivot = a[(lo + hi) / 2];
		int i = lo, j = hi;
		while (i <= j) {
			while (a[i] < pivot) i++;
			while (a[j] > pivot) j--;
			if (i <= j) {
				u32 t = a[i]; a[i] = a[j]; a[j] = t;
				i++; j--;
			}
		}
		if (j - lo < hi - i) { qsort_u32(a, lo, j); lo = i; }
		else { qsort_u32(a, i, hi); hi = j; }
	}
}

static u32 bench_qsort(void)
{
	struct lcg g = { 42 };
	u32 h = 0;
	for (u32 i = 0; i < ARRAY_SIZE(sort_buf); i++)
		sort_buf[i] = (u32)(lcg_next(&g) >> 33);
	qsort_u32(sort_buf, 0, ARRAY_SIZE(sort_buf) - 1);
	for (u32 i = 1; i < ARRAY_SIZE(sort_buf); i++)
		if (sort_buf[i - 1] > sort_buf[i])
			return 0;
	for (u32 i = 0; i < ARRAY_SIZE(sort_buf); i += 512)
		h = h * 31 + sort_buf[i];
	return h;
}

/* `rounds=N` from the multiboot command line (flags bit 2), else DEFAULT_ROUNDS. */
static int bench_rounds(void)
{
	struct multiboot_info *mbi = multiboot_info;
	const char *cmd = (mbi->flags & (1u << 2)) ? (const char *)(ulong)mbi->cmdline : "";
	for (const char *p = cmd; *p; p++) {
		if (strncmp(p, "rounds=", 7) != 0)
			continue;
		int n = 0;
		for (p += 7; *p >= '0' && *p <= '9' && n <= MAX_ROUNDS; p++)
			n = n * 10 + (*p - '0');
		return n >= 1 && n <= MAX_ROUNDS ? n : DEFAULT_ROUNDS;
	}
	return DEFAULT_ROUNDS;
}

int main(void)
{
	u32 primes = 0, crc = 0, cp = 0, fb = 0, qs = 0;
	u64 md = 0;
	int rounds = bench_rounds();
	for (int r = 0; r < rounds; r++) {
		primes = bench_sieve();
		crc = bench_crc();
		cp = bench_memcpy();
		md = bench_muldiv();
		fb = fib(22);
		qs = bench_qsort();
	}
	printf("bench: %d rounds\n", rounds);
	printf("bench: sieve %u crc %08x memcpy %u muldiv %016llx fib %u qsort %08x\n",
	       primes, crc, cp, (unsigned long long)md, fb, qs);
	return 0;
}
