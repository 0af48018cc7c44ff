/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "devices/virt.h"
#include "devices/virtio-blk.h"
#include "devices/virtio-mmio.h"
#include "engine/error.h"

#include <glib/gstdio.h>
#include <libfdt.h>
#include <string.h>
#include <unistd.h>

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

static uint32_t mmio32(VireoBus *bus, uint64_t addr)
{
    uint64_t v = 0;
    g_assert_true(vireo_bus_read(bus, addr, 4, &v));
    return (uint32_t)v;
}

/* The virtio slots: the console and the entropy device at the bottom,
 * disks from the top, empty slots unmapped. */
static void test_virt_virtio(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *disk_a = g_build_filename(f->dir, "a.img", NULL);
    g_autofree char *disk_b = g_build_filename(f->dir, "b.img", NULL);
    VireoRing *hvc = vireo_ring_new(64);
    const VireoVirtDisk disks[] = { { disk_a, false }, { disk_b, true } };
    VireoVirtConfig c = {
        .ram_size = 64ull << 20,
        .n_harts = 1,
        .kernel = f->kernel,
        .console = f->console,
        .disks = disks,
        .n_disks = 2,
        .hvc = hvc,
    };
    static const guint32 ids[8] = { 3, 4, 0, 0, 0, 0, 2, 2 };
    VireoVirt *board = NULL;
    VireoMachine *m;
    VireoBus *bus;
    const void *fdt;
    guint8 byte = 0;

    g_assert_true(g_file_set_contents(disk_a, "", 0, &error));
    g_assert_cmpint(truncate(disk_a, 1 << 20), ==, 0);
    g_assert_true(g_file_set_contents(disk_b, "", 0, &error));
    g_assert_cmpint(truncate(disk_b, 64 << 10), ==, 0);
    m = vireo_virt_new(&c, &board, &error);
    g_assert_no_error(error);
    bus = vireo_machine_bus(m);
    for (unsigned slot = 0; slot < VIREO_VIRT_VIRTIO_SLOTS; slot++) {
        uint64_t base = 0x10001000 + 0x1000ull * slot;
        if (ids[slot] == 0) {
            g_assert_null(vireo_bus_find(bus, base));
            g_assert_null(vireo_virt_get_virtio(board, slot));
            continue;
        }
        g_assert_nonnull(vireo_virt_get_virtio(board, slot));
        g_assert_cmphex(mmio32(bus, base), ==, VIREO_VIRTIO_MMIO_MAGIC);
        g_assert_cmpuint(mmio32(bus, base + VIREO_VIRTIO_MMIO_VERSION_REG), ==, 2);
        g_assert_cmpuint(mmio32(bus, base + VIREO_VIRTIO_MMIO_DEVICE_ID), ==, ids[slot]);
    }
    g_assert_true(vireo_virt_get_virtio_console(board) == vireo_virt_get_virtio(board, 0));
    /* The first disk in the top slot, the read-only one below it. */
    g_assert_cmpuint(mmio32(bus, 0x10008000 + VIREO_VIRTIO_MMIO_CONFIG), ==, 2048);
    g_assert_cmpuint(mmio32(bus, 0x10007000 + VIREO_VIRTIO_MMIO_CONFIG), ==, 128);
    g_assert_false(mmio32(bus, 0x10008000 + VIREO_VIRTIO_MMIO_DEVICE_FEATURES) &
                   (1u << VIREO_VIRTIO_BLK_F_RO));
    g_assert_true(mmio32(bus, 0x10007000 + VIREO_VIRTIO_MMIO_DEVICE_FEATURES) &
                  (1u << VIREO_VIRTIO_BLK_F_RO));
    /* The virtio console writes into config->hvc (an emergency write). */
    g_assert_true(vireo_bus_write(bus, 0x10001000 + VIREO_VIRTIO_MMIO_CONFIG + 8, 4, 'V'));
    g_assert_cmpuint(vireo_ring_read(hvc, &byte, 1), ==, 1);
    g_assert_cmpuint(byte, ==, 'V');
    /* A board reset resets the devices. */
    g_assert_true(vireo_bus_write(bus, 0x10008000 + VIREO_VIRTIO_MMIO_STATUS, 4, 1));
    g_assert_cmpuint(mmio32(bus, 0x10008000 + VIREO_VIRTIO_MMIO_STATUS), ==, 1);
    vireo_bus_reset(bus);
    g_assert_cmpuint(mmio32(bus, 0x10008000 + VIREO_VIRTIO_MMIO_STATUS), ==, 0);
    /* The device tree lists them. */
    fdt = g_bytes_get_data(vireo_virt_boot_get_fdt(vireo_virt_get_boot(board)), NULL);
    g_assert_cmpint(fdt_path_offset(fdt, "/soc/virtio_mmio@10008000"), >=, 0);
    g_assert_cmpint(fdt_path_offset(fdt, "/soc/virtio_mmio@10007000"), >=, 0);
    g_assert_cmpint(fdt_path_offset(fdt, "/soc/virtio_mmio@10006000"), <, 0);
    g_assert_cmpint(fdt_path_offset(fdt, "/soc/virtio_mmio@10002000"), >=, 0);
    g_assert_cmpint(fdt_path_offset(fdt, "/soc/virtio_mmio@10001000"), >=, 0);
    vireo_machine_free(m);
    vireo_ring_free(hvc);
    g_unlink(disk_a);
    g_unlink(disk_b);
}

/* Disks that cannot be opened, and too many of them. */
static void test_virt_disk_errors(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *missing = g_build_filename(f->dir, "missing.img", NULL);
    VireoVirtDisk disks[VIREO_VIRT_MAX_DISKS + 1];
    VireoVirtConfig c = {
        .ram_size = 64ull << 20,
        .n_harts = 1,
        .kernel = f->kernel,
        .disks = disks,
        .n_disks = 1,
    };

    for (unsigned i = 0; i < G_N_ELEMENTS(disks); i++) {
        disks[i] = (VireoVirtDisk){ f->kernel, true };
    }
    disks[0].path = missing;
    g_assert_null(vireo_virt_new(&c, NULL, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_IO);
    g_assert_nonnull(strstr(error->message, missing));
    g_clear_error(&error);
    disks[0].path = f->kernel;
    c.n_disks = VIREO_VIRT_MAX_DISKS + 1;
    g_assert_null(vireo_virt_new(&c, NULL, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
    g_clear_error(&error);
    /* Six read-only disks on one image are fine. */
    c.n_disks = VIREO_VIRT_MAX_DISKS;
    vireo_machine_free(vireo_virt_new(&c, NULL, &error));
    g_assert_no_error(error);
}

int main(int argc, char *argv[])
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name, func) g_test_add(name, Fixture, NULL, fixture_setup, func, fixture_teardown)
    ADD("/virt/layout", test_virt_layout);
    ADD("/virt/reset-poweroff", test_virt_reset_poweroff);
    ADD("/virt/bad-config", test_virt_bad_config);
    ADD("/virt/virtio", test_virt_virtio);
    ADD("/virt/disk-errors", test_virt_disk_errors);
#undef ADD
    return g_test_run();
}
