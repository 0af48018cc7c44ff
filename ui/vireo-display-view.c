/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "vireo-display-view"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "display/renderer.h"
#include "vireo-display-view.h"

/* How long the widget's size must stay put before the device is asked for
 * it, so that a window being dragged does not switch modes on every step. */
#define SIZE_SETTLE_MS 150
/* Surface pixels of smooth scrolling (touchpads) per wheel notch. */
#define SCROLL_PIXELS_PER_NOTCH 10.0

/*
 * The scanout calls back on the device's thread with this as its opaque
 * pointer. It is reference-counted apart from the widget, so that a redraw
 * already passed to the main context finds it alive after the widget is
 * gone, and holds the widget weakly.
 */
typedef struct {
    GWeakRef view;
    gint pending; /* a redraw is queued on the main context */
} NotifyLink;

struct _VireoDisplayView {
    GtkGLArea parent_instance;

    VireoScanout *scanout;
    int presenter;
    NotifyLink *link;
    VireoRenderer *renderer;
    VireoScaleMode scale_mode;
    int fb_width, fb_height; /* the size to ask the device for, device pixels */
    guint size_source;
    int asked_width, asked_height;
    guint64 frames;
    gboolean upload_failed;

    const VireoInputOps *input;
    void *input_opaque;
    VireoKeyState keys;
    VireoKeyCombo release;
    guint8 hotkey_held[VIREO_KEY_COUNT / 8];
    gboolean grabbed;
    double pointer_x, pointer_y; /* last position, widget coordinates */
    int last_gx, last_gy;

    GtkWidget *error_label;
    char *error_message;
};

G_DEFINE_FINAL_TYPE(VireoDisplayView, vireo_display_view, GTK_TYPE_GL_AREA)

enum {
    PROP_0,
    PROP_SCALE_MODE,
    PROP_RELEASE_KEYS,
    PROP_KEYBOARD_GRABBED,
    PROP_ERROR_MESSAGE,
    N_PROPS,
};

static GParamSpec *properties[N_PROPS];

GType vireo_scale_mode_get_type(void)
{
    static gsize type_id;
    static const GEnumValue values[] = {
        { VIREO_SCALE_FIT, "VIREO_SCALE_FIT", "fit" },
        { VIREO_SCALE_INTEGER, "VIREO_SCALE_INTEGER", "integer" },
        { VIREO_SCALE_NATIVE, "VIREO_SCALE_NATIVE", "native" },
        { 0, NULL, NULL },
    };

    if (g_once_init_enter(&type_id)) {
        GType id = g_enum_register_static(g_intern_static_string("VireoScaleMode"), values);
        g_once_init_leave(&type_id, id);
    }
    return (GType)type_id;
}

/* ---- Redraws from the device's thread ------------------------------------ */

static gboolean redraw_in_main_context(gpointer data)
{
    NotifyLink *link = data;
    VireoDisplayView *self = g_weak_ref_get(&link->view);

    g_atomic_int_set(&link->pending, 0);
    if (self != NULL) {
        gtk_gl_area_queue_render(GTK_GL_AREA(self));
        g_object_unref(self);
    }
    return G_SOURCE_REMOVE;
}

static void link_release(gpointer data)
{
    g_atomic_rc_box_release_full(data, (GDestroyNotify)g_weak_ref_clear);
}

static void on_scanout_notify(void *opaque)
{
    NotifyLink *link = opaque;

    /* An idle source, never g_main_context_invoke(): that would run the
     * callback right here whenever this thread can acquire the context. */
    if (g_atomic_int_compare_and_exchange(&link->pending, 0, 1)) {
        g_idle_add_full(G_PRIORITY_DEFAULT, redraw_in_main_context, g_atomic_rc_box_acquire(link),
                        link_release);
    }
}

static void attach(VireoDisplayView *self)
{
    if (self->scanout == NULL || self->presenter >= 0) {
        return;
    }
    self->presenter = vireo_scanout_attach(self->scanout, on_scanout_notify, self->link);
    if (self->presenter < 0) {
        g_autofree char *message = g_strdup_printf(_("This display already has %d viewers."),
                                                   VIREO_SCANOUT_MAX_PRESENTERS);
        vireo_display_view_show_error(self, message);
    }
}

static void detach(VireoDisplayView *self)
{
    if (self->scanout != NULL && self->presenter >= 0) {
        vireo_scanout_detach(self->scanout, self->presenter);
    }
    self->presenter = -1;
}

/* ---- Errors -------------------------------------------------------------- */

void vireo_display_view_show_error(VireoDisplayView *self, const char *message)
{
    g_return_if_fail(VIREO_IS_DISPLAY_VIEW(self));

    if (g_strcmp0(message, self->error_message) == 0) {
        return;
    }
    g_free(self->error_message);
    self->error_message = g_strdup(message);
    if (message != NULL) {
        /* Light text on the dark background the snapshot draws, as on the
         * renderer's own message pictures. */
        g_autofree char *markup =
            g_markup_printf_escaped("<span foreground=\"#f2f3f5\">%s</span>", message);
        gtk_label_set_markup(GTK_LABEL(self->error_label), markup);
    } else {
        gtk_label_set_text(GTK_LABEL(self->error_label), "");
    }
    gtk_widget_set_visible(self->error_label, message != NULL);
    gtk_widget_queue_draw(GTK_WIDGET(self));
    g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_ERROR_MESSAGE]);
}

const char *vireo_display_view_get_error_message(VireoDisplayView *self)
{
    g_return_val_if_fail(VIREO_IS_DISPLAY_VIEW(self), NULL);
    return self->error_message;
}

static void show_gl_error(VireoDisplayView *self, const GError *error)
{
    g_autofree char *message =
        g_strdup_printf(_("The display cannot be shown: %s"), error->message);

    g_warning("%s", message);
    if (gtk_gl_area_get_error(GTK_GL_AREA(self)) != error) {
        gtk_gl_area_set_error(GTK_GL_AREA(self), error);
    }
    vireo_display_view_show_error(self, message);
}

/* ---- GL ------------------------------------------------------------------ */

static void vireo_display_view_realize(GtkWidget *widget)
{
    VireoDisplayView *self = VIREO_DISPLAY_VIEW(widget);
    GtkGLArea *area = GTK_GL_AREA(widget);
    g_autoptr(GError) error = NULL;

    GTK_WIDGET_CLASS(vireo_display_view_parent_class)->realize(widget);
    gtk_gl_area_make_current(area);
    if (gtk_gl_area_get_error(area) != NULL) {
        show_gl_error(self, gtk_gl_area_get_error(area));
        return;
    }
    self->renderer = vireo_renderer_new(&error);
    if (self->renderer == NULL) {
        show_gl_error(self, error);
        return;
    }
    vireo_renderer_set_scale_mode(self->renderer, self->scale_mode);
    /* A new texture: attach afresh, so that the first frame is whole. */
    detach(self);
    attach(self);
}

static void vireo_display_view_unrealize(GtkWidget *widget)
{
    VireoDisplayView *self = VIREO_DISPLAY_VIEW(widget);

    if (self->renderer != NULL) {
        gtk_gl_area_make_current(GTK_GL_AREA(widget));
        g_clear_pointer(&self->renderer, vireo_renderer_free);
    }
    GTK_WIDGET_CLASS(vireo_display_view_parent_class)->unrealize(widget);
}

/* The GL area's buffer: the widget's size times its scale, in device
 * pixels. */
static void framebuffer_size(VireoDisplayView *self, int *width, int *height)
{
    int scale = gtk_widget_get_scale_factor(GTK_WIDGET(self));

    *width = gtk_widget_get_width(GTK_WIDGET(self)) * scale;
    *height = gtk_widget_get_height(GTK_WIDGET(self)) * scale;
}

static gboolean vireo_display_view_render(GtkGLArea *area, GdkGLContext *context)
{
    VireoDisplayView *self = VIREO_DISPLAY_VIEW(area);
    VireoScanoutFrame frame;
    int fb_w, fb_h;

    framebuffer_size(self, &fb_w, &fb_h);
    if (self->renderer == NULL) {
        return TRUE;
    }
    if (self->scanout != NULL && self->presenter >= 0 &&
        vireo_scanout_acquire(self->scanout, self->presenter, &frame)) {
        g_autoptr(GError) error = NULL;
        /* On failure the renderer draws the reason itself; say it once in
         * the log too. */
        if (!vireo_renderer_upload(self->renderer, &frame, &error)) {
            if (!self->upload_failed) {
                g_warning("%s", error->message);
            }
            self->upload_failed = TRUE;
        } else {
            self->upload_failed = FALSE;
        }
        vireo_scanout_release(self->scanout, self->presenter);
    }
    vireo_renderer_draw(self->renderer, fb_w, fb_h);
    self->frames++;
    return TRUE;
}

static gboolean ask_size(gpointer data)
{
    VireoDisplayView *self = data;

    self->size_source = 0;
    if (self->scanout != NULL && self->fb_width > 0 && self->fb_height > 0 &&
        (self->fb_width != self->asked_width || self->fb_height != self->asked_height)) {
        self->asked_width = self->fb_width;
        self->asked_height = self->fb_height;
        vireo_scanout_request_size(self->scanout, self->fb_width, self->fb_height);
    }
    return G_SOURCE_REMOVE;
}

/* After a new size or scale: redraw, and ask the device for the size once
 * it has settled. */
static void size_changed(VireoDisplayView *self)
{
    int w, h;

    /* GTK allocates again without a change too: only a new size counts. */
    framebuffer_size(self, &w, &h);
    if (w == self->fb_width && h == self->fb_height) {
        return;
    }
    self->fb_width = w;
    self->fb_height = h;
    g_clear_handle_id(&self->size_source, g_source_remove);
    self->size_source = g_timeout_add(SIZE_SETTLE_MS, ask_size, self);
    gtk_gl_area_queue_render(GTK_GL_AREA(self));
}

static void vireo_display_view_measure(GtkWidget *widget, GtkOrientation orientation, int for_size,
                                       int *minimum, int *natural, int *minimum_baseline,
                                       int *natural_baseline)
{
    VireoDisplayView *self = VIREO_DISPLAY_VIEW(widget);

    /* The display itself needs no room; the message needs its own. */
    *minimum = *natural = 0;
    if (gtk_widget_get_visible(self->error_label)) {
        gtk_widget_measure(self->error_label, orientation, for_size, minimum, natural, NULL, NULL);
    }
}

static void vireo_display_view_size_allocate(GtkWidget *widget, int width, int height, int baseline)
{
    VireoDisplayView *self = VIREO_DISPLAY_VIEW(widget);

    /* No layout manager: GtkGLArea's own allocation learns the new size. */
    GTK_WIDGET_CLASS(vireo_display_view_parent_class)
        ->size_allocate(widget, width, height, baseline);
    if (gtk_widget_get_visible(self->error_label)) {
        gtk_widget_allocate(self->error_label, width, height, baseline, NULL);
    }
    size_changed(self);
}

static void vireo_display_view_snapshot(GtkWidget *widget, GtkSnapshot *snapshot)
{
    VireoDisplayView *self = VIREO_DISPLAY_VIEW(widget);

    /* The GL area draws its texture; a message replaces it, on a dark
     * background. */
    if (self->error_message == NULL) {
        GTK_WIDGET_CLASS(vireo_display_view_parent_class)->snapshot(widget, snapshot);
    } else {
        gtk_snapshot_append_color(
            snapshot, &(GdkRGBA){ 0x24 / 255.0f, 0x27 / 255.0f, 0x2e / 255.0f, 1.0f },
            &GRAPHENE_RECT_INIT(0, 0, gtk_widget_get_width(widget), gtk_widget_get_height(widget)));
    }
    gtk_widget_snapshot_child(widget, self->error_label, snapshot);
}

/* ---- Input --------------------------------------------------------------- */

static VireoModifiers modifiers_of(GdkModifierType state)
{
    VireoModifiers mods = 0;

    if (state & GDK_CONTROL_MASK) {
        mods |= VIREO_MOD_CTRL;
    }
    if (state & GDK_ALT_MASK) {
        mods |= VIREO_MOD_ALT;
    }
    if (state & GDK_SHIFT_MASK) {
        mods |= VIREO_MOD_SHIFT;
    }
    if (state & GDK_SUPER_MASK) {
        mods |= VIREO_MOD_SUPER;
    }
    return mods;
}

static void send_key(VireoDisplayView *self, unsigned code, gboolean pressed)
{
    if (vireo_key_state_set(&self->keys, code, pressed) && self->input != NULL &&
        self->input->key != NULL) {
        self->input->key(self->input_opaque, code, pressed);
    }
}

static gboolean hotkey_held(VireoDisplayView *self, unsigned code)
{
    return (self->hotkey_held[code / 8] >> (code % 8)) & 1;
}

static void set_hotkey_held(VireoDisplayView *self, unsigned code, gboolean held)
{
    if (held) {
        self->hotkey_held[code / 8] |= (guint8)(1u << (code % 8));
    } else {
        self->hotkey_held[code / 8] &= (guint8) ~(1u << (code % 8));
    }
}

static gboolean on_key_pressed(VireoDisplayView *self, guint keyval, guint keycode,
                               GdkModifierType state)
{
    unsigned code = vireo_keymap_from_xkb(keycode);

    if (code == 0) {
        return FALSE;
    }
    if (vireo_key_combo_matches(&self->release, modifiers_of(state), code)) {
        if (!hotkey_held(self, code)) {
            vireo_display_view_set_keyboard_grabbed(self, !self->grabbed);
        }
        set_hotkey_held(self, code, TRUE);
        return TRUE;
    }
    /* A held key's repeats change nothing: the guest repeats it. */
    send_key(self, code, TRUE);
    return TRUE;
}

static void on_key_released(VireoDisplayView *self, guint keyval, guint keycode,
                            GdkModifierType state)
{
    unsigned code = vireo_keymap_from_xkb(keycode);

    if (code == 0) {
        return;
    }
    if (hotkey_held(self, code)) {
        set_hotkey_held(self, code, FALSE);
        return;
    }
    send_key(self, code, FALSE);
}

static void on_focus_leave(VireoDisplayView *self)
{
    /* Keys held when the focus left would stay down in the guest. */
    vireo_key_state_release_all(&self->keys, self->input, self->input_opaque);
    memset(self->hotkey_held, 0, sizeof self->hotkey_held);
    vireo_display_view_set_keyboard_grabbed(self, FALSE);
}

static void send_pointer(VireoDisplayView *self)
{
    int scale = gtk_widget_get_scale_factor(GTK_WIDGET(self));
    int fb_w, fb_h, gx, gy, gw, gh;

    if (self->renderer == NULL || self->input == NULL || self->input->pointer_motion == NULL) {
        return;
    }
    framebuffer_size(self, &fb_w, &fb_h);
    /* Widget coordinates are logical pixels; the renderer's are device
     * pixels. */
    if (!vireo_renderer_to_guest(self->renderer, fb_w, fb_h, self->pointer_x * scale,
                                 self->pointer_y * scale, &gx, &gy)) {
        return;
    }
    if (gx == self->last_gx && gy == self->last_gy) {
        return;
    }
    self->last_gx = gx;
    self->last_gy = gy;
    vireo_renderer_get_image_size(self->renderer, &gw, &gh);
    self->input->pointer_motion(self->input_opaque, gx, gy, gw, gh);
}

static void on_motion(VireoDisplayView *self, double x, double y)
{
    self->pointer_x = x;
    self->pointer_y = y;
    send_pointer(self);
}

/* Buttons come from the raw events: a click gesture follows one button at
 * a time, and the guest must see every press and release, chords too. */
static gboolean on_event(VireoDisplayView *self, GdkEvent *event)
{
    GdkEventType type = gdk_event_get_event_type(event);
    unsigned button;
    gboolean pressed = type == GDK_BUTTON_PRESS;

    if (type != GDK_BUTTON_PRESS && type != GDK_BUTTON_RELEASE) {
        return FALSE;
    }
    if (pressed) {
        gtk_widget_grab_focus(GTK_WIDGET(self));
        vireo_display_view_set_keyboard_grabbed(self, TRUE);
    }
    switch (gdk_button_event_get_button(event)) {
    case GDK_BUTTON_PRIMARY: button = VIREO_BTN_LEFT; break;
    case GDK_BUTTON_MIDDLE: button = VIREO_BTN_MIDDLE; break;
    case GDK_BUTTON_SECONDARY: button = VIREO_BTN_RIGHT; break;
    case 8: button = VIREO_BTN_SIDE; break;
    case 9: button = VIREO_BTN_EXTRA; break;
    default: return TRUE;
    }
    send_pointer(self);
    if (self->input != NULL && self->input->pointer_button != NULL) {
        self->input->pointer_button(self->input_opaque, button, pressed);
    }
    return TRUE;
}

static gboolean on_scroll(VireoDisplayView *self, double dx, double dy,
                          GtkEventControllerScroll *controller)
{
    double notch = VIREO_WHEEL_NOTCH;
    int wx, wy;

    if (gtk_event_controller_scroll_get_unit(controller) == GDK_SCROLL_UNIT_SURFACE) {
        notch /= SCROLL_PIXELS_PER_NOTCH;
    }
    /* GTK counts y downwards; the guest's wheel counts up. */
    wx = (int)(dx * notch);
    wy = (int)(-dy * notch);
    if (self->input != NULL && self->input->wheel != NULL && (wx != 0 || wy != 0)) {
        self->input->wheel(self->input_opaque, wx, wy);
    }
    return TRUE;
}

/* ---- Keyboard capture ------------------------------------------------------ */

void vireo_display_view_set_keyboard_grabbed(VireoDisplayView *self, gboolean grabbed)
{
    GtkNative *native;
    GdkSurface *surface;

    g_return_if_fail(VIREO_IS_DISPLAY_VIEW(self));

    grabbed = !!grabbed;
    if (self->grabbed == grabbed) {
        return;
    }
    native = gtk_widget_get_native(GTK_WIDGET(self));
    surface = native != NULL ? gtk_native_get_surface(native) : NULL;
    if (surface != NULL && GDK_IS_TOPLEVEL(surface)) {
        if (grabbed) {
            gdk_toplevel_inhibit_system_shortcuts(GDK_TOPLEVEL(surface), NULL);
        } else {
            gdk_toplevel_restore_system_shortcuts(GDK_TOPLEVEL(surface));
        }
    }
    self->grabbed = grabbed;
    g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_KEYBOARD_GRABBED]);
}

gboolean vireo_display_view_get_keyboard_grabbed(VireoDisplayView *self)
{
    g_return_val_if_fail(VIREO_IS_DISPLAY_VIEW(self), FALSE);
    return self->grabbed;
}

char *vireo_display_view_dup_grab_hint(VireoDisplayView *self)
{
    g_autofree char *combo = NULL;

    g_return_val_if_fail(VIREO_IS_DISPLAY_VIEW(self), NULL);
    combo = vireo_key_combo_to_string(&self->release);
    /* TRANSLATORS: %s is a key combination such as Ctrl+Alt+G. */
    return g_strdup_printf(_("Press %s to release the keyboard"), combo);
}

gboolean vireo_display_view_set_release_keys(VireoDisplayView *self, const char *combo,
                                             GError **error)
{
    VireoKeyCombo parsed;

    g_return_val_if_fail(VIREO_IS_DISPLAY_VIEW(self), FALSE);

    if (!vireo_key_combo_parse(combo, &parsed, error)) {
        return FALSE;
    }
    if (parsed.mods != self->release.mods || parsed.key != self->release.key) {
        self->release = parsed;
        g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_RELEASE_KEYS]);
    }
    return TRUE;
}

char *vireo_display_view_dup_release_keys(VireoDisplayView *self)
{
    g_return_val_if_fail(VIREO_IS_DISPLAY_VIEW(self), NULL);
    return vireo_key_combo_to_string(&self->release);
}

/* ---- Public ---------------------------------------------------------------- */

GtkWidget *vireo_display_view_new(void)
{
    return g_object_new(VIREO_TYPE_DISPLAY_VIEW, NULL);
}

/* The size the view will have while it is not on screen (the machine
 * started while another page of the VM window was shown): that of its
 * nearest ancestor on screen, the page stack whose area every page shares.
 * Telling the guest that size from the start matters: Linux's framebuffer
 * console keeps the size it first saw, and a smaller size asked for later
 * would only crop it. */
static gboolean size_on_screen(VireoDisplayView *self, int *width, int *height)
{
    GtkWidget *area = gtk_widget_get_parent(GTK_WIDGET(self));
    int scale;

    while (area != NULL && !gtk_widget_get_mapped(area)) {
        area = gtk_widget_get_parent(area);
    }
    if (area == NULL || GTK_IS_NATIVE(area)) {
        return FALSE;
    }
    scale = gtk_widget_get_scale_factor(area);
    *width = gtk_widget_get_width(area) * scale;
    *height = gtk_widget_get_height(area) * scale;
    return *width > 0 && *height > 0;
}

void vireo_display_view_set_scanout(VireoDisplayView *self, VireoScanout *scanout)
{
    g_return_if_fail(VIREO_IS_DISPLAY_VIEW(self));

    if (scanout == self->scanout) {
        return;
    }
    detach(self);
    self->scanout = scanout;
    self->asked_width = self->asked_height = 0;
    if (scanout != NULL && !gtk_widget_get_mapped(GTK_WIDGET(self))) {
        int w, h;
        if (size_on_screen(self, &w, &h)) {
            /* When the view is shown at this size, nothing more is asked. */
            self->fb_width = w;
            self->fb_height = h;
            ask_size(self);
        }
    }
    if (gtk_widget_get_realized(GTK_WIDGET(self)) && self->renderer != NULL) {
        attach(self);
        if (self->fb_width > 0) {
            ask_size(self);
        }
    }
    gtk_gl_area_queue_render(GTK_GL_AREA(self));
}

VireoScanout *vireo_display_view_get_scanout(VireoDisplayView *self)
{
    g_return_val_if_fail(VIREO_IS_DISPLAY_VIEW(self), NULL);
    return self->scanout;
}

void vireo_display_view_set_input(VireoDisplayView *self, const VireoInputOps *ops, void *opaque)
{
    g_return_if_fail(VIREO_IS_DISPLAY_VIEW(self));

    vireo_key_state_release_all(&self->keys, self->input, self->input_opaque);
    self->input = ops;
    self->input_opaque = opaque;
    self->last_gx = self->last_gy = -1;
}

void vireo_display_view_set_scale_mode(VireoDisplayView *self, VireoScaleMode mode)
{
    g_return_if_fail(VIREO_IS_DISPLAY_VIEW(self));

    if (self->scale_mode == mode) {
        return;
    }
    self->scale_mode = mode;
    if (self->renderer != NULL) {
        vireo_renderer_set_scale_mode(self->renderer, mode);
    }
    gtk_gl_area_queue_render(GTK_GL_AREA(self));
    g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_SCALE_MODE]);
}

VireoScaleMode vireo_display_view_get_scale_mode(VireoDisplayView *self)
{
    g_return_val_if_fail(VIREO_IS_DISPLAY_VIEW(self), VIREO_SCALE_FIT);
    return self->scale_mode;
}

guint64 vireo_display_view_get_frame_count(VireoDisplayView *self)
{
    g_return_val_if_fail(VIREO_IS_DISPLAY_VIEW(self), 0);
    return self->frames;
}

/* ---- GObject --------------------------------------------------------------- */

static void vireo_display_view_get_property(GObject *object, guint prop_id, GValue *value,
                                            GParamSpec *pspec)
{
    VireoDisplayView *self = VIREO_DISPLAY_VIEW(object);

    switch (prop_id) {
    case PROP_SCALE_MODE: g_value_set_enum(value, self->scale_mode); break;
    case PROP_RELEASE_KEYS:
        g_value_take_string(value, vireo_display_view_dup_release_keys(self));
        break;
    case PROP_KEYBOARD_GRABBED: g_value_set_boolean(value, self->grabbed); break;
    case PROP_ERROR_MESSAGE: g_value_set_string(value, self->error_message); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void vireo_display_view_set_property(GObject *object, guint prop_id, const GValue *value,
                                            GParamSpec *pspec)
{
    VireoDisplayView *self = VIREO_DISPLAY_VIEW(object);

    switch (prop_id) {
    case PROP_SCALE_MODE: vireo_display_view_set_scale_mode(self, g_value_get_enum(value)); break;
    case PROP_RELEASE_KEYS: {
        g_autoptr(GError) error = NULL;
        if (!vireo_display_view_set_release_keys(self, g_value_get_string(value), &error)) {
            g_warning("release-keys: %s", error->message);
        }
        break;
    }
    case PROP_KEYBOARD_GRABBED:
        vireo_display_view_set_keyboard_grabbed(self, g_value_get_boolean(value));
        break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void vireo_display_view_dispose(GObject *object)
{
    VireoDisplayView *self = VIREO_DISPLAY_VIEW(object);

    detach(self);
    self->scanout = NULL;
    g_clear_handle_id(&self->size_source, g_source_remove);
    vireo_key_state_release_all(&self->keys, self->input, self->input_opaque);
    self->input = NULL;
    if (self->link != NULL) {
        g_weak_ref_set(&self->link->view, NULL);
        g_clear_pointer(&self->link, link_release);
    }
    g_clear_pointer(&self->error_label, gtk_widget_unparent);
    G_OBJECT_CLASS(vireo_display_view_parent_class)->dispose(object);
}

static void vireo_display_view_finalize(GObject *object)
{
    VireoDisplayView *self = VIREO_DISPLAY_VIEW(object);

    g_free(self->error_message);
    G_OBJECT_CLASS(vireo_display_view_parent_class)->finalize(object);
}

static void vireo_display_view_class_init(VireoDisplayViewClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    GtkGLAreaClass *area_class = GTK_GL_AREA_CLASS(klass);

    object_class->get_property = vireo_display_view_get_property;
    object_class->set_property = vireo_display_view_set_property;
    object_class->dispose = vireo_display_view_dispose;
    object_class->finalize = vireo_display_view_finalize;
    widget_class->realize = vireo_display_view_realize;
    widget_class->unrealize = vireo_display_view_unrealize;
    widget_class->snapshot = vireo_display_view_snapshot;
    widget_class->measure = vireo_display_view_measure;
    widget_class->size_allocate = vireo_display_view_size_allocate;
    area_class->render = vireo_display_view_render;

    properties[PROP_SCALE_MODE] =
        g_param_spec_enum("scale-mode", NULL, NULL, VIREO_TYPE_SCALE_MODE, VIREO_SCALE_FIT,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
    properties[PROP_RELEASE_KEYS] =
        g_param_spec_string("release-keys", NULL, NULL, VIREO_RELEASE_COMBO_DEFAULT,
                            G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
    properties[PROP_KEYBOARD_GRABBED] =
        g_param_spec_boolean("keyboard-grabbed", NULL, NULL, FALSE,
                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
    properties[PROP_ERROR_MESSAGE] = g_param_spec_string("error-message", NULL, NULL, NULL,
                                                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    g_object_class_install_properties(object_class, N_PROPS, properties);

    gtk_widget_class_set_css_name(widget_class, "vireo-display-view");
    gtk_widget_class_set_accessible_role(widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void vireo_display_view_init(VireoDisplayView *self)
{
    GtkWidget *widget = GTK_WIDGET(self);
    GtkEventController *key, *motion, *legacy, *scroll, *focus;

    self->presenter = -1;
    self->scale_mode = VIREO_SCALE_FIT;
    self->last_gx = self->last_gy = -1;
    vireo_key_combo_parse(VIREO_RELEASE_COMBO_DEFAULT, &self->release, NULL);
    self->link = g_atomic_rc_box_new0(NotifyLink);
    g_weak_ref_init(&self->link->view, self);

    /* Redraws come from the scanout (and resizes), not from every frame
     * GTK draws. */
    gtk_gl_area_set_auto_render(GTK_GL_AREA(self), FALSE);
    gtk_gl_area_set_required_version(GTK_GL_AREA(self), 3, 2);
    gtk_widget_set_focusable(widget, TRUE);
    gtk_widget_set_focus_on_click(widget, TRUE);
    gtk_widget_set_hexpand(widget, TRUE);
    gtk_widget_set_vexpand(widget, TRUE);
    gtk_accessible_update_property(GTK_ACCESSIBLE(self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                   _("Virtual machine display"), -1);

    g_signal_connect(self, "notify::scale-factor", G_CALLBACK(size_changed), NULL);

    self->error_label = gtk_label_new(NULL);
    gtk_label_set_wrap(GTK_LABEL(self->error_label), TRUE);
    gtk_label_set_justify(GTK_LABEL(self->error_label), GTK_JUSTIFY_CENTER);
    gtk_widget_set_margin_start(self->error_label, 24);
    gtk_widget_set_margin_end(self->error_label, 24);
    gtk_widget_add_css_class(self->error_label, "title-4");
    gtk_widget_set_visible(self->error_label, FALSE);
    gtk_widget_set_parent(self->error_label, widget);

    key = gtk_event_controller_key_new();
    g_signal_connect_swapped(key, "key-pressed", G_CALLBACK(on_key_pressed), self);
    g_signal_connect_swapped(key, "key-released", G_CALLBACK(on_key_released), self);
    gtk_widget_add_controller(widget, key);

    focus = gtk_event_controller_focus_new();
    g_signal_connect_swapped(focus, "leave", G_CALLBACK(on_focus_leave), self);
    gtk_widget_add_controller(widget, focus);

    motion = gtk_event_controller_motion_new();
    g_signal_connect_swapped(motion, "motion", G_CALLBACK(on_motion), self);
    gtk_widget_add_controller(widget, motion);

    legacy = gtk_event_controller_legacy_new();
    g_signal_connect_swapped(legacy, "event", G_CALLBACK(on_event), self);
    gtk_widget_add_controller(widget, legacy);

    scroll = gtk_event_controller_scroll_new(GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES);
    g_signal_connect_swapped(scroll, "scroll", G_CALLBACK(on_scroll), self);
    gtk_widget_add_controller(widget, scroll);
}
