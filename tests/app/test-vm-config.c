/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * VireoVmConfig: every field survives a save and a load, and every invalid
 * value is refused with a message that names its group and key.
 */
#include "config.h"

#include "test-dirs.h"
#include "test-limits.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "engine/error.h"
#include "vireo-vm-config.h"

static VireoVmConfig *full_config(const char *dir)
{
    VireoVmConfig *c = vireo_vm_config_new();
    g_autofree char *owned = g_build_filename(dir, "disk0.img", NULL);
    const char *forwards[] = { "tcp:8022:22", "udp:5353:53", NULL };

    vireo_vm_config_set_name(c, "Every Field ✓");
    vireo_vm_config_set_arch(c, VIREO_ARCH_ARM64);
    vireo_vm_config_set_accel(c, VIREO_ACCEL_KVM);
    vireo_vm_config_set_cpus(c, 4);
    vireo_vm_config_set_cpu(c, "rva22");
    vireo_vm_config_set_engine(c, VIREO_ENGINE_INTERP);
    vireo_vm_config_set_memory(c, 3ull << 30);
    vireo_vm_config_set_firmware(c, "/boot/fw.bin");
    vireo_vm_config_set_kernel(c, "/boot/kernel");
    vireo_vm_config_set_initrd(c, "/boot/initrd.img");
    vireo_vm_config_set_cmdline(c, "console=ttyS0 root=/dev/vda rw");
    vireo_vm_config_add_disk(c, owned, FALSE);
    vireo_vm_config_add_disk(c, "/srv/images/shared.img", TRUE);
    vireo_vm_config_set_disk_format(c, 1, VIREO_BLOCK_FORMAT_QCOW2);
    vireo_vm_config_set_network(c, VIREO_NETWORK_USER);
    vireo_vm_config_set_forwards(c, forwards);
    vireo_vm_config_set_display(c, VIREO_DISPLAY_VIRTIO_GPU);
    vireo_vm_config_set_gdb_port(c, 1234);
    vireo_vm_config_set_qmp_socket(c, "/run/user/1000/vireo-a.qmp");
    return c;
}

static void check_full(VireoVmConfig *c, const char *dir)
{
    g_autofree char *owned = g_build_filename(dir, "disk0.img", NULL);
    const char *const *forwards = vireo_vm_config_get_forwards(c);

    g_assert_cmpstr(vireo_vm_config_get_name(c), ==, "Every Field ✓");
    g_assert_cmpint(vireo_vm_config_get_arch(c), ==, VIREO_ARCH_ARM64);
    g_assert_cmpint(vireo_vm_config_get_accel(c), ==, VIREO_ACCEL_KVM);
    g_assert_cmpuint(vireo_vm_config_get_cpus(c), ==, 4);
    g_assert_cmpstr(vireo_vm_config_get_cpu(c), ==, "rva22");
    g_assert_cmpint(vireo_vm_config_get_engine(c), ==, VIREO_ENGINE_INTERP);
    g_assert_cmpuint(vireo_vm_config_get_memory(c), ==, 3ull << 30);
    g_assert_cmpstr(vireo_vm_config_get_firmware(c), ==, "/boot/fw.bin");
    g_assert_cmpstr(vireo_vm_config_get_kernel(c), ==, "/boot/kernel");
    g_assert_cmpstr(vireo_vm_config_get_initrd(c), ==, "/boot/initrd.img");
    g_assert_cmpstr(vireo_vm_config_get_cmdline(c), ==, "console=ttyS0 root=/dev/vda rw");
    g_assert_cmpuint(vireo_vm_config_get_n_disks(c), ==, 2);
    g_assert_cmpstr(vireo_vm_config_get_disk_path(c, 0), ==, owned);
    g_assert_false(vireo_vm_config_get_disk_read_only(c, 0));
    g_assert_cmpstr(vireo_vm_config_get_disk_path(c, 1), ==, "/srv/images/shared.img");
    g_assert_true(vireo_vm_config_get_disk_read_only(c, 1));
    g_assert_cmpint(vireo_vm_config_get_disk_format(c, 0), ==, VIREO_BLOCK_FORMAT_AUTO);
    g_assert_cmpint(vireo_vm_config_get_disk_format(c, 1), ==, VIREO_BLOCK_FORMAT_QCOW2);
    g_assert_cmpint(vireo_vm_config_get_network(c), ==, VIREO_NETWORK_USER);
    g_assert_cmpuint(g_strv_length((char **)forwards), ==, 2);
    g_assert_cmpstr(forwards[0], ==, "tcp:8022:22");
    g_assert_cmpstr(forwards[1], ==, "udp:5353:53");
    g_assert_cmpint(vireo_vm_config_get_display(c), ==, VIREO_DISPLAY_VIRTIO_GPU);
    g_assert_cmpuint(vireo_vm_config_get_gdb_port(c), ==, 1234);
    g_assert_cmpstr(vireo_vm_config_get_qmp_socket(c), ==, "/run/user/1000/vireo-a.qmp");
}

static void test_defaults(void)
{
    g_autoptr(VireoVmConfig) c = vireo_vm_config_new();
    g_autoptr(VireoVmConfig) loaded = NULL;
    g_autoptr(GError) error = NULL;
    const char *data = "[core]\nname=Minimal\n[boot]\nkernel=/k\n";

    loaded = vireo_vm_config_load_from_data(data, (gsize)-1, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpint(vireo_vm_config_get_arch(loaded), ==, VIREO_ARCH_RISCV64);
    g_assert_cmpint(vireo_vm_config_get_accel(loaded), ==, VIREO_ACCEL_SOFT);
    g_assert_cmpuint(vireo_vm_config_get_cpus(loaded), ==, 1);
    g_assert_null(vireo_vm_config_get_cpu(loaded));
    g_assert_cmpint(vireo_vm_config_get_engine(loaded), ==, VIREO_ENGINE_DEFAULT);
    g_assert_cmpuint(vireo_vm_config_get_memory(loaded), ==, 256ull << 20);
    g_assert_null(vireo_vm_config_get_firmware(loaded));
    g_assert_null(vireo_vm_config_get_initrd(loaded));
    g_assert_null(vireo_vm_config_get_cmdline(loaded));
    g_assert_cmpuint(vireo_vm_config_get_n_disks(loaded), ==, 0);
    g_assert_cmpint(vireo_vm_config_get_network(loaded), ==, VIREO_NETWORK_NONE);
    g_assert_null(vireo_vm_config_get_forwards(loaded)[0]);
    g_assert_cmpint(vireo_vm_config_get_display(loaded), ==, VIREO_DISPLAY_NONE);
    g_assert_cmpuint(vireo_vm_config_get_memory(c), ==, VIREO_VM_CONFIG_DEFAULT_MEMORY);
}

static void test_round_trip(void)
{
    g_autofree char *dir = g_dir_make_tmp("vireo-config-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "vm.conf", NULL);
    g_autoptr(VireoVmConfig) c = full_config(dir);
    g_autoptr(VireoVmConfig) loaded = NULL;
    g_autoptr(VireoVmConfig) copy = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;

    check_full(c, dir);
    g_assert_true(vireo_vm_config_save_to_file(c, path, &error));
    g_assert_no_error(error);

    /* An image inside the VM's folder is stored relative to it. */
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_assert_nonnull(strstr(text, "path=disk0.img\n"));
    g_assert_nonnull(strstr(text, "memory=3G\n"));
    g_assert_nonnull(strstr(text, "cpu=rva22\nengine=interp\n"));
    g_assert_nonnull(strstr(text, "[debug]\ngdb=1234\nqmp=/run/user/1000/vireo-a.qmp\n"));

    loaded = vireo_vm_config_load_from_file(path, &error);
    g_assert_no_error(error);
    check_full(loaded, dir);
    g_assert_true(vireo_vm_config_equal(c, loaded));

    copy = vireo_vm_config_copy(loaded);
    check_full(copy, dir);
    vireo_vm_config_set_cpus(copy, 2);
    g_assert_false(vireo_vm_config_equal(copy, loaded));
    vireo_vm_config_set_cpus(copy, 4);
    vireo_vm_config_set_engine(copy, VIREO_ENGINE_DEFAULT);
    g_assert_false(vireo_vm_config_equal(copy, loaded));

    g_assert_cmpint(g_remove(path), ==, 0);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static void test_sizes(void)
{
    static const struct {
        const char *text;
        guint64 bytes;
    } good[] = {
        { "256M", 256ull << 20 },
        { "2G", 2ull << 30 },
        { "512MiB", 512ull << 20 },
        { "1048576K", 1ull << 30 },
        { "1T", 1ull << 40 },
        { "4096B", 4096 },
        { "64mb", 64ull << 20 },
        { "5000b", 5000 },
        { "1G ", 1ull << 30 },
        /* A number alone counts MiB, as for vireo-run --memory. */
        { "512", 512ull << 20 },
        { "1048576", 1ull << 40 },
    };
    static const char *const bad[] = { "",       "12Q",    "M",    "-1G",  "1.5G",
                                       "2 G B",  "4096BB", "4BiB", "512 ", "99999999999999T",
                                       "1048577" };
    g_autoptr(VireoVmConfig) c = NULL;
    g_autoptr(GError) hint = NULL;
    guint64 bytes;

    for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
        g_autoptr(GError) error = NULL;
        g_assert_true(vireo_vm_config_parse_memory(good[i].text, &bytes, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(bytes, ==, good[i].bytes);
    }
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        g_assert_false(vireo_vm_config_parse_memory(bad[i], &bytes, &error));
        g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
    }
    for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
        g_autofree char *text = vireo_vm_config_format_memory(good[i].bytes);
        g_assert_true(vireo_vm_config_parse_memory(text, &bytes, NULL));
        g_assert_cmpuint(bytes, ==, good[i].bytes);
    }

    /* A number of bytes written without a unit is refused with the way to
     * write it, never taken as that many MiB. */
    g_assert_false(vireo_vm_config_parse_memory("2147483648", &bytes, &hint));
    g_assert_cmpstr(hint->message, ==,
                    "2147483648 MiB is more than 1T (a number without a unit counts MiB; for "
                    "2147483648 bytes, write 2G)");
    g_clear_error(&hint);

    /* The file means the same. */
    c = vireo_vm_config_load_from_data("[core]\nname=a\nmemory=512\n[boot]\nkernel=/k\n", -1, NULL,
                                       &hint);
    g_assert_no_error(hint);
    g_assert_cmpuint(vireo_vm_config_get_memory(c), ==, 512ull << 20);
}

/* Each case: the text of a file and the start of the error it must give. */
static const struct {
    const char *data;
    const char *message;
} bad_files[] = {
    { "[core]\nname=a\nmemory=12Q\n[boot]\nkernel=/k\n",
      "[core] memory (line 3): “12Q” is not a size" },
    { "[core]\nname=a\nmemory=1M\n[boot]\nkernel=/k\n",
      "[core] memory (line 3): 1M is out of range" },
    { "[core]\nname=a\nmemory=2T\n[boot]\nkernel=/k\n",
      "[core] memory (line 3): 2T is out of range" },
    { "[core]\nname=a\nmemory=2049K\n[boot]\nkernel=/k\n",
      "[core] memory (line 3): 2049K is not a whole number of 4 KiB pages" },
    { "[core]\nname=\n[boot]\nkernel=/k\n", "[core] name (line 2): a name is required" },
    { "[core]\nname=   \n[boot]\nkernel=/k\n", "[core] name (line 2): a name is required" },
    { "[core]\n[boot]\nkernel=/k\n", "[core] name: a name is required" },
    { "[core]\nname=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
      "[boot]\nkernel=/k\n",
      "[core] name (line 2): the name is longer than 64 characters" },
    { "[core]\nname=a\\tb\n[boot]\nkernel=/k\n",
      "[core] name (line 2): the name contains a control" },
    { "[core]\nname=a\narchitecture=sparc\n[boot]\nkernel=/k\n",
      "[core] architecture (line 3): unknown architecture" },
    { "[core]\nname=a\naccelerator=xen\n[boot]\nkernel=/k\n",
      "[core] accelerator (line 3): unknown accelerator" },
    { "[core]\nname=a\ncpus=two\n[boot]\nkernel=/k\n",
      "[core] cpus (line 3): “two” is not a number" },
    { "[core]\nname=a\ncpus=0\n[boot]\nkernel=/k\n",
      "[core] cpus (line 3): 0 is out of range (1 to 64)" },
    { "[core]\nname=a\ncpus=65\n[boot]\nkernel=/k\n", "[core] cpus (line 3): 65 is out of range" },
    { "[core]\nname=a\ncpu=rv32gc\n[boot]\nkernel=/k\n",
      "[core] cpu (line 3): unknown CPU model (max, rva22, rv64gc)" },
    { "[core]\nname=a\nengine=fast\n[boot]\nkernel=/k\n",
      "[core] engine (line 3): unknown execution engine (jit or interp)" },
    { "[core]\nname=a\nengine=default\n[boot]\nkernel=/k\n",
      "[core] engine (line 3): unknown execution engine (jit or interp)" },
    { "[core]\nname=a\nengine=JIT\n[boot]\nkernel=/k\n",
      "[core] engine (line 3): unknown execution engine (jit or interp)" },
    { "[core]\nname=a\ncolour=blue\n[boot]\nkernel=/k\n", "[core] colour (line 3): unknown key" },
    { "[boot]\nkernel=/k\n", "[core]: the group is missing" },
    { "[core]\nname=a\n[boot]\nkernel=/k\n[extras]\nx=1\n", "[extras] (line 5): unknown group" },
    { "[core]\nname=a\n", "[boot] firmware: a firmware or a kernel is required" },
    { "[core]\nname=a\n[boot]\nfirmware=fw.bin\n",
      "[boot] firmware (line 4): “fw.bin” is not an absolute path" },
    { "[core]\nname=a\n[boot]\nkernel=k\n", "[boot] kernel (line 4): “k” is not an absolute path" },
    { "[core]\nname=a\n[boot]\nkernel=/k\ninitrd=rd\n",
      "[boot] initrd (line 5): “rd” is not an absolute path" },
    { "[core]\nname=a\n[boot]\nfirmware=/f\ninitrd=/rd\n",
      "[boot] initrd (line 5): an initial RAM disk needs a kernel" },
    { "[core]\nname=a\n[boot]\nkernel=/k\nappend=x\n", "[boot] append (line 5): unknown key" },
    { "[core]\nname=a\n[boot]\nkernel=/k\n[disk.0]\nread-only=true\n",
      "[disk.0] path: a file is required" },
    { "[core]\nname=a\n[boot]\nkernel=/k\n[disk.0]\npath=/a\nread-only=maybe\n",
      "[disk.0] read-only (line 7): the value must be true or false" },
    { "[core]\nname=a\n[boot]\nkernel=/k\n[disk.0]\npath=/a\nformat=vmdk\n",
      "[disk.0] format (line 7): the value must be raw or qcow2" },
    { "[core]\nname=a\n[boot]\nkernel=/k\n[disk.1]\npath=/a\n", "[disk.0]: the group is missing" },
    { "[core]\nname=a\n[boot]\nkernel=/k\n[disk.0]\npath=/a\nsize=1G\n",
      "[disk.0] size (line 7): unknown key" },
    { "[core]\nname=a\n[boot]\nkernel=/k\n[disk.6]\npath=/a\n",
      "[disk.6] (line 5): too many disks" },
    { "[core]\nname=a\n[boot]\nkernel=/k\n[network]\nmode=bridge\n",
      "[network] mode (line 6): unknown mode" },
    { "[core]\nname=a\n[boot]\nkernel=/k\n[network]\nmode=user\nforwards=tcp:22\n",
      "[network] forwards (line 7): “tcp:22” is not a port forward" },
    { "[core]\nname=a\n[boot]\nkernel=/k\n[network]\nmode=user\nforwards=sctp:1:2\n",
      "[network] forwards (line 7): “sctp:1:2”: the protocol must be tcp or udp" },
    { "[core]\nname=a\n[boot]\nkernel=/k\n[network]\nmode=user\nforwards=tcp:0:22\n",
      "[network] forwards (line 7): “tcp:0:22”: ports are numbers" },
    { "[core]\nname=a\n[boot]\nkernel=/k\n[network]\nmode=user\nforwards=tcp:8022:70000\n",
      "[network] forwards (line 7): “tcp:8022:70000”: ports are numbers" },
    { "[core]\nname=a\n[boot]\nkernel=/k\n[network]\nmode=none\nforwards=tcp:8022:22\n",
      "[network] forwards (line 7): port forwards need the user network mode" },
    { "[core]\nname=a\n[boot]\nkernel=/k\n[network]\nmode=user\n"
      "forwards=tcp:8022:22;udp:8022:53;tcp:8022:80\n",
      "[network] forwards (line 7): host port tcp 8022 is forwarded twice" },
    { "[core]\nname=a\n[boot]\nkernel=/k\n[network]\nmode=user\nforwards="
      "tcp:1:1;tcp:2:1;tcp:3:1;tcp:4:1;tcp:5:1;tcp:6:1;tcp:7:1;tcp:8:1;tcp:9:1;tcp:10:1;"
      "tcp:11:1;tcp:12:1;tcp:13:1;tcp:14:1;tcp:15:1;tcp:16:1;tcp:17:1\n",
      "[network] forwards (line 7): too many port forwards (at most 16)" },
    { "[core]\nname=a\n[boot]\nkernel=/k\n[disk.0]\npath=/a\n[disk.1]\npath=/b\n"
      "[disk.2]\npath=/c\n[disk.3]\npath=/d\n[disk.4]\npath=/e\n[disk.5]\npath=/f\n"
      "[network]\nmode=user\n",
      "[network] mode (line 18): the board has room for at most 5 disks beside a network card" },
    { "[core]\nname=a\n[boot]\nkernel=/k\n[disk.0]\npath=/a\n[disk.1]\npath=/b\n"
      "[disk.2]\npath=/c\n[disk.3]\npath=/d\n[display]\ndevice=virtio-gpu\n",
      "[display] device (line 14): the board has room for at most 3 disks beside a display" },
    { "[core]\nname=a\n[boot]\nkernel=/k\n[disk.0]\npath=/a\n[disk.1]\npath=/b\n"
      "[disk.2]\npath=/c\n[network]\nmode=user\n[display]\ndevice=virtio-gpu\n",
      "[display] device (line 14): the board has room for at most 2 disks beside a display and a "
      "network card" },
    { "[core]\nname=a\n[boot]\nkernel=/k\n[display]\ndevice=vga\n",
      "[display] device (line 6): unknown device" },
    { "[core]\nname=a\n[boot]\nkernel=/k\n[display]\nresolution=1\n",
      "[display] resolution (line 6): unknown key" },
    { "[core]\nname=a\n[boot]\nkernel=/k\n[debug]\ngdb=70000\n",
      "[debug] gdb (line 6): 70000 is not a port (1 to 65535, or 0 for off)" },
    { "[core]\nname=a\n[boot]\nkernel=/k\n[debug]\ngdb=-1\n",
      "[debug] gdb (line 6): -1 is not a port (1 to 65535, or 0 for off)" },
    { "[core]\nname=a\n[boot]\nkernel=/k\n[debug]\ngdb=tcp::1234\n",
      "[debug] gdb (line 6): “tcp::1234” is not a port (1 to 65535, or 0 for off)" },
    { "[core]\nname=a\n[boot]\nkernel=/k\n[debug]\nqmp=vm.qmp\n",
      "[debug] qmp (line 6): “vm.qmp” is not an absolute path" },
    { "[core]\nname=a\n[boot]\nkernel=/k\n[debug]\nqmp=/"
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
      "aaaaaaaaaaaaaaaa\n",
      "[debug] qmp (line 6): A socket path has at most 107 bytes" },
    { "[core]\nname=a\n[boot]\nkernel=/k\n\n[debug]\ngdb=1234\nwait=yes\n",
      "[debug] wait (line 8): unknown key" },
    { "this is not a key file\n", "line 1: not a [group], a key=value line or a # comment" },
};

static void test_errors(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(bad_files); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(VireoVmConfig) c =
            vireo_vm_config_load_from_data(bad_files[i].data, (gsize)-1, NULL, &error);
        g_test_message("case %u: %s", i, error != NULL ? error->message : "(loaded)");
        g_assert_null(c);
        g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
        if (!g_str_has_prefix(error->message, bad_files[i].message)) {
            g_error("case %u: “%s” does not start with “%s”", i, error->message,
                    bad_files[i].message);
        }
    }
}

/* What GKeyFile takes silently or reports without a line, each refused
 * with the line (and the key where there is one). Each case: the text, its
 * length (it may hold NUL bytes) and the whole error. */
#define TEXT(s) s, sizeof s - 1
static const struct {
    const char *data;
    gsize length;
    const char *message;
} bad_texts[] = {
    { TEXT("[core]\nname=Trunc\0ated\n[boot]\nkernel=/k\n"),
      "[core] name (line 2): the value contains a NUL byte" },
    { TEXT("# a comment\0\n[core]\nname=a\n[boot]\nkernel=/k\n"),
      "line 1: the line contains a NUL byte" },
    { TEXT("[core]\nname=Caf\xe9\n[boot]\nkernel=/k\n"),
      "[core] name (line 2): the value is not valid UTF-8" },
    { TEXT("[core]\nname=a\n# caf\xe9\n[boot]\nkernel=/k\n"),
      "line 3: the line is not valid UTF-8" },
    { TEXT("[core]\nname=First\n[boot]\nkernel=/k\n\n[core]\nname=Second\n"),
      "[core] (line 6): the group appears a second time (first on line 1)" },
    { TEXT("[core]\nname=A\ncpus=2\nname=B\n[boot]\nkernel=/k\n"),
      "[core] name (line 4): the key appears a second time (first on line 2)" },
    { TEXT("[core]\nname=A\n[boot]\nkernel=/k\n[core ]\nname=B\n"),
      "[core ] (line 5): unknown group" },
    { TEXT("name=a\n[core]\n[boot]\nkernel=/k\n"),
      "line 1: a key=value line before the first [group]" },
    { TEXT("[core]\nname=a\n[boot\nkernel=/k\n"),
      "line 3: not a [group], a key=value line or a # comment" },
    { TEXT("[core]\r\nname=a\r\nmemory=12Q\r\n[boot]\r\nkernel=/k\r\n"),
      "[core] memory (line 3): “12Q” is not a size (try 256M or 2G)" },
    { TEXT("[core]\nname=a\\qb\n[boot]\nkernel=/k\n"),
      "[core] name (line 2): the value has an escape sequence other than \\s, \\n, \\t, \\r or "
      "\\\\" },
    { TEXT("[core]\nname=a\n[boot]\nkernel=/k\ncmdline=console=ttyS0 \\\n"),
      "[boot] cmdline (line 5): the value has an escape sequence other than \\s, \\n, \\t, \\r or "
      "\\\\" },
    { TEXT("[core]\nname=a\n[boot]\nkernel=/k\n[network]\nmode=user\nforwards=tcp:1:2;\\x\n"),
      "[network] forwards (line 7): the value has an escape sequence other than" },
    { TEXT("[core]\nname=invoice\u202Efdp.exe\n[boot]\nkernel=/k\n"),
      "[core] name (line 2): the name contains a bidirectional control character (U+202E)" },
    { TEXT("[core]\nname=a\u2066b\n[boot]\nkernel=/k\n"),
      "[core] name (line 2): the name contains a bidirectional control character (U+2066)" },
    { TEXT("[core]\nname=a\u200Fb\n[boot]\nkernel=/k\n"),
      "[core] name (line 2): the name contains a bidirectional control character (U+200F)" },
    { TEXT("[core]\nname=a\u061Cb\n[boot]\nkernel=/k\n"),
      "[core] name (line 2): the name contains a bidirectional control character (U+061C)" },
    { TEXT("[core]\nname=a\xc2\x85"
           "b\n[boot]\nkernel=/k\n"),
      "[core] name (line 2): the name contains a control character (U+0085)" },
    { TEXT("[core]\nname=a\u2028b\n[boot]\nkernel=/k\n"),
      "[core] name (line 2): the name contains a control character (U+2028)" },
    { TEXT("[core]\nname=a\\tb\n[boot]\nkernel=/k\n"),
      "[core] name (line 2): the name contains a control character (U+0009)" },
};

static void test_text(void)
{
    static const char *const good[] = {
        "[core]\nname=שלום עולם\n[boot]\nkernel=/k\n",
        "[core]\nname=👩‍💻 Dev\n[boot]\nkernel=/k\n",
        "# comment\n\n  [core]  \n  name = Spaced  \n[boot]\nkernel=/k\n",
        "[core]\r\nname=Windows\r\n[boot]\r\nkernel=/k\r\n",
        "[core]\nname=a\n[boot]\nkernel=/k\n[network]\nmode=user\nforwards=\n",
    };
    g_autoptr(GRand) rand = g_rand_new_with_seed(20261125);

    for (guint i = 0; i < G_N_ELEMENTS(bad_texts); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(VireoVmConfig) c =
            vireo_vm_config_load_from_data(bad_texts[i].data, bad_texts[i].length, NULL, &error);
        g_test_message("case %u: %s", i, error != NULL ? error->message : "(loaded)");
        g_assert_null(c);
        g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
        if (!g_str_has_prefix(error->message, bad_texts[i].message)) {
            g_error("case %u: “%s” does not start with “%s”", i, error->message,
                    bad_texts[i].message);
        }
    }
    for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(VireoVmConfig) c = vireo_vm_config_load_from_data(good[i], -1, NULL, &error);
        g_assert_no_error(error);
        g_assert_nonnull(c);
    }

    /* Random bytes: a reason, with the line, and never a crash. */
    for (guint i = 0; i < 200; i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(VireoVmConfig) c = NULL;
        gsize length = (gsize)g_rand_int_range(rand, 1, 512);
        g_autofree char *data = g_malloc(length);
        for (gsize j = 0; j < length; j++) {
            data[j] = (char)g_rand_int_range(rand, 0, 256);
        }
        c = vireo_vm_config_load_from_data(data, length, NULL, &error);
        g_assert_null(c);
        g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
        g_assert_true(g_str_has_prefix(error->message, "line ") ||
                      g_str_has_prefix(error->message, "[core]: the group is missing"));
    }

    /* Pieces of configurations in random order: loaded, or refused with a
     * reason that is UTF-8 whatever the file held. */
    for (guint i = 0; i < 2000; i++) {
        static const struct {
            const char *data;
            gsize length;
        } pieces[] = {
            { TEXT("[core]") }, { TEXT("[boot]") }, { TEXT("[disk.0]") }, { TEXT("[network]") },
            { TEXT("name") },   { TEXT("memory") }, { TEXT("kernel") },   { TEXT("forwards") },
            { TEXT("=") },      { TEXT("a") },      { TEXT("/k") },       { TEXT("2G") },
            { TEXT("\n") },     { TEXT("\r\n") },   { TEXT("\r") },       { TEXT("#") },
            { TEXT(" ") },      { TEXT("\t") },     { TEXT("[") },        { TEXT("]") },
            { TEXT("\\") },     { TEXT("\\s") },    { TEXT("\\x") },      { TEXT(";") },
            { TEXT("\0") },     { TEXT("\xff") },   { TEXT("\xc3") },     { TEXT("\u202e") },
            { TEXT("é") },
        };
        g_autoptr(GString) text = g_string_new(NULL);
        g_autoptr(GError) error = NULL;
        g_autoptr(VireoVmConfig) c = NULL;
        guint n = (guint)g_rand_int_range(rand, 1, 40);

        for (guint j = 0; j < n; j++) {
            guint k = (guint)g_rand_int_range(rand, 0, G_N_ELEMENTS(pieces));
            g_string_append_len(text, pieces[k].data, (gssize)pieces[k].length);
        }
        c = vireo_vm_config_load_from_data(text->str, text->len, NULL, &error);
        if (c == NULL) {
            g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
            g_assert_true(g_utf8_validate(error->message, -1, NULL));
        }
    }
}

static void test_files(void)
{
    g_autofree char *dir = g_dir_make_tmp("vireo-config-XXXXXX", NULL);
    g_autofree char *kernel = g_build_filename(dir, "kernel", NULL);
    g_autofree char *missing = g_build_filename(dir, "missing.img", NULL);
    g_autoptr(VireoVmConfig) c = vireo_vm_config_new();
    g_autoptr(GError) error = NULL;

    g_assert_true(g_file_set_contents(kernel, "k", 1, NULL));
    vireo_vm_config_set_name(c, "Files");
    vireo_vm_config_set_kernel(c, kernel);
    g_assert_true(vireo_vm_config_check_files(c, &error));
    g_assert_no_error(error);

    vireo_vm_config_add_disk(c, missing, FALSE);
    g_assert_false(vireo_vm_config_check_files(c, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
    g_assert_true(g_str_has_prefix(error->message, "[disk.0] path: cannot read"));
    g_clear_error(&error);

    vireo_vm_config_clear_disks(c);
    vireo_vm_config_add_disk(c, dir, FALSE);
    g_assert_false(vireo_vm_config_check_files(c, &error));
    g_assert_true(g_str_has_suffix(error->message, "is not a regular file"));
    g_clear_error(&error);

    /* A qcow2 image is one only where the file says so: never guessed. */
    {
        g_autofree char *image = g_build_filename(dir, "guessed.img", NULL);

        g_assert_true(g_file_set_contents(image, "QFI\xfb\0\0\0\3", 8, NULL));
        vireo_vm_config_clear_disks(c);
        vireo_vm_config_add_disk(c, image, FALSE);
        g_assert_cmpint(vireo_vm_config_detect_format(image), ==, VIREO_BLOCK_FORMAT_QCOW2);
        g_assert_false(vireo_vm_config_check_files(c, &error));
        g_assert_true(g_str_has_prefix(error->message, "[disk.0] format: "));
        g_assert_nonnull(strstr(error->message, "holds a qcow2 image"));
        g_clear_error(&error);
        vireo_vm_config_set_disk_format(c, 0, VIREO_BLOCK_FORMAT_RAW);
        g_assert_true(vireo_vm_config_check_files(c, &error));
        vireo_vm_config_set_disk_format(c, 0, VIREO_BLOCK_FORMAT_QCOW2);
        g_assert_true(vireo_vm_config_check_files(c, &error));
        g_assert_cmpint(vireo_vm_config_detect_format(kernel), ==, VIREO_BLOCK_FORMAT_RAW);
        g_assert_cmpint(g_remove(image), ==, 0);
    }

    /* Missing firmware from a Debian package names the package. */
    vireo_vm_config_clear_disks(c);
    vireo_vm_config_set_firmware(c, "/usr/lib/riscv64-linux-gnu/opensbi/generic/none.bin");
    g_assert_false(vireo_vm_config_check_files(c, &error));
    g_assert_true(g_str_has_prefix(error->message, "[boot] firmware: "));
    g_assert_nonnull(strstr(error->message, "“opensbi”"));
    g_clear_error(&error);
    vireo_vm_config_set_firmware(c, NULL);
    vireo_vm_config_set_kernel(c, "/usr/lib/u-boot/none/u-boot.bin");
    g_assert_false(vireo_vm_config_check_files(c, &error));
    g_assert_nonnull(strstr(error->message, "“u-boot-qemu”"));

    g_assert_cmpint(g_remove(kernel), ==, 0);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static const char valid_file[] = "[core]\nname=Readable\n[boot]\nkernel=/k\n";

/* A valid configuration padded with a comment to exactly `size` bytes. */
static void write_padded(const char *path, gsize size)
{
    g_autofree char *data = g_malloc(size);
    gsize head = strlen(valid_file);

    g_assert_cmpuint(size, >, head + 2);
    memcpy(data, valid_file, head);
    data[head] = '#';
    memset(data + head + 1, 'x', size - head - 2);
    data[size - 1] = '\n';
    g_assert_true(g_file_set_contents(path, data, (gssize)size, NULL));
}

/* Loads `path`, which must be refused with VIREO_ERROR_IO and a message
 * that names it and says `reason`. */
static void assert_refused(const char *path, const char *reason)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VireoVmConfig) c = vireo_vm_config_load_from_file(path, &error);
    g_autofree char *quoted = g_strdup_printf("“%s”", path);

    if (error == NULL || strstr(error->message, reason) == NULL) {
        g_printerr("%s: %s\n", path, error != NULL ? error->message : "(loaded)");
    }
    g_assert_null(c);
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_IO);
    g_assert_nonnull(strstr(error->message, quoted));
    g_assert_nonnull(strstr(error->message, reason));
}

/* vm.conf is read only when it is a regular file of at most 1 MiB, and
 * nothing else makes loading wait or fill the memory. Runs in a child
 * process with its memory capped and a time limit, so that a loader that
 * reads /dev/zero or waits on a named pipe fails the test. */
static void test_file_kinds(void)
{
    g_autofree char *dir = NULL;
    g_autofree char *zero = NULL, *fifo = NULL, *folder = NULL, *socket_path = NULL;
    g_autofree char *exact = NULL, *over = NULL, *big = NULL, *sparse = NULL, *missing = NULL;
    g_autoptr(VireoVmConfig) c = NULL;
    g_autoptr(GError) error = NULL;
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd, sock;

    if (!g_test_subprocess()) {
        g_test_trap_subprocess(NULL, 20 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
        g_test_trap_assert_passed();
        return;
    }
    test_limit_memory(512ull << 20);

    dir = g_dir_make_tmp("vireo-config-XXXXXX", NULL);
    zero = g_build_filename(dir, "zero.conf", NULL);
    fifo = g_build_filename(dir, "fifo.conf", NULL);
    folder = g_build_filename(dir, "folder.conf", NULL);
    socket_path = g_build_filename(dir, "socket.conf", NULL);
    exact = g_build_filename(dir, "exact.conf", NULL);
    over = g_build_filename(dir, "over.conf", NULL);
    big = g_build_filename(dir, "big.conf", NULL);
    sparse = g_build_filename(dir, "sparse.conf", NULL);
    missing = g_build_filename(dir, "missing.conf", NULL);

    g_assert_cmpint(symlink("/dev/zero", zero), ==, 0);
    assert_refused(zero, "is a device, not a regular file");
    g_assert_cmpint(mkfifo(fifo, 0644), ==, 0);
    assert_refused(fifo, "is a named pipe (FIFO), not a regular file");
    g_assert_cmpint(g_mkdir(folder, 0755), ==, 0);
    assert_refused(folder, "is a folder, not a regular file");
    sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(sock, >=, 0);
    g_assert_cmpuint(strlen(socket_path), <, sizeof addr.sun_path);
    strcpy(addr.sun_path, socket_path);
    g_assert_cmpint(bind(sock, (struct sockaddr *)&addr, sizeof addr), ==, 0);
    assert_refused(socket_path, "is a socket, not a regular file");
    close(sock);
    assert_refused(missing, "cannot read");

    /* The limit itself loads; one byte more does not. */
    write_padded(exact, VIREO_VM_CONFIG_MAX_FILE_SIZE);
    c = vireo_vm_config_load_from_file(exact, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(vireo_vm_config_get_name(c), ==, "Readable");
    write_padded(over, VIREO_VM_CONFIG_MAX_FILE_SIZE + 1);
    assert_refused(over, "is larger than 1.0\u00a0MiB (1.0\u00a0MiB)");
    write_padded(big, 2u << 20);
    assert_refused(big, "is larger than 1.0\u00a0MiB (2.0\u00a0MiB)");

    /* A sparse 1 GiB file is refused by its size, unread (the memory cap is
     * half of it). Sizes are written with a no-break space. */
    fd = g_open(sparse, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, 1ll << 30), ==, 0);
    close(fd);
    assert_refused(sparse, "is larger than 1.0\u00a0MiB (1.0\u00a0GiB)");

    /* A link to a regular file is followed. */
    g_assert_cmpint(g_remove(zero), ==, 0);
    g_assert_cmpint(symlink(exact, zero), ==, 0);
    g_clear_object(&c);
    c = vireo_vm_config_load_from_file(zero, &error);
    g_assert_no_error(error);

    {
        const char *const made[] = { zero, fifo, socket_path, exact, over, big, sparse };
        for (guint i = 0; i < G_N_ELEMENTS(made); i++) {
            g_assert_cmpint(g_remove(made[i]), ==, 0);
        }
    }
    g_assert_cmpint(g_rmdir(folder), ==, 0);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

/* [core] engine: "jit" or "interp" as written; without the key (or empty,
 * like every key), the process's default, and no key is written for it. */
static void test_engine(void)
{
    static const struct {
        const char *line;
        VireoEngineKind engine;
    } cases[] = {
        { "", VIREO_ENGINE_DEFAULT },
        { "engine=\n", VIREO_ENGINE_DEFAULT },
        { "engine=jit\n", VIREO_ENGINE_JIT },
        { "engine=interp\n", VIREO_ENGINE_INTERP },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *data =
            g_strdup_printf("[core]\nname=a\n%s[boot]\nkernel=/k\n", cases[i].line);
        g_autoptr(VireoVmConfig) c = NULL;
        g_autoptr(VireoVmConfig) again = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *text = NULL;

        c = vireo_vm_config_load_from_data(data, (gsize)-1, NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpint(vireo_vm_config_get_engine(c), ==, cases[i].engine);
        text = vireo_vm_config_to_data(c, NULL, NULL);
        if (cases[i].engine == VIREO_ENGINE_DEFAULT) {
            g_assert_null(strstr(text, "engine"));
        } else {
            g_assert_nonnull(strstr(text, cases[i].line));
        }
        again = vireo_vm_config_load_from_data(text, (gsize)-1, NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpint(vireo_vm_config_get_engine(again), ==, cases[i].engine);
        g_assert_true(vireo_vm_config_equal(c, again));
    }
}

static void test_validate_setters(void)
{
    g_autoptr(VireoVmConfig) c = vireo_vm_config_new();
    g_autoptr(GError) error = NULL;

    vireo_vm_config_set_name(c, "Setters");
    vireo_vm_config_set_kernel(c, "/k");
    g_assert_true(vireo_vm_config_validate(c, NULL));
    vireo_vm_config_set_cpus(c, 100);
    g_assert_false(vireo_vm_config_validate(c, &error));
    g_assert_true(g_str_has_prefix(error->message, "[core] cpus: 100 is out of range"));
    g_clear_error(&error);
    vireo_vm_config_set_cpus(c, 1);
    vireo_vm_config_set_memory(c, 1000);
    g_assert_false(vireo_vm_config_validate(c, &error));
    g_assert_true(g_str_has_prefix(error->message, "[core] memory: "));
    g_clear_error(&error);

    /* Saving refuses what loading would refuse. */
    g_assert_false(vireo_vm_config_save_to_file(c, "/nonexistent/vm.conf", &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
}

/* [debug] gdb: a port, 0 or absent for off; only a port that is on is
 * written. */
static void test_debug(void)
{
    static const struct {
        const char *data;
        guint port;
    } good[] = {
        { "[core]\nname=a\n[boot]\nkernel=/k\n", 0 },
        { "[core]\nname=a\n[boot]\nkernel=/k\n[debug]\n", 0 },
        { "[core]\nname=a\n[boot]\nkernel=/k\n[debug]\ngdb=\n", 0 },
        { "[core]\nname=a\n[boot]\nkernel=/k\n[debug]\ngdb=0\n", 0 },
        { "[core]\nname=a\n[boot]\nkernel=/k\n[debug]\ngdb=1\n", 1 },
        { "[core]\nname=a\n[boot]\nkernel=/k\n[debug]\ngdb= 1234 \n", 1234 },
        { "[core]\nname=a\n[boot]\nkernel=/k\n[debug]\ngdb=65535\n", 65535 },
    };
    g_autoptr(VireoVmConfig) c = vireo_vm_config_new();
    g_autoptr(GError) error = NULL;
    guint port = 7;

    for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
        g_autoptr(VireoVmConfig) loaded = NULL;
        g_autoptr(VireoVmConfig) again = NULL;
        g_autofree char *text = NULL;

        loaded = vireo_vm_config_load_from_data(good[i].data, (gsize)-1, NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(vireo_vm_config_get_gdb_port(loaded), ==, good[i].port);
        text = vireo_vm_config_to_data(loaded, NULL, NULL);
        g_assert_true((strstr(text, "[debug]") != NULL) == (good[i].port != 0));
        again = vireo_vm_config_load_from_data(text, (gsize)-1, NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(vireo_vm_config_get_gdb_port(again), ==, good[i].port);
        g_assert_true(vireo_vm_config_equal(loaded, again));
    }

    /* The editor's check. */
    g_assert_true(vireo_vm_config_parse_gdb_port("8000", &port, NULL));
    g_assert_cmpuint(port, ==, 8000);
    g_assert_false(vireo_vm_config_parse_gdb_port("80a", &port, &error));
    g_assert_cmpstr(error->message, ==, "“80a” is not a port (1 to 65535, or 0 for off)");
    g_clear_error(&error);
    g_assert_cmpuint(port, ==, 8000);
    g_assert_false(vireo_vm_config_check_gdb_port(65536, NULL));

    /* The shared validator refuses what loading refuses. */
    vireo_vm_config_set_name(c, "Debug");
    vireo_vm_config_set_kernel(c, "/k");
    vireo_vm_config_set_gdb_port(c, 65536);
    g_assert_false(vireo_vm_config_validate(c, &error));
    g_assert_cmpstr(error->message, ==,
                    "[debug] gdb: 65536 is not a port (1 to 65535, or 0 for off)");
    g_clear_error(&error);
    vireo_vm_config_set_gdb_port(c, 2345);
    g_assert_true(vireo_vm_config_validate(c, NULL));
}

/* The rules between fields, which the editor calls too. */
static void test_cross_field(void)
{
    const char *const none[] = { NULL };
    const char *const two[] = { "tcp:8022:22", "udp:8022:53", NULL };
    const char *const twice[] = { "udp:5353:53", "udp:5353:54", NULL };
    const char *const bad[] = { "tcp:8022:22", "tcp:x:1", NULL };
    static const struct {
        VireoDisplayDevice display;
        VireoNetworkMode network;
        guint max;
    } slots[] = {
        { VIREO_DISPLAY_NONE, VIREO_NETWORK_NONE, 6 },
        { VIREO_DISPLAY_NONE, VIREO_NETWORK_USER, 5 },
        { VIREO_DISPLAY_VIRTIO_GPU, VIREO_NETWORK_NONE, 3 },
        { VIREO_DISPLAY_VIRTIO_GPU, VIREO_NETWORK_USER, 2 },
    };
    GError *error = NULL;

    g_assert_true(vireo_vm_config_check_boot("/f", NULL, NULL));
    g_assert_true(vireo_vm_config_check_boot(NULL, "/k", NULL));
    g_assert_true(vireo_vm_config_check_boot("", "/k", NULL));
    g_assert_false(vireo_vm_config_check_boot("", NULL, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
    g_assert_cmpstr(error->message, ==, "a firmware or a kernel is required to boot");
    g_clear_error(&error);

    g_assert_true(vireo_vm_config_check_initrd(NULL, NULL, NULL));
    g_assert_true(vireo_vm_config_check_initrd("/rd", "/k", NULL));
    g_assert_false(vireo_vm_config_check_initrd("/rd", "", &error));
    g_assert_cmpstr(error->message, ==, "an initial RAM disk needs a kernel");
    g_clear_error(&error);

    g_assert_true(vireo_vm_config_check_forwards(VIREO_NETWORK_NONE, none, NULL));
    g_assert_true(vireo_vm_config_check_forwards(VIREO_NETWORK_USER, two, NULL));
    g_assert_false(vireo_vm_config_check_forwards(VIREO_NETWORK_NONE, two, &error));
    g_assert_cmpstr(error->message, ==, "port forwards need the user network mode");
    g_clear_error(&error);
    g_assert_false(vireo_vm_config_check_forwards(VIREO_NETWORK_USER, twice, &error));
    g_assert_cmpstr(error->message, ==, "host port udp 5353 is forwarded twice");
    g_clear_error(&error);
    g_assert_false(vireo_vm_config_check_forwards(VIREO_NETWORK_USER, bad, &error));
    g_assert_cmpstr(error->message, ==, "“tcp:x:1”: ports are numbers from 1 to 65535");
    g_clear_error(&error);

    /* The board decides how many disks fit beside the other devices. */
    for (guint i = 0; i < G_N_ELEMENTS(slots); i++) {
        guint max =
            vireo_vm_config_max_disks(VIREO_ARCH_RISCV64, slots[i].display, slots[i].network);
        g_assert_cmpuint(max, ==, slots[i].max);
        g_assert_true(vireo_vm_config_check_devices(VIREO_ARCH_RISCV64, slots[i].display,
                                                    slots[i].network, max, NULL));
        g_assert_false(vireo_vm_config_check_devices(VIREO_ARCH_RISCV64, slots[i].display,
                                                     slots[i].network, max + 1, &error));
        g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
        g_clear_error(&error);
    }
    /* Without a board, only the file's own limit. */
    g_assert_cmpuint(
        vireo_vm_config_max_disks(VIREO_ARCH_ARM64, VIREO_DISPLAY_VIRTIO_GPU, VIREO_NETWORK_USER),
        ==, VIREO_VM_CONFIG_MAX_DISKS);
}

int main(int argc, char *argv[])
{
    test_fresh_dirs();
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/config/defaults", test_defaults);
    g_test_add_func("/config/round-trip", test_round_trip);
    g_test_add_func("/config/sizes", test_sizes);
    g_test_add_func("/config/errors", test_errors);
    g_test_add_func("/config/text", test_text);
    g_test_add_func("/config/files", test_files);
    g_test_add_func("/config/file-kinds", test_file_kinds);
    g_test_add_func("/config/validate-setters", test_validate_setters);
    g_test_add_func("/config/engine", test_engine);
    g_test_add_func("/config/cross-field", test_cross_field);
    g_test_add_func("/config/debug", test_debug);
    return g_test_run();
}
