/*
 * printf for guests and host builds: %d %i %u %x %X %o %s %c %p %%, the l / ll / z
 * length modifiers, width, zero padding and left alignment. No floating point: the
 * exercisers print FP results as hex bit patterns.
 */
#include "libc.h"

struct pstream {
	char *buf;
	size_t size;
	size_t pos;
};

static void addch(struct pstream *ps, char c)
{
	if (ps->pos + 1 < ps->size)
		ps->buf[ps->pos] = c;
	ps->pos++;
}

static void print_num(struct pstream *ps, u64 v, unsigned base, bool neg, bool upper,
		      int width, bool zero, bool left)
{
	char tmp[24];
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	int n = 0;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	int len = n + (neg ? 1 : 0);
	if (!left && !zero)
		for (; width > len; width--)
			addch(ps, ' ');
	if (neg)
		addch(ps, '-');
	if (!left && zero)
		for (; width > len; width--)
			addch(ps, '0');
	while (n)
		addch(ps, tmp[--n]);
	if (left)
		for (; width > len; width--)
			addch(ps, ' ');
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct pstream ps = { buf, size, 0 };

	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			addch(&ps, *fmt);
			continue;
		}
		fmt++;
		bool zero = false, left = false;
		int width = 0, lng = 0;
		for (;; fmt++) {
			if (*fmt == '0')
				zero = true;
			else if (*fmt == '-')
				left = true;
			else
				break;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		for (;; fmt++) {
			if (*fmt == 'l')
				lng++;
			else if (*fmt == 'z')
				lng = sizeof(size_t) == 8 ? 2 : 1;
			else
				break;
		}
		u64 v;
		switch (*fmt) {
		case 'd':
		case 'i': {
			s64 sv = lng >= 2 ? va_arg(ap, long long) : lng ? va_arg(ap, long) : va_arg(ap, int);
			print_num(&ps, sv < 0 ? -(u64)sv : (u64)sv, 10, sv < 0, false, width, zero, left);
			break;
		}
		case 'u':
		case 'x':
		case 'X':
		case 'o':
			v = lng >= 2 ? va_arg(ap, unsigned long long) : lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int);
			print_num(&ps, v, *fmt == 'u' ? 10 : *fmt == 'o' ? 8 : 16, false, *fmt == 'X', width, zero, left);
			break;
		case 'p':
			addch(&ps, '0');
			addch(&ps, 'x');
			print_num(&ps, (ulong)va_arg(ap, void *), 16, false, false, width, zero, left);
			break;
		case 'c':
			addch(&ps, (char)va_arg(ap, int));
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			int len = (int)strlen(s);
			if (!left)
				for (; width > len; width--)
					addch(&ps, ' ');
			while (*s)
				addch(&ps, *s++);
			if (left)
				for (; width > len; width--)
					addch(&ps, ' ');
			break;
		}
		case '%':
			addch(&ps, '%');
			break;
		case '\0':
			fmt--;
			break;
		default:
			addch(&ps, '%');
			addch(&ps, *fmt);
			break;
		}
	}
	if (ps.size)
		ps.buf[ps.pos < ps.size ? ps.pos : ps.size - 1] = '\0';
	return (int)ps.pos;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return r;
}

int vprintf(const char *fmt, va_list ap)
{
	char buf[512];
	int r = vsnprintf(buf, sizeof(buf), fmt, ap);
	console_write(buf, (size_t)r < sizeof(buf) ? (size_t)r : sizeof(buf) - 1);
	return r;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vprintf(fmt, ap);
	va_end(ap);
	return r;
}

void puts(const char *s)
{
	console_write(s, strlen(s));
}

static int tests, failures;

void report(bool pass, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	tests++;
	if (!pass)
		failures++;
	printf("%s: %s\n", pass ? "PASS" : "FAIL", buf);
}

int report_summary(void)
{
	printf("SUMMARY: %d tests, %d failures\n", tests, failures);
	return failures ? 1 : 0;
}
