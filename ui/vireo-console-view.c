/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "vireo-console-view"

#include "config.h"

#include <glib/gi18n.h>

#include "vireo-console-view.h"

struct _VireoConsoleView {
    GtkWidget parent_instance;

    VireoVmController *controller;

    /* Template widgets */
    GtkStack *stack;
    AdwStatusPage *off_page;
    VteTerminal *terminal;
};

G_DEFINE_FINAL_TYPE(VireoConsoleView, vireo_console_view, GTK_TYPE_WIDGET)

/* Colours of GNOME's terminal palette, for the light and the dark style. */
static void apply_colors(VireoConsoleView *self)
{
    gboolean dark = adw_style_manager_get_dark(adw_style_manager_get_default());
    GdkRGBA fg, bg;

    gdk_rgba_parse(&fg, dark ? "#ffffff" : "#241f31");
    gdk_rgba_parse(&bg, dark ? "#1e1e1e" : "#ffffff");
    vte_terminal_set_colors(self->terminal, &fg, &bg, NULL, 0);
}

static void update_page(VireoConsoleView *self)
{
    gboolean show_terminal = FALSE;

    if (self->controller != NULL) {
        g_autoptr(GBytes) history = vireo_vm_controller_get_console_history(self->controller);
        show_terminal = vireo_vm_controller_get_state(self->controller) != VIREO_VM_STATE_STOPPED ||
                        g_bytes_get_size(history) > 0;
    }
    gtk_stack_set_visible_child_name(self->stack, show_terminal ? "terminal" : "off");
}

static void on_output(VireoConsoleView *self, GBytes *bytes)
{
    gsize len;
    const char *data = g_bytes_get_data(bytes, &len);

    vte_terminal_feed(self->terminal, data, (gssize)len);
}

static void on_commit(VireoConsoleView *self, const char *text, guint size)
{
    if (self->controller != NULL) {
        vireo_vm_controller_send_input(self->controller, (const guint8 *)text, size);
    }
}

static void copy_action(GtkWidget *widget, const char *name, GVariant *param)
{
    VireoConsoleView *self = VIREO_CONSOLE_VIEW(widget);

    vte_terminal_copy_clipboard_format(self->terminal, VTE_FORMAT_TEXT);
}

static void paste_action(GtkWidget *widget, const char *name, GVariant *param)
{
    VireoConsoleView *self = VIREO_CONSOLE_VIEW(widget);

    vte_terminal_paste_clipboard(self->terminal);
}

static void on_selection_changed(VireoConsoleView *self)
{
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "console.copy",
                                  vte_terminal_get_has_selection(self->terminal));
}

static void vireo_console_view_dispose(GObject *object)
{
    VireoConsoleView *self = VIREO_CONSOLE_VIEW(object);

    if (self->controller != NULL) {
        g_signal_handlers_disconnect_by_data(self->controller, self);
        g_clear_object(&self->controller);
    }
    g_signal_handlers_disconnect_by_data(adw_style_manager_get_default(), self);
    gtk_widget_dispose_template(GTK_WIDGET(self), VIREO_TYPE_CONSOLE_VIEW);
    /* The template's unnamed top-level child is not cleared with it. */
    for (GtkWidget *child; (child = gtk_widget_get_first_child(GTK_WIDGET(self))) != NULL;) {
        gtk_widget_unparent(child);
    }
    G_OBJECT_CLASS(vireo_console_view_parent_class)->dispose(object);
}

static void vireo_console_view_class_init(VireoConsoleViewClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    object_class->dispose = vireo_console_view_dispose;

    g_type_ensure(VTE_TYPE_TERMINAL);
    gtk_widget_class_set_layout_manager_type(widget_class, GTK_TYPE_BIN_LAYOUT);
    gtk_widget_class_set_template_from_resource(widget_class,
                                                "/io/github/vireo/Vireo/vireo-console-view.ui");
    gtk_widget_class_bind_template_child(widget_class, VireoConsoleView, stack);
    gtk_widget_class_bind_template_child(widget_class, VireoConsoleView, off_page);
    gtk_widget_class_bind_template_child(widget_class, VireoConsoleView, terminal);

    gtk_widget_class_install_action(widget_class, "console.copy", NULL, copy_action);
    gtk_widget_class_install_action(widget_class, "console.paste", NULL, paste_action);
}

static void vireo_console_view_init(VireoConsoleView *self)
{
    GtkEventController *shortcuts;
    PangoFontDescription *font;

    gtk_widget_init_template(GTK_WIDGET(self));

    /* Copy and paste are taken before the terminal sees the keys, which it
     * would otherwise send to the guest. */
    shortcuts = gtk_shortcut_controller_new();
    gtk_event_controller_set_propagation_phase(shortcuts, GTK_PHASE_CAPTURE);
    gtk_shortcut_controller_add_shortcut(
        GTK_SHORTCUT_CONTROLLER(shortcuts),
        gtk_shortcut_new(gtk_keyval_trigger_new(GDK_KEY_c, GDK_CONTROL_MASK | GDK_SHIFT_MASK),
                         gtk_named_action_new("console.copy")));
    gtk_shortcut_controller_add_shortcut(
        GTK_SHORTCUT_CONTROLLER(shortcuts),
        gtk_shortcut_new(gtk_keyval_trigger_new(GDK_KEY_v, GDK_CONTROL_MASK | GDK_SHIFT_MASK),
                         gtk_named_action_new("console.paste")));
    gtk_widget_add_controller(GTK_WIDGET(self), shortcuts);

    font = pango_font_description_from_string("Monospace 11");
    vte_terminal_set_font(self->terminal, font);
    pango_font_description_free(font);
    vte_terminal_set_cursor_blink_mode(self->terminal, VTE_CURSOR_BLINK_OFF);
    gtk_accessible_update_property(GTK_ACCESSIBLE(self->terminal), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                   _("Serial console"), -1);
    apply_colors(self);
    g_signal_connect_swapped(adw_style_manager_get_default(), "notify::dark",
                             G_CALLBACK(apply_colors), self);
    g_signal_connect_swapped(self->terminal, "commit", G_CALLBACK(on_commit), self);
    g_signal_connect_swapped(self->terminal, "selection-changed", G_CALLBACK(on_selection_changed),
                             self);
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "console.copy", FALSE);
}

GtkWidget *vireo_console_view_new(void)
{
    return g_object_new(VIREO_TYPE_CONSOLE_VIEW, NULL);
}

void vireo_console_view_set_controller(VireoConsoleView *self, VireoVmController *controller)
{
    g_autoptr(GBytes) history = NULL;

    g_return_if_fail(VIREO_IS_CONSOLE_VIEW(self));
    g_return_if_fail(controller == NULL || VIREO_IS_VM_CONTROLLER(controller));

    if (self->controller != NULL) {
        g_signal_handlers_disconnect_by_data(self->controller, self);
    }
    g_set_object(&self->controller, controller);
    vte_terminal_reset(self->terminal, TRUE, TRUE);
    if (controller != NULL) {
        /* What the guest wrote before this view existed comes first. */
        history = vireo_vm_controller_get_console_history(controller);
        on_output(self, history);
        g_signal_connect_swapped(controller, "console-output", G_CALLBACK(on_output), self);
        g_signal_connect_swapped(controller, "notify::state", G_CALLBACK(update_page), self);
    }
    update_page(self);
}

VteTerminal *vireo_console_view_get_terminal(VireoConsoleView *self)
{
    g_return_val_if_fail(VIREO_IS_CONSOLE_VIEW(self), NULL);
    return self->terminal;
}

char *vireo_console_view_dup_text(VireoConsoleView *self)
{
    glong column, row;
    glong first;

    g_return_val_if_fail(VIREO_IS_CONSOLE_VIEW(self), NULL);

    vte_terminal_get_cursor_position(self->terminal, &column, &row);
    first = MAX(0, row - vte_terminal_get_scrollback_lines(self->terminal));
    G_GNUC_BEGIN_IGNORE_DEPRECATIONS
    return vte_terminal_get_text_range(self->terminal, first, 0, row,
                                       vte_terminal_get_column_count(self->terminal) - 1, NULL,
                                       NULL, NULL);
    G_GNUC_END_IGNORE_DEPRECATIONS
}
