/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "engine/bus.h"
#include "engine/error.h"

#include <string.h>

typedef struct {
    uint64_t last_offset, last_value;
    unsigned last_size;
    int resets;
} FakeRegs;

static bool regs_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    FakeRegs *r = opaque;
    if (offset == 0x10) {
        return false; /* a register the device rejects */
    }
    r->last_offset = offset;
    r->last_size = size;
    *value = 0x1122334455667788ull >> (8 * (8 - size)) << 0;
    return true;
}

static bool regs_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    FakeRegs *r = opaque;
    r->last_offset = offset;
    r->last_size = size;
    r->last_value = value;
    return true;
}

static void regs_reset(void *opaque)
{
    ((FakeRegs *)opaque)->resets++;
}

static const VireoDeviceOps regs_ops = {
    .name = "regs",
    .read = regs_read,
    .write = regs_write,
    .reset = regs_reset,
};

static void test_bus_ram_and_rom(void)
{
    g_autoptr(GError) error = NULL;
    VireoBus *bus = vireo_bus_new();
    guint8 *ram = vireo_bus_add_ram(bus, 0x80000000, 1 << 20, &error);
    uint64_t v = 0;
    static const guint8 rom[] = { 0x13, 0x00, 0x00, 0x00 };

    g_assert_no_error(error);
    g_assert_nonnull(ram);
    g_assert_true(vireo_bus_add_rom(bus, "rom", 0x1000, 0x1000, rom, sizeof rom, &error));
    g_assert_no_error(error);

    g_assert_true(vireo_bus_write(bus, 0x80000008, 8, 0x0102030405060708ull));
    g_assert_cmpuint(ram[8], ==, 0x08); /* little-endian */
    g_assert_true(vireo_bus_read(bus, 0x8000000a, 2, &v));
    g_assert_cmpuint(v, ==, 0x0506);
    g_assert_true(vireo_bus_read(bus, 0x1000, 4, &v));
    g_assert_cmpuint(v, ==, 0x13);
    /* ROM is read-only, and not writable through host pointers either. */
    g_assert_false(vireo_bus_write(bus, 0x1000, 4, 0));
    g_assert_null(vireo_bus_host_ptr(bus, 0x1000, 4, true));
    g_assert_nonnull(vireo_bus_host_ptr(bus, 0x1000, 4, false));
    vireo_bus_free(bus);
}

static void test_bus_boundaries(void)
{
    g_autoptr(GError) error = NULL;
    VireoBus *bus = vireo_bus_new();
    const uint64_t base = 0x80000000, size = 1 << 20;
    uint64_t v = 0;
    guint8 buf[16];

    g_assert_nonnull(vireo_bus_add_ram(bus, base, size, &error));
    /* The last byte, and the last aligned word, are reachable. */
    g_assert_true(vireo_bus_write(bus, base + size - 1, 1, 0xaa));
    g_assert_true(vireo_bus_read(bus, base + size - 8, 8, &v));
    g_assert_cmpuint(v >> 56, ==, 0xaa);
    /* One past the end, a word straddling the end, and holes all fail. */
    g_assert_false(vireo_bus_read(bus, base + size, 1, &v));
    g_assert_false(vireo_bus_read(bus, base + size - 4, 8, &v));
    g_assert_false(vireo_bus_write(bus, base + size - 2, 4, 0));
    g_assert_false(vireo_bus_read(bus, 0, 8, &v));
    g_assert_false(vireo_bus_read(bus, G_MAXUINT64, 1, &v));
    g_assert_false(vireo_bus_read(bus, G_MAXUINT64 - 3, 8, &v));
    g_assert_false(vireo_bus_read(bus, base, 3, &v)); /* no 3-byte accesses */
    /* Host pointers and block copies are bounded in the same way. */
    g_assert_nonnull(vireo_bus_host_ptr(bus, base, size, true));
    g_assert_null(vireo_bus_host_ptr(bus, base, size + 1, true));
    g_assert_null(vireo_bus_host_ptr(bus, base + size - 4, G_MAXUINT64, true));
    g_assert_false(vireo_bus_read_block(bus, base + size - 8, buf, sizeof buf, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_MEMORY);
    g_clear_error(&error);
    g_assert_false(vireo_bus_write_block(bus, 0x1000, buf, sizeof buf, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_MEMORY);
    vireo_bus_free(bus);
}

static void test_bus_mmio(void)
{
    g_autoptr(GError) error = NULL;
    VireoBus *bus = vireo_bus_new();
    FakeRegs regs = { 0 };
    uint64_t v = 0;

    g_assert_true(vireo_bus_add_mmio(bus, "regs", 0x10000000, 0x100, &regs_ops, &regs, &error));
    g_assert_true(vireo_bus_write(bus, 0x10000004, 4, 0xdeadbeef));
    g_assert_cmpuint(regs.last_offset, ==, 4);
    g_assert_cmpuint(regs.last_size, ==, 4);
    g_assert_cmphex(regs.last_value, ==, 0xdeadbeef);
    g_assert_true(vireo_bus_read(bus, 0x10000008, 2, &v));
    g_assert_cmpuint(regs.last_offset, ==, 8);
    /* A rejected register and an access running past the region fail. */
    g_assert_false(vireo_bus_read(bus, 0x10000010, 4, &v));
    g_assert_false(vireo_bus_read(bus, 0x100000fc, 8, &v));
    g_assert_null(vireo_bus_host_ptr(bus, 0x10000000, 4, false));
    vireo_bus_reset(bus);
    g_assert_cmpint(regs.resets, ==, 1);
    vireo_bus_free(bus);
}

static void test_bus_overlap(void)
{
    g_autoptr(GError) error = NULL;
    VireoBus *bus = vireo_bus_new();
    FakeRegs regs = { 0 };

    g_assert_true(vireo_bus_add_mmio(bus, "a", 0x1000, 0x1000, &regs_ops, &regs, &error));
    g_assert_false(vireo_bus_add_mmio(bus, "b", 0x1800, 0x1000, &regs_ops, &regs, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
    g_clear_error(&error);
    g_assert_false(vireo_bus_add_mmio(bus, "c", 0x0, 0x1001, &regs_ops, &regs, &error));
    g_clear_error(&error);
    g_assert_false(
        vireo_bus_add_mmio(bus, "wrap", G_MAXUINT64 - 0xff, 0x200, &regs_ops, &regs, &error));
    g_clear_error(&error);
    g_assert_true(vireo_bus_add_mmio(bus, "d", 0x2000, 0x1000, &regs_ops, &regs, &error));
    g_assert_null(vireo_bus_add_ram(bus, 0x80000000, 12345, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
    g_clear_error(&error);
    g_assert_nonnull(vireo_bus_add_ram(bus, 0x80000000, 0x10000, &error));
    g_assert_null(vireo_bus_add_ram(bus, 0x90000000, 0x10000, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
    vireo_bus_free(bus);
}

/* The VmFlags line of the mapping that holds `addr` in /proc/self/smaps,
 * or NULL. */
static char *mapping_flags(const void *addr)
{
    g_autofree char *smaps = NULL;
    g_auto(GStrv) lines = NULL;
    guint64 a = (guint64)(uintptr_t)addr;
    bool inside = false;

    g_assert_true(g_file_get_contents("/proc/self/smaps", &smaps, NULL, NULL));
    lines = g_strsplit(smaps, "\n", -1);
    for (unsigned i = 0; lines[i] != NULL; i++) {
        guint64 start, end;
        char *rest;

        if (g_str_has_prefix(lines[i], "VmFlags:")) {
            if (inside) {
                return g_strdup(lines[i]);
            }
            continue;
        }
        start = g_ascii_strtoull(lines[i], &rest, 16);
        if (rest != lines[i] && *rest == '-') {
            end = g_ascii_strtoull(rest + 1, &rest, 16);
            if (*rest == ' ') {
                inside = start <= a && a < end;
            }
        }
    }
    return NULL;
}

/* RAM counts against the host's commit limit (no MAP_NORESERVE), and more
 * than the host's physical memory is refused before anything is mapped. */
static void test_bus_ram_limits(void)
{
    g_autoptr(GError) error = NULL;
    VireoBus *bus = vireo_bus_new();
    uint64_t host = vireo_host_ram_size();
    guint8 *ram = vireo_bus_add_ram(bus, 0x80000000, 16 << 20, &error);
    g_autofree char *flags = NULL;
    g_auto(GStrv) words = NULL;

    g_assert_no_error(error);
    flags = mapping_flags(ram);
    g_assert_nonnull(flags);
    words = g_strsplit(flags + strlen("VmFlags:"), " ", -1);
    g_assert_true(g_strv_contains((const char *const *)words, "wr"));
    if (g_strv_contains((const char *const *)words, "nr")) {
        g_error("guest RAM is mapped without a reservation: %s", flags);
    }
    vireo_bus_free(bus);

    if (host == 0) {
        g_test_skip("the host does not say how much memory it has");
        return;
    }
    g_assert_true(vireo_bus_check_ram_size(host, &error));
    g_assert_no_error(error);
    g_assert_false(vireo_bus_check_ram_size(host + 4096, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_MEMORY);
    g_assert_nonnull(strstr(error->message, "the host has"));
    g_clear_error(&error);
    bus = vireo_bus_new();
    g_assert_null(vireo_bus_add_ram(bus, 0x80000000, host + 4096, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_MEMORY);
    vireo_bus_free(bus);
}

/* Code is tracked per 64-byte chunk: a write bumps a page's generation
 * only where it touches a chunk marked as code, and the chunks are marked
 * again after such a write clears them. */
static void test_bus_code_chunks(void)
{
    VireoBus *bus = vireo_bus_new();
    GError *error = NULL;
    const uint64_t base = 0x80000000, p1 = base + 0x1000, p2 = base + 0x2000;

    g_assert_nonnull(vireo_bus_add_ram(bus, base, 1 << 20, &error));
    g_assert_no_error(error);
    /* No code anywhere: writes change nothing and report none. */
    g_assert_false(vireo_bus_note_ram_write(bus, p1, 4096));
    g_assert_cmpuint(vireo_bus_code_generation(bus, p1), ==, 0);

    /* Bytes 0x100-0x107 of p1: chunk 4 only. */
    g_assert_cmpuint(vireo_bus_mark_code(bus, p1 + 0x100, 8), ==, 0);
    g_assert_true(*vireo_bus_page_flags(bus, p1) & VIREO_PAGE_CODE);
    g_assert_false(vireo_bus_note_ram_write(bus, p1 + 0x0c0, 0x40)); /* chunk 3 */
    g_assert_false(vireo_bus_note_ram_write(bus, p1 + 0x140, 8));    /* chunk 5 */
    g_assert_cmpuint(vireo_bus_code_generation(bus, p1), ==, 0);
    g_assert_true(*vireo_bus_page_flags(bus, p1) & VIREO_PAGE_CODE);
    /* Two bytes, the last of chunk 3 and the first of chunk 4: a hit,
     * which clears the page's marks. */
    g_assert_true(vireo_bus_note_ram_write(bus, p1 + 0x0ff, 2));
    g_assert_cmpuint(vireo_bus_code_generation(bus, p1), ==, 1);
    g_assert_false(*vireo_bus_page_flags(bus, p1) & VIREO_PAGE_CODE);
    g_assert_false(vireo_bus_note_ram_write(bus, p1 + 0x100, 8));
    g_assert_cmpuint(vireo_bus_code_generation(bus, p1), ==, 1);

    /* Marked again; a write across two pages bumps the page it hits only. */
    g_assert_cmpuint(vireo_bus_mark_code(bus, p1 + 0xfc0, 0x40), ==, 1); /* the last chunk */
    g_assert_cmpuint(vireo_bus_mark_code(bus, p2 + 0x80, 4), ==, 0);
    g_assert_true(vireo_bus_note_ram_write(bus, p1 + 0xff8, 0x10));
    g_assert_cmpuint(vireo_bus_code_generation(bus, p1), ==, 2);
    g_assert_cmpuint(vireo_bus_code_generation(bus, p2), ==, 0);
    g_assert_true(*vireo_bus_page_flags(bus, p2) & VIREO_PAGE_CODE);
    /* A length past the page is clipped to it: the whole rest. */
    g_assert_cmpuint(vireo_bus_mark_code(bus, p2 + 0xf00, 0x10000), ==, 0);
    g_assert_true(vireo_bus_note_ram_write(bus, p2 + 0xffe, 2));
    g_assert_cmpuint(vireo_bus_code_generation(bus, p2), ==, 1);
    vireo_bus_free(bus);
}

int main(int argc, char *argv[])
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/bus/ram-and-rom", test_bus_ram_and_rom);
    g_test_add_func("/engine/bus/boundaries", test_bus_boundaries);
    g_test_add_func("/engine/bus/mmio", test_bus_mmio);
    g_test_add_func("/engine/bus/overlap", test_bus_overlap);
    g_test_add_func("/engine/bus/ram-limits", test_bus_ram_limits);
    g_test_add_func("/engine/bus/code-chunks", test_bus_code_chunks);
    return g_test_run();
}
