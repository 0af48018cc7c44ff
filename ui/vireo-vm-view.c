/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "vireo-vm-view"

#include "config.h"

#include <glib/gi18n.h>

#include "vireo-vm-view.h"

#include "vireo-display-page.h"
#include "vireo-vm-editor.h"
#include "vireo-window.h"

struct _VireoVmView {
    GtkWidget parent_instance;

    VireoVmLibrary *library;
    VireoVmEntry *entry;
    VireoVmController *controller;
    gboolean folded;
    char *dismissed_error;

    /* Template widgets */
    AdwHeaderBar *header_bar;
    GtkWidget *back_button;
    GtkWidget *start_button;
    GtkButton *pause_button;
    GtkWidget *reset_button;
    GtkWidget *off_button;
    GtkWidget *snapshot_button;
    GtkWidget *menu_button;
    GtkWidget *display_controls;
    GtkWidget *scale_button;
    GtkWidget *fullscreen_button;
    AdwViewSwitcherTitle *switcher_title;
    GtkRevealer *error_revealer;
    GtkLabel *error_label;
    GtkButton *error_close_button;
    GtkRevealer *progress_revealer;
    GtkLabel *progress_label;
    GtkProgressBar *progress_bar;
    GtkRevealer *debug_revealer;
    GtkLabel *debug_label;
    GtkWidget *debug_copy_button;
    GtkStack *main_stack;
    AdwViewStack *view_stack;
    VireoConsoleView *console_view;
    VireoDisplayPage *display_page;
    VireoStatsView *stats_view;
    VireoSnapshotsView *snapshots_view;
    AdwStatusPage *broken_page;
};

G_DEFINE_FINAL_TYPE(VireoVmView, vireo_vm_view, GTK_TYPE_WIDGET)

enum {
    PROP_0,
    PROP_FOLDED,
    N_PROPS,
};

static GParamSpec *properties[N_PROPS];

static void show_toast(VireoVmView *self, const char *text)
{
    GtkRoot *root = gtk_widget_get_root(GTK_WIDGET(self));

    if (VIREO_IS_WINDOW(root)) {
        vireo_window_show_toast(VIREO_WINDOW(root), text);
    }
}

/* The error bar shows why the VM cannot run or why it stopped: the
 * controller's last error, else a problem with the files it names. */
static void update_error(VireoVmView *self)
{
    const char *message = NULL;

    if (self->controller != NULL) {
        message = vireo_vm_controller_get_last_error(self->controller);
    }
    if (message == NULL && vireo_vm_entry_get_config(self->entry) != NULL) {
        message = vireo_vm_entry_get_error(self->entry);
    }
    if (message != NULL && g_strcmp0(message, self->dismissed_error) != 0) {
        gtk_label_set_label(self->error_label, message);
        gtk_revealer_set_reveal_child(self->error_revealer, TRUE);
    } else {
        gtk_revealer_set_reveal_child(self->error_revealer, FALSE);
    }
}

/* The command that connects gdb-multiarch to the debugger's `port`. */
static char *gdb_command(guint port)
{
    return g_strdup_printf("gdb-multiarch -ex 'target remote 127.0.0.1:%u'", port);
}

/* While the VM runs with [debug] gdb: where a debugger connects. */
static void update_debug(VireoVmView *self, VireoVmConfig *config, gboolean live)
{
    guint port = config != NULL ? vireo_vm_config_get_gdb_port(config) : 0;

    if (live && port != 0) {
        g_autofree char *command = gdb_command(port);
        /* Translators: the address, then the command line to paste. */
        g_autofree char *text =
            g_strdup_printf(_("A debugger can connect on 127.0.0.1:%u: %s"), port, command);
        gtk_label_set_text(self->debug_label, text);
    }
    gtk_revealer_set_reveal_child(self->debug_revealer, live && port != 0);
}

static void on_debug_copy(VireoVmView *self)
{
    VireoVmConfig *config = vireo_vm_entry_get_config(self->entry);
    g_autofree char *command = NULL;

    if (config == NULL || vireo_vm_config_get_gdb_port(config) == 0) {
        return;
    }
    command = gdb_command(vireo_vm_config_get_gdb_port(config));
    gdk_clipboard_set_text(gtk_widget_get_clipboard(GTK_WIDGET(self)), command);
}

/* The camera: enabled while a snapshot can be taken, else saying why not. */
static void update_snapshot_button(VireoVmView *self, gboolean busy)
{
    const char *reason = NULL;
    gboolean can =
        self->controller != NULL && vireo_vm_controller_get_can_snapshot(self->controller, &reason);

    gtk_widget_action_set_enabled(GTK_WIDGET(self), "vm.snapshot", can && !busy);
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "vm.convert-disks",
                                  self->controller != NULL && !busy &&
                                      vireo_vm_controller_get_state(self->controller) ==
                                          VIREO_VM_STATE_STOPPED &&
                                      vireo_vm_controller_get_has_raw_disk(self->controller));
    gtk_widget_set_tooltip_text(self->snapshot_button,
                                can || reason == NULL ? _("Take Snapshot") : reason);
}

/* While a snapshot is taken, restored or deleted: what and how far. */
static void update_progress(VireoVmView *self)
{
    VireoSnapshotOp op = self->controller != NULL
                             ? vireo_vm_controller_get_snapshot_op(self->controller)
                             : VIREO_SNAPSHOT_OP_NONE;
    const char *text = NULL;

    switch (op) {
    case VIREO_SNAPSHOT_OP_TAKE: text = _("Taking a snapshot…"); break;
    case VIREO_SNAPSHOT_OP_RESTORE: text = _("Restoring the snapshot…"); break;
    case VIREO_SNAPSHOT_OP_DELETE: text = _("Deleting the snapshot…"); break;
    case VIREO_SNAPSHOT_OP_CONVERT: text = _("Converting the disks to qcow2…"); break;
    case VIREO_SNAPSHOT_OP_LIST:
    case VIREO_SNAPSHOT_OP_NONE:
    default: break;
    }
    if (text != NULL) {
        gtk_label_set_text(self->progress_label, text);
        /* Deleting reports no progress. */
        gtk_widget_set_visible(GTK_WIDGET(self->progress_bar), op != VIREO_SNAPSHOT_OP_DELETE);
        gtk_progress_bar_set_fraction(self->progress_bar,
                                      vireo_vm_controller_get_snapshot_progress(self->controller));
    }
    gtk_revealer_set_reveal_child(self->progress_revealer, text != NULL);
}

static void on_snapshot_done(VireoVmView *self, VireoSnapshotOp op, const char *name)
{
    switch (op) {
    case VIREO_SNAPSHOT_OP_TAKE: show_toast(self, _("Snapshot taken")); break;
    case VIREO_SNAPSHOT_OP_RESTORE: show_toast(self, _("Snapshot restored")); break;
    case VIREO_SNAPSHOT_OP_DELETE: show_toast(self, _("Snapshot deleted")); break;
    case VIREO_SNAPSHOT_OP_LIST:
    case VIREO_SNAPSHOT_OP_CONVERT:
    case VIREO_SNAPSHOT_OP_NONE:
    default: break;
    }
}

static void update(VireoVmView *self)
{
    VireoVmConfig *config = vireo_vm_entry_get_config(self->entry);
    VireoVmState state = vireo_vm_entry_get_state(self->entry);
    gboolean busy = self->controller != NULL && vireo_vm_controller_get_busy(self->controller);
    gboolean live = state != VIREO_VM_STATE_STOPPED;
    gboolean migrated =
        self->controller != NULL && vireo_vm_controller_has_migrated(self->controller);
    GtkWidget *widget = GTK_WIDGET(self);

    adw_view_switcher_title_set_title(self->switcher_title, vireo_vm_entry_get_name(self->entry));
    vireo_display_page_set_title(self->display_page, vireo_vm_entry_get_name(self->entry));
    update_debug(self, config, live);
    if (config == NULL) {
        /* A status page's description is Pango markup; the reason quotes
         * the file. */
        g_autofree char *reason = g_markup_escape_text(vireo_vm_entry_get_error(self->entry), -1);
        adw_status_page_set_description(self->broken_page, reason);
        gtk_stack_set_visible_child_name(self->main_stack, "broken");
    } else {
        gtk_stack_set_visible_child_name(self->main_stack, "vm");
    }
    adw_view_switcher_title_set_view_switcher_enabled(self->switcher_title, config != NULL);

    gtk_widget_action_set_enabled(widget, "vm.start", config != NULL && !live && !busy);
    /* A VM that migrated runs elsewhere: it may only be powered off here. */
    gtk_widget_action_set_enabled(widget, "vm.pause", live && !busy && !migrated);
    gtk_widget_action_set_enabled(widget, "vm.reset", live && !busy && !migrated);
    gtk_widget_action_set_enabled(widget, "vm.power-off", live && !busy);
    gtk_widget_action_set_enabled(widget, "vm.edit", config != NULL && !live && !busy);
    gtk_widget_action_set_enabled(widget, "vm.clone", config != NULL && !busy);
    gtk_widget_action_set_enabled(widget, "vm.delete", !live && !busy);
    gtk_widget_action_set_enabled(widget, "vm.reload", !live && !busy);
    update_snapshot_button(self, busy);

    if (state == VIREO_VM_STATE_PAUSED) {
        gtk_button_set_icon_name(self->pause_button, "media-playback-start-symbolic");
        gtk_widget_set_tooltip_text(GTK_WIDGET(self->pause_button), _("Resume (Ctrl+Shift+P)"));
        gtk_accessible_update_property(GTK_ACCESSIBLE(self->pause_button),
                                       GTK_ACCESSIBLE_PROPERTY_LABEL, _("Resume"), -1);
    } else {
        gtk_button_set_icon_name(self->pause_button, "media-playback-pause-symbolic");
        gtk_widget_set_tooltip_text(GTK_WIDGET(self->pause_button), _("Pause (Ctrl+Shift+P)"));
        gtk_accessible_update_property(GTK_ACCESSIBLE(self->pause_button),
                                       GTK_ACCESSIBLE_PROPERTY_LABEL, _("Pause"), -1);
    }
    update_error(self);
}

static void on_controller_error(VireoVmView *self, const char *message)
{
    g_clear_pointer(&self->dismissed_error, g_free);
    update_error(self);
}

static void attach_controller(VireoVmView *self)
{
    VireoVmController *controller = vireo_vm_entry_get_controller(self->entry);

    if (controller == self->controller) {
        return;
    }
    if (self->controller != NULL) {
        g_signal_handlers_disconnect_by_data(self->controller, self);
    }
    g_set_object(&self->controller, controller);
    if (controller != NULL) {
        g_signal_connect_swapped(controller, "notify::busy", G_CALLBACK(update), self);
        g_signal_connect_swapped(controller, "notify::state", G_CALLBACK(update), self);
        g_signal_connect_swapped(controller, "notify::migrated", G_CALLBACK(update), self);
        g_signal_connect_swapped(controller, "error", G_CALLBACK(on_controller_error), self);
        g_signal_connect_swapped(controller, "notify::can-snapshot", G_CALLBACK(update), self);
        g_signal_connect_swapped(controller, "notify::snapshot-reason", G_CALLBACK(update), self);
        g_signal_connect_swapped(controller, "notify::has-raw-disk", G_CALLBACK(update), self);
        g_signal_connect_swapped(controller, "notify::snapshot-op", G_CALLBACK(update_progress),
                                 self);
        g_signal_connect_swapped(controller, "notify::snapshot-progress",
                                 G_CALLBACK(update_progress), self);
        g_signal_connect_swapped(controller, "snapshot-done", G_CALLBACK(on_snapshot_done), self);
    }
    update_progress(self);
    vireo_console_view_set_controller(self->console_view, controller);
    vireo_snapshots_view_set_controller(self->snapshots_view, controller);
    vireo_stats_view_set_controller(self->stats_view, controller);
    vireo_display_page_set_controller(self->display_page, controller);
}

/* The display's scale and full-screen buttons, while its page shows it. */
static void update_display_controls(VireoVmView *self)
{
    gboolean on_page =
        g_strcmp0(adw_view_stack_get_visible_child_name(self->view_stack), "display") == 0;

    gtk_widget_set_visible(self->display_controls,
                           on_page && vireo_display_page_get_showing_display(self->display_page));
}

static void on_entry_notify(VireoVmView *self)
{
    attach_controller(self);
    update(self);
}

static void on_error_close(VireoVmView *self)
{
    g_free(self->dismissed_error);
    self->dismissed_error = g_strdup(gtk_label_get_label(self->error_label));
    gtk_revealer_set_reveal_child(self->error_revealer, FALSE);
}

/* ---- Actions ------------------------------------------------------------ */

static void start_action(GtkWidget *widget, const char *name, GVariant *param)
{
    VireoVmView *self = VIREO_VM_VIEW(widget);

    vireo_vm_entry_check_files(self->entry);
    attach_controller(self);
    if (self->controller != NULL) {
        g_clear_pointer(&self->dismissed_error, g_free);
        vireo_vm_controller_start(self->controller);
        update(self);
    }
}

static void pause_action(GtkWidget *widget, const char *name, GVariant *param)
{
    VireoVmView *self = VIREO_VM_VIEW(widget);

    if (self->controller == NULL) {
        return;
    }
    if (vireo_vm_controller_get_state(self->controller) == VIREO_VM_STATE_PAUSED) {
        vireo_vm_controller_resume(self->controller);
    } else {
        vireo_vm_controller_pause(self->controller);
    }
}

static void reset_action(GtkWidget *widget, const char *name, GVariant *param)
{
    VireoVmView *self = VIREO_VM_VIEW(widget);

    if (self->controller != NULL) {
        vireo_vm_controller_reset(self->controller);
    }
}

static void power_off_action(GtkWidget *widget, const char *name, GVariant *param)
{
    VireoVmView *self = VIREO_VM_VIEW(widget);

    if (self->controller != NULL) {
        vireo_vm_controller_power_off(self->controller);
    }
}

/* vm.show-page: one of the views ("console", "display", "statistics",
 * "snapshots"). */
static void show_page_action(GtkWidget *widget, const char *name, GVariant *param)
{
    vireo_vm_view_set_page(VIREO_VM_VIEW(widget), g_variant_get_string(param, NULL));
}

/* vm.snapshot: one click, named by the date and time. */
static void snapshot_action(GtkWidget *widget, const char *name, GVariant *param)
{
    VireoVmView *self = VIREO_VM_VIEW(widget);

    vireo_snapshots_view_take(self->snapshots_view);
}

static void show_error_dialog(GtkRoot *root, const char *heading, const char *message)
{
    GtkWidget *dialog;

    dialog =
        adw_message_dialog_new(GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL, heading, message);
    adw_message_dialog_add_response(ADW_MESSAGE_DIALOG(dialog), "close", _("_Close"));
    adw_message_dialog_set_default_response(ADW_MESSAGE_DIALOG(dialog), "close");
    gtk_window_present(GTK_WINDOW(dialog));
}

static void on_converted(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(VireoVmView) self = data;
    g_autoptr(VireoVmConfig) config = NULL;
    g_autoptr(VireoVmEntry) entry = NULL;
    g_autoptr(GError) error = NULL;
    GtkRoot *root = gtk_widget_get_root(GTK_WIDGET(self));
    GtkWidget *view;

    config = vireo_vm_controller_convert_disks_finish(VIREO_VM_CONTROLLER(source), result, &error);
    if (self->entry == NULL) {
        return; /* the pane is gone */
    }
    entry = g_object_ref(self->entry);
    /* Saved, the entry moves in the library, which gives it a new pane. */
    if (config == NULL || !vireo_vm_library_save(self->library, entry, config, &error)) {
        show_error_dialog(root, _("Cannot Convert the Disks"), error->message);
        return;
    }
    if (VIREO_IS_WINDOW(root)) {
        vireo_window_select_entry(VIREO_WINDOW(root), entry);
        view = vireo_window_get_selected_view(VIREO_WINDOW(root));
        if (VIREO_IS_VM_VIEW(view)) {
            vireo_vm_view_set_page(VIREO_VM_VIEW(view), "snapshots");
        }
        vireo_window_show_toast(VIREO_WINDOW(root), _("Disks converted to qcow2"));
    }
}

static void on_convert_response(AdwMessageDialog *dialog, const char *response, VireoVmView *self)
{
    if (g_strcmp0(response, "convert") == 0 && self->controller != NULL) {
        vireo_vm_controller_convert_disks(self->controller, on_converted, g_object_ref(self));
    }
}

/* vm.convert-disks: the raw disk images of the stopped VM to qcow2, which
 * keeps snapshots. */
static void convert_disks_action(GtkWidget *widget, const char *name, GVariant *param)
{
    VireoVmView *self = VIREO_VM_VIEW(widget);
    GtkRoot *root = gtk_widget_get_root(widget);
    GtkWidget *dialog;

    dialog = adw_message_dialog_new(
        GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL, _("Convert the Disks to qcow2?"),
        _("Snapshots are kept in qcow2 disk images. A qcow2 copy of each raw disk image is made "
          "beside it, and the virtual machine uses the copies from then on. The raw images are "
          "kept."));
    adw_message_dialog_add_responses(ADW_MESSAGE_DIALOG(dialog), "cancel", _("_Cancel"), "convert",
                                     _("C_onvert"), NULL);
    adw_message_dialog_set_response_appearance(ADW_MESSAGE_DIALOG(dialog), "convert",
                                               ADW_RESPONSE_SUGGESTED);
    adw_message_dialog_set_default_response(ADW_MESSAGE_DIALOG(dialog), "convert");
    adw_message_dialog_set_close_response(ADW_MESSAGE_DIALOG(dialog), "cancel");
    g_signal_connect_object(dialog, "response", G_CALLBACK(on_convert_response), self, 0);
    gtk_window_present(GTK_WINDOW(dialog));
}

static void edit_action(GtkWidget *widget, const char *name, GVariant *param)
{
    VireoVmView *self = VIREO_VM_VIEW(widget);
    GtkRoot *root = gtk_widget_get_root(widget);
    GtkWidget *editor;

    editor = vireo_vm_editor_new(GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL, self->library,
                                 self->entry);
    gtk_window_present(GTK_WINDOW(editor));
}

static void clone_action(GtkWidget *widget, const char *name, GVariant *param)
{
    VireoVmView *self = VIREO_VM_VIEW(widget);
    g_autoptr(GError) error = NULL;
    g_autofree char *clone_name = NULL;
    GtkRoot *root = gtk_widget_get_root(widget);
    VireoVmEntry *clone;

    /* Translators: the name of a copy of the VM named %s. */
    clone_name = g_strdup_printf(_("%s (Copy)"), vireo_vm_entry_get_name(self->entry));
    if (g_utf8_strlen(clone_name, -1) > VIREO_VM_CONFIG_MAX_NAME) {
        g_free(clone_name);
        clone_name = g_strdup(vireo_vm_entry_get_name(self->entry));
    }
    clone = vireo_vm_library_clone(self->library, self->entry, clone_name, &error);
    if (clone == NULL) {
        g_autofree char *text = g_strdup_printf(_("Cannot clone: %s"), error->message);
        show_toast(self, text);
        return;
    }
    if (VIREO_IS_WINDOW(root)) {
        vireo_window_select_entry(VIREO_WINDOW(root), clone);
    }
    show_toast(self, _("Virtual machine cloned"));
}

static void on_delete_response(AdwMessageDialog *dialog, const char *response, gpointer data)
{
    VireoVmView *self = VIREO_VM_VIEW(data);
    g_autoptr(GError) error = NULL;

    if (g_strcmp0(response, "delete") == 0 &&
        !vireo_vm_library_delete(self->library, self->entry, &error)) {
        g_autofree char *text = g_strdup_printf(_("Cannot delete: %s"), error->message);
        show_toast(self, text);
    }
    g_object_unref(self);
}

static void delete_action(GtkWidget *widget, const char *name, GVariant *param)
{
    VireoVmView *self = VIREO_VM_VIEW(widget);
    GtkRoot *root = gtk_widget_get_root(widget);
    g_autofree char *heading = NULL;
    GtkWidget *dialog;

    heading = g_strdup_printf(_("Delete “%s”?"), vireo_vm_entry_get_name(self->entry));
    dialog = adw_message_dialog_new(
        GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL, heading,
        _("Its settings and the disk images in its own folder are removed. Disk images stored "
          "elsewhere are kept."));
    adw_message_dialog_add_responses(ADW_MESSAGE_DIALOG(dialog), "cancel", _("_Cancel"), "delete",
                                     _("_Delete"), NULL);
    adw_message_dialog_set_response_appearance(ADW_MESSAGE_DIALOG(dialog), "delete",
                                               ADW_RESPONSE_DESTRUCTIVE);
    adw_message_dialog_set_default_response(ADW_MESSAGE_DIALOG(dialog), "cancel");
    adw_message_dialog_set_close_response(ADW_MESSAGE_DIALOG(dialog), "cancel");
    g_signal_connect(dialog, "response", G_CALLBACK(on_delete_response), g_object_ref(self));
    gtk_window_present(GTK_WINDOW(dialog));
}

static void reload_action(GtkWidget *widget, const char *name, GVariant *param)
{
    VireoVmView *self = VIREO_VM_VIEW(widget);

    if (vireo_vm_entry_reload(self->entry)) {
        show_toast(self, _("Configuration loaded"));
    }
}

/* ---- GObject ------------------------------------------------------------ */

static void vireo_vm_view_dispose(GObject *object)
{
    VireoVmView *self = VIREO_VM_VIEW(object);

    if (self->controller != NULL) {
        g_signal_handlers_disconnect_by_data(self->controller, self);
        g_clear_object(&self->controller);
    }
    if (self->entry != NULL) {
        g_signal_handlers_disconnect_by_data(self->entry, self);
        g_clear_object(&self->entry);
    }
    g_clear_object(&self->library);
    gtk_widget_insert_action_group(GTK_WIDGET(self), "display", NULL);
    gtk_widget_dispose_template(GTK_WIDGET(self), VIREO_TYPE_VM_VIEW);
    /* The template's unnamed top-level child is not cleared with it. */
    for (GtkWidget *child; (child = gtk_widget_get_first_child(GTK_WIDGET(self))) != NULL;) {
        gtk_widget_unparent(child);
    }
    G_OBJECT_CLASS(vireo_vm_view_parent_class)->dispose(object);
}

static void vireo_vm_view_finalize(GObject *object)
{
    VireoVmView *self = VIREO_VM_VIEW(object);

    g_free(self->dismissed_error);
    G_OBJECT_CLASS(vireo_vm_view_parent_class)->finalize(object);
}

static void vireo_vm_view_get_property(GObject *object, guint prop_id, GValue *value,
                                       GParamSpec *pspec)
{
    VireoVmView *self = VIREO_VM_VIEW(object);

    switch (prop_id) {
    case PROP_FOLDED: g_value_set_boolean(value, self->folded); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void vireo_vm_view_set_property(GObject *object, guint prop_id, const GValue *value,
                                       GParamSpec *pspec)
{
    VireoVmView *self = VIREO_VM_VIEW(object);

    switch (prop_id) {
    case PROP_FOLDED:
        self->folded = g_value_get_boolean(value);
        /* Folded, the pane fills the window: it needs the way back and the
         * window buttons on both sides. */
        gtk_widget_set_visible(self->back_button, self->folded);
        adw_header_bar_set_show_start_title_buttons(self->header_bar, self->folded);
        g_object_notify_by_pspec(object, pspec);
        break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void vireo_vm_view_class_init(VireoVmViewClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    object_class->dispose = vireo_vm_view_dispose;
    object_class->finalize = vireo_vm_view_finalize;
    object_class->get_property = vireo_vm_view_get_property;
    object_class->set_property = vireo_vm_view_set_property;

    properties[PROP_FOLDED] =
        g_param_spec_boolean("folded", NULL, NULL, FALSE,
                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
    g_object_class_install_properties(object_class, N_PROPS, properties);

    g_type_ensure(VIREO_TYPE_CONSOLE_VIEW);
    g_type_ensure(VIREO_TYPE_STATS_VIEW);
    g_type_ensure(VIREO_TYPE_SNAPSHOTS_VIEW);
    gtk_widget_class_set_layout_manager_type(widget_class, GTK_TYPE_BIN_LAYOUT);
    gtk_widget_class_set_template_from_resource(widget_class,
                                                "/io/github/vireo/Vireo/vireo-vm-view.ui");
    gtk_widget_class_bind_template_child(widget_class, VireoVmView, header_bar);
    gtk_widget_class_bind_template_child(widget_class, VireoVmView, back_button);
    gtk_widget_class_bind_template_child(widget_class, VireoVmView, start_button);
    gtk_widget_class_bind_template_child(widget_class, VireoVmView, pause_button);
    gtk_widget_class_bind_template_child(widget_class, VireoVmView, reset_button);
    gtk_widget_class_bind_template_child(widget_class, VireoVmView, off_button);
    gtk_widget_class_bind_template_child(widget_class, VireoVmView, snapshot_button);
    gtk_widget_class_bind_template_child(widget_class, VireoVmView, menu_button);
    gtk_widget_class_bind_template_child(widget_class, VireoVmView, switcher_title);
    gtk_widget_class_bind_template_child(widget_class, VireoVmView, error_revealer);
    gtk_widget_class_bind_template_child(widget_class, VireoVmView, error_label);
    gtk_widget_class_bind_template_child(widget_class, VireoVmView, error_close_button);
    gtk_widget_class_bind_template_child(widget_class, VireoVmView, progress_revealer);
    gtk_widget_class_bind_template_child(widget_class, VireoVmView, progress_label);
    gtk_widget_class_bind_template_child(widget_class, VireoVmView, progress_bar);
    gtk_widget_class_bind_template_child(widget_class, VireoVmView, debug_revealer);
    gtk_widget_class_bind_template_child(widget_class, VireoVmView, debug_label);
    gtk_widget_class_bind_template_child(widget_class, VireoVmView, debug_copy_button);
    gtk_widget_class_bind_template_child(widget_class, VireoVmView, main_stack);
    gtk_widget_class_bind_template_child(widget_class, VireoVmView, view_stack);
    gtk_widget_class_bind_template_child(widget_class, VireoVmView, console_view);
    gtk_widget_class_bind_template_child(widget_class, VireoVmView, display_page);
    gtk_widget_class_bind_template_child(widget_class, VireoVmView, display_controls);
    gtk_widget_class_bind_template_child(widget_class, VireoVmView, scale_button);
    gtk_widget_class_bind_template_child(widget_class, VireoVmView, fullscreen_button);
    gtk_widget_class_bind_template_child(widget_class, VireoVmView, stats_view);
    gtk_widget_class_bind_template_child(widget_class, VireoVmView, snapshots_view);
    gtk_widget_class_bind_template_child(widget_class, VireoVmView, broken_page);

    gtk_widget_class_install_action(widget_class, "vm.start", NULL, start_action);
    gtk_widget_class_install_action(widget_class, "vm.pause", NULL, pause_action);
    gtk_widget_class_install_action(widget_class, "vm.reset", NULL, reset_action);
    gtk_widget_class_install_action(widget_class, "vm.power-off", NULL, power_off_action);
    gtk_widget_class_install_action(widget_class, "vm.snapshot", NULL, snapshot_action);
    gtk_widget_class_install_action(widget_class, "vm.convert-disks", NULL, convert_disks_action);
    gtk_widget_class_install_action(widget_class, "vm.show-page", "s", show_page_action);
    gtk_widget_class_install_action(widget_class, "vm.edit", NULL, edit_action);
    gtk_widget_class_install_action(widget_class, "vm.clone", NULL, clone_action);
    gtk_widget_class_install_action(widget_class, "vm.delete", NULL, delete_action);
    gtk_widget_class_install_action(widget_class, "vm.reload", NULL, reload_action);
}

static void vireo_vm_view_init(VireoVmView *self)
{
    static const struct {
        size_t offset;
        const char *label;
    } icon_buttons[] = {
        { G_STRUCT_OFFSET(VireoVmView, back_button), N_("Back") },
        { G_STRUCT_OFFSET(VireoVmView, start_button), N_("Start") },
        { G_STRUCT_OFFSET(VireoVmView, pause_button), N_("Pause") },
        { G_STRUCT_OFFSET(VireoVmView, reset_button), N_("Reset") },
        { G_STRUCT_OFFSET(VireoVmView, off_button), N_("Force Off") },
        { G_STRUCT_OFFSET(VireoVmView, snapshot_button), N_("Take Snapshot") },
        { G_STRUCT_OFFSET(VireoVmView, menu_button), N_("Virtual Machine Menu") },
        { G_STRUCT_OFFSET(VireoVmView, error_close_button), N_("Dismiss") },
        { G_STRUCT_OFFSET(VireoVmView, scale_button), N_("Display Scale") },
        { G_STRUCT_OFFSET(VireoVmView, fullscreen_button), N_("Full Screen Display") },
    };

    g_type_ensure(VIREO_TYPE_DISPLAY_PAGE);
    gtk_widget_init_template(GTK_WIDGET(self));
    vireo_snapshots_view_set_console(self->snapshots_view, self->console_view);
    /* The header bar's display buttons use the page's actions. */
    gtk_widget_insert_action_group(GTK_WIDGET(self), "display",
                                   vireo_display_page_get_actions(self->display_page));
    g_signal_connect_swapped(self->view_stack, "notify::visible-child",
                             G_CALLBACK(update_display_controls), self);
    g_signal_connect_swapped(self->display_page, "notify::showing-display",
                             G_CALLBACK(update_display_controls), self);

    /* Icon-only buttons get a name for screen readers. */
    for (guint i = 0; i < G_N_ELEMENTS(icon_buttons); i++) {
        GtkWidget *button = G_STRUCT_MEMBER(GtkWidget *, self, icon_buttons[i].offset);
        gtk_accessible_update_property(GTK_ACCESSIBLE(button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                       _(icon_buttons[i].label), -1);
    }
    g_signal_connect_swapped(self->error_close_button, "clicked", G_CALLBACK(on_error_close), self);
    g_signal_connect_swapped(self->debug_copy_button, "clicked", G_CALLBACK(on_debug_copy), self);
}

GtkWidget *vireo_vm_view_new(VireoVmLibrary *library, VireoVmEntry *entry)
{
    VireoVmView *self;

    g_return_val_if_fail(VIREO_IS_VM_LIBRARY(library), NULL);
    g_return_val_if_fail(VIREO_IS_VM_ENTRY(entry), NULL);

    self = g_object_new(VIREO_TYPE_VM_VIEW, NULL);
    self->library = g_object_ref(library);
    self->entry = g_object_ref(entry);
    g_signal_connect_swapped(entry, "notify", G_CALLBACK(on_entry_notify), self);
    attach_controller(self);
    update(self);
    return GTK_WIDGET(self);
}

VireoVmEntry *vireo_vm_view_get_entry(VireoVmView *self)
{
    g_return_val_if_fail(VIREO_IS_VM_VIEW(self), NULL);
    return self->entry;
}

VireoConsoleView *vireo_vm_view_get_console(VireoVmView *self)
{
    g_return_val_if_fail(VIREO_IS_VM_VIEW(self), NULL);
    return self->console_view;
}

VireoDisplayPage *vireo_vm_view_get_display_page(VireoVmView *self)
{
    g_return_val_if_fail(VIREO_IS_VM_VIEW(self), NULL);
    return self->display_page;
}

VireoSnapshotsView *vireo_vm_view_get_snapshots(VireoVmView *self)
{
    g_return_val_if_fail(VIREO_IS_VM_VIEW(self), NULL);
    return self->snapshots_view;
}

VireoStatsView *vireo_vm_view_get_stats(VireoVmView *self)
{
    g_return_val_if_fail(VIREO_IS_VM_VIEW(self), NULL);
    return self->stats_view;
}

void vireo_vm_view_set_page(VireoVmView *self, const char *name)
{
    g_return_if_fail(VIREO_IS_VM_VIEW(self));
    g_return_if_fail(name != NULL);

    if (adw_view_stack_get_child_by_name(self->view_stack, name) != NULL) {
        adw_view_stack_set_visible_child_name(self->view_stack, name);
    }
}

const char *vireo_vm_view_get_page(VireoVmView *self)
{
    g_return_val_if_fail(VIREO_IS_VM_VIEW(self), NULL);
    return adw_view_stack_get_visible_child_name(self->view_stack);
}

const char *vireo_vm_view_get_error(VireoVmView *self)
{
    g_return_val_if_fail(VIREO_IS_VM_VIEW(self), NULL);

    if (!gtk_revealer_get_reveal_child(self->error_revealer)) {
        return NULL;
    }
    return gtk_label_get_label(self->error_label);
}
