/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Walks through the real application and saves a screenshot of the screen
 * at each stop (with ImageMagick's import), for looking at the layout in
 * every language. Not a test: run it under a display with
 * VIREO_SCREENSHOT_DIR set, and LANG and VIREO_LOCALEDIR for a translation:
 *
 *   Xvfb :5 -screen 0 1280x800x24 &
 *   DISPLAY=:5 GSETTINGS_SCHEMA_DIR=build-ui/data VIREO_SCREENSHOT_DIR=/tmp/shots \
 *     LANG=zh_CN.UTF-8 VIREO_LOCALEDIR=build-ui/po build-ui/tests/ui/screenshot-tour
 */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <string.h>

#include "devices/block.h"
#include "ui-helpers.h"
#include "vireo-vm-editor.h"
#include "vireo-vm-view.h"

static gboolean console_has_prompt(gpointer data)
{
    g_autofree char *text = vireo_console_view_dup_text(vireo_vm_view_get_console(data));
    return text != NULL && strstr(text, "U-Boot 2023.01") != NULL && strstr(text, "=> ") != NULL;
}

/* The demo program's scene on the Display view, a few frames in. */
static gboolean display_drawn(gpointer data)
{
    VireoDisplayPage *page = vireo_vm_view_get_display_page(data);

    return g_strcmp0(vireo_display_page_get_page(page), "display") == 0 &&
           vireo_display_view_get_frame_count(vireo_display_page_get_view(page)) > 30;
}

static gboolean console_has_text(gpointer data)
{
    g_autofree char *text = vireo_console_view_dup_text(vireo_vm_view_get_console(data));
    return text != NULL && text[0] != '\0';
}

static gboolean not_busy(gpointer data)
{
    return !vireo_vm_controller_get_busy(data);
}

static gboolean has_snapshots(gpointer data)
{
    return !vireo_vm_controller_get_busy(data) &&
           g_list_model_get_n_items(vireo_vm_controller_get_snapshots(data)) > 0;
}

/* Gives the selected (stopped) VM a new qcow2 disk in its folder, where its
 * snapshots are kept; returns its new pane. */
static VireoVmView *add_qcow2_disk(VireoApplication *app, VireoWindow *window)
{
    VireoVmEntry *entry = vireo_window_get_selected_entry(window);
    g_autoptr(VireoVmConfig) config = vireo_vm_config_copy(vireo_vm_entry_get_config(entry));
    g_autofree char *disk = g_build_filename(vireo_vm_entry_get_dir(entry), "disk.qcow2", NULL);
    g_autoptr(GError) error = NULL;

    if (!vireo_qcow2_create(disk, 64 << 20, NULL, &error)) {
        g_error("%s", error->message);
    }
    vireo_vm_config_add_disk(config, disk, FALSE);
    vireo_vm_config_set_disk_format(config, vireo_vm_config_get_n_disks(config) - 1,
                                    VIREO_BLOCK_FORMAT_QCOW2);
    if (!vireo_vm_library_save(vireo_application_get_library(app), entry, config, &error)) {
        g_error("%s", error->message);
    }
    vireo_window_select_entry(window, entry);
    ui_spin(300);
    return VIREO_VM_VIEW(vireo_window_get_selected_view(window));
}

/* The message dialog on screen, or NULL. */
static AdwMessageDialog *find_dialog(void)
{
    GListModel *windows = gtk_window_get_toplevels(); /* not ours */

    for (guint i = 0; i < g_list_model_get_n_items(windows); i++) {
        g_autoptr(GtkWindow) w = g_list_model_get_item(windows, i);
        if (ADW_IS_MESSAGE_DIALOG(w) && gtk_widget_get_visible(GTK_WIDGET(w))) {
            return ADW_MESSAGE_DIALOG(w);
        }
    }
    g_error("no dialog on screen");
}

static void answer(const char *response)
{
    AdwMessageDialog *dialog = find_dialog();

    adw_message_dialog_response(dialog, response);
    gtk_window_close(GTK_WINDOW(dialog));
    ui_spin(200);
}

/* The running VM's snapshots: one taken with the camera (its progress),
 * one named in the dialog, the list and the restore confirmation. */
static void snapshots_tour(VireoVmView *view, const char *prefix)
{
    VireoVmController *controller = vireo_vm_entry_get_controller(vireo_vm_view_get_entry(view));
    VireoSnapshotsView *snapshots = vireo_vm_view_get_snapshots(view);
    g_autofree char *name = NULL;
    g_autoptr(VireoVmSnapshot) first = NULL;

    gtk_widget_activate_action(GTK_WIDGET(view), "vm.snapshot", NULL);
    name = g_strdup_printf("%s-progress", prefix);
    ui_screenshot(name);
    ui_wait(has_snapshots, controller, "a snapshot");
    vireo_vm_view_set_page(view, "snapshots");
    ui_spin(1000);
    gtk_widget_activate_action(GTK_WIDGET(snapshots), "snapshots.take-named", NULL);
    g_free(name);
    name = g_strdup_printf("%s-name", prefix);
    ui_screenshot(name);
    answer("take");
    ui_wait(not_busy, controller, "the named snapshot");
    g_free(name);
    name = g_strdup_printf("%s-list", prefix);
    ui_spin(4000); /* the toasts go */
    ui_screenshot(name);
    first = g_list_model_get_item(vireo_vm_controller_get_snapshots(controller), 0);
    gtk_widget_activate_action(GTK_WIDGET(snapshots), "snapshots.restore", "s",
                               vireo_vm_snapshot_get_id(first));
    g_free(name);
    name = g_strdup_printf("%s-restore", prefix);
    ui_screenshot(name);
    answer("cancel");
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

int main(int argc, char *argv[])
{
    const char *localedir = g_getenv("VIREO_LOCALEDIR");
    VireoApplication *app;
    VireoWindow *window;
    VireoVmView *view;
    VireoVmEditor *editor;
    gboolean graphical;

    setlocale(LC_ALL, "");
    bindtextdomain(GETTEXT_PACKAGE, localedir != NULL ? localedir : LOCALEDIR);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    textdomain(GETTEXT_PACKAGE);
    if (g_getenv("VIREO_SCREENSHOT_DIR") == NULL) {
        g_printerr("screenshot-tour: set VIREO_SCREENSHOT_DIR\n");
        return 2;
    }
    ui_fresh_dirs();
    gtk_init();

    app = ui_app_start();
    window = ui_app_window(app);
    gtk_window_set_default_size(GTK_WINDOW(window), 1180, 760);
    ui_spin(500);
    view = VIREO_VM_VIEW(vireo_window_get_selected_view(window));
    graphical = vireo_vm_controller_has_display(
        vireo_vm_entry_get_controller(vireo_window_get_selected_entry(window)));
    ui_screenshot("1-main");

    /* The editor, filled in, then with invalid values. */
    gtk_widget_activate_action(GTK_WIDGET(window), "win.new-vm", NULL);
    ui_spin(300);
    editor = find_editor(app);
    ui_screenshot("2-editor");
    adw_expander_row_set_expanded(
        ADW_EXPANDER_ROW(vireo_vm_editor_get_field(editor, "architecture")), TRUE);
    adw_expander_row_set_expanded(
        ADW_EXPANDER_ROW(vireo_vm_editor_get_field(editor, "accelerator")), TRUE);
    ui_screenshot("2-editor-choices");
    adw_expander_row_set_expanded(
        ADW_EXPANDER_ROW(vireo_vm_editor_get_field(editor, "architecture")), FALSE);
    adw_expander_row_set_expanded(
        ADW_EXPANDER_ROW(vireo_vm_editor_get_field(editor, "accelerator")), FALSE);
    gtk_editable_set_text(GTK_EDITABLE(vireo_vm_editor_get_field(editor, "memory")), "12Q");
    gtk_editable_set_text(GTK_EDITABLE(vireo_vm_editor_get_field(editor, "kernel")),
                          "/no/such/kernel");
    gtk_editable_set_text(GTK_EDITABLE(vireo_vm_editor_get_field(editor, "forwards")), "tcp:8022");
    ui_screenshot("3-editor-errors");
    gtk_window_destroy(GTK_WINDOW(editor));
    ui_spin(200);
    /* A disk for its snapshots. */
    view = add_qcow2_disk(app, window);

    /* The demo VM: the console (at the U-Boot prompt when it boots U-Boot),
     * then the statistics. */
    gtk_widget_activate_action(GTK_WIDGET(window), "win.start", NULL);
    if (graphical) {
        ui_wait(console_has_text, view, "the demo's banner");
    } else {
        ui_wait(console_has_prompt, view, "the U-Boot prompt");
        g_signal_emit_by_name(vireo_console_view_get_terminal(vireo_vm_view_get_console(view)),
                              "commit", "version\r", 8);
    }
    ui_spin(1500);
    ui_screenshot("4-console");
    vireo_vm_view_set_page(view, "statistics");
    ui_spin(8000);
    ui_screenshot("5-statistics");
    {
        /* The lower panels: TLBs, traps and the JIT. */
        GtkWidget *scrolled = gtk_widget_get_first_child(GTK_WIDGET(vireo_vm_view_get_stats(view)));
        GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment(GTK_SCROLLED_WINDOW(scrolled));
        gtk_adjustment_set_value(adj, gtk_adjustment_get_upper(adj));
    }
    ui_screenshot("5-statistics-lower");
    vireo_vm_view_set_page(view, "display");
    if (graphical) {
        VireoDisplayPage *page = vireo_vm_view_get_display_page(view);
        VireoDisplayView *screen = vireo_display_page_get_view(page);

        ui_wait(display_drawn, view, "the demo's scene");
        ui_spin(1500);
        ui_screenshot("6-display");
        /* Captured: the banner over the top of the screen. */
        gtk_widget_grab_focus(GTK_WIDGET(screen));
        vireo_display_view_set_keyboard_grabbed(screen, TRUE);
        ui_spin(500);
        ui_screenshot("6-display-grabbed");
        vireo_display_view_set_keyboard_grabbed(screen, FALSE);
        /* Full screen, in a window of its own. */
        vireo_display_page_set_fullscreen(page, TRUE);
        ui_spin(1500);
        ui_screenshot("6-display-fullscreen");
        vireo_display_page_set_fullscreen(page, FALSE);
        ui_spin(300);
    } else {
        ui_screenshot("6-display");
    }

    snapshots_tour(view, "9-snapshots");
    if (graphical) {
        /* The console's thumbnail: the firmware demo at U-Boot's prompt. */
        VireoVmEntry *demo = vireo_window_get_selected_entry(window);
        VireoVmLibrary *library = vireo_application_get_library(app);

        for (guint i = 0; i < g_list_model_get_n_items(G_LIST_MODEL(library)); i++) {
            g_autoptr(VireoVmEntry) e = g_list_model_get_item(G_LIST_MODEL(library), i);
            if (e != demo) {
                vireo_window_select_entry(window, e);
                break;
            }
        }
        ui_spin(300);
        view = add_qcow2_disk(app, window);
        gtk_widget_activate_action(GTK_WIDGET(window), "win.start", NULL);
        ui_wait(console_has_prompt, view, "the U-Boot prompt");
        ui_spin(500);
        gtk_widget_activate_action(GTK_WIDGET(view), "vm.snapshot", NULL);
        ui_wait(has_snapshots, vireo_vm_entry_get_controller(vireo_vm_view_get_entry(view)),
                "the console's snapshot");
        vireo_vm_view_set_page(view, "snapshots");
        ui_spin(4000);
        ui_screenshot("9-snapshots-console");
        gtk_widget_activate_action(GTK_WIDGET(window), "win.power-off", NULL);
        ui_spin(500);
        vireo_window_select_entry(window, demo);
        ui_spin(300);
        view = VIREO_VM_VIEW(vireo_window_get_selected_view(window));
    }

    /* Narrow: the list and the pane fold into one column. */
    vireo_vm_view_set_page(view, "console");
    gtk_window_set_default_size(GTK_WINDOW(window), 400, 700);
    ui_spin(800);
    ui_screenshot("7-narrow");
    gtk_window_set_default_size(GTK_WINDOW(window), 1180, 760);

    gtk_widget_activate_action(GTK_WIDGET(window), "win.power-off", NULL);
    ui_spin(500);
    gtk_widget_activate_action(GTK_WIDGET(window), "win.show-help-overlay", NULL);
    ui_screenshot("8-shortcuts");
    ui_app_quit(app);
    return 0;
}
