/* The libguest interface on Linux: output through write(2). */
#include "libguest.h"

long sys_write(int fd, const void *buf, size_t n);

void sclp_init(void) {}

size_t strlen_(const char *s) { size_t n = 0; while (s[n]) n++; return n; }

void puts_(const char *s) { sys_write(1, s, strlen_(s)); }

void putu(unsigned long v)
{
	char b[24];
	int i = 23;
	b[i] = 0;
	do { b[--i] = '0' + v % 10; v /= 10; } while (v);
	puts_(&b[i]);
}

void putd(long v)
{
	if (v < 0) { puts_("-"); putu(-(unsigned long)v); } else putu(v);
}

void putx(unsigned long v)
{
	char b[24];
	int i = 23;
	b[i] = 0;
	do { b[--i] = "0123456789abcdef"[v & 15]; v >>= 4; } while (v);
	puts_(&b[i]);
}
