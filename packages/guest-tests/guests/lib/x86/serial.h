#ifndef KVMTS_X86_SERIAL_H
#define KVMTS_X86_SERIAL_H
void serial_init(void);
void serial_putc(char c);
#endif
