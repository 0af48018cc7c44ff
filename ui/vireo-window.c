/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "vireo-window"

#include "config.h"

#include <glib/gi18n.h>

#include "vireo-window.h"

#include "vireo-demo.h"
#include "vireo-import.h"
#include "vireo-vm-editor.h"
#include "vireo-vm-row.h"
#include "vireo-vm-view.h"

struct _VireoWindow {
    AdwApplicationWindow parent_instance;

    VireoVmLibrary *library;
    GHashTable *views; /* id → VireoVmView, also pages of content_stack */
    char *selected_id;
    gboolean restoring;
    GtkFileChooserNative *import_chooser;

    /* Template widgets */
    AdwToastOverlay *toast_overlay;
    AdwLeaflet *leaflet;
    GtkWidget *sidebar;
    GtkWidget *new_button;
    GtkWidget *primary_menu_button;
    GtkListBox *vm_list;
    GtkStack *content_stack;
    AdwStatusPage *empty_page;
};

G_DEFINE_FINAL_TYPE(VireoWindow, vireo_window, ADW_TYPE_APPLICATION_WINDOW)

static GSettings *window_settings(VireoWindow *self)
{
    GtkApplication *app = gtk_window_get_application(GTK_WINDOW(self));

    if (app == NULL || !VIREO_IS_APPLICATION(app)) {
        return NULL;
    }
    return vireo_application_get_settings(VIREO_APPLICATION(app));
}

static GtkWidget *create_row(gpointer item, gpointer user_data)
{
    return vireo_vm_row_new(VIREO_VM_ENTRY(item));
}

static GtkWidget *view_for_entry(VireoWindow *self, VireoVmEntry *entry)
{
    const char *id = vireo_vm_entry_get_id(entry);
    GtkWidget *view = g_hash_table_lookup(self->views, id);

    if (view == NULL) {
        g_autofree char *page = g_strdup_printf("vm:%s", id);
        view = vireo_vm_view_new(self->library, entry);
        g_object_bind_property(self->leaflet, "folded", view, "folded", G_BINDING_SYNC_CREATE);
        gtk_stack_add_named(self->content_stack, view, page);
        g_hash_table_insert(self->views, g_strdup(id), view);
    }
    return view;
}

static void show_entry(VireoWindow *self, VireoVmEntry *entry)
{
    GSettings *settings = window_settings(self);

    if (entry == NULL) {
        g_clear_pointer(&self->selected_id, g_free);
        gtk_stack_set_visible_child_name(self->content_stack, "empty");
        return;
    }
    g_free(self->selected_id);
    self->selected_id = g_strdup(vireo_vm_entry_get_id(entry));
    gtk_stack_set_visible_child(self->content_stack, view_for_entry(self, entry));
    if (settings != NULL && !self->restoring) {
        g_settings_set_string(settings, "last-selected-vm", self->selected_id);
    }
}

static void on_row_selected(GtkListBox *list, GtkListBoxRow *row, VireoWindow *self)
{
    show_entry(self, row != NULL ? vireo_vm_row_get_entry(VIREO_VM_ROW(row)) : NULL);
}

static void on_row_activated(GtkListBox *list, GtkListBoxRow *row, VireoWindow *self)
{
    adw_leaflet_navigate(self->leaflet, ADW_NAVIGATION_DIRECTION_FORWARD);
}

static GtkListBoxRow *row_for_id(VireoWindow *self, const char *id)
{
    guint n = g_list_model_get_n_items(G_LIST_MODEL(self->library));

    for (guint i = 0; id != NULL && i < n; i++) {
        g_autoptr(VireoVmEntry) entry = g_list_model_get_item(G_LIST_MODEL(self->library), i);
        if (g_strcmp0(vireo_vm_entry_get_id(entry), id) == 0) {
            return gtk_list_box_get_row_at_index(self->vm_list, (int)i);
        }
    }
    return NULL;
}

/* After the list changed: drop the panes of deleted VMs and keep the
 * selection on the same VM (or its neighbour when it was deleted). */
static void on_items_changed(GListModel *model, guint position, guint removed, guint added,
                             VireoWindow *self)
{
    GHashTableIter iter;
    gpointer key, value;
    GtkListBoxRow *row;
    guint n = g_list_model_get_n_items(model);

    g_hash_table_iter_init(&iter, self->views);
    while (g_hash_table_iter_next(&iter, &key, &value)) {
        if (vireo_vm_library_lookup(self->library, key) == NULL) {
            gtk_stack_remove(self->content_stack, value);
            g_hash_table_iter_remove(&iter);
        }
    }
    row = row_for_id(self, self->selected_id);
    if (row == NULL && n > 0) {
        row = gtk_list_box_get_row_at_index(self->vm_list, (int)MIN(position, n - 1));
    }
    self->restoring = TRUE;
    gtk_list_box_select_row(self->vm_list, row);
    self->restoring = FALSE;
    show_entry(self, row != NULL ? vireo_vm_row_get_entry(VIREO_VM_ROW(row)) : NULL);
}

/* ---- Actions ------------------------------------------------------------ */

static void on_editor_saved(VireoVmEditor *editor, VireoVmEntry *entry, VireoWindow *self)
{
    vireo_window_select_entry(self, entry);
}

static void new_vm_action(GtkWidget *widget, const char *name, GVariant *param)
{
    vireo_window_new_vm(VIREO_WINDOW(widget));
}

/* win.new-demo: the demo VM (graphical when this build has the demo
 * program); win.new-firmware-demo: OpenSBI and U-Boot on the console. */
static void new_demo_action(GtkWidget *widget, const char *name, GVariant *param)
{
    VireoWindow *self = VIREO_WINDOW(widget);
    g_autoptr(GError) error = NULL;
    VireoVmEntry *entry = g_str_equal(name, "win.new-firmware-demo")
                              ? vireo_demo_create_firmware(self->library, &error)
                              : vireo_demo_create(self->library, &error);

    if (entry == NULL) {
        g_autofree char *text = g_strdup_printf(_("Cannot create the demo: %s"), error->message);
        vireo_window_show_toast(self, text);
        return;
    }
    vireo_window_select_entry(self, entry);
}

/* win.import-disk: a VM that boots a disk image, chosen in a file chooser. */
static void import_disk_action(GtkWidget *widget, const char *name, GVariant *param)
{
    vireo_window_import_disk(VIREO_WINDOW(widget));
}

static void on_import_response(GtkNativeDialog *dialog, int response, VireoWindow *self)
{
    g_autoptr(GFile) file = NULL;

    if (response == GTK_RESPONSE_ACCEPT) {
        file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
    }
    gtk_native_dialog_destroy(dialog);
    g_clear_object(&self->import_chooser);
    if (file != NULL) {
        vireo_window_import_disk_file(self, file);
    }
}

/* A message that needs reading and a decision: in a dialog, not a toast. */
static void show_import_error(VireoWindow *self, const char *message)
{
    g_autofree char *body = NULL;
    char first[8] = { 0 };
    GtkWidget *dialog;

    /* The reasons of the configuration's checks start in lower case. */
    if (*message != '\0') {
        g_unichar_to_utf8(g_unichar_toupper(g_utf8_get_char(message)), first);
        message = g_utf8_next_char(message);
    }
    body = g_strconcat(first, message, NULL);
    dialog = adw_message_dialog_new(GTK_WINDOW(self), _("Cannot Import Disk Image"), body);
    adw_message_dialog_add_response(ADW_MESSAGE_DIALOG(dialog), "close", _("_Close"));
    adw_message_dialog_set_default_response(ADW_MESSAGE_DIALOG(dialog), "close");
    adw_message_dialog_set_close_response(ADW_MESSAGE_DIALOG(dialog), "close");
    gtk_window_present(GTK_WINDOW(dialog));
}

static void go_back_action(GtkWidget *widget, const char *name, GVariant *param)
{
    VireoWindow *self = VIREO_WINDOW(widget);

    adw_leaflet_navigate(self->leaflet, ADW_NAVIGATION_DIRECTION_BACK);
}

/* VM shortcuts act on the VM shown. */
static void forward_action(GtkWidget *widget, const char *name, GVariant *param)
{
    GtkWidget *view = vireo_window_get_selected_view(VIREO_WINDOW(widget));
    g_autofree char *vm_action = g_strdup_printf("vm.%s", name + strlen("win."));

    if (view != NULL) {
        gtk_widget_activate_action(view, vm_action, NULL);
    }
}

static void fullscreen_action(GtkWidget *widget, const char *name, GVariant *param)
{
    GtkWindow *window = GTK_WINDOW(widget);

    if (gtk_window_is_fullscreen(window)) {
        gtk_window_unfullscreen(window);
    } else {
        gtk_window_fullscreen(window);
    }
}

/* ---- GObject ------------------------------------------------------------ */

static gboolean vireo_window_close_request(GtkWindow *window)
{
    VireoWindow *self = VIREO_WINDOW(window);
    GSettings *settings = window_settings(self);
    int width, height;

    if (settings != NULL) {
        gtk_window_get_default_size(window, &width, &height);
        g_settings_set(settings, "window-size", "(ii)", width, height);
        g_settings_set_boolean(settings, "window-maximized", gtk_window_is_maximized(window));
    }
    return GTK_WINDOW_CLASS(vireo_window_parent_class)->close_request(window);
}

/* Runs once the window has its application (set after construction, as
 * "application" is not a construct property). */
static void vireo_window_setup(VireoWindow *self)
{
    GtkApplication *app;
    GSettings *settings;
    g_autofree char *last = NULL;
    GtkListBoxRow *row;
    int width = 960, height = 640;

    settings = window_settings(self);
    if (settings != NULL) {
        g_settings_get(settings, "window-size", "(ii)", &width, &height);
        if (g_settings_get_boolean(settings, "window-maximized")) {
            gtk_window_maximize(GTK_WINDOW(self));
        }
        last = g_settings_get_string(settings, "last-selected-vm");
    }
    gtk_window_set_default_size(GTK_WINDOW(self), MAX(width, 360), MAX(height, 294));

    app = gtk_window_get_application(GTK_WINDOW(self));
    if (app != NULL && VIREO_IS_APPLICATION(app)) {
        self->library = g_object_ref(vireo_application_get_library(VIREO_APPLICATION(app)));
    } else {
        self->library = vireo_vm_library_new(NULL);
        vireo_vm_library_load(self->library, NULL);
    }
    gtk_list_box_bind_model(self->vm_list, G_LIST_MODEL(self->library), create_row, self, NULL);
    g_signal_connect_object(self->library, "items-changed", G_CALLBACK(on_items_changed), self,
                            G_CONNECT_AFTER);

    /* Back to the VM selected when the application last closed. */
    row = row_for_id(self, last);
    if (row == NULL) {
        row = gtk_list_box_get_row_at_index(self->vm_list, 0);
    }
    self->restoring = TRUE;
    gtk_list_box_select_row(self->vm_list, row);
    self->restoring = FALSE;
    show_entry(self, row != NULL ? vireo_vm_row_get_entry(VIREO_VM_ROW(row)) : NULL);
}

static void vireo_window_dispose(GObject *object)
{
    VireoWindow *self = VIREO_WINDOW(object);

    if (self->import_chooser != NULL) {
        gtk_native_dialog_destroy(GTK_NATIVE_DIALOG(self->import_chooser));
        g_clear_object(&self->import_chooser);
    }
    if (self->library != NULL) {
        g_signal_handlers_disconnect_by_data(self->library, self);
    }
    if (self->vm_list != NULL) {
        g_signal_handlers_disconnect_by_data(self->vm_list, self);
    }
    gtk_widget_dispose_template(GTK_WIDGET(self), VIREO_TYPE_WINDOW);
    g_clear_object(&self->library);
    G_OBJECT_CLASS(vireo_window_parent_class)->dispose(object);
}

static void vireo_window_finalize(GObject *object)
{
    VireoWindow *self = VIREO_WINDOW(object);

    g_hash_table_unref(self->views);
    g_free(self->selected_id);
    G_OBJECT_CLASS(vireo_window_parent_class)->finalize(object);
}

static void vireo_window_class_init(VireoWindowClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    GtkWindowClass *window_class = GTK_WINDOW_CLASS(klass);

    object_class->dispose = vireo_window_dispose;
    object_class->finalize = vireo_window_finalize;
    window_class->close_request = vireo_window_close_request;

    gtk_widget_class_set_template_from_resource(widget_class,
                                                "/io/github/vireo/Vireo/vireo-window.ui");
    gtk_widget_class_bind_template_child(widget_class, VireoWindow, toast_overlay);
    gtk_widget_class_bind_template_child(widget_class, VireoWindow, leaflet);
    gtk_widget_class_bind_template_child(widget_class, VireoWindow, sidebar);
    gtk_widget_class_bind_template_child(widget_class, VireoWindow, new_button);
    gtk_widget_class_bind_template_child(widget_class, VireoWindow, primary_menu_button);
    gtk_widget_class_bind_template_child(widget_class, VireoWindow, vm_list);
    gtk_widget_class_bind_template_child(widget_class, VireoWindow, content_stack);
    gtk_widget_class_bind_template_child(widget_class, VireoWindow, empty_page);

    gtk_widget_class_install_action(widget_class, "win.new-vm", NULL, new_vm_action);
    gtk_widget_class_install_action(widget_class, "win.new-demo", NULL, new_demo_action);
    gtk_widget_class_install_action(widget_class, "win.new-firmware-demo", NULL, new_demo_action);
    gtk_widget_class_install_action(widget_class, "win.import-disk", NULL, import_disk_action);
    gtk_widget_class_install_action(widget_class, "win.go-back", NULL, go_back_action);
    gtk_widget_class_install_action(widget_class, "win.start", NULL, forward_action);
    gtk_widget_class_install_action(widget_class, "win.pause", NULL, forward_action);
    gtk_widget_class_install_action(widget_class, "win.reset", NULL, forward_action);
    gtk_widget_class_install_action(widget_class, "win.power-off", NULL, forward_action);
    gtk_widget_class_install_action(widget_class, "win.fullscreen", NULL, fullscreen_action);
}

static void vireo_window_init(VireoWindow *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));

    self->views = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    gtk_accessible_update_property(GTK_ACCESSIBLE(self->new_button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                   _("New Virtual Machine"), -1);
    gtk_accessible_update_property(GTK_ACCESSIBLE(self->primary_menu_button),
                                   GTK_ACCESSIBLE_PROPERTY_LABEL, _("Main Menu"), -1);
    g_signal_connect(self->vm_list, "row-selected", G_CALLBACK(on_row_selected), self);
    g_signal_connect(self->vm_list, "row-activated", G_CALLBACK(on_row_activated), self);
}

VireoWindow *vireo_window_new(VireoApplication *app)
{
    VireoWindow *self = g_object_new(VIREO_TYPE_WINDOW, "application", app, NULL);

    vireo_window_setup(self);
    return self;
}

void vireo_window_show_toast(VireoWindow *self, const char *text)
{
    g_autofree char *escaped = NULL;

    g_return_if_fail(VIREO_IS_WINDOW(self));
    g_return_if_fail(text != NULL);

    /* A toast's title is Pango markup, and messages carry names and paths
     * from files. */
    escaped = g_markup_escape_text(text, -1);
    adw_toast_overlay_add_toast(self->toast_overlay, adw_toast_new(escaped));
}

void vireo_window_select_entry(VireoWindow *self, VireoVmEntry *entry)
{
    GtkListBoxRow *row;

    g_return_if_fail(VIREO_IS_WINDOW(self));
    g_return_if_fail(VIREO_IS_VM_ENTRY(entry));

    row = row_for_id(self, vireo_vm_entry_get_id(entry));
    if (row != NULL) {
        gtk_list_box_select_row(self->vm_list, row);
        adw_leaflet_navigate(self->leaflet, ADW_NAVIGATION_DIRECTION_FORWARD);
    }
}

VireoVmEntry *vireo_window_get_selected_entry(VireoWindow *self)
{
    g_return_val_if_fail(VIREO_IS_WINDOW(self), NULL);
    return self->selected_id != NULL ? vireo_vm_library_lookup(self->library, self->selected_id)
                                     : NULL;
}

GtkWidget *vireo_window_get_selected_view(VireoWindow *self)
{
    g_return_val_if_fail(VIREO_IS_WINDOW(self), NULL);
    return self->selected_id != NULL ? g_hash_table_lookup(self->views, self->selected_id) : NULL;
}

GtkListBox *vireo_window_get_list(VireoWindow *self)
{
    g_return_val_if_fail(VIREO_IS_WINDOW(self), NULL);
    return self->vm_list;
}

GtkWidget *vireo_window_new_vm(VireoWindow *self)
{
    GtkWidget *editor;

    g_return_val_if_fail(VIREO_IS_WINDOW(self), NULL);

    editor = vireo_vm_editor_new(GTK_WINDOW(self), self->library, NULL);
    g_signal_connect_object(editor, "saved", G_CALLBACK(on_editor_saved), self, 0);
    gtk_window_present(GTK_WINDOW(editor));
    return editor;
}

GtkFileChooser *vireo_window_import_disk(VireoWindow *self)
{
    GtkFileFilter *images, *all;

    g_return_val_if_fail(VIREO_IS_WINDOW(self), NULL);

    if (self->import_chooser != NULL) {
        gtk_native_dialog_destroy(GTK_NATIVE_DIALOG(self->import_chooser));
        g_clear_object(&self->import_chooser);
    }
    self->import_chooser =
        gtk_file_chooser_native_new(_("Import a Disk Image"), GTK_WINDOW(self),
                                    GTK_FILE_CHOOSER_ACTION_OPEN, _("_Import"), _("_Cancel"));
    gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(self->import_chooser), TRUE);
    /* qcow2 is listed so that choosing one explains why it cannot be used
     * yet. */
    images = gtk_file_filter_new();
    gtk_file_filter_set_name(images, _("Disk Images"));
    gtk_file_filter_add_mime_type(images, "application/x-raw-disk-image");
    gtk_file_filter_add_pattern(images, "*.img");
    gtk_file_filter_add_pattern(images, "*.raw");
    gtk_file_filter_add_pattern(images, "*.qcow2");
    gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(self->import_chooser), images);
    all = gtk_file_filter_new();
    gtk_file_filter_set_name(all, _("All Files"));
    gtk_file_filter_add_pattern(all, "*");
    gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(self->import_chooser), all);
    gtk_file_chooser_set_filter(GTK_FILE_CHOOSER(self->import_chooser), images);
    g_object_unref(images);
    g_object_unref(all);
    g_signal_connect(self->import_chooser, "response", G_CALLBACK(on_import_response), self);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(self->import_chooser));
    return GTK_FILE_CHOOSER(self->import_chooser);
}

VireoVmEntry *vireo_window_import_disk_file(VireoWindow *self, GFile *file)
{
    g_autofree char *path = NULL;
    g_autoptr(GError) error = NULL;
    VireoVmEntry *entry;
    GtkWidget *view;

    g_return_val_if_fail(VIREO_IS_WINDOW(self), NULL);
    g_return_val_if_fail(G_IS_FILE(file), NULL);

    path = g_file_get_path(file);
    if (path == NULL) {
        g_autofree char *uri = g_file_get_uri(file);
        g_autofree char *text =
            g_strdup_printf(_("“%s” is not a local file: copy it to this computer first"), uri);
        show_import_error(self, text);
        return NULL;
    }
    entry = vireo_import_create(self->library, path, &error);
    if (entry == NULL) {
        show_import_error(self, error->message);
        return NULL;
    }
    /* Its output is on the serial console: the pane starts there. */
    vireo_window_select_entry(self, entry);
    view = vireo_window_get_selected_view(self);
    if (view != NULL) {
        vireo_vm_view_set_page(VIREO_VM_VIEW(view), "console");
    }
    return entry;
}
