/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * VireoVmLibrary: create, rename, clone and delete VMs in a temporary
 * library; delete and clone leave files outside the VM's folder alone; a
 * VM whose vm.conf does not load is listed in its error state.
 */
#include "config.h"

#include "test-dirs.h"
#include "test-limits.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/error.h"
#include "vireo-demo.h"
#include "vireo-vm-library.h"

typedef struct {
    char *root;    /* a temporary folder */
    char *base;    /* root/vms: the library */
    char *outside; /* root/outside.img: an image outside every VM */
    char *kernel;  /* root/kernel */
    VireoVmLibrary *library;
} Fixture;

static void remove_tree(const char *path)
{
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    const char *name;

    if (dir != NULL && !g_file_test(path, G_FILE_TEST_IS_SYMLINK)) {
        while ((name = g_dir_read_name(dir)) != NULL) {
            g_autofree char *child = g_build_filename(path, name, NULL);
            remove_tree(child);
        }
        g_rmdir(path);
    } else {
        g_remove(path);
    }
}

static void setup(Fixture *f, gconstpointer data)
{
    f->root = g_dir_make_tmp("vireo-library-XXXXXX", NULL);
    f->base = g_build_filename(f->root, "vms", NULL);
    f->outside = g_build_filename(f->root, "outside.img", NULL);
    f->kernel = g_build_filename(f->root, "kernel", NULL);
    g_assert_true(g_file_set_contents(f->outside, "precious", -1, NULL));
    g_assert_true(g_file_set_contents(f->kernel, "kernel", -1, NULL));
    f->library = vireo_vm_library_new(f->base);
    g_assert_true(vireo_vm_library_load(f->library, NULL));
}

static void teardown(Fixture *f, gconstpointer data)
{
    g_clear_object(&f->library);
    remove_tree(f->root);
    g_free(f->root);
    g_free(f->base);
    g_free(f->outside);
    g_free(f->kernel);
}

static VireoVmConfig *make_config(Fixture *f, const char *name)
{
    VireoVmConfig *c = vireo_vm_config_new();
    vireo_vm_config_set_name(c, name);
    vireo_vm_config_set_kernel(c, f->kernel);
    return c;
}

static VireoVmEntry *item(VireoVmLibrary *library, guint i)
{
    g_autoptr(GObject) obj = g_list_model_get_item(G_LIST_MODEL(library), i);
    return VIREO_VM_ENTRY(obj); /* the library keeps a reference */
}

static void test_default_dir(void)
{
    g_autoptr(VireoVmLibrary) library = vireo_vm_library_new(NULL);
    g_autofree char *expected = g_build_filename(g_get_user_data_dir(), "vireo", "vms", NULL);

    g_assert_cmpstr(vireo_vm_library_get_base_dir(library), ==, expected);
}

static void test_create_rename(Fixture *f, gconstpointer data)
{
    g_autoptr(VireoVmConfig) b = make_config(f, "Bravo");
    g_autoptr(VireoVmConfig) a = make_config(f, "alpha");
    g_autoptr(VireoVmLibrary) again = NULL;
    g_autoptr(GError) error = NULL;
    VireoVmEntry *eb, *ea;
    g_autofree char *conf = NULL;

    eb = vireo_vm_library_create(f->library, b, &error);
    g_assert_no_error(error);
    ea = vireo_vm_library_create(f->library, a, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(f->library)), ==, 2);
    /* Sorted by name, ignoring case. */
    g_assert_true(item(f->library, 0) == ea);
    g_assert_true(item(f->library, 1) == eb);

    conf = vireo_vm_entry_dup_config_path(ea);
    g_assert_true(g_file_test(conf, G_FILE_TEST_IS_REGULAR));
    g_assert_true(g_str_has_prefix(vireo_vm_entry_get_dir(ea), f->base));
    g_assert_null(vireo_vm_entry_get_error(ea));

    g_assert_true(vireo_vm_library_rename(f->library, ea, "Charlie", &error));
    g_assert_no_error(error);
    g_assert_cmpstr(vireo_vm_entry_get_name(ea), ==, "Charlie");
    g_assert_true(item(f->library, 0) == eb);
    g_assert_true(item(f->library, 1) == ea);

    g_assert_false(vireo_vm_library_rename(f->library, ea, "", &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
    g_assert_true(g_str_has_prefix(error->message, "[core] name: "));
    g_clear_error(&error);

    /* A second library over the same folder sees the same VMs. */
    again = vireo_vm_library_new(f->base);
    g_assert_true(vireo_vm_library_load(again, &error));
    g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(again)), ==, 2);
    g_assert_cmpstr(vireo_vm_entry_get_name(item(again, 1)), ==, "Charlie");
    g_assert_cmpstr(vireo_vm_entry_get_id(item(again, 1)), ==, vireo_vm_entry_get_id(ea));
    g_assert_nonnull(vireo_vm_library_lookup(again, vireo_vm_entry_get_id(eb)));
}

static void test_clone_delete(Fixture *f, gconstpointer data)
{
    g_autoptr(VireoVmConfig) c = make_config(f, "Original");
    g_autoptr(GError) error = NULL;
    g_autoptr(VireoVmEntry) orig = NULL, clone = NULL;
    g_autofree char *owned = NULL, *clone_owned = NULL, *text = NULL;
    VireoVmConfig *cc;

    orig = g_object_ref(vireo_vm_library_create(f->library, c, &error));
    g_assert_no_error(error);

    /* An image the VM owns, and one outside every VM. */
    owned = g_build_filename(vireo_vm_entry_get_dir(orig), "disk.img", NULL);
    g_assert_true(g_file_set_contents(owned, "owned", -1, NULL));
    vireo_vm_config_add_disk(c, owned, FALSE);
    vireo_vm_config_add_disk(c, f->outside, TRUE);
    g_assert_true(vireo_vm_library_save(f->library, orig, c, &error));
    g_assert_no_error(error);

    clone = g_object_ref(vireo_vm_library_clone(f->library, orig, "Copy", &error));
    g_assert_no_error(error);
    g_assert_cmpstr(vireo_vm_entry_get_name(clone), ==, "Copy");
    g_assert_cmpstr(vireo_vm_entry_get_id(clone), !=, vireo_vm_entry_get_id(orig));
    cc = vireo_vm_entry_get_config(clone);
    clone_owned = g_build_filename(vireo_vm_entry_get_dir(clone), "disk.img", NULL);
    g_assert_cmpstr(vireo_vm_config_get_disk_path(cc, 0), ==, clone_owned);
    g_assert_cmpstr(vireo_vm_config_get_disk_path(cc, 1), ==, f->outside);
    g_assert_true(vireo_vm_config_get_disk_read_only(cc, 1));
    g_assert_true(g_file_get_contents(clone_owned, &text, NULL, NULL));
    g_assert_cmpstr(text, ==, "owned");
    g_clear_pointer(&text, g_free);
    g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(f->library)), ==, 2);

    /* Deleting the original removes its folder, not the clone's copy nor the
     * image outside. */
    g_assert_true(vireo_vm_library_delete(f->library, orig, &error));
    g_assert_no_error(error);
    g_assert_false(g_file_test(vireo_vm_entry_get_dir(orig), G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(clone_owned, G_FILE_TEST_IS_REGULAR));
    g_assert_true(g_file_get_contents(f->outside, &text, NULL, NULL));
    g_assert_cmpstr(text, ==, "precious");
    g_clear_pointer(&text, g_free);

    g_assert_true(vireo_vm_library_delete(f->library, clone, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(f->library)), ==, 0);
    g_assert_true(g_file_get_contents(f->outside, &text, NULL, NULL));
    g_assert_cmpstr(text, ==, "precious");
    g_assert_true(g_file_test(f->kernel, G_FILE_TEST_IS_REGULAR));
    g_assert_true(g_file_test(f->base, G_FILE_TEST_IS_DIR));
}

static void test_delete_symlink(Fixture *f, gconstpointer data)
{
    g_autoptr(VireoVmConfig) c = make_config(f, "Links");
    g_autoptr(GError) error = NULL;
    g_autofree char *link = NULL, *text = NULL;
    g_autofree char *outdir = g_build_filename(f->root, "elsewhere", NULL);
    g_autofree char *outfile = g_build_filename(outdir, "keep.img", NULL);
    g_autofree char *dirlink = NULL;
    VireoVmEntry *e = vireo_vm_library_create(f->library, c, &error);

    g_assert_no_error(error);
    /* Links inside the folder to files and folders elsewhere are removed as
     * links; what they point to stays. */
    g_assert_cmpint(g_mkdir(outdir, 0755), ==, 0);
    g_assert_true(g_file_set_contents(outfile, "keep", -1, NULL));
    link = g_build_filename(vireo_vm_entry_get_dir(e), "linked.img", NULL);
    dirlink = g_build_filename(vireo_vm_entry_get_dir(e), "linked-dir", NULL);
    g_assert_cmpint(symlink(f->outside, link), ==, 0);
    g_assert_cmpint(symlink(outdir, dirlink), ==, 0);

    g_assert_true(vireo_vm_library_delete(f->library, e, &error));
    g_assert_no_error(error);
    g_assert_true(g_file_get_contents(f->outside, &text, NULL, NULL));
    g_assert_cmpstr(text, ==, "precious");
    g_assert_true(g_file_test(outfile, G_FILE_TEST_IS_REGULAR));
}

static void test_corrupt(Fixture *f, gconstpointer data)
{
    g_autoptr(VireoVmConfig) c = make_config(f, "Good");
    g_autoptr(GError) error = NULL;
    g_autofree char *bad_dir = g_build_filename(f->base, "broken-vm", NULL);
    g_autofree char *bad_conf = g_build_filename(bad_dir, "vm.conf", NULL);
    g_autofree char *empty_dir = g_build_filename(f->base, "no-conf", NULL);
    g_autofree char *twice_dir = g_build_filename(f->base, "twice", NULL);
    g_autofree char *twice_conf = g_build_filename(twice_dir, "vm.conf", NULL);
    g_autoptr(VireoVmLibrary) library = NULL;
    VireoVmEntry *good, *bad, *empty;

    g_assert_nonnull(vireo_vm_library_create(f->library, c, &error));
    g_assert_cmpint(g_mkdir(bad_dir, 0755), ==, 0);
    g_assert_true(g_file_set_contents(bad_conf, "[core]\nname=Bad\nmemory=12Q\n", -1, NULL));
    g_assert_cmpint(g_mkdir(empty_dir, 0755), ==, 0);
    g_assert_cmpint(g_mkdir(twice_dir, 0755), ==, 0);
    g_assert_true(g_file_set_contents(
        twice_conf, "[core]\nname=Once\n[boot]\nkernel=/k\n[core]\nname=Twice\n", -1, NULL));

    library = vireo_vm_library_new(f->base);
    g_assert_true(vireo_vm_library_load(library, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(library)), ==, 4);

    /* A second [core] is not merged into the first. */
    g_assert_cmpstr(vireo_vm_entry_get_error(vireo_vm_library_lookup(library, "twice")), ==,
                    "[core] (line 5): the group appears a second time (first on line 1)");

    bad = vireo_vm_library_lookup(library, "broken-vm");
    g_assert_nonnull(bad);
    g_assert_null(vireo_vm_entry_get_config(bad));
    g_assert_cmpstr(vireo_vm_entry_get_name(bad), ==, "broken-vm");
    g_assert_cmpstr(vireo_vm_entry_get_error(bad), ==,
                    "[core] memory (line 3): “12Q” is not a size (try 256M or 2G)");
    g_assert_null(vireo_vm_entry_get_controller(bad));

    empty = vireo_vm_library_lookup(library, "no-conf");
    g_assert_nonnull(empty);
    g_assert_nonnull(vireo_vm_entry_get_error(empty));

    good = NULL;
    for (guint i = 0; i < 4; i++) {
        if (vireo_vm_entry_get_config(item(library, i)) != NULL) {
            good = item(library, i);
        }
    }
    g_assert_nonnull(good);
    g_assert_cmpstr(vireo_vm_entry_get_name(good), ==, "Good");
    g_assert_null(vireo_vm_entry_get_error(good));

    /* A broken VM can still be deleted. */
    g_assert_true(vireo_vm_library_delete(library, bad, &error));
    g_assert_no_error(error);
    g_assert_false(g_file_test(bad_dir, G_FILE_TEST_EXISTS));
}

/* VMs whose vm.conf is a link to /dev/zero, a named pipe, a 2 MiB file or
 * a sparse 1 GiB file are listed with the reason, which names the file;
 * loading the library neither waits nor fills the memory (a child process
 * with its memory capped and a time limit), and the other VMs load. */
static void test_unreadable(Fixture *f, gconstpointer data)
{
    static const struct {
        const char *id;
        const char *reason;
    } cases[] = {
        { "zero", "is a device, not a regular file" },
        { "fifo", "is a named pipe (FIFO), not a regular file" },
        { "two-mib", "is larger than 1.0\u00a0MiB (2.0\u00a0MiB)" },
        { "sparse", "is larger than 1.0\u00a0MiB (1.0\u00a0GiB)" },
    };
    g_autoptr(VireoVmConfig) a = NULL, b = NULL;
    g_autoptr(VireoVmLibrary) library = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *big = g_malloc0(2u << 20);
    guint loaded = 0;

    if (!g_test_subprocess()) {
        g_test_trap_subprocess(NULL, 20 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
        g_test_trap_assert_passed();
        return;
    }
    test_limit_memory(512ull << 20);

    a = make_config(f, "Alpha");
    b = make_config(f, "Omega");
    g_assert_nonnull(vireo_vm_library_create(f->library, a, &error));
    g_assert_nonnull(vireo_vm_library_create(f->library, b, &error));
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *dir = g_build_filename(f->base, cases[i].id, NULL);
        g_autofree char *conf = g_build_filename(dir, "vm.conf", NULL);
        int fd;

        g_assert_cmpint(g_mkdir(dir, 0755), ==, 0);
        switch (i) {
        case 0: g_assert_cmpint(symlink("/dev/zero", conf), ==, 0); break;
        case 1: g_assert_cmpint(mkfifo(conf, 0644), ==, 0); break;
        case 2:
            memcpy(big, "[core]\nname=Big\n", 16);
            g_assert_true(g_file_set_contents(conf, big, 2u << 20, NULL));
            break;
        default:
            fd = g_open(conf, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
            g_assert_cmpint(fd, >=, 0);
            g_assert_cmpint(ftruncate(fd, 1ll << 30), ==, 0);
            close(fd);
        }
    }

    library = vireo_vm_library_new(f->base);
    g_assert_true(vireo_vm_library_load(library, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(library)), ==, 2 + G_N_ELEMENTS(cases));
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        VireoVmEntry *entry = vireo_vm_library_lookup(library, cases[i].id);
        g_autofree char *conf = NULL;
        g_autofree char *expected = NULL;

        g_assert_nonnull(entry);
        conf = vireo_vm_entry_dup_config_path(entry);
        expected = g_strdup_printf("“%s” %s", conf, cases[i].reason);
        g_assert_null(vireo_vm_entry_get_config(entry));
        g_assert_cmpstr(vireo_vm_entry_get_error(entry), ==, expected);
    }
    for (guint i = 0; i < g_list_model_get_n_items(G_LIST_MODEL(library)); i++) {
        VireoVmEntry *entry = item(library, i);
        if (vireo_vm_entry_get_config(entry) != NULL) {
            g_assert_null(vireo_vm_entry_get_error(entry));
            loaded++;
        }
    }
    g_assert_cmpuint(loaded, ==, 2);
    g_assert_cmpstr(vireo_vm_entry_get_name(item(library, 0)), ==, "Alpha");
}

static void test_demo(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    VireoVmEntry *demo = vireo_demo_create(f->library, &error);
    VireoVmConfig *c;
    gboolean have_files = g_file_test(VIREO_DEMO_FIRMWARE, G_FILE_TEST_IS_REGULAR) &&
                          g_file_test(VIREO_DEMO_KERNEL, G_FILE_TEST_IS_REGULAR);

    g_assert_no_error(error);
    c = vireo_vm_entry_get_config(demo);
    g_assert_cmpint(vireo_vm_config_get_arch(c), ==, VIREO_ARCH_RISCV64);
    g_assert_cmpint(vireo_vm_config_get_accel(c), ==, VIREO_ACCEL_SOFT);
    g_assert_cmpuint(vireo_vm_config_get_memory(c), ==, 256ull << 20);
    g_assert_cmpstr(vireo_vm_config_get_firmware(c), ==, VIREO_DEMO_FIRMWARE);
    g_assert_cmpstr(vireo_vm_config_get_kernel(c), ==, VIREO_DEMO_KERNEL);
    if (have_files) {
        g_assert_null(vireo_vm_entry_get_error(demo));
    } else {
        g_assert_nonnull(strstr(vireo_vm_entry_get_error(demo), "apt install"));
    }
}

static VireoVmConfig *item_config(VireoVmLibrary *library, guint i)
{
    g_autoptr(VireoVmEntry) entry = g_list_model_get_item(G_LIST_MODEL(library), i);

    g_assert_nonnull(entry);
    return vireo_vm_entry_get_config(entry); /* the library keeps both */
}

/* A new library gets the graphical demo and the firmware demo when the demo
 * program is there, the firmware demo alone when it is not. */
static void test_demo_populate(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_build_filename(f->root, "demo", NULL);
    g_autofree char *program = g_build_filename(dir, VIREO_DEMO_PROGRAM, NULL);
    g_autofree char *base = g_build_filename(f->root, "vms-without", NULL);
    g_autoptr(VireoVmLibrary) without = NULL;
    g_autofree char *saved = g_strdup(g_getenv(VIREO_DEMO_DIR_ENV));
    VireoVmEntry *demo;
    VireoVmConfig *c;

    g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
    g_assert_true(g_file_set_contents(program, "not run here", -1, NULL));
    g_setenv(VIREO_DEMO_DIR_ENV, dir, TRUE);
    demo = vireo_demo_populate(f->library, &error);
    g_assert_no_error(error);
    g_assert_nonnull(demo);
    g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(f->library)), ==, 2);
    c = vireo_vm_entry_get_config(demo);
    g_assert_cmpstr(vireo_vm_config_get_kernel(c), ==, program);
    g_assert_null(vireo_vm_config_get_firmware(c));
    g_assert_cmpint(vireo_vm_config_get_display(c), ==, VIREO_DISPLAY_VIRTIO_GPU);
    c = item_config(f->library, item_config(f->library, 0) == c ? 1 : 0);
    g_assert_cmpstr(vireo_vm_config_get_firmware(c), ==, VIREO_DEMO_FIRMWARE);
    g_assert_cmpstr(vireo_vm_config_get_kernel(c), ==, VIREO_DEMO_KERNEL);
    g_assert_cmpint(vireo_vm_config_get_display(c), ==, VIREO_DISPLAY_NONE);

    /* A relative folder gives an absolute path, as configurations want. */
    {
        g_autofree char *cwd = g_get_current_dir();
        g_autofree char *found = NULL;
        g_assert_cmpint(g_chdir(f->root), ==, 0);
        g_setenv(VIREO_DEMO_DIR_ENV, "demo", TRUE);
        found = vireo_demo_find_program(NULL);
        g_assert_cmpint(g_chdir(cwd), ==, 0);
        g_assert_cmpstr(found, ==, program);
    }

    /* Without the program: the firmware demo alone. */
    g_setenv(VIREO_DEMO_DIR_ENV, "", TRUE);
    without = vireo_vm_library_new(base);
    g_assert_true(vireo_vm_library_load(without, NULL));
    demo = vireo_demo_populate(without, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(without)), ==, 1);
    c = vireo_vm_entry_get_config(demo);
    g_assert_cmpstr(vireo_vm_config_get_kernel(c), ==, VIREO_DEMO_KERNEL);
    g_assert_cmpint(vireo_vm_config_get_display(c), ==, VIREO_DISPLAY_NONE);

    if (saved != NULL) {
        g_setenv(VIREO_DEMO_DIR_ENV, saved, TRUE);
    } else {
        g_unsetenv(VIREO_DEMO_DIR_ENV);
    }
}

int main(int argc, char *argv[])
{
    test_fresh_dirs();
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/library/default-dir", test_default_dir);
    g_test_add("/library/create-rename", Fixture, NULL, setup, test_create_rename, teardown);
    g_test_add("/library/clone-delete", Fixture, NULL, setup, test_clone_delete, teardown);
    g_test_add("/library/delete-symlinks", Fixture, NULL, setup, test_delete_symlink, teardown);
    g_test_add("/library/corrupt", Fixture, NULL, setup, test_corrupt, teardown);
    g_test_add("/library/unreadable", Fixture, NULL, setup, test_unreadable, teardown);
    g_test_add("/library/demo", Fixture, NULL, setup, test_demo, teardown);
    g_test_add("/library/demo-populate", Fixture, NULL, setup, test_demo_populate, teardown);
    return g_test_run();
}
