/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A VM whose vm.conf does not load shows an error row and a pane with the
 * reason; the rest of the library loads and works. vm.conf files that are a
 * link to /dev/zero, a named pipe or too large neither keep the window from
 * appearing nor fill the memory (the process's memory is capped, so that a
 * reader that does not stop fails the test instead of the machine).
 */
#include "config.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../app/test-limits.h"
#include "ui-helpers.h"
#include "vireo-vm-row.h"
#include "vireo-vm-view.h"

static void write_vm(const char *id, const char *text)
{
    g_autofree char *dir = g_build_filename(g_get_user_data_dir(), "vireo", "vms", id, NULL);
    g_autofree char *conf = g_build_filename(dir, "vm.conf", NULL);

    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    g_assert_true(g_file_set_contents(conf, text, -1, NULL));
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

/* Whether a label under `widget` shows exactly `text`. */
static gboolean shows_text(GtkWidget *widget, const char *text)
{
    if (GTK_IS_LABEL(widget) && gtk_widget_get_mapped(widget) &&
        strcmp(gtk_label_get_text(GTK_LABEL(widget)), text) == 0) {
        return TRUE;
    }
    for (GtkWidget *c = gtk_widget_get_first_child(widget); c != NULL;
         c = gtk_widget_get_next_sibling(c)) {
        if (shows_text(c, text)) {
            return TRUE;
        }
    }
    return FALSE;
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
    g_assert_true(shows_text(GTK_WIDGET(view), reason));
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

    app = ui_app_start();
    window = ui_app_window(app);
    g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(vireo_application_get_library(app))), ==,
                     6);

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
    check_broken(window, "bad", "[core] memory: “12Q” is not a size (try 256M or 2G)");

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

int main(int argc, char *argv[])
{
    ui_fresh_dirs();
    test_limit_memory(4ull << 30);
    gtk_test_init(&argc, &argv, NULL);
    g_test_add_func("/ui/corrupt", test_corrupt);
    return g_test_run();
}
