/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Creates a VM through the editor of the real application (typing into its
 * fields, checking the inline errors and that Save stays disabled while a
 * field is invalid, then pressing Save), restarts the application in the
 * same XDG folders and finds the VM again, selected as it was left; edits
 * it back to the default execution engine.
 */
#include "config.h"

#include <string.h>

#include "ui-helpers.h"
#include "vireo-vm-editor.h"
#include "vireo-vm-row.h"

static void set_text(VireoVmEditor *editor, const char *field, const char *text)
{
    gtk_editable_set_text(GTK_EDITABLE(vireo_vm_editor_get_field(editor, field)), text);
    ui_spin(20);
}

static gboolean save_enabled(VireoVmEditor *editor)
{
    return gtk_widget_is_sensitive(vireo_vm_editor_get_field(editor, "save"));
}

static guint n_rows(VireoWindow *window)
{
    guint n = 0;

    for (GtkWidget *c = gtk_widget_get_first_child(GTK_WIDGET(vireo_window_get_list(window)));
         c != NULL; c = gtk_widget_get_next_sibling(c)) {
        n += VIREO_IS_VM_ROW(c);
    }
    return n;
}

static gboolean is_destroyed(gpointer data)
{
    return *(gboolean *)data;
}

static void on_destroy(GtkWidget *widget, gpointer data)
{
    *(gboolean *)data = TRUE;
}

static void test_create_and_restart(void)
{
    VireoApplication *app = ui_app_start();
    VireoWindow *window = ui_app_window(app);
    VireoVmLibrary *library = vireo_application_get_library(app);
    g_autofree char *kernel = g_build_filename(g_get_user_data_dir(), "kernel.bin", NULL);
    VireoVmEditor *editor;
    VireoVmEntry *entry;
    VireoVmConfig *config;
    gboolean destroyed = FALSE;
    g_autofree char *id = NULL;
    g_autofree char *path = NULL;
    g_autofree char *text = NULL;

    /* The first start brings the demo VM. */
    g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(library)), ==, 1);
    g_assert_cmpuint(n_rows(window), ==, 1);

    g_assert_true(g_file_set_contents(kernel, "not really a kernel", -1, NULL));
    gtk_widget_activate_action(GTK_WIDGET(window), "win.new-vm", NULL);
    ui_spin(200);
    editor = NULL;
    for (GList *l = gtk_application_get_windows(GTK_APPLICATION(app)); l != NULL; l = l->next) {
        if (VIREO_IS_VM_EDITOR(l->data)) {
            editor = l->data;
        }
    }
    g_assert_nonnull(editor);
    g_signal_connect(editor, "destroy", G_CALLBACK(on_destroy), &destroyed);
    ui_screenshot("editor-new");

    /* Every invalid value is shown next to its field and blocks Save. */
    set_text(editor, "name", "");
    g_assert_cmpstr(vireo_vm_editor_get_field_error(editor, "name"), ==, "a name is required");
    g_assert_false(save_enabled(editor));
    set_text(editor, "name", "Test VM");
    g_assert_null(vireo_vm_editor_get_field_error(editor, "name"));

    set_text(editor, "memory", "12Q");
    g_assert_nonnull(vireo_vm_editor_get_field_error(editor, "memory"));
    g_assert_false(save_enabled(editor));
    set_text(editor, "memory", "1M");
    g_assert_nonnull(vireo_vm_editor_get_field_error(editor, "memory"));
    set_text(editor, "memory", "512M");
    g_assert_null(vireo_vm_editor_get_field_error(editor, "memory"));

    set_text(editor, "kernel", "/no/such/kernel");
    g_assert_nonnull(vireo_vm_editor_get_field_error(editor, "kernel"));
    g_assert_false(save_enabled(editor));
    set_text(editor, "forwards", "tcp:8022:22");
    g_assert_nonnull(vireo_vm_editor_get_field_error(editor, "forwards")); /* needs user mode */
    adw_combo_row_set_selected(ADW_COMBO_ROW(vireo_vm_editor_get_field(editor, "network")), 1);
    ui_spin(20);
    g_assert_null(vireo_vm_editor_get_field_error(editor, "forwards"));
    ui_screenshot("editor-errors");

    /* The debugger's port is checked only while the switch is on. */
    g_assert_false(
        gtk_switch_get_active(GTK_SWITCH(vireo_vm_editor_get_field(editor, "gdb-switch"))));
    set_text(editor, "gdb", "70000");
    ui_spin(5);
    g_assert_null(vireo_vm_editor_get_field_error(editor, "gdb"));
    gtk_switch_set_active(GTK_SWITCH(vireo_vm_editor_get_field(editor, "gdb-switch")), TRUE);
    ui_spin(5);
    g_assert_cmpstr(vireo_vm_editor_get_field_error(editor, "gdb"), ==,
                    "70000 is not a port (1 to 65535, or 0 for off)");
    g_assert_false(save_enabled(editor));
    set_text(editor, "gdb", "gdb");
    g_assert_cmpstr(vireo_vm_editor_get_field_error(editor, "gdb"), ==,
                    "“gdb” is not a port (1 to 65535, or 0 for off)");
    set_text(editor, "gdb", "");
    g_assert_cmpstr(vireo_vm_editor_get_field_error(editor, "gdb"), ==, "a port is required");
    set_text(editor, "gdb", "0");
    g_assert_nonnull(vireo_vm_editor_get_field_error(editor, "gdb"));
    set_text(editor, "gdb", "4321");
    g_assert_null(vireo_vm_editor_get_field_error(editor, "gdb"));

    set_text(editor, "kernel", kernel);
    set_text(editor, "cmdline", "console=ttyS0 earlycon");
    gtk_spin_button_set_value(GTK_SPIN_BUTTON(vireo_vm_editor_get_field(editor, "cpus")), 3);
    /* A new VM runs on the default engine; the second choice is the
     * interpreter. */
    g_assert_cmpuint(
        adw_combo_row_get_selected(ADW_COMBO_ROW(vireo_vm_editor_get_field(editor, "engine"))), ==,
        0);
    adw_combo_row_set_selected(ADW_COMBO_ROW(vireo_vm_editor_get_field(editor, "engine")), 1);
    ui_spin(20);
    g_assert_true(save_enabled(editor));
    ui_screenshot("editor-engine");

    g_signal_emit_by_name(vireo_vm_editor_get_field(editor, "save"), "clicked");
    ui_wait(is_destroyed, &destroyed, "the editor to close");

    g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(library)), ==, 2);
    entry = vireo_window_get_selected_entry(window);
    g_assert_nonnull(entry);
    g_assert_cmpstr(vireo_vm_entry_get_name(entry), ==, "Test VM");
    id = g_strdup(vireo_vm_entry_get_id(entry));
    ui_screenshot("main-two-vms");
    ui_app_quit(app);

    /* A new application in the same folders finds it, selected. */
    app = ui_app_start();
    window = ui_app_window(app);
    library = vireo_application_get_library(app);
    g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(library)), ==, 2);
    g_assert_cmpuint(n_rows(window), ==, 2);
    entry = vireo_vm_library_lookup(library, id);
    g_assert_nonnull(entry);
    config = vireo_vm_entry_get_config(entry);
    g_assert_nonnull(config);
    g_assert_cmpstr(vireo_vm_config_get_name(config), ==, "Test VM");
    g_assert_cmpuint(vireo_vm_config_get_memory(config), ==, 512ull << 20);
    g_assert_cmpuint(vireo_vm_config_get_cpus(config), ==, 3);
    g_assert_cmpstr(vireo_vm_config_get_kernel(config), ==, kernel);
    g_assert_cmpstr(vireo_vm_config_get_cmdline(config), ==, "console=ttyS0 earlycon");
    g_assert_cmpint(vireo_vm_config_get_network(config), ==, VIREO_NETWORK_USER);
    g_assert_cmpstr(vireo_vm_config_get_forwards(config)[0], ==, "tcp:8022:22");
    g_assert_cmpuint(vireo_vm_config_get_gdb_port(config), ==, 4321);
    g_assert_cmpint(vireo_vm_config_get_engine(config), ==, VIREO_ENGINE_INTERP);
    path = vireo_vm_entry_dup_config_path(entry);
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_assert_nonnull(strstr(text, "\nengine=interp\n"));
    g_clear_pointer(&text, g_free);
    g_assert_true(vireo_window_get_selected_entry(window) == entry);

    /* Edited back to the default engine, the file has no engine key. */
    editor = VIREO_VM_EDITOR(vireo_vm_editor_new(GTK_WINDOW(window), library, entry));
    destroyed = FALSE;
    g_signal_connect(editor, "destroy", G_CALLBACK(on_destroy), &destroyed);
    gtk_window_present(GTK_WINDOW(editor));
    ui_spin(200);
    g_assert_cmpuint(
        adw_combo_row_get_selected(ADW_COMBO_ROW(vireo_vm_editor_get_field(editor, "engine"))), ==,
        1);
    adw_combo_row_set_selected(ADW_COMBO_ROW(vireo_vm_editor_get_field(editor, "engine")), 0);
    ui_spin(20);
    g_assert_true(save_enabled(editor));
    g_signal_emit_by_name(vireo_vm_editor_get_field(editor, "save"), "clicked");
    ui_wait(is_destroyed, &destroyed, "the editor to close");
    config = vireo_vm_entry_get_config(vireo_vm_library_lookup(library, id));
    g_assert_cmpint(vireo_vm_config_get_engine(config), ==, VIREO_ENGINE_DEFAULT);
    g_assert_cmpuint(vireo_vm_config_get_cpus(config), ==, 3);
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_assert_null(strstr(text, "engine="));
    ui_app_quit(app);
}

int main(int argc, char *argv[])
{
    ui_fresh_dirs();
    gtk_test_init(&argc, &argv, NULL);
    g_test_add_func("/ui/editor/create-and-restart", test_create_and_restart);
    return g_test_run();
}
