/* The small runtime freestanding guests share: SCLP console output and formatting. */
#ifndef LIBGUEST_H
#define LIBGUEST_H
typedef unsigned long size_t;
int sclp_service_call(unsigned int cmd, void *sccb);
void sclp_init(void);
void puts_(const char *s);
void putu(unsigned long v);
void putx(unsigned long v);
void putd(long v);
size_t strlen_(const char *s);
void wait_for_ext(void);
/* CPU address of the last emergency signal's sender, -1 before any. */
extern volatile long emergency_from;
/* Program interruptions taken (and the last code), last SVC code. */
extern volatile long pgm_count, pgm_last_code, svc_last_code;
#endif
