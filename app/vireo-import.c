/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "vireo-import"

#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "vireo-import.h"

#include "vireo-file.h"

#include "devices/block.h"
#include "engine/error.h"

#define HEADER_SIZE 512

/* Image formats recognized by their first bytes, which the block layer does
 * not read (yet): the user converts them to raw images. (qcow2 it reads.) */
static const struct {
    const char *name;
    const char *magic;
    gsize length;
} containers[] = {
    { "VMDK", "KDMV", 4 },
    { "VHDX", "vhdxfile", 8 },
    { "VDI", "<<< Oracle VM VirtualBox Disk Image >>>", 39 },
};

/* Compressed files: the user decompresses them first. */
static const struct {
    const char *name;
    const char *magic;
    gsize length;
    const char *tool;
} compressions[] = {
    { "xz", "\3757zXZ\0", 6, "unxz" }, /* \375 is 0xfd */
    { "gzip", "\x1f\x8b", 2, "gunzip" },
    { "zstd", "\x28\xb5\x2f\xfd", 4, "unzstd" },
    { "bzip2", "BZh", 3, "bunzip2" },
};

static gboolean import_error(GError **error, int code, const char *format, ...) G_GNUC_PRINTF(3, 4);

static gboolean import_error(GError **error, int code, const char *format, ...)
{
    va_list ap;

    if (error != NULL) {
        va_start(ap, format);
        *error = g_error_new_valist(VIREO_ERROR, code, format, ap);
        va_end(ap);
    }
    return FALSE;
}

/* "debian-13.qcow2" -> "debian-13.raw", for the conversion's command. */
static char *raw_name(const char *base)
{
    const char *dot = strrchr(base, '.');
    g_autofree char *stem =
        dot != NULL && dot != base ? g_strndup(base, (gsize)(dot - base)) : g_strdup(base);

    return g_strconcat(stem, ".raw", NULL);
}

gboolean vireo_import_check_image(const char *path, GError **error)
{
    g_autofree char *base = NULL;
    guint8 header[HEADER_SIZE] = { 0 };
    gssize got = 0;
    struct stat st;
    int fd;

    g_return_val_if_fail(path != NULL, FALSE);

    if (!vireo_vm_config_check_file(path, error)) {
        return FALSE;
    }
    base = g_path_get_basename(path);
    if (g_access(path, W_OK) != 0) {
        return import_error(error, VIREO_ERROR_IO,
                            _("You cannot write to “%s”, and the virtual machine writes to its "
                              "disk: check the file's permissions"),
                            base);
    }
    /* The file may have been replaced since it was checked: opening it
     * refuses anything but a regular file again, without waiting. */
    fd = vireo_file_open_regular(path, &st, error);
    if (fd < 0) {
        return FALSE;
    }
    while (got < (gssize)sizeof header) {
        gssize n = read(fd, header + got, sizeof header - (gsize)got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            int err = errno;
            close(fd);
            return import_error(error, VIREO_ERROR_IO, _("cannot read “%s”: %s"), path,
                                g_strerror(err));
        }
        if (n == 0) {
            break;
        }
        got += n;
    }
    close(fd);

    if (st.st_size == 0) {
        return import_error(error, VIREO_ERROR_FORMAT, _("“%s” is empty"), base);
    }
    for (guint i = 0; i < G_N_ELEMENTS(containers); i++) {
        if ((gsize)got >= containers[i].length &&
            memcmp(header, containers[i].magic, containers[i].length) == 0) {
            g_autofree char *raw = raw_name(base);
            return import_error(error, VIREO_ERROR_FORMAT,
                                /* Translators: the file, its format twice, then the
                                 * conversion's command line. */
                                _("“%s” is a %s image, and %s is not supported yet. Convert it "
                                  "to a raw image and import that:\n\nqemu-img convert -O raw "
                                  "%s %s"),
                                base, containers[i].name, containers[i].name, base, raw);
        }
    }
    for (guint i = 0; i < G_N_ELEMENTS(compressions); i++) {
        if ((gsize)got >= compressions[i].length &&
            memcmp(header, compressions[i].magic, compressions[i].length) == 0) {
            return import_error(error, VIREO_ERROR_FORMAT,
                                _("“%s” is compressed with %s. Decompress it and import the "
                                  "disk image it holds:\n\n%s %s"),
                                base, compressions[i].name, compressions[i].tool, base);
        }
    }
    /* A tar archive ("ustar" at offset 257), as some cloud images come. */
    if (got >= 262 && memcmp(header + 257, "ustar", 5) == 0) {
        return import_error(error, VIREO_ERROR_FORMAT,
                            _("“%s” is a tar archive. Extract the disk image from it and "
                              "import that:\n\ntar -xf %s"),
                            base, base);
    }
    /* A qcow2 image, with its backing files, must open as the machine will
     * open it: what it uses that Vireo does not read is said now. */
    if (got >= 4 && memcmp(header, "QFI\xfb", 4) == 0) {
        g_autoptr(GError) cause = NULL;
        VireoBlock *block = vireo_block_open_format(path, VIREO_BLOCK_FORMAT_QCOW2, TRUE, &cause);

        if (block == NULL) {
            return import_error(
                error, cause->code == VIREO_ERROR_IO ? VIREO_ERROR_IO : VIREO_ERROR_FORMAT,
                _("“%s” is a qcow2 image that Vireo cannot use: %s"), base, cause->message);
        }
        vireo_block_free(block);
    }
    return TRUE;
}

/* The VM's name: the file's name without an .img, .raw or .qcow2 extension,
 * cut to the longest name allowed. */
static char *name_for(const char *image)
{
    g_autofree char *base = g_path_get_basename(image);
    static const char *const extensions[] = { ".img", ".raw", ".qcow2" };
    char *name;

    for (guint i = 0; i < G_N_ELEMENTS(extensions); i++) {
        if (g_str_has_suffix(base, extensions[i]) && strlen(base) > strlen(extensions[i])) {
            base[strlen(base) - strlen(extensions[i])] = '\0';
        }
    }
    if (!g_utf8_validate(base, -1, NULL)) {
        return g_strdup(_("Imported Disk"));
    }
    /* The end must lie within the string. */
    name = g_utf8_substring(base, 0, MIN(g_utf8_strlen(base, -1), VIREO_VM_CONFIG_MAX_NAME));
    if (!vireo_vm_config_check_name(name, NULL)) {
        g_free(name);
        return g_strdup(_("Imported Disk"));
    }
    return name;
}

/* The board's firmware and boot loader are installed; else which packages
 * to install. */
static gboolean check_boot_files(const VireoBoardOps *board, GError **error)
{
    gboolean firmware = g_file_test(board->disk_firmware, G_FILE_TEST_IS_REGULAR);
    gboolean loader = g_file_test(board->disk_loader, G_FILE_TEST_IS_REGULAR);

    if (!firmware && !loader) {
        g_autofree char *both =
            g_strdup_printf("%s %s", board->disk_firmware_package, board->disk_loader_package);
        return import_error(error, VIREO_ERROR_IO,
                            _("Booting a disk image needs a firmware and a boot loader, which "
                              "are missing. Install the Debian packages “%s” and “%s”:\n\nsudo "
                              "apt install %s"),
                            board->disk_firmware_package, board->disk_loader_package, both);
    }
    if (!firmware || !loader) {
        const char *path = firmware ? board->disk_loader : board->disk_firmware;
        const char *package = firmware ? board->disk_loader_package : board->disk_firmware_package;
        return import_error(error, VIREO_ERROR_IO,
                            _("Booting a disk image needs %s, which is missing. Install the "
                              "Debian package “%s”:\n\nsudo apt install %s"),
                            path, package, package);
    }
    return TRUE;
}

VireoVmConfig *vireo_import_config_new(const char *image, const VireoBoardOps *board,
                                       GError **error)
{
    g_autoptr(VireoVmConfig) config = NULL;
    g_autofree char *name = NULL;

    g_return_val_if_fail(image != NULL, NULL);
    g_return_val_if_fail(board != NULL, NULL);

    if (!vireo_import_check_image(image, error) || !check_boot_files(board, error)) {
        return NULL;
    }
    name = name_for(image);
    config = vireo_vm_config_new();
    vireo_vm_config_set_name(config, name);
    vireo_vm_config_set_arch(config, board->arch);
    vireo_vm_config_set_accel(config, VIREO_ACCEL_SOFT);
    vireo_vm_config_set_cpus(config, VIREO_IMPORT_CPUS);
    vireo_vm_config_set_memory(config, VIREO_IMPORT_MEMORY);
    vireo_vm_config_set_firmware(config, board->disk_firmware);
    vireo_vm_config_set_kernel(config, board->disk_loader);
    vireo_vm_config_add_disk(config, image, FALSE);
    /* Said in the configuration, never guessed again at each start. */
    vireo_vm_config_set_disk_format(config, 0, vireo_vm_config_detect_format(image));
    vireo_vm_config_set_network(config, VIREO_NETWORK_USER);
    vireo_vm_config_set_display(config, VIREO_DISPLAY_NONE);
    if (!vireo_vm_config_validate(config, error)) {
        return NULL;
    }
    return g_steal_pointer(&config);
}

VireoVmEntry *vireo_import_create(VireoVmLibrary *library, const char *image, GError **error)
{
    g_autoptr(VireoVmConfig) config = NULL;
    g_autofree char *absolute = NULL;

    g_return_val_if_fail(VIREO_IS_VM_LIBRARY(library), NULL);
    g_return_val_if_fail(image != NULL, NULL);

    /* The configuration wants absolute paths. */
    absolute = g_canonicalize_filename(image, NULL);
    config = vireo_import_config_new(absolute, vireo_board_find(VIREO_ARCH_RISCV64), error);
    if (config == NULL) {
        return NULL;
    }
    return vireo_vm_library_create(library, config, error);
}
