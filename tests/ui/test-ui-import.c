/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * New VM → Import a Disk Image in the real application: the file chooser,
 * the VM it makes from a raw image (selected, on its Console view), which
 * boots OpenSBI and U-Boot with the image as its virtio disk and gets an
 * address by DHCP on the user network; and the dialog that explains why a
 * damaged qcow2 image cannot be used.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "ui-helpers.h"
#include "vireo-import.h"
#include "vireo-vm-view.h"

static char *write_file(const char *name, const guint8 *data, gsize size)
{
    g_autofree char *dir = g_build_filename(g_get_user_cache_dir(), "images", NULL);
    g_autofree char *path = g_build_filename(dir, name, NULL);

    g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
    g_assert_true(g_file_set_contents(path, (const char *)data, (gssize)size, NULL));
    return g_steal_pointer(&path);
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

typedef struct {
    VireoVmView *view;
    const char *text;
} ConsoleWait;

static gboolean console_has(gpointer data)
{
    ConsoleWait *w = data;
    g_autofree char *text = vireo_console_view_dup_text(vireo_vm_view_get_console(w->view));

    return text != NULL && strstr(text, w->text) != NULL;
}

static void wait_console(VireoVmView *view, const char *text)
{
    ConsoleWait w = { view, text };
    g_autofree char *what = g_strdup_printf("“%s” on the console", text);

    ui_wait(console_has, &w, what);
}

static gboolean is_stopped(gpointer data)
{
    VireoVmEntry *entry = data;

    return vireo_vm_entry_get_state(entry) == VIREO_VM_STATE_STOPPED &&
           !vireo_vm_controller_get_busy(vireo_vm_entry_get_controller(entry));
}

/* The file chooser's response, as a click on Import would give it. */
static void choose(GtkFileChooser *chooser, const char *path)
{
    g_autoptr(GFile) file = g_file_new_for_path(path);
    g_autoptr(GError) error = NULL;

    g_assert_true(gtk_file_chooser_set_file(chooser, file, &error));
    g_assert_no_error(error);
    ui_spin(300);
    g_signal_emit_by_name(chooser, "response", GTK_RESPONSE_ACCEPT);
    ui_spin(200);
}

static void test_import(void)
{
    g_autofree guint8 *data = g_malloc0(8 << 20);
    g_autofree char *image = NULL;
    VireoApplication *app;
    VireoWindow *window;
    VireoVmLibrary *library;
    GtkFileChooser *chooser;
    GtkFileFilter *filter;
    VireoVmEntry *entry;
    VireoVmConfig *config;
    VireoVmView *view;
    guint before;

    if (!have_firmware()) {
        return;
    }
    /* A raw disk with an empty partition table. */
    data[510] = 0x55;
    data[511] = 0xaa;
    image = write_file("trixie-riscv64.img", data, 8 << 20);

    app = ui_app_start();
    window = ui_app_window(app);
    library = vireo_application_get_library(app);
    before = g_list_model_get_n_items(G_LIST_MODEL(library));

    /* New VM → Import a Disk Image opens the chooser; Cancel changes
     * nothing. */
    gtk_widget_activate_action(GTK_WIDGET(window), "win.import-disk", NULL);
    ui_spin(300);
    chooser = vireo_window_import_disk(window);
    g_assert_nonnull(chooser);
    g_assert_cmpstr(gtk_native_dialog_get_title(GTK_NATIVE_DIALOG(chooser)), ==,
                    "Import a Disk Image");
    filter = gtk_file_chooser_get_filter(chooser);
    g_assert_cmpstr(gtk_file_filter_get_name(filter), ==, "Disk Images");
    g_signal_emit_by_name(chooser, "response", GTK_RESPONSE_CANCEL);
    ui_spin(100);
    g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(library)), ==, before);

    /* Choosing the image creates the VM. */
    chooser = vireo_window_import_disk(window);
    ui_spin(300);
    choose(chooser, image);
    g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(library)), ==, before + 1);
    entry = vireo_window_get_selected_entry(window);
    g_assert_nonnull(entry);
    config = vireo_vm_entry_get_config(entry);
    g_assert_cmpstr(vireo_vm_config_get_name(config), ==, "trixie-riscv64");
    g_assert_cmpint(vireo_vm_config_get_arch(config), ==, VIREO_ARCH_RISCV64);
    g_assert_cmpuint(vireo_vm_config_get_cpus(config), ==, 2);
    g_assert_cmpuint(vireo_vm_config_get_memory(config), ==, 1ull << 30);
    g_assert_cmpstr(vireo_vm_config_get_firmware(config), ==,
                    "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin");
    g_assert_cmpstr(vireo_vm_config_get_kernel(config), ==,
                    "/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin");
    g_assert_cmpuint(vireo_vm_config_get_n_disks(config), ==, 1);
    g_assert_cmpstr(vireo_vm_config_get_disk_path(config, 0), ==, image);
    g_assert_false(vireo_vm_config_get_disk_read_only(config, 0));
    g_assert_cmpint(vireo_vm_config_get_network(config), ==, VIREO_NETWORK_USER);
    g_assert_cmpint(vireo_vm_config_get_display(config), ==, VIREO_DISPLAY_NONE);
    g_assert_null(vireo_vm_entry_get_error(entry));
    view = VIREO_VM_VIEW(vireo_window_get_selected_view(window));
    g_assert_true(vireo_vm_view_get_entry(view) == entry);
    g_assert_cmpstr(vireo_vm_view_get_page(view), ==, "console");
    ui_screenshot("import-result");

    /* It boots: U-Boot finds the disk, then asks the user network for an
     * address. */
    gtk_widget_activate_action(GTK_WIDGET(window), "win.start", NULL);
    wait_console(view, "OpenSBI v1.1");
    g_assert_cmpstr(vireo_vm_view_get_page(view), ==, "console");
    wait_console(view, "VirtIO Block Device");
    wait_console(view, "DHCP client bound to address 10.0.2.15");
    ui_screenshot("import-booted");
    gtk_widget_activate_action(GTK_WIDGET(window), "win.power-off", NULL);
    ui_wait(is_stopped, entry, "the imported VM to stop");
    g_assert_null(vireo_vm_view_get_error(view));
    ui_app_quit(app);
}

typedef struct {
    VireoVmView *view;
    const char *text;
    gsize from; /* look after this many bytes of the console's text */
} ConsoleAfter;

static gboolean console_has_after(gpointer data)
{
    ConsoleAfter *w = data;
    g_autofree char *text = vireo_console_view_dup_text(vireo_vm_view_get_console(w->view));

    return text != NULL && strlen(text) > w->from && strstr(text + w->from, w->text) != NULL;
}

static gsize console_length(VireoVmView *view)
{
    g_autofree char *text = vireo_console_view_dup_text(vireo_vm_view_get_console(view));

    return text != NULL ? strlen(text) : 0;
}

/* Waits up to `seconds` (a whole distribution booting on a busy host takes
 * longer than ui_wait() allows). */
static void wait_long(UiCondition cond, gpointer data, const char *what, guint seconds)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)seconds * G_USEC_PER_SEC;

    while (!cond(data)) {
        if (g_get_monotonic_time() > deadline) {
            g_error("timed out after %u s waiting for %s", seconds, what);
        }
        g_main_context_iteration(NULL, FALSE);
        g_usleep(1000);
    }
}

static void type_line(VireoVmView *view, const char *line)
{
    g_autofree char *text = g_strconcat(line, "\r", NULL);

    g_signal_emit_by_name(vireo_console_view_get_terminal(vireo_vm_view_get_console(view)),
                          "commit", text, (guint)strlen(text));
}

/* The Debian kit's disk image (tests/guests/build-debian.py), imported as a
 * user would and started with one click: Debian's systemd reaches a root
 * shell on the Console view, says `running`, and powers the machine off.
 * Runs where VIREO_DEBIAN_KIT names the kit's folder (the slow suite). */
static void test_import_debian(void)
{
    const char *kit = g_getenv("VIREO_DEBIAN_KIT");
    g_autofree char *source = NULL;
    g_autofree char *dir = NULL;
    g_autofree char *image = NULL;
    g_autoptr(GError) error = NULL;
    VireoApplication *app;
    VireoWindow *window;
    GtkFileChooser *chooser;
    VireoVmEntry *entry;
    VireoVmView *view;
    ConsoleAfter w;
    int status = -1;

    if (kit == NULL) {
        g_test_skip("VIREO_DEBIAN_KIT is not set (the slow suite sets it)");
        return;
    }
    source = g_build_filename(kit, "debian-extlinux.img", NULL);
    if (!g_file_test(source, G_FILE_TEST_IS_REGULAR)) {
        g_test_skip("the Debian kit is not built (tests/guests/build-debian.py)");
        return;
    }
    if (!have_firmware()) {
        return;
    }
    /* The kit's images are read-only links into its cache: import a copy,
     * as a user would import a downloaded image. */
    dir = g_build_filename(g_get_user_cache_dir(), "images", NULL);
    g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
    image = g_build_filename(dir, "debian-13-riscv64.img", NULL);
    {
        const char *argv[] = { "cp", "--reflink=auto", "--sparse=always", source, image, NULL };
        g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                                   NULL, &status, &error));
        g_assert_no_error(error);
        g_assert_true(g_spawn_check_wait_status(status, NULL));
        g_assert_cmpint(g_chmod(image, 0644), ==, 0);
    }

    app = ui_app_start();
    window = ui_app_window(app);
    chooser = vireo_window_import_disk(window);
    ui_spin(300);
    choose(chooser, image);
    entry = vireo_window_get_selected_entry(window);
    g_assert_nonnull(entry);
    g_assert_cmpstr(vireo_vm_config_get_name(vireo_vm_entry_get_config(entry)), ==,
                    "debian-13-riscv64");
    view = VIREO_VM_VIEW(vireo_window_get_selected_view(window));

    gtk_widget_activate_action(GTK_WIDGET(window), "win.start", NULL);
    w = (ConsoleAfter){ view, "root@vireo-debian:~# ", 0 };
    wait_long(console_has_after, &w, "Debian's root shell on the console", 400);
    g_assert_cmpstr(vireo_vm_view_get_page(view), ==, "console");
    w = (ConsoleAfter){ view, "\nrunning", console_length(view) };
    type_line(view, "systemctl is-system-running --wait");
    wait_long(console_has_after, &w, "systemd's “running”", 300);
    w = (ConsoleAfter){ view, "inet 10.0.2.15/", console_length(view) };
    type_line(view, "for i in $(seq 90); do ip -4 -o addr show | grep -q 'inet 10[.]0[.]2[.]15/' "
                    "&& break; sleep 1; done; ip -4 -o addr show");
    wait_long(console_has_after, &w, "the address from the user network", 60);
    ui_screenshot("import-debian");
    type_line(view, "poweroff");
    wait_long(is_stopped, entry, "the guest to power the machine off", 120);
    g_assert_null(vireo_vm_view_get_error(view));
    ui_app_quit(app);
}

/* The AdwMessageDialog the window shows, or NULL. */
static AdwMessageDialog *find_dialog(void)
{
    GListModel *toplevels = gtk_window_get_toplevels(); /* not a reference */

    for (guint i = 0; i < g_list_model_get_n_items(toplevels); i++) {
        g_autoptr(GObject) w = g_list_model_get_item(toplevels, i);
        if (ADW_IS_MESSAGE_DIALOG(w) && gtk_widget_get_visible(GTK_WIDGET(w))) {
            return ADW_MESSAGE_DIALOG(w);
        }
    }
    return NULL;
}

static gboolean dialog_shown(gpointer data)
{
    return find_dialog() != NULL;
}

/* A damaged qcow2 image: a dialog says that it cannot be used and why; no
 * VM is made. */
static void test_qcow2(void)
{
    guint8 header[4096] = { 'Q', 'F', 'I', 0xfb, 0, 0, 0, 3 };
    g_autofree char *image = write_file("debian-13-generic-riscv64.qcow2", header, sizeof header);
    g_autoptr(GFile) file = g_file_new_for_path(image);
    VireoApplication *app;
    VireoWindow *window;
    VireoVmLibrary *library;
    AdwMessageDialog *dialog;
    guint before;

    app = ui_app_start();
    window = ui_app_window(app);
    library = vireo_application_get_library(app);
    before = g_list_model_get_n_items(G_LIST_MODEL(library));

    g_assert_null(vireo_window_import_disk_file(window, file));
    ui_wait(dialog_shown, NULL, "the import's error dialog");
    dialog = find_dialog();
    g_assert_cmpstr(adw_message_dialog_get_heading(dialog), ==, "Cannot Import Disk Image");
    g_test_message("%s", adw_message_dialog_get_body(dialog));
    g_assert_nonnull(strstr(adw_message_dialog_get_body(dialog),
                            "“debian-13-generic-riscv64.qcow2” is a qcow2 image that Vireo "
                            "cannot use"));
    g_assert_nonnull(strstr(adw_message_dialog_get_body(dialog), "cluster size"));
    g_assert_true(gtk_window_get_transient_for(GTK_WINDOW(dialog)) == GTK_WINDOW(window));
    ui_screenshot("import-qcow2");
    /* Closing it answers its close response. */
    gtk_window_close(GTK_WINDOW(dialog));
    ui_spin(300);
    g_assert_null(find_dialog());
    g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(library)), ==, before);
    ui_app_quit(app);
}

int main(int argc, char *argv[])
{
    ui_fresh_dirs();
    gtk_test_init(&argc, &argv, NULL);
    g_test_add_func("/ui/import/disk-image", test_import);
    g_test_add_func("/ui/import/qcow2", test_qcow2);
    g_test_add_func("/ui/import/debian", test_import_debian);
    return g_test_run();
}
