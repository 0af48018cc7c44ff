/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A VM whose vm.conf does not load shows an error row and a pane with the
 * reason; the rest of the library loads and works. vm.conf files that are a
 * link to /dev/zero, a named pipe or too large neither keep the window from
 * appearing nor fill the memory (the process's memory is capped, so that a
 * reader that does not stop fails the test instead of the machine).
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../app/test-limits.h"
#include "ui-helpers.h"
#include "vireo-vm-editor.h"
#include "vireo-vm-row.h"
#include "vireo-vm-view.h"

static void write_vm_data(const char *id, const char *data, gssize length)
{
    g_autofree char *dir = g_build_filename(g_get_user_data_dir(), "vireo", "vms", id, NULL);
    g_autofree char *conf = g_build_filename(dir, "vm.conf", NULL);

    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    g_assert_true(g_file_set_contents(conf, data, length, NULL));
}

static void write_vm(const char *id, const char *text)
{
    write_vm_data(id, text, -1);
}

static char *vm_conf_path(const char *id)
{
    return g_build_filename(g_get_user_data_dir(), "vireo", "vms", id, "vm.conf", NULL);
}

static void make_vm_dir(const char *id)
{
    g_autofree char *dir = g_build_filename(g_get_user_data_dir(), "vireo", "vms", id, NULL);

    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
}

static VireoVmRow *find_row(VireoWindow *window, const char *id)
{
    for (GtkWidget *c = gtk_widget_get_first_child(GTK_WIDGET(vireo_window_get_list(window)));
         c != NULL; c = gtk_widget_get_next_sibling(c)) {
        if (VIREO_IS_VM_ROW(c) &&
            strcmp(vireo_vm_entry_get_id(vireo_vm_row_get_entry(VIREO_VM_ROW(c))), id) == 0) {
            return VIREO_VM_ROW(c);
        }
    }
    return NULL;
}

/* The row of `id` has the Error badge and `reason` as its tooltip, and its
 * pane shows `reason` as it is. */
static void check_broken(VireoWindow *window, const char *id, const char *reason)
{
    VireoVmRow *row = find_row(window, id);
    VireoVmView *view;

    g_test_message("%s: %s", id, reason);
    g_assert_nonnull(row);
    g_assert_cmpstr(vireo_vm_row_get_badge(row), ==, "Error");
    g_assert_cmpstr(gtk_widget_get_tooltip_text(GTK_WIDGET(row)), ==, reason);
    gtk_list_box_select_row(vireo_window_get_list(window), GTK_LIST_BOX_ROW(row));
    ui_spin(100);
    view = VIREO_VM_VIEW(vireo_window_get_selected_view(window));
    g_assert_nonnull(view);
    g_assert_cmpstr(vireo_vm_entry_get_id(vireo_vm_view_get_entry(view)), ==, id);
    g_assert_true(ui_shows_text(GTK_WIDGET(view), reason));
}

static void test_corrupt(void)
{
    VireoApplication *app;
    VireoWindow *window;
    VireoVmRow *bad, *good, *other;
    VireoVmView *view;
    GtkWidget *page;
    g_autofree char *zero = vm_conf_path("zero");
    g_autofree char *fifo = vm_conf_path("fifo");
    g_autofree char *big = vm_conf_path("big");
    g_autofree char *big_data = g_malloc0(2u << 20);
    g_autofree char *zero_reason = NULL, *fifo_reason = NULL, *big_reason = NULL;
    static const char nul[] = "[core]\nname=Trunc\0ated\n[boot]\nkernel=/bin/sh\n";
    g_autoptr(GRand) rand = g_rand_new_with_seed(20261125);
    g_autoptr(GError) random_error = NULL;
    g_autofree char *random_conf = NULL, *random_reason = NULL;
    char random_data[256];

    write_vm("good", "[core]\nname=Good\nmemory=128M\n[boot]\nkernel=/bin/sh\n");
    write_vm("other", "[core]\nname=Other\ncpus=2\n[boot]\nkernel=/bin/sh\n");
    write_vm("bad", "[core]\nname=Broken\nmemory=12Q\n[boot]\nkernel=/bin/sh\n");
    make_vm_dir("zero");
    g_assert_cmpint(symlink("/dev/zero", zero), ==, 0);
    zero_reason = g_strdup_printf("“%s” is a device, not a regular file", zero);
    make_vm_dir("fifo");
    g_assert_cmpint(mkfifo(fifo, 0644), ==, 0);
    fifo_reason = g_strdup_printf("“%s” is a named pipe (FIFO), not a regular file", fifo);
    memcpy(big_data, "[core]\nname=Big\n", 16);
    make_vm_dir("big");
    g_assert_true(g_file_set_contents(big, big_data, 2u << 20, NULL));
    big_reason = g_strdup_printf("“%s” is larger than 1.0\u00a0MiB (2.0\u00a0MiB)", big);
    write_vm("twice", "[core]\nname=Once\n[boot]\nkernel=/bin/sh\n[core]\nname=Twice\n");
    write_vm_data("nul", nul, sizeof nul - 1);
    write_vm("latin1", "[core]\nname=Caf\xe9\n[boot]\nkernel=/bin/sh\n");
    write_vm("rlo", "[core]\nname=invoice\u202Efdp.exe\n[boot]\nkernel=/bin/sh\n");
    for (gsize i = 0; i < sizeof random_data; i++) {
        random_data[i] = (char)g_rand_int_range(rand, 0, 256);
    }
    write_vm_data("random", random_data, sizeof random_data);
    random_conf = vm_conf_path("random");
    g_assert_null(vireo_vm_config_load_from_file(random_conf, &random_error));
    random_reason = g_strdup(random_error->message);

    app = ui_app_start();
    window = ui_app_window(app);
    g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(vireo_application_get_library(app))), ==,
                     11);

    bad = find_row(window, "bad");
    good = find_row(window, "good");
    other = find_row(window, "other");
    g_assert_nonnull(bad);
    g_assert_nonnull(good);
    g_assert_nonnull(other);
    g_assert_cmpstr(vireo_vm_row_get_badge(good), ==, "Stopped");
    g_assert_cmpstr(vireo_vm_row_get_badge(other), ==, "Stopped");
    check_broken(window, "zero", zero_reason);
    check_broken(window, "fifo", fifo_reason);
    check_broken(window, "big", big_reason);
    check_broken(window, "bad", "[core] memory (line 3): “12Q” is not a size (try 256M or 2G)");
    check_broken(window, "twice",
                 "[core] (line 5): the group appears a second time (first on line 1)");
    check_broken(window, "nul", "[core] name (line 2): the value contains a NUL byte");
    check_broken(window, "latin1", "[core] name (line 2): the value is not valid UTF-8");
    check_broken(window, "rlo",
                 "[core] name (line 2): the name contains a bidirectional control character "
                 "(U+202E)");
    check_broken(window, "random", random_reason);

    /* Its pane says why, with ways out. */
    view = VIREO_VM_VIEW(vireo_window_get_selected_view(window));
    page = gtk_widget_get_first_child(GTK_WIDGET(view));
    g_assert_nonnull(page);
    g_assert_false(gtk_widget_activate_action(GTK_WIDGET(view), "vm.start", NULL) &&
                   vireo_vm_entry_get_state(vireo_vm_view_get_entry(view)) !=
                       VIREO_VM_STATE_STOPPED);
    ui_screenshot("corrupt");

    /* The others work: selecting one shows its pane. */
    gtk_list_box_select_row(vireo_window_get_list(window), GTK_LIST_BOX_ROW(good));
    ui_spin(100);
    g_assert_cmpstr(vireo_vm_entry_get_name(vireo_window_get_selected_entry(window)), ==, "Good");

    /* Fixing the file and retrying loads it. */
    write_vm("bad", "[core]\nname=Repaired\nmemory=64M\n[boot]\nkernel=/bin/sh\n");
    gtk_list_box_select_row(vireo_window_get_list(window), GTK_LIST_BOX_ROW(bad));
    ui_spin(100);
    gtk_widget_activate_action(vireo_window_get_selected_view(window), "vm.reload", NULL);
    ui_spin(100);
    g_assert_cmpstr(vireo_vm_entry_get_name(vireo_window_get_selected_entry(window)), ==,
                    "Repaired");
    ui_app_quit(app);
}

static VireoVmEditor *find_editor(VireoApplication *app)
{
    for (GList *l = gtk_application_get_windows(GTK_APPLICATION(app)); l != NULL; l = l->next) {
        if (VIREO_IS_VM_EDITOR(l->data)) {
            return l->data;
        }
    }
    return NULL;
}

/* What a file says is shown as it is, never as Pango markup: a reason
 * quoting a value with tags or an ampersand, a VM's name and a disk's path
 * in the list, the pane, the editor and toasts. */
static void test_markup(void)
{
    static const char name[] = "<b>Bold</b> & <i>Co</i>";
    g_autofree char *disk = g_build_filename(g_get_user_data_dir(), "a & <u>b.img", NULL);
    g_autofree char *named = NULL;
    g_autofree char *copy_name = g_strdup_printf("%s (Copy)", name);
    VireoApplication *app;
    VireoWindow *window;
    VireoVmRow *row;
    VireoVmEditor *editor;

    g_assert_true(g_file_set_contents(disk, "", 0, NULL));
    named =
        g_strdup_printf("[core]\nname=%s\n[boot]\nkernel=/bin/sh\n[disk.0]\npath=%s\n", name, disk);
    write_vm("span", "[core]\nname=Span\nmemory=<span size=\"xx-large\" "
                     "foreground=\"red\">x</span>\n[boot]\nkernel=/bin/sh\n");
    write_vm("amp", "[core]\nname=Amp\nmemory=1 & 2\n[boot]\nkernel=/bin/sh\n");
    write_vm("named", named);

    app = ui_app_start();
    window = ui_app_window(app);
    check_broken(window, "span",
                 "[core] memory (line 3): “<span size=\"xx-large\" foreground=\"red\">x</span>” "
                 "is not a size (try 256M or 2G)");
    check_broken(window, "amp", "[core] memory (line 3): “1 & 2” is not a size (try 256M or 2G)");

    row = find_row(window, "named");
    g_assert_nonnull(row);
    g_assert_cmpstr(vireo_vm_row_get_badge(row), ==, "Stopped");
    g_assert_true(ui_shows_text(GTK_WIDGET(row), name));
    gtk_list_box_select_row(vireo_window_get_list(window), GTK_LIST_BOX_ROW(row));
    ui_spin(100);

    /* The editor's rows: the disk's name and path, and a field's error
     * quoting what was typed. */
    gtk_widget_activate_action(vireo_window_get_selected_view(window), "vm.edit", NULL);
    ui_spin(200);
    editor = find_editor(app);
    g_assert_nonnull(editor);
    g_assert_true(ui_shows_text(GTK_WIDGET(editor), "a & <u>b.img"));
    g_assert_true(ui_shows_text(GTK_WIDGET(editor), disk));
    gtk_editable_set_text(GTK_EDITABLE(vireo_vm_editor_get_field(editor, "memory")),
                          "<b>1</b> & 2");
    ui_spin(50);
    g_assert_cmpstr(vireo_vm_editor_get_field_error(editor, "memory"), ==,
                    "“<b>1</b> & 2” is not a size (try 256M or 2G)");
    g_assert_true(
        ui_shows_text(GTK_WIDGET(editor), "“<b>1</b> & 2” is not a size (try 256M or 2G)"));
    ui_screenshot("editor-markup");
    gtk_window_destroy(GTK_WINDOW(editor));
    ui_spin(100);

    /* A toast (the first one: later ones wait for it), and a clone's
     * name. */
    vireo_window_show_toast(window, "<b>Not bold</b> & not markup");
    ui_spin(200);
    g_assert_true(ui_shows_text(GTK_WIDGET(window), "<b>Not bold</b> & not markup"));
    gtk_widget_activate_action(vireo_window_get_selected_view(window), "vm.clone", NULL);
    ui_spin(200);
    g_assert_cmpstr(vireo_vm_entry_get_name(vireo_window_get_selected_entry(window)), ==,
                    copy_name);
    g_assert_true(ui_shows_text(GTK_WIDGET(window), copy_name));
    ui_app_quit(app);
    g_assert_cmpint(g_remove(disk), ==, 0);
}

int main(int argc, char *argv[])
{
    ui_fresh_dirs();
    test_limit_memory(4ull << 30);
    gtk_test_init(&argc, &argv, NULL);
    g_test_add_func("/ui/corrupt", test_corrupt);
    g_test_add_func("/ui/corrupt/markup", test_markup);
    return g_test_run();
}
