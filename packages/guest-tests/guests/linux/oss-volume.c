/*
 * oss-volume: sets the OSS mixer's master and PCM volume (SOUND_MIXER_WRITE_VOLUME and
 * SOUND_MIXER_WRITE_PCM on /dev/mixer), what `aumix -v 100 -w 100` does. ALSA starts a
 * card with its mixer muted (the AC'97 codec's Master and PCM Out mute bits set) and
 * busybox has no mixer tool, so the Linux sound test types this program into the guest.
 *
 * Usage: oss-volume [PERCENT]   (default 100; both channels)
 * Exit status: 0, or 1 when /dev/mixer cannot be opened, 2 when an ioctl fails.
 *
 * A static Linux program without libc (raw system calls), so one source builds for
 * x86_64 and i386 with the plain gcc the tests already use (no multilib libc).
 */

#define O_RDWR 2
/* <linux/soundcard.h>: MIXER_WRITE(dev) = _IOWR('M', dev, int) */
#define SOUND_MIXER_VOLUME 0
#define SOUND_MIXER_PCM 4
#define MIXER_WRITE(dev) (0xc0044d00u | (dev))
#define MIXER_READ(dev) (0x80044d00u | (dev))

#if defined(__x86_64__)
#define NR_write 1
#define NR_open 2
#define NR_ioctl 16
#define NR_exit 60
static long sys3(long nr, long a, long b, long c)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return r;
}
#elif defined(__i386__)
#define NR_exit 1
#define NR_write 4
#define NR_open 5
#define NR_ioctl 54
static long sys3(long nr, long a, long b, long c)
{
	long r;
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
	return r;
}
#else
#error "x86_64 or i386 only"
#endif

static void put(const char *s)
{
	long n = 0;
	while (s[n])
		n++;
	sys3(NR_write, 1, (long)s, n);
}

static void put_num(unsigned v)
{
	char b[12];
	int i = 11;
	b[i] = 0;
	do {
		b[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v && i > 0);
	put(&b[i]);
}

static int run(int argc, char **argv)
{
	unsigned pct = 100;
	if (argc > 1) {
		pct = 0;
		for (const char *p = argv[1]; *p >= '0' && *p <= '9'; p++)
			pct = pct * 10 + (unsigned)(*p - '0');
		if (pct > 100)
			pct = 100;
	}
	long fd = sys3(NR_open, (long)"/dev/mixer", O_RDWR, 0);
	if (fd < 0) {
		put("oss-volume: cannot open /dev/mixer\n");
		return 1;
	}
	static const unsigned devs[] = { SOUND_MIXER_VOLUME, SOUND_MIXER_PCM };
	static const char *const names[] = { "vol", "pcm" };
	for (int i = 0; i < 2; i++) {
		int v = (int)(pct | (pct << 8));
		if (sys3(NR_ioctl, fd, MIXER_WRITE(devs[i]), (long)&v) < 0) {
			put("oss-volume: ioctl failed\n");
			return 2;
		}
		/* The driver answers with what it set (rounded to the codec's steps). */
		if (sys3(NR_ioctl, fd, MIXER_READ(devs[i]), (long)&v) < 0)
			return 2;
		put(names[i]);
		put(" ");
		put_num((unsigned)v & 0xff);
		put(" ");
		put_num(((unsigned)v >> 8) & 0xff);
		put("\n");
	}
	return 0;
}

/* The kernel's initial stack: argc, argv[0..argc-1], NULL, envp... */
__attribute__((used)) static void start_c(long *sp)
{
	int argc = (int)sp[0];
	char **argv = (char **)(sp + 1);
	sys3(NR_exit, run(argc, argv), 0, 0);
	for (;;)
		;
}

#if defined(__x86_64__)
__asm__(".globl _start\n_start:\n\tmov %rsp, %rdi\n\tand $-16, %rsp\n\tcall start_c\n");
#else
__asm__(".globl _start\n_start:\n\tmov %esp, %eax\n\tand $-16, %esp\n\tsub $12, %esp\n\tpush %eax\n\tcall start_c\n");
#endif
