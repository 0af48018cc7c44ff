/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Importing a disk image (vireo-import.h): the VM it makes, the formats it
 * turns away with what to do instead, and the firmware packages it names
 * when they are missing.
 */
#include "config.h"

#include "test-dirs.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "engine/error.h"
#include "vireo-import.h"

static char *write_file(const char *name, const void *data, gsize size)
{
    g_autofree char *path = g_build_filename(g_get_user_data_dir(), name, NULL);

    g_assert_cmpint(g_mkdir_with_parents(g_get_user_data_dir(), 0700), ==, 0);
    g_assert_true(g_file_set_contents(path, data, (gssize)size, NULL));
    return g_steal_pointer(&path);
}

/* A raw image: zeros with an MBR's boot signature. */
static char *raw_image(const char *name)
{
    g_autofree guint8 *data = g_malloc0(1 << 20);

    data[510] = 0x55;
    data[511] = 0xaa;
    return write_file(name, data, 1 << 20);
}

static gboolean have_firmware(void)
{
    const VireoBoardOps *board = vireo_board_find(VIREO_ARCH_RISCV64);

    if (!g_file_test(board->disk_firmware, G_FILE_TEST_IS_REGULAR) ||
        !g_file_test(board->disk_loader, G_FILE_TEST_IS_REGULAR)) {
        g_test_skip("OpenSBI or U-Boot is not installed (packages opensbi, u-boot-qemu)");
        return FALSE;
    }
    return TRUE;
}

static void test_config(void)
{
    g_autofree char *image = raw_image("debian-13-generic-riscv64.raw");
    const VireoBoardOps *board = vireo_board_find(VIREO_ARCH_RISCV64);
    g_autoptr(VireoVmConfig) config = NULL;
    g_autoptr(GError) error = NULL;

    if (!have_firmware()) {
        return;
    }
    config = vireo_import_config_new(image, board, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(vireo_vm_config_get_name(config), ==, "debian-13-generic-riscv64");
    g_assert_cmpint(vireo_vm_config_get_arch(config), ==, VIREO_ARCH_RISCV64);
    g_assert_cmpint(vireo_vm_config_get_accel(config), ==, VIREO_ACCEL_SOFT);
    g_assert_cmpuint(vireo_vm_config_get_cpus(config), ==, 2);
    g_assert_cmpuint(vireo_vm_config_get_memory(config), ==, 1ull << 30);
    g_assert_cmpstr(vireo_vm_config_get_firmware(config), ==,
                    "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin");
    g_assert_cmpstr(vireo_vm_config_get_kernel(config), ==,
                    "/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin");
    g_assert_null(vireo_vm_config_get_initrd(config));
    g_assert_null(vireo_vm_config_get_cmdline(config));
    g_assert_cmpuint(vireo_vm_config_get_n_disks(config), ==, 1);
    g_assert_cmpstr(vireo_vm_config_get_disk_path(config, 0), ==, image);
    g_assert_false(vireo_vm_config_get_disk_read_only(config, 0));
    g_assert_cmpint(vireo_vm_config_get_network(config), ==, VIREO_NETWORK_USER);
    g_assert_null(vireo_vm_config_get_forwards(config)[0]);
    g_assert_cmpint(vireo_vm_config_get_display(config), ==, VIREO_DISPLAY_NONE);
    g_assert_true(vireo_vm_config_check_files(config, NULL));
}

/* A qcow2 image: its format is written in the configuration. */
static void test_qcow2(void)
{
    g_autofree char *image = g_build_filename(g_get_user_data_dir(), "debian-13.qcow2", NULL);
    g_autofree char *raw = raw_image("plain.img");
    g_autoptr(VireoVmConfig) config = NULL, plain = NULL;
    g_autoptr(GError) error = NULL;

    if (!have_firmware()) {
        return;
    }
    g_assert_true(vireo_qcow2_create(image, 64 << 20, NULL, &error));
    config = vireo_import_config_new(image, vireo_board_find(VIREO_ARCH_RISCV64), &error);
    g_assert_no_error(error);
    g_assert_cmpstr(vireo_vm_config_get_name(config), ==, "debian-13");
    g_assert_cmpint(vireo_vm_config_get_disk_format(config, 0), ==, VIREO_BLOCK_FORMAT_QCOW2);
    g_assert_true(vireo_vm_config_check_files(config, NULL));
    plain = vireo_import_config_new(raw, vireo_board_find(VIREO_ARCH_RISCV64), &error);
    g_assert_no_error(error);
    g_assert_cmpint(vireo_vm_config_get_disk_format(plain, 0), ==, VIREO_BLOCK_FORMAT_RAW);
}

/* The name: the file's, without .img or .raw, cut to the longest allowed. */
static void test_name(void)
{
    g_autofree char *long_name = g_strnfill(80, 'd');
    g_autofree char *file = g_strconcat(long_name, ".img", NULL);
    g_autofree char *image = raw_image(file);
    g_autofree char *plain = raw_image("disk");
    g_autoptr(VireoVmConfig) a = NULL;
    g_autoptr(VireoVmConfig) b = NULL;

    if (!have_firmware()) {
        return;
    }
    a = vireo_import_config_new(image, vireo_board_find(VIREO_ARCH_RISCV64), NULL);
    g_assert_cmpuint(strlen(vireo_vm_config_get_name(a)), ==, VIREO_VM_CONFIG_MAX_NAME);
    g_assert_true(g_str_has_prefix(long_name, vireo_vm_config_get_name(a)));
    b = vireo_import_config_new(plain, vireo_board_find(VIREO_ARCH_RISCV64), NULL);
    g_assert_cmpstr(vireo_vm_config_get_name(b), ==, "disk");
}

/* The library gets the VM; the image stays where it was. */
static void test_create(void)
{
    g_autofree char *image = raw_image("disk.img");
    g_autofree char *relative = NULL;
    g_autofree char *cwd = g_get_current_dir();
    g_autoptr(VireoVmLibrary) library = vireo_vm_library_new(NULL);
    g_autoptr(GError) error = NULL;
    VireoVmEntry *entry;
    VireoVmConfig *config;

    if (!have_firmware()) {
        return;
    }
    g_assert_true(vireo_vm_library_load(library, &error));
    g_assert_no_error(error);
    /* A relative name is made absolute. */
    g_assert_cmpint(chdir(g_get_user_data_dir()), ==, 0);
    entry = vireo_import_create(library, "disk.img", &error);
    g_assert_cmpint(chdir(cwd), ==, 0);
    g_assert_no_error(error);
    g_assert_nonnull(entry);
    config = vireo_vm_entry_get_config(entry);
    g_assert_cmpstr(vireo_vm_config_get_name(config), ==, "disk");
    g_assert_cmpstr(vireo_vm_config_get_disk_path(config, 0), ==, image);
    g_assert_null(vireo_vm_entry_get_error(entry));
    g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(library)), ==, 1);
    g_assert_true(g_file_test(image, G_FILE_TEST_IS_REGULAR));
}

static void expect_refused(const char *path, int code, const char *fragment)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VireoVmConfig) config =
        vireo_import_config_new(path, vireo_board_find(VIREO_ARCH_RISCV64), &error);

    g_assert_null(config);
    g_assert_error(error, VIREO_ERROR, code);
    g_test_message("%s: %s", path, error->message);
    if (strstr(error->message, fragment) == NULL) {
        g_error("“%s” does not contain “%s”", error->message, fragment);
    }
}

/* Formats the block layer does not read: the message says what to do. */
static void test_formats(void)
{
    g_autofree guint8 *header = g_malloc0(4096);
    g_autofree char *qcow2 = NULL, *vmdk = NULL, *xz = NULL, *gz = NULL, *tar = NULL;
    g_autofree char *empty = NULL, *dir = NULL;

    /* A damaged qcow2 image, and one using what Vireo does not read. */
    memcpy(header, "QFI\xfb\0\0\0\3", 8);
    qcow2 = write_file("debian.qcow2", header, 4096);
    expect_refused(qcow2, VIREO_ERROR_FORMAT,
                   "“debian.qcow2” is a qcow2 image that Vireo cannot use");
    expect_refused(qcow2, VIREO_ERROR_FORMAT, "cluster size");
    memcpy(header, "QFI\xfb\0\0\0\1", 8);
    g_free(qcow2);
    qcow2 = write_file("old.qcow2", header, 4096);
    expect_refused(qcow2, VIREO_ERROR_FORMAT, "version 1");
    memset(header, 0, 4096);

    memcpy(header, "KDMV", 4);
    vmdk = write_file("disk.vmdk", header, 4096);
    expect_refused(vmdk, VIREO_ERROR_FORMAT, "“disk.vmdk” is a VMDK image");

    memcpy(header, "\3757zXZ\0", 6); /* \375 is 0xfd */
    xz = write_file("disk.img.xz", header, 4096);
    expect_refused(xz, VIREO_ERROR_FORMAT,
                   "is compressed with xz. Decompress it and import the disk image it "
                   "holds:\n\nunxz disk.img.xz");

    memcpy(header, "\x1f\x8b\x08\0", 4);
    gz = write_file("disk.img.gz", header, 4096);
    expect_refused(gz, VIREO_ERROR_FORMAT, "compressed with gzip");

    memset(header, 0, 4096);
    memcpy(header, "disk.raw", 8);
    memcpy(header + 257, "ustar", 5);
    tar = write_file("image.tar", header, 4096);
    expect_refused(tar, VIREO_ERROR_FORMAT, "is a tar archive");

    empty = write_file("empty.img", "", 0);
    expect_refused(empty, VIREO_ERROR_FORMAT, "“empty.img” is empty");

    expect_refused("/nonexistent/disk.img", VIREO_ERROR_CONFIG, "cannot read");
    dir = g_strdup(g_get_user_data_dir());
    expect_refused(dir, VIREO_ERROR_CONFIG, "is not a regular file");
}

/* An image the user cannot write (root can write anything). */
static void test_read_only(void)
{
    g_autofree char *image = raw_image("read-only.img");

    if (geteuid() == 0) {
        g_test_skip("root can write to every file");
        return;
    }
    g_assert_cmpint(g_chmod(image, 0444), ==, 0);
    expect_refused(image, VIREO_ERROR_IO, "check the file's permissions");
}

/* Missing firmware names the packages to install. */
static void test_missing_firmware(void)
{
    g_autofree char *image = raw_image("fw.img");
    VireoBoardOps board = *vireo_board_find(VIREO_ARCH_RISCV64);
    g_autoptr(GError) error = NULL;

    board.disk_firmware = "/usr/lib/riscv64-linux-gnu/opensbi/generic/missing.bin";
    board.disk_loader = "/usr/lib/u-boot/qemu-riscv64_smode/missing.bin";
    g_assert_null(vireo_import_config_new(image, &board, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_IO);
    g_assert_nonnull(strstr(error->message, "“opensbi” and “u-boot-qemu”"));
    g_assert_nonnull(strstr(error->message, "\n\nsudo apt install opensbi u-boot-qemu"));
    g_clear_error(&error);

    if (!have_firmware()) {
        return;
    }
    board.disk_firmware = vireo_board_find(VIREO_ARCH_RISCV64)->disk_firmware;
    g_assert_null(vireo_import_config_new(image, &board, &error));
    g_assert_nonnull(strstr(error->message, board.disk_loader));
    g_assert_nonnull(strstr(error->message, "“u-boot-qemu”:\n\nsudo apt install u-boot-qemu"));
    g_assert_null(strstr(error->message, "opensbi"));
}

int main(int argc, char *argv[])
{
    test_fresh_dirs();
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/import/config", test_config);
    g_test_add_func("/import/name", test_name);
    g_test_add_func("/import/create", test_create);
    g_test_add_func("/import/formats", test_formats);
    g_test_add_func("/import/qcow2", test_qcow2);
    g_test_add_func("/import/read-only", test_read_only);
    g_test_add_func("/import/missing-firmware", test_missing_firmware);
    return g_test_run();
}
