/*
 * The 16550 UART at COM1 (0x3f8), polled: wait for LSR.THRE, then write THR.
 * Initialised like Linux's 8250 driver: 115200 8N1, FIFOs on, DTR|RTS|OUT2.
 */
#include "processor.h"
#include "serial.h"

#define COM1 0x3f8
#define UART_TX 0
#define UART_DLL 0
#define UART_IER 1
#define UART_DLM 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_LCR_DLAB 0x80
#define UART_LCR_WLEN8 0x03
#define UART_LSR_THRE 0x20

void serial_init(void)
{
	outb(COM1 + UART_IER, 0x00);
	outb(COM1 + UART_LCR, UART_LCR_DLAB);
	outb(COM1 + UART_DLL, 0x01); /* 115200 / 1 */
	outb(COM1 + UART_DLM, 0x00);
	outb(COM1 + UART_LCR, UART_LCR_WLEN8);
	outb(COM1 + UART_FCR, 0x07); /* enable FIFO, clear RX and TX */
	outb(COM1 + UART_MCR, 0x0b);
}

static volatile int serial_lock;

void serial_putc(char c)
{
	while (!(inb(COM1 + UART_LSR) & UART_LSR_THRE))
		cpu_relax();
	outb(COM1 + UART_TX, (u8)c);
}

/* Several vCPUs may print: a spinlock keeps lines whole. */
void console_write(const char *buf, size_t len)
{
	while (__atomic_exchange_n(&serial_lock, 1, __ATOMIC_ACQUIRE))
		cpu_relax();
	for (size_t i = 0; i < len; i++)
		serial_putc(buf[i]);
	__atomic_store_n(&serial_lock, 0, __ATOMIC_RELEASE);
}
