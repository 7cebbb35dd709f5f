/* A first compiled guest: a sieve, CRC-32, string ops and a quicksort, printing
 * through the SCLP console. Expected answers are facts (1229 primes below 10000,
 * CRC-32 of "123456789" is cbf43926). */
#include "libguest.h"

static unsigned char composite[10000];

static int sieve(int n)
{
	int count = 0;
	for (int i = 2; i < n; i++) {
		if (composite[i]) continue;
		count++;
		for (int j = i * i; j < n; j += i) composite[j] = 1;
	}
	return count;
}

static unsigned int crc32(const unsigned char *p, size_t n)
{
	unsigned int crc = 0xffffffff;
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xedb88320 & -(crc & 1));
	}
	return ~crc;
}

static void qsort_(long *a, long lo, long hi)
{
	while (lo < hi) {
		long p = a[(lo + hi) / 2], i = lo, j = hi;
		while (i <= j) {
			while (a[i] < p) i++;
			while (a[j] > p) j--;
			if (i <= j) { long t = a[i]; a[i] = a[j]; a[j] = t; i++; j--; }
		}
		if (j - lo < hi - i) { qsort_(a, lo, j); lo = i; } else { qsort_(a, i, hi); hi = j; }
	}
}

static long arr[1000];

static void reverse(char *s)
{
	size_t n = strlen_(s);
	for (size_t i = 0; i < n / 2; i++) { char t = s[i]; s[i] = s[n - 1 - i]; s[n - 1 - i] = t; }
}

int main(void)
{
	sclp_init();
	puts_("hello from s390x\n");
	puts_("primes below 10000: "); putd(sieve(10000)); puts_("\n");
	puts_("crc32: "); putx(crc32((const unsigned char *)"123456789", 9)); puts_("\n");
	unsigned long seed = 12345;
	for (int i = 0; i < 1000; i++) { seed = seed * 6364136223846793005UL + 1442695040888963407UL; arr[i] = (long)(seed >> 33) - (1L << 30); }
	qsort_(arr, 0, 999);
	int sorted = 1;
	for (int i = 1; i < 1000; i++) if (arr[i - 1] > arr[i]) sorted = 0;
	puts_("sorted: "); putd(sorted); puts_(" min<0: "); putd(arr[0] < 0); puts_("\n");
	char s[32] = "kvmts on s390x";
	reverse(s);
	puts_("reversed: "); puts_(s); puts_("\n");
	puts_("div: "); putd(-1234567890123L / 1000); puts_(" "); putu(18446744073709551615UL / 7); puts_("\n");
	double d = 1.5;
	for (int i = 0; i < 10; i++) d = d * 1.25 + 0.5;
	puts_("fp: "); putd((long)(d * 1000)); puts_("\n");
	return 0;
}
