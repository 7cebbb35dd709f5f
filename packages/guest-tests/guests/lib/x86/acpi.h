/* Just enough ACPI: RSDP -> RSDT -> FADT (PM1a_CNT, DSDT \_S5) and MADT (CPU count). */
#ifndef KVMTS_X86_ACPI_H
#define KVMTS_X86_ACPI_H
#include "../libc.h"

struct acpi_table_header {
	char signature[4];
	u32 length;
	u8 revision, checksum;
	char oem_id[6], oem_table_id[8];
	u32 oem_revision, asl_compiler_id, asl_compiler_revision;
} __attribute__((packed));

/* Finds the RSDP in the EBDA or the BIOS area 0xe0000-0xfffff; NULL if none. */
const void *acpi_find_rsdp(void);
/* A table by signature ("FACP", "APIC", ...) through the RSDT; NULL if absent. */
const struct acpi_table_header *acpi_find_table(const char *sig);
/* Enabled processor-local-APIC entries of the MADT, or -1 without a MADT. */
int acpi_count_cpus(void);
/*
 * ACPI S5: SLP_TYPa from the DSDT's \_S5 package and SLP_EN written to PM1a_CNT (after
 * enabling ACPI through SMI_CMD if SCI_EN is clear, as Linux does). Returns only if there
 * are no usable tables (or the write did not power off).
 */
void acpi_poweroff(void);
#endif
