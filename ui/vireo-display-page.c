/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "vireo-display-page"

#include "config.h"

#include <glib/gi18n.h>

#include "vireo-display-page.h"

struct _VireoDisplayPage {
    GtkWidget parent_instance;

    VireoVmController *controller;
    char *title;
    VireoScaleMode scale_mode;

    GtkStack *stack;
    GtkWidget *screen; /* the overlay with the view: a page of the stack, or the window's child */
    VireoDisplayView *view;
    GtkRevealer *hint_revealer;
    GtkLabel *hint_label;
    GtkWidget *leave_button;
    GtkWindow *window; /* the screen's own window while detached */
    char *hint;
    GSimpleActionGroup *actions;

    /* Shortcut controllers switched off while the view has the keyboard. */
    GPtrArray *inhibited;
};

G_DEFINE_FINAL_TYPE(VireoDisplayPage, vireo_display_page, GTK_TYPE_WIDGET)

enum {
    PROP_0,
    PROP_SCALE_MODE,
    PROP_FULLSCREEN,
    PROP_PAGE,
    PROP_SHOWING_DISPLAY,
    PROP_HINT,
    N_PROPS,
};

static GParamSpec *properties[N_PROPS];

/* ---- Keys for the guest -------------------------------------------------- */

/*
 * GTK looks at a key in the capture phase, from the window down, before the
 * focused widget sees it: the application's accelerators and the
 * mnemonics are shortcut controllers of that phase on the window (its
 * shortcut manager runs the global ones). While the view has the keyboard
 * they are switched off, on the view's every ancestor, and switched back on
 * when it lets go.
 */
static void inhibit_shortcuts(VireoDisplayPage *self)
{
    for (GtkWidget *w = gtk_widget_get_parent(GTK_WIDGET(self->view)); w != NULL;
         w = gtk_widget_get_parent(w)) {
        g_autoptr(GListModel) list = gtk_widget_observe_controllers(w);
        guint n = g_list_model_get_n_items(list);

        for (guint i = 0; i < n; i++) {
            g_autoptr(GtkEventController) c = g_list_model_get_item(list, i);
            if (GTK_IS_SHORTCUT_CONTROLLER(c) &&
                gtk_event_controller_get_propagation_phase(c) == GTK_PHASE_CAPTURE) {
                gtk_event_controller_set_propagation_phase(c, GTK_PHASE_NONE);
                g_ptr_array_add(self->inhibited, g_object_ref(c));
            }
        }
    }
}

static void restore_shortcuts(VireoDisplayPage *self)
{
    for (guint i = 0; i < self->inhibited->len; i++) {
        gtk_event_controller_set_propagation_phase(g_ptr_array_index(self->inhibited, i),
                                                   GTK_PHASE_CAPTURE);
    }
    g_ptr_array_set_size(self->inhibited, 0);
}

static void update_leave_button(VireoDisplayPage *self)
{
    gtk_widget_set_visible(self->leave_button,
                           self->window != NULL &&
                               !vireo_display_view_get_keyboard_grabbed(self->view));
}

static void on_grab_changed(VireoDisplayPage *self)
{
    gboolean grabbed = vireo_display_view_get_keyboard_grabbed(self->view);

    restore_shortcuts(self);
    g_clear_pointer(&self->hint, g_free);
    if (grabbed) {
        inhibit_shortcuts(self);
        self->hint = vireo_display_view_dup_grab_hint(self->view);
        gtk_label_set_label(self->hint_label, self->hint);
    }
    gtk_revealer_set_reveal_child(self->hint_revealer, grabbed);
    update_leave_button(self);
    g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_HINT]);
}

/* ---- Pages ---------------------------------------------------------------- */

static void set_page(VireoDisplayPage *self, const char *page)
{
    const char *old = gtk_stack_get_visible_child_name(self->stack);
    gboolean showed = vireo_display_page_get_showing_display(self);

    if (g_strcmp0(old, page) == 0) {
        return;
    }
    gtk_stack_set_visible_child_name(self->stack, page);
    g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_PAGE]);
    if (showed != vireo_display_page_get_showing_display(self)) {
        g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_SHOWING_DISPLAY]);
    }
}

static void update(VireoDisplayPage *self)
{
    gboolean has_display = FALSE;
    VireoVmState state = VIREO_VM_STATE_STOPPED;
    VireoScanout *scanout = NULL;

    gboolean active = FALSE;

    if (self->controller != NULL) {
        has_display = vireo_vm_controller_has_display(self->controller);
        state = vireo_vm_controller_get_state(self->controller);
        if (state != VIREO_VM_STATE_STOPPED) {
            scanout = vireo_vm_controller_get_scanout(self->controller);
            active = vireo_vm_controller_get_display_active(self->controller);
        }
    }
    if (scanout == NULL || !active) {
        vireo_display_page_set_fullscreen(self, FALSE);
    }
    /* The view has the display also while the guest has not turned it on:
     * the guest learns the view's size before it picks its mode. */
    vireo_display_view_set_scanout(self->view, scanout);
    if (scanout != NULL && active) {
        set_page(self, self->window != NULL ? "detached" : "display");
    } else if (scanout != NULL) {
        /* Rather than a blank screen: where the guest's output is. */
        set_page(self, "waiting");
    } else if (has_display && state == VIREO_VM_STATE_STOPPED) {
        set_page(self, "off");
    } else {
        /* No display configured, or a machine without a display device. */
        set_page(self, "none");
    }
}

/* ---- The screen's own window ---------------------------------------------- */

static gboolean on_window_close(GtkWindow *window, VireoDisplayPage *self)
{
    vireo_display_page_set_fullscreen(self, FALSE);
    return TRUE;
}

static gboolean on_leave_shortcut(GtkWidget *widget, GVariant *args, gpointer data)
{
    vireo_display_page_set_fullscreen(VIREO_DISPLAY_PAGE(data), FALSE);
    return TRUE;
}

static void on_leave_clicked(VireoDisplayPage *self)
{
    vireo_display_page_set_fullscreen(self, FALSE);
}

static void on_back_clicked(VireoDisplayPage *self)
{
    vireo_display_page_set_fullscreen(self, FALSE);
}

static void move_screen(VireoDisplayPage *self, GtkWindow *to)
{
    g_object_ref(self->screen);
    if (to != NULL) {
        gtk_stack_remove(self->stack, self->screen);
        gtk_window_set_child(to, self->screen);
    } else {
        gtk_window_set_child(self->window, NULL);
        gtk_stack_add_named(self->stack, self->screen, "display");
    }
    g_object_unref(self->screen);
}

static void detach(VireoDisplayPage *self)
{
    GtkRoot *root = gtk_widget_get_root(GTK_WIDGET(self));
    GtkEventController *shortcuts;
    GtkWindow *window;

    window = GTK_WINDOW(gtk_window_new());
    if (GTK_IS_WINDOW(root)) {
        GtkApplication *app = gtk_window_get_application(GTK_WINDOW(root));
        if (app != NULL) {
            gtk_window_set_application(window, app);
        }
    }
    gtk_window_set_title(window, self->title != NULL ? self->title : _("Display"));
    gtk_window_set_default_size(window, 1024, 768);
    gtk_widget_add_css_class(GTK_WIDGET(window), "vireo-display-window");
    /* F11 leaves, as it enters the main window's full screen; a capture-
     * phase shortcut, so the keyboard's capture switches it off too. */
    shortcuts = gtk_shortcut_controller_new();
    gtk_event_controller_set_propagation_phase(shortcuts, GTK_PHASE_CAPTURE);
    gtk_shortcut_controller_add_shortcut(
        GTK_SHORTCUT_CONTROLLER(shortcuts),
        gtk_shortcut_new(gtk_keyval_trigger_new(GDK_KEY_F11, 0),
                         gtk_callback_action_new(on_leave_shortcut, self, NULL)));
    gtk_widget_add_controller(GTK_WIDGET(window), shortcuts);
    g_signal_connect(window, "close-request", G_CALLBACK(on_window_close), self);

    self->window = window;
    move_screen(self, window);
    gtk_window_fullscreen(window);
    gtk_window_present(window);
    gtk_widget_grab_focus(GTK_WIDGET(self->view));
}

static void attach(VireoDisplayPage *self)
{
    GtkWindow *window = self->window;

    restore_shortcuts(self);
    move_screen(self, NULL);
    self->window = NULL;
    g_signal_handlers_disconnect_by_data(window, self);
    gtk_window_destroy(window);
}

void vireo_display_page_set_fullscreen(VireoDisplayPage *self, gboolean fullscreen)
{
    g_return_if_fail(VIREO_IS_DISPLAY_PAGE(self));

    fullscreen = !!fullscreen;
    if (fullscreen == (self->window != NULL)) {
        return;
    }
    if (fullscreen) {
        /* Only a screen that shows something leaves the pane. */
        if (vireo_display_view_get_scanout(self->view) == NULL) {
            return;
        }
        detach(self);
        set_page(self, "detached");
    } else {
        attach(self);
        set_page(self, vireo_display_view_get_scanout(self->view) != NULL ? "display" : "none");
        update(self);
    }
    update_leave_button(self);
    g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_FULLSCREEN]);
}

gboolean vireo_display_page_get_fullscreen(VireoDisplayPage *self)
{
    g_return_val_if_fail(VIREO_IS_DISPLAY_PAGE(self), FALSE);
    return self->window != NULL;
}

/* ---- Actions -------------------------------------------------------------- */

static const char *scale_mode_nick(VireoScaleMode mode)
{
    GEnumClass *klass = g_type_class_peek(VIREO_TYPE_SCALE_MODE);
    GEnumValue *value = g_enum_get_value(klass, (int)mode);

    return value != NULL ? value->value_nick : "fit";
}

static void on_scale_mode_change(GSimpleAction *action, GVariant *state, gpointer data)
{
    VireoDisplayPage *self = data;
    GEnumClass *klass = g_type_class_peek(VIREO_TYPE_SCALE_MODE);
    GEnumValue *value = g_enum_get_value_by_nick(klass, g_variant_get_string(state, NULL));

    if (value != NULL) {
        g_object_set(self, "scale-mode", value->value, NULL);
    }
}

static void on_fullscreen_change(GSimpleAction *action, GVariant *state, gpointer data)
{
    vireo_display_page_set_fullscreen(data, g_variant_get_boolean(state));
}

static void on_fullscreen_activate(GSimpleAction *action, GVariant *param, gpointer data)
{
    VireoDisplayPage *self = data;

    vireo_display_page_set_fullscreen(self, self->window == NULL);
}

/* The actions' states follow the properties, however they were set. */
static void sync_actions(VireoDisplayPage *self)
{
    GAction *scale = g_action_map_lookup_action(G_ACTION_MAP(self->actions), "scale-mode");
    GAction *fullscreen = g_action_map_lookup_action(G_ACTION_MAP(self->actions), "fullscreen");

    g_simple_action_set_state(G_SIMPLE_ACTION(scale),
                              g_variant_new_string(scale_mode_nick(self->scale_mode)));
    g_simple_action_set_state(G_SIMPLE_ACTION(fullscreen),
                              g_variant_new_boolean(self->window != NULL));
    g_simple_action_set_enabled(G_SIMPLE_ACTION(fullscreen),
                                vireo_display_page_get_showing_display(self));
}

GActionGroup *vireo_display_page_get_actions(VireoDisplayPage *self)
{
    g_return_val_if_fail(VIREO_IS_DISPLAY_PAGE(self), NULL);
    return G_ACTION_GROUP(self->actions);
}

/* ---- Public --------------------------------------------------------------- */

GtkWidget *vireo_display_page_new(void)
{
    return g_object_new(VIREO_TYPE_DISPLAY_PAGE, NULL);
}

void vireo_display_page_set_controller(VireoDisplayPage *self, VireoVmController *controller)
{
    g_return_if_fail(VIREO_IS_DISPLAY_PAGE(self));
    g_return_if_fail(controller == NULL || VIREO_IS_VM_CONTROLLER(controller));

    if (controller == self->controller) {
        return;
    }
    if (self->controller != NULL) {
        g_signal_handlers_disconnect_by_data(self->controller, self);
    }
    vireo_display_view_set_input(self->view, NULL, NULL);
    g_set_object(&self->controller, controller);
    if (controller != NULL) {
        g_signal_connect_swapped(controller, "notify::scanout", G_CALLBACK(update), self);
        g_signal_connect_swapped(controller, "notify::display-active", G_CALLBACK(update), self);
        g_signal_connect_swapped(controller, "notify::state", G_CALLBACK(update), self);
        g_signal_connect_swapped(controller, "notify::config", G_CALLBACK(update), self);
        vireo_display_view_set_input(self->view, vireo_vm_controller_get_input_ops(), controller);
    }
    update(self);
}

void vireo_display_page_set_title(VireoDisplayPage *self, const char *title)
{
    g_return_if_fail(VIREO_IS_DISPLAY_PAGE(self));

    g_free(self->title);
    self->title = g_strdup(title);
    if (self->window != NULL) {
        gtk_window_set_title(self->window, title);
    }
}

const char *vireo_display_page_get_page(VireoDisplayPage *self)
{
    g_return_val_if_fail(VIREO_IS_DISPLAY_PAGE(self), NULL);
    return gtk_stack_get_visible_child_name(self->stack);
}

gboolean vireo_display_page_get_showing_display(VireoDisplayPage *self)
{
    const char *page;

    g_return_val_if_fail(VIREO_IS_DISPLAY_PAGE(self), FALSE);
    page = gtk_stack_get_visible_child_name(self->stack);
    return g_strcmp0(page, "display") == 0 || g_strcmp0(page, "detached") == 0;
}

VireoDisplayView *vireo_display_page_get_view(VireoDisplayPage *self)
{
    g_return_val_if_fail(VIREO_IS_DISPLAY_PAGE(self), NULL);
    return self->view;
}

GtkWindow *vireo_display_page_get_window(VireoDisplayPage *self)
{
    g_return_val_if_fail(VIREO_IS_DISPLAY_PAGE(self), NULL);
    return self->window;
}

const char *vireo_display_page_get_hint(VireoDisplayPage *self)
{
    g_return_val_if_fail(VIREO_IS_DISPLAY_PAGE(self), NULL);
    return self->hint;
}

/* ---- GObject -------------------------------------------------------------- */

static void vireo_display_page_dispose(GObject *object)
{
    VireoDisplayPage *self = VIREO_DISPLAY_PAGE(object);

    if (self->window != NULL) {
        attach(self);
    }
    if (self->inhibited != NULL) {
        restore_shortcuts(self);
    }
    if (self->controller != NULL) {
        g_signal_handlers_disconnect_by_data(self->controller, self);
        g_clear_object(&self->controller);
    }
    if (self->actions != NULL) {
        gtk_widget_insert_action_group(GTK_WIDGET(self), "display", NULL);
        g_clear_object(&self->actions);
    }
    if (self->view != NULL) {
        g_signal_handlers_disconnect_by_data(self->view, self);
        vireo_display_view_set_input(self->view, NULL, NULL);
        vireo_display_view_set_scanout(self->view, NULL);
        self->view = NULL;
    }
    g_clear_pointer((GtkWidget **)&self->stack, gtk_widget_unparent);
    g_clear_object(&self->screen);
    G_OBJECT_CLASS(vireo_display_page_parent_class)->dispose(object);
}

static void vireo_display_page_finalize(GObject *object)
{
    VireoDisplayPage *self = VIREO_DISPLAY_PAGE(object);

    g_clear_pointer(&self->inhibited, g_ptr_array_unref);
    g_free(self->title);
    g_free(self->hint);
    G_OBJECT_CLASS(vireo_display_page_parent_class)->finalize(object);
}

static void vireo_display_page_get_property(GObject *object, guint prop_id, GValue *value,
                                            GParamSpec *pspec)
{
    VireoDisplayPage *self = VIREO_DISPLAY_PAGE(object);

    switch (prop_id) {
    case PROP_SCALE_MODE: g_value_set_enum(value, self->scale_mode); break;
    case PROP_FULLSCREEN: g_value_set_boolean(value, self->window != NULL); break;
    case PROP_PAGE: g_value_set_string(value, vireo_display_page_get_page(self)); break;
    case PROP_SHOWING_DISPLAY:
        g_value_set_boolean(value, vireo_display_page_get_showing_display(self));
        break;
    case PROP_HINT: g_value_set_string(value, self->hint); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void vireo_display_page_set_property(GObject *object, guint prop_id, const GValue *value,
                                            GParamSpec *pspec)
{
    VireoDisplayPage *self = VIREO_DISPLAY_PAGE(object);

    switch (prop_id) {
    case PROP_SCALE_MODE:
        if (self->scale_mode != (VireoScaleMode)g_value_get_enum(value)) {
            self->scale_mode = g_value_get_enum(value);
            vireo_display_view_set_scale_mode(self->view, self->scale_mode);
            g_object_notify_by_pspec(object, pspec);
        }
        break;
    case PROP_FULLSCREEN:
        vireo_display_page_set_fullscreen(self, g_value_get_boolean(value));
        break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void vireo_display_page_class_init(VireoDisplayPageClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    object_class->dispose = vireo_display_page_dispose;
    object_class->finalize = vireo_display_page_finalize;
    object_class->get_property = vireo_display_page_get_property;
    object_class->set_property = vireo_display_page_set_property;

    properties[PROP_SCALE_MODE] =
        g_param_spec_enum("scale-mode", NULL, NULL, VIREO_TYPE_SCALE_MODE, VIREO_SCALE_FIT,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
    properties[PROP_FULLSCREEN] =
        g_param_spec_boolean("fullscreen", NULL, NULL, FALSE,
                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
    properties[PROP_PAGE] =
        g_param_spec_string("page", NULL, NULL, NULL,
                            G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
    properties[PROP_SHOWING_DISPLAY] =
        g_param_spec_boolean("showing-display", NULL, NULL, FALSE,
                             G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
    properties[PROP_HINT] =
        g_param_spec_string("hint", NULL, NULL, NULL,
                            G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
    g_object_class_install_properties(object_class, N_PROPS, properties);

    gtk_widget_class_set_layout_manager_type(widget_class, GTK_TYPE_BIN_LAYOUT);
    gtk_widget_class_set_css_name(widget_class, "vireo-display-page");
}

static GtkWidget *status_page(const char *icon, const char *title, const char *description)
{
    GtkWidget *page = adw_status_page_new();

    adw_status_page_set_icon_name(ADW_STATUS_PAGE(page), icon);
    adw_status_page_set_title(ADW_STATUS_PAGE(page), title);
    adw_status_page_set_description(ADW_STATUS_PAGE(page), description);
    return page;
}

static void vireo_display_page_init(VireoDisplayPage *self)
{
    GtkWidget *detached, *back, *hint_box, *waiting, *console;
    GSimpleAction *action;

    self->inhibited = g_ptr_array_new_with_free_func(g_object_unref);
    self->scale_mode = VIREO_SCALE_FIT;

    /* display.scale-mode ("fit", "integer", "native") and
     * display.fullscreen, for menus here and in the pane's header bar. */
    self->actions = g_simple_action_group_new();
    action = g_simple_action_new_stateful("scale-mode", G_VARIANT_TYPE_STRING,
                                          g_variant_new_string("fit"));
    g_signal_connect(action, "change-state", G_CALLBACK(on_scale_mode_change), self);
    g_action_map_add_action(G_ACTION_MAP(self->actions), G_ACTION(action));
    g_object_unref(action);
    action = g_simple_action_new_stateful("fullscreen", NULL, g_variant_new_boolean(FALSE));
    g_signal_connect(action, "change-state", G_CALLBACK(on_fullscreen_change), self);
    g_signal_connect(action, "activate", G_CALLBACK(on_fullscreen_activate), self);
    g_action_map_add_action(G_ACTION_MAP(self->actions), G_ACTION(action));
    g_object_unref(action);
    gtk_widget_insert_action_group(GTK_WIDGET(self), "display", G_ACTION_GROUP(self->actions));
    g_signal_connect(self, "notify", G_CALLBACK(sync_actions), NULL);

    self->stack = GTK_STACK(gtk_stack_new());
    gtk_widget_set_parent(GTK_WIDGET(self->stack), GTK_WIDGET(self));

    gtk_stack_add_named(
        self->stack,
        status_page("video-display-symbolic", _("No Display Device"),
                    _("This virtual machine has no graphical display; its serial console is in "
                      "the Console view")),
        "none");
    gtk_stack_add_named(self->stack,
                        status_page("video-display-symbolic", _("Display Off"),
                                    _("Start the virtual machine to see its display")),
                        "off");

    /* Running, with the display not turned on yet (firmware and boot
     * loaders often use only the serial console). The button switches the
     * VM's pane to its Console view (vm.show-page). */
    waiting = status_page("video-display-symbolic", _("Display Not Turned On"),
                          _("The guest has not turned on its display; its output is on the "
                            "serial console"));
    console = gtk_button_new_with_mnemonic(_("Show _Console"));
    gtk_widget_add_css_class(console, "pill");
    gtk_widget_add_css_class(console, "suggested-action");
    gtk_widget_set_halign(console, GTK_ALIGN_CENTER);
    gtk_actionable_set_action_name(GTK_ACTIONABLE(console), "vm.show-page");
    gtk_actionable_set_action_target(GTK_ACTIONABLE(console), "s", "console");
    adw_status_page_set_child(ADW_STATUS_PAGE(waiting), console);
    gtk_stack_add_named(self->stack, waiting, "waiting");

    /* The screen: the view, the keyboard banner and the way back from full
     * screen over it. */
    self->screen = g_object_ref_sink(gtk_overlay_new());
    gtk_widget_add_css_class(self->screen, "vireo-screen");
    self->view = VIREO_DISPLAY_VIEW(vireo_display_view_new());
    gtk_overlay_set_child(GTK_OVERLAY(self->screen), GTK_WIDGET(self->view));
    g_signal_connect_swapped(self->view, "notify::keyboard-grabbed", G_CALLBACK(on_grab_changed),
                             self);

    self->hint_label = GTK_LABEL(gtk_label_new(NULL));
    gtk_label_set_wrap(self->hint_label, TRUE);
    hint_box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 0);
    gtk_widget_add_css_class(hint_box, "osd");
    gtk_widget_add_css_class(hint_box, "vireo-grab-hint");
    gtk_box_append(GTK_BOX(hint_box), GTK_WIDGET(self->hint_label));
    self->hint_revealer = GTK_REVEALER(gtk_revealer_new());
    gtk_revealer_set_transition_type(self->hint_revealer, GTK_REVEALER_TRANSITION_TYPE_CROSSFADE);
    gtk_revealer_set_child(self->hint_revealer, hint_box);
    gtk_widget_set_halign(GTK_WIDGET(self->hint_revealer), GTK_ALIGN_CENTER);
    gtk_widget_set_valign(GTK_WIDGET(self->hint_revealer), GTK_ALIGN_START);
    gtk_widget_set_margin_top(GTK_WIDGET(self->hint_revealer), 12);
    /* It tells; clicks go to the display under it. */
    gtk_widget_set_can_target(GTK_WIDGET(self->hint_revealer), FALSE);
    gtk_overlay_add_overlay(GTK_OVERLAY(self->screen), GTK_WIDGET(self->hint_revealer));

    self->leave_button = gtk_button_new_from_icon_name("view-restore-symbolic");
    gtk_widget_set_tooltip_text(self->leave_button, _("Leave Full Screen (F11)"));
    gtk_accessible_update_property(GTK_ACCESSIBLE(self->leave_button),
                                   GTK_ACCESSIBLE_PROPERTY_LABEL, _("Leave Full Screen"), -1);
    gtk_widget_add_css_class(self->leave_button, "osd");
    gtk_widget_add_css_class(self->leave_button, "circular");
    gtk_widget_set_halign(self->leave_button, GTK_ALIGN_END);
    gtk_widget_set_valign(self->leave_button, GTK_ALIGN_START);
    gtk_widget_set_margin_top(self->leave_button, 12);
    gtk_widget_set_margin_end(self->leave_button, 12);
    gtk_widget_set_focusable(self->leave_button, FALSE);
    gtk_widget_set_visible(self->leave_button, FALSE);
    g_signal_connect_swapped(self->leave_button, "clicked", G_CALLBACK(on_leave_clicked), self);
    gtk_overlay_add_overlay(GTK_OVERLAY(self->screen), self->leave_button);
    gtk_stack_add_named(self->stack, self->screen, "display");

    detached = status_page("view-fullscreen-symbolic", _("Display in Full Screen"),
                           _("The display is shown in a window of its own"));
    back = gtk_button_new_with_mnemonic(_("_Show Here"));
    gtk_widget_add_css_class(back, "pill");
    gtk_widget_set_halign(back, GTK_ALIGN_CENTER);
    g_signal_connect_swapped(back, "clicked", G_CALLBACK(on_back_clicked), self);
    adw_status_page_set_child(ADW_STATUS_PAGE(detached), back);
    gtk_stack_add_named(self->stack, detached, "detached");

    gtk_stack_set_visible_child_name(self->stack, "none");
    sync_actions(self);
}
