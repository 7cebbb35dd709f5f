/* SCLP console for freestanding s390x guests: WRITE EVENT MASK once, then ASCII
 * console events through WRITE EVENT DATA. */
#include "libguest.h"

struct sccb_header { unsigned short length; unsigned char function_code; unsigned char control_mask[3]; unsigned short response_code; } __attribute__((packed));
struct wem_sccb { struct sccb_header h; unsigned short reserved; unsigned short mask_length; unsigned int masks[4]; } __attribute__((packed));
struct evbuf { unsigned short length; unsigned char type; unsigned char flags; unsigned short reserved; } __attribute__((packed));
struct wed_sccb { struct sccb_header h; struct evbuf ev; char data[256]; } __attribute__((packed, aligned(8)));

static struct wem_sccb wem __attribute__((aligned(4096)));
static struct wed_sccb wed __attribute__((aligned(4096)));

void sclp_init(void)
{
	wem.h.length = sizeof(wem);
	wem.mask_length = 4;
	wem.masks[0] = 0x40;	/* cp receive: ASCII console */
	wem.masks[1] = 0x40;	/* cp send: ASCII console */
	sclp_service_call(0x00780005, &wem);
}

size_t strlen_(const char *s) { size_t n = 0; while (s[n]) n++; return n; }

static void write_chunk(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) wed.data[i] = s[i];
	wed.h.length = sizeof(struct sccb_header) + sizeof(struct evbuf) + n;
	wed.h.response_code = 0;
	wed.ev.length = sizeof(struct evbuf) + n;
	wed.ev.type = 0x1a;
	wed.ev.flags = 0;
	sclp_service_call(0x00760005, &wed);
}

/* Output is line-buffered (as Linux's SCLP console buffers): one SERVC per line or
 * per 200 bytes, not per call. */
static char line[200];
static size_t line_len;

void puts_(const char *s)
{
	for (; *s; s++) {
		line[line_len++] = *s;
		if (*s == '\n' || line_len == sizeof(line)) {
			write_chunk(line, line_len);
			line_len = 0;
		}
	}
}

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
