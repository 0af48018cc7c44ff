/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "vireo-snapshots-view"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "vireo-snapshots-view.h"

#include "vireo-thumbnail.h"

/* A thumbnail in a row, at most this many pixels. */
#define ROW_THUMBNAIL_WIDTH  112
#define ROW_THUMBNAIL_HEIGHT 70

/* The console's thumbnail: a terminal of this size. */
#define CONSOLE_COLUMNS 80
#define CONSOLE_ROWS    24

struct _VireoSnapshotsView {
    GtkWidget parent_instance;

    VireoVmController *controller;
    VireoConsoleView *console; /* weak */

    /* Template widgets */
    GtkStack *stack;
    GtkListBox *list_box;
    AdwStatusPage *unavailable_page;
    GtkWidget *convert_box;
    GtkWidget *convert_hint;
};

G_DEFINE_FINAL_TYPE(VireoSnapshotsView, vireo_snapshots_view, GTK_TYPE_WIDGET)

/* "1:02:03", or "2:03" under an hour. */
static char *format_clock(guint64 ns)
{
    guint64 s = ns / G_GUINT64_CONSTANT(1000000000);

    if (s >= 3600) {
        return g_strdup_printf("%" G_GUINT64_FORMAT ":%02u:%02u", s / 3600, (guint)(s / 60 % 60),
                               (guint)(s % 60));
    }
    return g_strdup_printf("%u:%02u", (guint)(s / 60), (guint)(s % 60));
}

/* The row's picture: the thumbnail, else the camera. */
static GtkWidget *thumbnail_widget(VireoVmSnapshot *snapshot)
{
    GBytes *png = vireo_vm_snapshot_get_thumbnail(snapshot);
    g_autoptr(GdkPixbuf) pixbuf = NULL;
    GtkWidget *widget;

    if (png != NULL) {
        g_autoptr(GInputStream) stream = g_memory_input_stream_new_from_bytes(png);
        g_autoptr(GError) error = NULL;

        pixbuf = gdk_pixbuf_new_from_stream_at_scale(stream, ROW_THUMBNAIL_WIDTH,
                                                     ROW_THUMBNAIL_HEIGHT, TRUE, NULL, &error);
        if (pixbuf == NULL) {
            g_debug("snapshot “%s”: the thumbnail does not load: %s",
                    vireo_vm_snapshot_get_name(snapshot), error->message);
        }
    }
    if (pixbuf != NULL) {
        g_autoptr(GdkTexture) texture = gdk_texture_new_for_pixbuf(pixbuf);

        widget = gtk_picture_new_for_paintable(GDK_PAINTABLE(texture));
        gtk_picture_set_can_shrink(GTK_PICTURE(widget), TRUE);
        gtk_picture_set_content_fit(GTK_PICTURE(widget), GTK_CONTENT_FIT_CONTAIN);
        gtk_picture_set_alternative_text(GTK_PICTURE(widget),
                                         _("The screen when the snapshot was taken"));
    } else {
        widget = gtk_image_new_from_icon_name("camera-photo-symbolic");
        gtk_image_set_pixel_size(GTK_IMAGE(widget), 24);
        gtk_widget_add_css_class(widget, "dim-label");
        gtk_accessible_update_property(GTK_ACCESSIBLE(widget), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                       _("No picture"), -1);
    }
    gtk_widget_set_size_request(widget, ROW_THUMBNAIL_WIDTH, ROW_THUMBNAIL_HEIGHT);
    gtk_widget_set_valign(widget, GTK_ALIGN_CENTER);
    gtk_widget_set_margin_top(widget, 6);
    gtk_widget_set_margin_bottom(widget, 6);
    gtk_widget_set_overflow(widget, GTK_OVERFLOW_HIDDEN);
    gtk_widget_add_css_class(widget, "vireo-snapshot-thumbnail");
    return widget;
}

static GtkWidget *row_button(const char *icon, const char *tooltip, const char *label,
                             const char *action, const char *id)
{
    GtkWidget *button = gtk_button_new_from_icon_name(icon);

    gtk_widget_set_valign(button, GTK_ALIGN_CENTER);
    gtk_widget_add_css_class(button, "flat");
    gtk_widget_set_tooltip_text(button, tooltip);
    gtk_accessible_update_property(GTK_ACCESSIBLE(button), GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                   -1);
    gtk_actionable_set_action_name(GTK_ACTIONABLE(button), action);
    gtk_actionable_set_action_target_value(GTK_ACTIONABLE(button), g_variant_new_string(id));
    return button;
}

static GtkWidget *create_row(gpointer item, gpointer data)
{
    VireoVmSnapshot *snapshot = item;
    const char *name = vireo_vm_snapshot_get_name(snapshot);
    g_autoptr(GDateTime) local = g_date_time_to_local(vireo_vm_snapshot_get_date(snapshot));
    g_autofree char *date = local != NULL ? g_date_time_format(local, "%Y-%m-%d %H:%M:%S") : NULL;
    g_autofree char *clock = format_clock(vireo_vm_snapshot_get_vm_clock_ns(snapshot));
    g_autofree char *size = g_format_size(vireo_vm_snapshot_get_state_size(snapshot));
    g_autofree char *subtitle = NULL;
    g_autofree char *restore_label = NULL;
    g_autofree char *delete_label = NULL;
    GtkWidget *row = adw_action_row_new();

    /* Translators: when the snapshot was taken, the guest's clock then (how
     * long it had run) and the size of the saved machine state. */
    subtitle = g_strdup_printf(_("%s · VM clock %s · %s"), date != NULL ? date : "?", clock, size);
    /* The name comes from the disk image: plain text. */
    adw_preferences_row_set_use_markup(ADW_PREFERENCES_ROW(row), FALSE);
    adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), name);
    adw_action_row_set_subtitle(ADW_ACTION_ROW(row), subtitle);
    adw_action_row_add_prefix(ADW_ACTION_ROW(row), thumbnail_widget(snapshot));

    restore_label = g_strdup_printf(_("Restore “%s”"), name);
    delete_label = g_strdup_printf(_("Delete “%s”"), name);
    adw_action_row_add_suffix(ADW_ACTION_ROW(row),
                              row_button("document-revert-symbolic", _("Restore"), restore_label,
                                         "snapshots.restore", vireo_vm_snapshot_get_id(snapshot)));
    adw_action_row_add_suffix(ADW_ACTION_ROW(row),
                              row_button("user-trash-symbolic", _("Delete"), delete_label,
                                         "snapshots.delete", vireo_vm_snapshot_get_id(snapshot)));
    g_object_set_data_full(G_OBJECT(row), "vireo-snapshot", g_object_ref(snapshot), g_object_unref);
    return row;
}

/* The listed snapshot whose id is `id`, or NULL. */
static VireoVmSnapshot *find_snapshot(VireoSnapshotsView *self, const char *id)
{
    GListModel *list;

    if (self->controller == NULL) {
        return NULL;
    }
    list = vireo_vm_controller_get_snapshots(self->controller);
    for (guint i = 0; i < g_list_model_get_n_items(list); i++) {
        g_autoptr(VireoVmSnapshot) s = g_list_model_get_item(list, i);
        if (g_strcmp0(vireo_vm_snapshot_get_id(s), id) == 0) {
            return s;
        }
    }
    return NULL;
}

/* Whether taking a snapshot called `name` replaces one: the disk image
 * looks a name up among the ids first, then among the names. */
static gboolean has_snapshot(VireoSnapshotsView *self, const char *name)
{
    GListModel *list;

    if (self->controller == NULL) {
        return FALSE;
    }
    list = vireo_vm_controller_get_snapshots(self->controller);
    for (guint i = 0; i < g_list_model_get_n_items(list); i++) {
        g_autoptr(VireoVmSnapshot) s = g_list_model_get_item(list, i);
        if (g_strcmp0(vireo_vm_snapshot_get_name(s), name) == 0 ||
            g_strcmp0(vireo_vm_snapshot_get_id(s), name) == 0) {
            return TRUE;
        }
    }
    return FALSE;
}

static void update(VireoSnapshotsView *self)
{
    VireoVmController *c = self->controller;
    gboolean busy = c == NULL || vireo_vm_controller_get_busy(c);
    const char *page = "loading";

    if (c != NULL && vireo_vm_controller_get_snapshots_listed(c)) {
        const char *error = vireo_vm_controller_get_snapshots_error(c);

        if (error != NULL) {
            /* A status page's description is markup; the reason may quote
             * a file name. */
            g_autofree char *escaped = g_markup_escape_text(error, -1);
            adw_status_page_set_description(self->unavailable_page, escaped);
            page = "unavailable";
        } else if (g_list_model_get_n_items(vireo_vm_controller_get_snapshots(c)) == 0) {
            page = "empty";
        } else {
            page = "list";
        }
    }
    gtk_stack_set_visible_child_name(self->stack, page);
    /* Shown, the view lists them once (and again after the configuration
     * changed); the controller lists them again after each operation. */
    if (c != NULL && !busy && !vireo_vm_controller_get_snapshots_listed(c) &&
        gtk_widget_get_mapped(GTK_WIDGET(self))) {
        vireo_vm_controller_refresh_snapshots(c);
    }
    /* Raw images can become qcow2 images, while the VM is stopped. */
    gtk_widget_set_visible(self->convert_box, c != NULL && vireo_vm_controller_get_has_raw_disk(c));
    gtk_widget_set_visible(self->convert_hint,
                           c != NULL && vireo_vm_controller_get_state(c) != VIREO_VM_STATE_STOPPED);
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "snapshots.take-named",
                                  !busy && vireo_vm_controller_get_can_snapshot(c, NULL));
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "snapshots.restore", !busy);
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "snapshots.delete", !busy);
}

/* ---- Taking ------------------------------------------------------------- */

char *vireo_snapshots_view_dup_default_name(VireoSnapshotsView *self)
{
    g_autoptr(GDateTime) now = g_date_time_new_now_local();
    g_autofree char *base = g_date_time_format(now, "%Y-%m-%d %H:%M:%S");
    char *name = g_strdup(base);

    g_return_val_if_fail(VIREO_IS_SNAPSHOTS_VIEW(self), NULL);

    for (guint n = 2; has_snapshot(self, name); n++) {
        g_free(name);
        name = g_strdup_printf("%s (%u)", base, n);
    }
    return name;
}

GBytes *vireo_snapshots_view_make_thumbnail(VireoSnapshotsView *self)
{
    VireoScanout *scanout;

    g_return_val_if_fail(VIREO_IS_SNAPSHOTS_VIEW(self), NULL);

    if (self->controller == NULL) {
        return NULL;
    }
    scanout = vireo_vm_controller_get_scanout(self->controller);
    if (scanout != NULL && vireo_vm_controller_get_display_active(self->controller)) {
        GBytes *png = vireo_thumbnail_from_scanout(scanout, VIREO_THUMBNAIL_WIDTH);
        if (png != NULL) {
            return png;
        }
    }
    if (self->console != NULL) {
        g_autofree char *text = vireo_console_view_dup_text(self->console);
        return vireo_thumbnail_from_text(text, CONSOLE_COLUMNS, CONSOLE_ROWS,
                                         VIREO_THUMBNAIL_WIDTH);
    }
    return NULL;
}

static void take(VireoSnapshotsView *self, const char *name)
{
    g_autoptr(GBytes) thumbnail = NULL;

    if (self->controller == NULL || !vireo_vm_controller_get_can_snapshot(self->controller, NULL)) {
        return;
    }
    thumbnail = vireo_snapshots_view_make_thumbnail(self);
    vireo_vm_controller_take_snapshot(self->controller, name, thumbnail);
}

void vireo_snapshots_view_take(VireoSnapshotsView *self)
{
    g_autofree char *name = NULL;

    g_return_if_fail(VIREO_IS_SNAPSHOTS_VIEW(self));

    name = vireo_snapshots_view_dup_default_name(self);
    take(self, name);
}

static GtkWindow *parent_window(VireoSnapshotsView *self)
{
    GtkRoot *root = gtk_widget_get_root(GTK_WIDGET(self));

    return GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL;
}

/* The name dialog's response follows its entry: a name the disk image can
 * keep, and "Replace" for a name that is taken. */
static void on_name_changed(GtkEditable *entry, AdwMessageDialog *dialog)
{
    VireoSnapshotsView *self = g_object_get_data(G_OBJECT(dialog), "vireo-view");
    const char *name = gtk_editable_get_text(entry);
    gsize len = strlen(name);
    gboolean valid = len > 0 && len <= VIREO_VM_SNAPSHOT_MAX_NAME;
    gboolean taken = valid && has_snapshot(self, name);

    adw_message_dialog_set_response_enabled(dialog, "take", valid);
    adw_message_dialog_set_response_label(dialog, "take", taken ? _("_Replace") : _("_Take"));
    adw_message_dialog_set_response_appearance(
        dialog, "take", taken ? ADW_RESPONSE_DESTRUCTIVE : ADW_RESPONSE_SUGGESTED);
    if (!valid) {
        adw_message_dialog_set_body(dialog, len == 0 ? _("The snapshot needs a name.")
                                                     : _("The name is too long."));
    } else if (taken) {
        adw_message_dialog_set_body(dialog, _("A snapshot of this name exists and will be "
                                              "replaced."));
    } else {
        adw_message_dialog_set_body(dialog, _("The virtual machine is saved as it is now, with "
                                              "its memory, its devices and its disks."));
    }
}

static void on_take_response(AdwMessageDialog *dialog, const char *response,
                             VireoSnapshotsView *self)
{
    GtkEditable *entry = GTK_EDITABLE(adw_message_dialog_get_extra_child(dialog));

    if (g_strcmp0(response, "take") == 0) {
        take(self, gtk_editable_get_text(entry));
    }
}

static void take_named_action(GtkWidget *widget, const char *action, GVariant *param)
{
    VireoSnapshotsView *self = VIREO_SNAPSHOTS_VIEW(widget);
    g_autofree char *name = vireo_snapshots_view_dup_default_name(self);
    GtkWidget *dialog, *entry;

    dialog = adw_message_dialog_new(parent_window(self), _("Take Snapshot"), NULL);
    entry = gtk_entry_new();
    gtk_entry_set_activates_default(GTK_ENTRY(entry), TRUE);
    gtk_accessible_update_property(GTK_ACCESSIBLE(entry), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                   _("Snapshot Name"), -1);
    adw_message_dialog_set_extra_child(ADW_MESSAGE_DIALOG(dialog), entry);
    adw_message_dialog_add_responses(ADW_MESSAGE_DIALOG(dialog), "cancel", _("_Cancel"), "take",
                                     _("_Take"), NULL);
    adw_message_dialog_set_default_response(ADW_MESSAGE_DIALOG(dialog), "take");
    adw_message_dialog_set_close_response(ADW_MESSAGE_DIALOG(dialog), "cancel");
    g_object_set_data(G_OBJECT(dialog), "vireo-view", self);
    g_signal_connect(entry, "changed", G_CALLBACK(on_name_changed), dialog);
    gtk_editable_set_text(GTK_EDITABLE(entry), name);
    on_name_changed(GTK_EDITABLE(entry), ADW_MESSAGE_DIALOG(dialog));
    g_signal_connect_object(dialog, "response", G_CALLBACK(on_take_response), self, 0);
    gtk_window_present(GTK_WINDOW(dialog));
    gtk_widget_grab_focus(entry);
}

/* ---- Restoring and deleting ----------------------------------------------- */

static void on_restore_response(AdwMessageDialog *dialog, const char *response,
                                VireoSnapshotsView *self)
{
    if (g_strcmp0(response, "restore") == 0 && self->controller != NULL) {
        vireo_vm_controller_restore_snapshot(self->controller,
                                             g_object_get_data(G_OBJECT(dialog), "vireo-snapshot"));
    }
}

static void on_delete_response(AdwMessageDialog *dialog, const char *response,
                               VireoSnapshotsView *self)
{
    if (g_strcmp0(response, "delete") == 0 && self->controller != NULL) {
        vireo_vm_controller_delete_snapshot(self->controller,
                                            g_object_get_data(G_OBJECT(dialog), "vireo-snapshot"));
    }
}

/* A confirmation of `response` on `snapshot`. */
static void confirm(VireoSnapshotsView *self, VireoVmSnapshot *snapshot, const char *heading,
                    const char *body, const char *response, const char *label, GCallback callback)
{
    GtkWidget *dialog = adw_message_dialog_new(parent_window(self), heading, body);

    adw_message_dialog_add_responses(ADW_MESSAGE_DIALOG(dialog), "cancel", _("_Cancel"), response,
                                     label, NULL);
    adw_message_dialog_set_response_appearance(ADW_MESSAGE_DIALOG(dialog), response,
                                               ADW_RESPONSE_DESTRUCTIVE);
    adw_message_dialog_set_default_response(ADW_MESSAGE_DIALOG(dialog), "cancel");
    adw_message_dialog_set_close_response(ADW_MESSAGE_DIALOG(dialog), "cancel");
    g_object_set_data_full(G_OBJECT(dialog), "vireo-snapshot", g_object_ref(snapshot),
                           g_object_unref);
    g_signal_connect_object(dialog, "response", callback, self, 0);
    gtk_window_present(GTK_WINDOW(dialog));
}

/* snapshots.restore: the id of a listed snapshot. */
static void restore_action(GtkWidget *widget, const char *action, GVariant *param)
{
    VireoSnapshotsView *self = VIREO_SNAPSHOTS_VIEW(widget);
    VireoVmSnapshot *snapshot = find_snapshot(self, g_variant_get_string(param, NULL));
    g_autofree char *heading = NULL;
    const char *name;

    if (snapshot == NULL) {
        return;
    }
    name = vireo_vm_snapshot_get_name(snapshot);
    if (vireo_vm_controller_get_state(self->controller) == VIREO_VM_STATE_STOPPED) {
        heading = g_strdup_printf(_("Start From “%s”?"), name);
        confirm(self, snapshot, heading,
                _("The virtual machine starts as it was when the snapshot was taken. The changes "
                  "to its disks since then will be lost."),
                "restore", _("_Start"), G_CALLBACK(on_restore_response));
    } else {
        heading = g_strdup_printf(_("Restore “%s”?"), name);
        confirm(self, snapshot, heading,
                _("The virtual machine's current state will be lost, and so will the changes to "
                  "its disks since the snapshot was taken."),
                "restore", _("_Restore"), G_CALLBACK(on_restore_response));
    }
}

/* snapshots.delete: the id of a listed snapshot. */
static void delete_action(GtkWidget *widget, const char *action, GVariant *param)
{
    VireoSnapshotsView *self = VIREO_SNAPSHOTS_VIEW(widget);
    VireoVmSnapshot *snapshot = find_snapshot(self, g_variant_get_string(param, NULL));
    g_autofree char *heading = NULL;

    if (snapshot == NULL) {
        return;
    }
    heading = g_strdup_printf(_("Delete “%s”?"), vireo_vm_snapshot_get_name(snapshot));
    confirm(self, snapshot, heading,
            _("The snapshot is removed from the disk images. This cannot be undone."), "delete",
            _("_Delete"), G_CALLBACK(on_delete_response));
}

/* ---- GObject ------------------------------------------------------------ */

static void vireo_snapshots_view_map(GtkWidget *widget)
{
    VireoSnapshotsView *self = VIREO_SNAPSHOTS_VIEW(widget);

    GTK_WIDGET_CLASS(vireo_snapshots_view_parent_class)->map(widget);
    update(self);
}

static void vireo_snapshots_view_dispose(GObject *object)
{
    VireoSnapshotsView *self = VIREO_SNAPSHOTS_VIEW(object);

    vireo_snapshots_view_set_controller(self, NULL);
    vireo_snapshots_view_set_console(self, NULL);
    gtk_widget_dispose_template(GTK_WIDGET(self), VIREO_TYPE_SNAPSHOTS_VIEW);
    for (GtkWidget *child; (child = gtk_widget_get_first_child(GTK_WIDGET(self))) != NULL;) {
        gtk_widget_unparent(child);
    }
    G_OBJECT_CLASS(vireo_snapshots_view_parent_class)->dispose(object);
}

static void vireo_snapshots_view_class_init(VireoSnapshotsViewClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    object_class->dispose = vireo_snapshots_view_dispose;
    widget_class->map = vireo_snapshots_view_map;

    gtk_widget_class_set_layout_manager_type(widget_class, GTK_TYPE_BIN_LAYOUT);
    gtk_widget_class_set_template_from_resource(widget_class,
                                                "/io/github/vireo/Vireo/vireo-snapshots-view.ui");
    gtk_widget_class_bind_template_child(widget_class, VireoSnapshotsView, stack);
    gtk_widget_class_bind_template_child(widget_class, VireoSnapshotsView, list_box);
    gtk_widget_class_bind_template_child(widget_class, VireoSnapshotsView, unavailable_page);
    gtk_widget_class_bind_template_child(widget_class, VireoSnapshotsView, convert_box);
    gtk_widget_class_bind_template_child(widget_class, VireoSnapshotsView, convert_hint);

    gtk_widget_class_install_action(widget_class, "snapshots.take-named", NULL, take_named_action);
    gtk_widget_class_install_action(widget_class, "snapshots.restore", "s", restore_action);
    gtk_widget_class_install_action(widget_class, "snapshots.delete", "s", delete_action);
}

static void vireo_snapshots_view_init(VireoSnapshotsView *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    update(self);
}

/* ---- Public API --------------------------------------------------------- */

GtkWidget *vireo_snapshots_view_new(void)
{
    return g_object_new(VIREO_TYPE_SNAPSHOTS_VIEW, NULL);
}

void vireo_snapshots_view_set_controller(VireoSnapshotsView *self, VireoVmController *controller)
{
    g_return_if_fail(VIREO_IS_SNAPSHOTS_VIEW(self));
    g_return_if_fail(controller == NULL || VIREO_IS_VM_CONTROLLER(controller));

    if (self->controller == controller) {
        return;
    }
    if (self->controller != NULL) {
        g_signal_handlers_disconnect_by_data(self->controller, self);
        g_signal_handlers_disconnect_by_data(vireo_vm_controller_get_snapshots(self->controller),
                                             self);
        g_clear_object(&self->controller);
    }
    if (controller != NULL) {
        static const char *const props[] = {
            "notify::busy",
            "notify::state",
            "notify::can-snapshot",
            "notify::snapshots-listed",
            "notify::snapshots-error",
        };
        GListModel *list = vireo_vm_controller_get_snapshots(controller);

        self->controller = g_object_ref(controller);
        for (guint i = 0; i < G_N_ELEMENTS(props); i++) {
            g_signal_connect_swapped(controller, props[i], G_CALLBACK(update), self);
        }
        g_signal_connect_swapped(list, "items-changed", G_CALLBACK(update), self);
        gtk_list_box_bind_model(self->list_box, list, create_row, self, NULL);
    } else if (self->list_box != NULL) {
        gtk_list_box_bind_model(self->list_box, NULL, NULL, NULL, NULL);
    }
    update(self);
}

void vireo_snapshots_view_set_console(VireoSnapshotsView *self, VireoConsoleView *console)
{
    g_return_if_fail(VIREO_IS_SNAPSHOTS_VIEW(self));

    if (self->console != NULL) {
        g_object_remove_weak_pointer(G_OBJECT(self->console), (gpointer *)&self->console);
    }
    self->console = console;
    if (console != NULL) {
        g_object_add_weak_pointer(G_OBJECT(console), (gpointer *)&self->console);
    }
}

const char *vireo_snapshots_view_get_page(VireoSnapshotsView *self)
{
    g_return_val_if_fail(VIREO_IS_SNAPSHOTS_VIEW(self), NULL);
    return gtk_stack_get_visible_child_name(self->stack);
}

GtkWidget *vireo_snapshots_view_find_row(VireoSnapshotsView *self, const char *name)
{
    g_return_val_if_fail(VIREO_IS_SNAPSHOTS_VIEW(self), NULL);

    for (GtkWidget *c = gtk_widget_get_first_child(GTK_WIDGET(self->list_box)); c != NULL;
         c = gtk_widget_get_next_sibling(c)) {
        VireoVmSnapshot *s = g_object_get_data(G_OBJECT(c), "vireo-snapshot");
        if (s != NULL && g_strcmp0(vireo_vm_snapshot_get_name(s), name) == 0) {
            return c;
        }
    }
    return NULL;
}
