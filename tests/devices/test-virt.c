/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "devices/virt.h"
#include "engine/error.h"

#include <glib/gstdio.h>
#include <libfdt.h>
#include <string.h>

/* Where the tree goes with 64 MiB of RAM, and its magic as a little-endian
 * word. */
#define FDT_ADDR     0x83e00000ull
#define FDT_MAGIC_LE 0xedfe0dd0ull

/* A raw kernel that spins: `j .` */
static const guint8 spin[] = { 0x6f, 0x00, 0x00, 0x00 };

typedef struct {
    char *dir;
    char *kernel;
    VireoRing *console;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    f->dir = g_dir_make_tmp("vireo-virt-XXXXXX", &error);
    g_assert_no_error(error);
    f->kernel = g_build_filename(f->dir, "spin.bin", NULL);
    g_assert_true(g_file_set_contents(f->kernel, (const char *)spin, sizeof spin, &error));
    f->console = vireo_ring_new(4096);
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    g_unlink(f->kernel);
    g_rmdir(f->dir);
    g_free(f->kernel);
    g_free(f->dir);
    vireo_ring_free(f->console);
}

static VireoMachine *make(Fixture *f, unsigned n_harts, VireoVirt **board)
{
    g_autoptr(GError) error = NULL;
    VireoVirtConfig c = {
        .ram_size = 64ull << 20,
        .n_harts = n_harts,
        .kernel = f->kernel,
        .cmdline = "console=ttyS0",
        .console = f->console,
    };
    VireoMachine *m = vireo_virt_new(&c, board, &error);

    g_assert_no_error(error);
    g_assert_nonnull(m);
    return m;
}

static void test_virt_layout(Fixture *f, gconstpointer data)
{
    VireoVirt *board = NULL;
    VireoMachine *m = make(f, 4, &board);
    VireoBus *bus = vireo_machine_bus(m);
    const VireoVirtBoot *boot = vireo_virt_get_boot(board);
    static const struct {
        uint64_t addr;
        VireoRegionKind kind;
    } expected[] = {
        { 0x1000, VIREO_REGION_ROM },      { 0x100000, VIREO_REGION_MMIO },
        { 0x101000, VIREO_REGION_MMIO },   { 0x2000000, VIREO_REGION_MMIO },
        { 0xc000000, VIREO_REGION_MMIO },  { 0xc207ffc, VIREO_REGION_MMIO },
        { 0x10000000, VIREO_REGION_MMIO }, { 0x80000000, VIREO_REGION_RAM },
        { 0x83ffffff, VIREO_REGION_RAM },
    };
    uint64_t v;

    g_assert_true(vireo_virt_get_machine(board) == m);
    g_assert_nonnull(vireo_virt_get_uart(board));
    g_assert_cmpuint(vireo_machine_n_vcpus(m), ==, 4);
    for (unsigned i = 0; i < G_N_ELEMENTS(expected); i++) {
        const VireoRegion *r = vireo_bus_find(bus, expected[i].addr);
        g_assert_nonnull(r);
        g_assert_cmpint(r->kind, ==, expected[i].kind);
    }
    /* Holes stay holes. */
    g_assert_null(vireo_bus_find(bus, 0x0));
    g_assert_null(vireo_bus_find(bus, 0xc208000));
    g_assert_null(vireo_bus_find(bus, 0x84000000));

    /* The kernel, the ROM and the device tree are in memory. */
    g_assert_true(vireo_bus_read(bus, 0x80000000, 4, &v));
    g_assert_cmphex(v, ==, 0x0000006f);
    g_assert_true(vireo_bus_read(bus, 0x1000, 4, &v));
    g_assert_cmphex(v, ==, 0x00000297);
    g_assert_true(vireo_bus_read(bus, 0x1000 + VIREO_VIRT_ROM_ENTRY_SLOT, 8, &v));
    g_assert_cmphex(v, ==, 0x80000000);
    g_assert_true(vireo_bus_read(bus, 0x1000 + VIREO_VIRT_ROM_FDT_SLOT, 8, &v));
    g_assert_cmphex(v, ==, vireo_virt_boot_get_fdt_addr(boot));
    g_assert_cmphex(v, ==, FDT_ADDR);
    g_assert_cmpint(fdt_check_header(vireo_bus_host_ptr(bus, v, 64, false)), ==, 0);
    /* The UART answers through the bus: LSR says the transmitter is empty. */
    g_assert_true(vireo_bus_read(bus, 0x10000005, 1, &v));
    g_assert_cmphex(v & 0x60, ==, 0x60);
    vireo_machine_free(m);
}

static bool ram_word_is(VireoBus *bus, uint64_t addr, uint64_t want)
{
    uint64_t v = 0;
    return vireo_bus_read(bus, addr, 4, &v) && v == want;
}

/* A guest reset (test device 0x7777) copies the images back in and resets
 * the devices; a power-off ends the machine with its status. */
static void test_virt_reset_poweroff(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    VireoMachine *m = make(f, 2, NULL);
    VireoBus *bus = vireo_machine_bus(m);
    gint64 end;
    int code = -1;

    g_assert_true(vireo_machine_start(m, &error));
    g_assert_no_error(error);
    /* The UART's scratch register set, and the device tree's magic
     * overwritten. */
    g_assert_true(vireo_bus_write(bus, 0x10000007, 1, 0x5a));
    g_assert_true(vireo_bus_write(bus, FDT_ADDR, 4, 0));
    g_assert_true(vireo_bus_write(bus, 0x100000, 4, 0x7777));
    end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (!ram_word_is(bus, FDT_ADDR, FDT_MAGIC_LE) && g_get_monotonic_time() < end) {
        g_usleep(1000);
    }
    g_assert_true(ram_word_is(bus, FDT_ADDR, FDT_MAGIC_LE));
    {
        uint64_t scr = 0xff;
        g_assert_true(vireo_bus_read(bus, 0x10000007, 1, &scr));
        g_assert_cmphex(scr, ==, 0);
    }
    g_assert_cmpint(vireo_machine_exit_reason(m, NULL, NULL), ==, VIREO_EXIT_NONE);
    g_assert_true(vireo_bus_write(bus, 0x100000, 4, (9u << 16) | 0x3333));
    g_assert_cmpint(vireo_machine_wait(m, &code, NULL), ==, VIREO_EXIT_POWEROFF);
    g_assert_cmpint(code, ==, 9);
    vireo_machine_free(m);
}

static void test_virt_bad_config(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    VireoVirtConfig c = { .ram_size = 64ull << 20, .n_harts = 0, .kernel = f->kernel };
    VireoVirt *board = NULL;

    g_assert_null(vireo_virt_new(&c, &board, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
    g_assert_null(board);
}

int main(int argc, char *argv[])
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name, func) g_test_add(name, Fixture, NULL, fixture_setup, func, fixture_teardown)
    ADD("/virt/layout", test_virt_layout);
    ADD("/virt/reset-poweroff", test_virt_reset_poweroff);
    ADD("/virt/bad-config", test_virt_bad_config);
#undef ADD
    return g_test_run();
}
