/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The GTK display view under a display (a private Xvfb from
 * with-display.sh): a window with the view on a scanout fed by the test
 * pattern. The widget's pixels are read back the way GTK would show them:
 * its paintable, rendered to a texture by the window's own GSK renderer.
 *
 * With VIREO_EXPECT_GL_ERROR=1 (run with GDK_DEBUG=gl-disable) it checks
 * instead that a view without OpenGL shows why.
 */
#include <gtk/gtk.h>
#include <linux/input-event-codes.h>

#include "display-test-util.h"
#include "vireo-display-view.h"

#define TIMEOUT_US (30 * G_USEC_PER_SEC)

/* Runs the main loop until `done` says so, or fails after TIMEOUT_US. */
static void iterate_until(gboolean (*done)(gpointer), gpointer data, const char *what)
{
    gint64 deadline = g_get_monotonic_time() + TIMEOUT_US;

    while (!done(data)) {
        if (g_get_monotonic_time() > deadline) {
            g_error("timed out waiting for %s", what);
        }
        g_main_context_iteration(NULL, FALSE);
        g_usleep(1000);
    }
}

static gboolean elapsed(gpointer data)
{
    return g_get_monotonic_time() >= *(gint64 *)data;
}

static void iterate_for(int ms)
{
    gint64 until = g_get_monotonic_time() + ms * 1000;

    iterate_until(elapsed, &until, "time to pass");
}

/* The widget's pixels as the window would show them, in logical pixels:
 * the render node its parent would draw for it, rendered by the window's
 * own GSK renderer. */
static Readback snapshot_widget(GtkWidget *widget)
{
    Readback rb = { 0 };
    GtkWidget *parent = gtk_widget_get_parent(widget);
    GtkSnapshot *snapshot = gtk_snapshot_new();
    GskRenderNode *node;
    GskRenderer *renderer = gtk_native_get_renderer(gtk_widget_get_native(widget));
    g_autoptr(GdkTexture) texture = NULL;
    g_autofree guint8 *argb = NULL;
    graphene_rect_t bounds;

    g_assert_true(gtk_widget_compute_bounds(widget, parent, &bounds));
    gtk_widget_snapshot_child(parent, widget, snapshot);
    node = gtk_snapshot_free_to_node(snapshot);
    g_assert_nonnull(node);
    texture = gsk_renderer_render_texture(renderer, node, &bounds);
    gsk_render_node_unref(node);
    rb.width = gdk_texture_get_width(texture);
    rb.height = gdk_texture_get_height(texture);
    argb = g_malloc((size_t)rb.width * rb.height * 4);
    /* Downloads are cairo's ARGB32: premultiplied, native-endian words. */
    gdk_texture_download(texture, argb, (gsize)rb.width * 4);
    rb.pixels = g_malloc((size_t)rb.width * rb.height * 4);
    for (int i = 0; i < rb.width * rb.height; i++) {
        guint32 px;
        memcpy(&px, argb + (size_t)i * 4, 4);
        rb.pixels[i * 4 + 0] = (guint8)(px >> 16);
        rb.pixels[i * 4 + 1] = (guint8)(px >> 8);
        rb.pixels[i * 4 + 2] = (guint8)px;
        rb.pixels[i * 4 + 3] = (guint8)(px >> 24);
    }
    return rb;
}

typedef struct {
    GtkWidget *window;
    VireoDisplayView *view;
    VireoScanout *scanout;
    VireoTestPattern *pattern;
    guint64 frames_at_least;
    guint pattern_at_least;
} Fixture;

static void fixture_setup(Fixture *fx, int pw, int ph, int ww, int wh)
{
    fx->scanout = vireo_scanout_new();
    fx->pattern = vireo_test_pattern_new(fx->scanout, VIREO_PIXEL_B8G8R8X8);
    vireo_test_pattern_resize(fx->pattern, pw, ph);
    fx->window = gtk_window_new();
    gtk_window_set_default_size(GTK_WINDOW(fx->window), ww, wh);
    fx->view = VIREO_DISPLAY_VIEW(vireo_display_view_new());
    vireo_display_view_set_scanout(fx->view, fx->scanout);
    gtk_window_set_child(GTK_WINDOW(fx->window), GTK_WIDGET(fx->view));
    gtk_window_present(GTK_WINDOW(fx->window));
}

static void fixture_teardown(Fixture *fx)
{
    vireo_test_pattern_stop(fx->pattern);
    gtk_window_destroy(GTK_WINDOW(fx->window));
    iterate_for(50);
    vireo_test_pattern_free(fx->pattern);
    vireo_scanout_free(fx->scanout);
}

static gboolean frames_drawn(gpointer data)
{
    Fixture *fx = data;

    return gtk_widget_get_mapped(GTK_WIDGET(fx->view)) &&
           vireo_display_view_get_frame_count(fx->view) >= fx->frames_at_least &&
           vireo_test_pattern_get_frame(fx->pattern) >= fx->pattern_at_least;
}

/* The view shows the animated pattern, and its pixels change over time. */
static void test_pattern(void)
{
    Fixture fx = { 0 };
    Readback a, b;
    int scale, w, h, k, ox, oy, row, box_a, box_b;
    guint64 frames;

    fixture_setup(&fx, 320, 240, 640, 480);
    vireo_test_pattern_start(fx.pattern, 60, FALSE);
    fx.frames_at_least = 3;
    fx.pattern_at_least = 3;
    iterate_until(frames_drawn, &fx, "the first frames");
    scale = gtk_widget_get_scale_factor(GTK_WIDGET(fx.view));
    w = gtk_widget_get_width(GTK_WIDGET(fx.view));
    h = gtk_widget_get_height(GTK_WIDGET(fx.view));
    g_test_message("view %d x %d at scale %d", w, h, scale);

    a = snapshot_widget(GTK_WIDGET(fx.view));
    frames = vireo_display_view_get_frame_count(fx.view);
    iterate_for(400);
    /* Some pattern frames later, and drawn, even on a busy machine. */
    fx.frames_at_least = frames + 2;
    fx.pattern_at_least = vireo_test_pattern_get_frame(fx.pattern) + 5;
    iterate_until(frames_drawn, &fx, "more frames");
    b = snapshot_widget(GTK_WIDGET(fx.view));
    readback_save(&a, scale == 1 ? "gtk-view-0" : "gtk-view-scale2-0");
    readback_save(&b, scale == 1 ? "gtk-view-1" : "gtk-view-scale2-1");

    /* The readback is in logical pixels: a whole number of them per guest
     * pixel when the view is a whole multiple of the pattern. */
    g_assert_cmpint(a.width, ==, w);
    g_assert_cmpint(a.height, ==, h);
    k = MIN(w / 320, h / 240);
    g_assert_cmpint(k, >=, 1);
    ox = (w - 320 * k) / 2;
    oy = (h - 240 * k) / 2;
    g_assert_cmpint(readback_check_pattern(&a, 320, 240, ox, oy, k), ==, 0);
    g_assert_cmpint(readback_check_pattern(&b, 320, 240, ox, oy, k), ==, 0);
    row = oy +
          (vireo_test_pattern_box(320, 240, 0).y + vireo_test_pattern_box(320, 240, 0).height / 2) *
              k;
    box_a = readback_find_box(&a, row);
    box_b = readback_find_box(&b, row);
    g_test_message("box at x = %d, then %d", box_a, box_b);
    g_assert_cmpint(box_a, >=, 0);
    g_assert_cmpint(box_b, >=, 0);
    g_assert_cmpint(box_a, !=, box_b);
    g_assert_true(readback_differs(&a, &b));
    g_assert_null(vireo_display_view_get_error_message(fx.view));

    g_free(a.pixels);
    g_free(b.pixels);
    fixture_teardown(&fx);
}

typedef struct {
    Fixture *fx;
    int want_w, want_h;
} SizeWait;

static gboolean size_requested(gpointer data)
{
    SizeWait *sw = data;
    int w, h;

    vireo_test_pattern_get_size_requests(sw->fx->pattern, &w, &h);
    return w == sw->want_w && h == sw->want_h;
}

static gboolean shows_size(gpointer data)
{
    SizeWait *sw = data;
    Readback rb;
    gboolean ok;

    if (!size_requested(data)) {
        return FALSE;
    }
    rb = snapshot_widget(GTK_WIDGET(sw->fx->view));
    /* 1:1 in device pixels, so 1 / scale in logical ones: at scale 1, the
     * whole pattern. */
    ok = gtk_widget_get_scale_factor(GTK_WIDGET(sw->fx->view)) != 1 ||
         readback_check_pattern(&rb, sw->want_w, sw->want_h, 0, 0, 1) == 0;
    g_free(rb.pixels);
    return ok;
}

/* The view asks the device for its size in device pixels, and again after
 * the window is resized; the pattern follows. */
static void test_size_request(void)
{
    Fixture fx = { 0 };
    SizeWait sw = { &fx, 0, 0 };
    int scale;

    fixture_setup(&fx, 320, 240, 640, 400);
    vireo_display_view_set_scale_mode(fx.view, VIREO_SCALE_NATIVE);
    vireo_test_pattern_start(fx.pattern, 60, TRUE);
    fx.frames_at_least = 1;
    iterate_until(frames_drawn, &fx, "the first frame");
    scale = gtk_widget_get_scale_factor(GTK_WIDGET(fx.view));
    sw.want_w = gtk_widget_get_width(GTK_WIDGET(fx.view)) * scale;
    sw.want_h = gtk_widget_get_height(GTK_WIDGET(fx.view)) * scale;
    g_assert_cmpint(sw.want_w, ==, 640 * scale);
    g_assert_cmpint(sw.want_h, ==, 400 * scale);
    iterate_until(shows_size, &sw, "the first size request");

    /* A larger minimum grows the window. */
    gtk_widget_set_size_request(GTK_WIDGET(fx.view), 720, 450);
    sw.want_w = 720 * scale;
    sw.want_h = 450 * scale;
    iterate_until(shows_size, &sw, "the size request after resizing");
    fixture_teardown(&fx);
}

static gboolean allocated(gpointer widget)
{
    return gtk_widget_get_mapped(widget) && gtk_widget_get_width(widget) > 0;
}

/* A view given its scanout while another page of its stack is shown (a
 * machine started from the Console page) asks at once for the size the
 * stack gives its pages, and asks nothing more when it is shown at that
 * size: a guest that keeps its first size (Linux's framebuffer console)
 * then fills the view. */
static void test_size_hidden(void)
{
    Fixture fx = { 0 };
    SizeWait sw = { &fx, 0, 0 };
    GtkWidget *stack = gtk_stack_new();
    int scale, w, h;
    guint asked;

    fx.scanout = vireo_scanout_new();
    fx.pattern = vireo_test_pattern_new(fx.scanout, VIREO_PIXEL_B8G8R8X8);
    vireo_test_pattern_resize(fx.pattern, 320, 240);
    vireo_test_pattern_start(fx.pattern, 60, TRUE);
    fx.window = gtk_window_new();
    gtk_window_set_default_size(GTK_WINDOW(fx.window), 640, 400);
    fx.view = VIREO_DISPLAY_VIEW(vireo_display_view_new());
    vireo_display_view_set_scale_mode(fx.view, VIREO_SCALE_NATIVE);
    gtk_stack_add_named(GTK_STACK(stack), gtk_label_new("console"), "console");
    gtk_stack_add_named(GTK_STACK(stack), GTK_WIDGET(fx.view), "display");
    gtk_stack_set_visible_child_name(GTK_STACK(stack), "console");
    gtk_window_set_child(GTK_WINDOW(fx.window), stack);
    gtk_window_present(GTK_WINDOW(fx.window));
    iterate_until(allocated, stack, "the window");
    g_assert_false(gtk_widget_get_mapped(GTK_WIDGET(fx.view)));
    g_assert_cmpuint(vireo_test_pattern_get_size_requests(fx.pattern, &w, &h), ==, 0);

    vireo_display_view_set_scanout(fx.view, fx.scanout);
    scale = gtk_widget_get_scale_factor(stack);
    sw.want_w = 640 * scale;
    sw.want_h = 400 * scale;
    g_assert_cmpint(gtk_widget_get_width(stack) * scale, ==, sw.want_w);
    iterate_until(size_requested, &sw, "the hidden view's size request");
    asked = vireo_test_pattern_get_size_requests(fx.pattern, &w, &h);

    gtk_stack_set_visible_child_name(GTK_STACK(stack), "display");
    fx.frames_at_least = 1;
    iterate_until(frames_drawn, &fx, "the first frame");
    iterate_until(shows_size, &sw, "the pattern at the view's size");
    iterate_for(400); /* past the view's settling time for new sizes */
    g_assert_cmpuint(vireo_test_pattern_get_size_requests(fx.pattern, &w, &h), ==, asked);
    fixture_teardown(&fx);
}

typedef struct {
    GArray *keys;
    int mx, my, mw, mh, buttons;
    int wheel_x, wheel_y;
} InputLog;

static void log_key(void *opaque, unsigned code, bool pressed)
{
    InputLog *log = opaque;
    unsigned e[2] = { code, pressed };

    g_array_append_vals(log->keys, e, 2);
}

static void log_motion(void *opaque, int x, int y, int w, int h)
{
    InputLog *log = opaque;

    log->mx = x;
    log->my = y;
    log->mw = w;
    log->mh = h;
}

static void log_wheel(void *opaque, int dx, int dy)
{
    InputLog *log = opaque;

    log->wheel_x += dx;
    log->wheel_y += dy;
}

/* The view's controller of a type, to emit its signals as GTK would. */
static GtkEventController *find_controller(GtkWidget *widget, GType type)
{
    g_autoptr(GListModel) list = gtk_widget_observe_controllers(widget);

    for (guint i = 0; i < g_list_model_get_n_items(list); i++) {
        g_autoptr(GtkEventController) c = g_list_model_get_item(list, i);
        if (G_TYPE_CHECK_INSTANCE_TYPE(c, type)) {
            return c; /* the widget keeps it */
        }
    }
    g_assert_not_reached();
}

static gboolean press(GtkEventController *key, guint keycode, GdkModifierType state)
{
    gboolean handled = FALSE;

    g_signal_emit_by_name(key, "key-pressed", 0u, keycode, state, &handled);
    return handled;
}

static void release(GtkEventController *key, guint keycode, GdkModifierType state)
{
    g_signal_emit_by_name(key, "key-released", 0u, keycode, state);
}

/* Keys become evdev codes (the xkb keycode less 8), the release
 * combination stays with the view, the pointer lands in guest pixels, the
 * wheel counts notches upwards, and leaving the focus releases held keys. */
static void test_input(void)
{
    Fixture fx = { 0 };
    InputLog log = { g_array_new(FALSE, FALSE, sizeof(unsigned)) };
    const VireoInputOps ops = { .key = log_key, .pointer_motion = log_motion, .wheel = log_wheel };
    GtkEventController *key, *motion, *scroll, *focus;
    gboolean handled = FALSE;
    static const unsigned expected[][2] = {
        { KEY_A, 1 },
        { KEY_A, 0 },
        { KEY_LEFTCTRL, 1 },
        { KEY_LEFTALT, 1 },
        { KEY_B, 1 },
        /* released when the focus leaves, in code order */
        { KEY_LEFTCTRL, 0 },
        { KEY_B, 0 },
        { KEY_LEFTALT, 0 },
    };

    fixture_setup(&fx, 320, 240, 640, 480);
    vireo_display_view_set_input(fx.view, &ops, &log);
    fx.frames_at_least = 1;
    iterate_until(frames_drawn, &fx, "the first frame");
    key = find_controller(GTK_WIDGET(fx.view), GTK_TYPE_EVENT_CONTROLLER_KEY);
    motion = find_controller(GTK_WIDGET(fx.view), GTK_TYPE_EVENT_CONTROLLER_MOTION);
    scroll = find_controller(GTK_WIDGET(fx.view), GTK_TYPE_EVENT_CONTROLLER_SCROLL);
    focus = find_controller(GTK_WIDGET(fx.view), GTK_TYPE_EVENT_CONTROLLER_FOCUS);

    /* X11 keycodes: 38 A, 56 B, 42 G, 37 left Control, 64 left Alt. */
    g_assert_true(press(key, 38, 0));
    g_assert_true(press(key, 38, 0)); /* a repeat: nothing new for the guest */
    release(key, 38, 0);
    press(key, 37, 0);
    press(key, 64, GDK_CONTROL_MASK);
    g_assert_false(vireo_display_view_get_keyboard_grabbed(fx.view));
    g_assert_true(press(key, 42, GDK_CONTROL_MASK | GDK_ALT_MASK));
    g_assert_true(vireo_display_view_get_keyboard_grabbed(fx.view));
    release(key, 42, GDK_CONTROL_MASK | GDK_ALT_MASK);
    press(key, 56, GDK_CONTROL_MASK | GDK_ALT_MASK);
    g_signal_emit_by_name(focus, "leave");
    g_assert_false(vireo_display_view_get_keyboard_grabbed(fx.view));
    g_assert_cmpuint(log.keys->len / 2, ==, G_N_ELEMENTS(expected));
    for (guint i = 0; i < G_N_ELEMENTS(expected); i++) {
        g_assert_cmpuint(g_array_index(log.keys, unsigned, 2 * i), ==, expected[i][0]);
        g_assert_cmpuint(g_array_index(log.keys, unsigned, 2 * i + 1), ==, expected[i][1]);
    }

    /* The middle of the view is the middle of the image, in any scale. */
    g_signal_emit_by_name(motion, "motion", 320.0, 240.0);
    g_assert_cmpint(log.mx, ==, 160);
    g_assert_cmpint(log.my, ==, 120);
    g_assert_cmpint(log.mw, ==, 320);
    g_assert_cmpint(log.mh, ==, 240);
    g_signal_emit_by_name(scroll, "scroll", 0.0, 1.0, &handled);
    g_assert_cmpint(log.wheel_y, ==, -VIREO_WHEEL_NOTCH);
    g_assert_cmpint(log.wheel_x, ==, 0);

    vireo_display_view_set_input(fx.view, NULL, NULL);
    g_array_unref(log.keys);
    fixture_teardown(&fx);
}

/* Properties and the release combination, without synthesizing events. */
static void test_properties(void)
{
    Fixture fx = { 0 };
    g_autoptr(GError) error = NULL;
    g_autofree char *hint = NULL;
    g_autofree char *keys = NULL;
    InputLog log = { g_array_new(FALSE, FALSE, sizeof(unsigned)) };
    const VireoInputOps ops = { .key = log_key, .pointer_motion = log_motion };
    VireoScaleMode mode;

    fixture_setup(&fx, 320, 240, 640, 480);
    g_object_set(fx.view, "scale-mode", VIREO_SCALE_INTEGER, NULL);
    g_object_get(fx.view, "scale-mode", &mode, NULL);
    g_assert_cmpint(mode, ==, VIREO_SCALE_INTEGER);
    g_assert_cmpint(vireo_display_view_get_scale_mode(fx.view), ==, VIREO_SCALE_INTEGER);

    keys = vireo_display_view_dup_release_keys(fx.view);
    g_assert_cmpstr(keys, ==, "Ctrl+Alt+G");
    g_assert_false(vireo_display_view_set_release_keys(fx.view, "Q", &error));
    g_assert_nonnull(error);
    g_clear_error(&error);
    g_assert_true(vireo_display_view_set_release_keys(fx.view, "Ctrl+Shift+F12", &error));
    hint = vireo_display_view_dup_grab_hint(fx.view);
    g_assert_nonnull(strstr(hint, "Ctrl+Shift+F12"));

    vireo_display_view_set_input(fx.view, &ops, &log);
    fx.frames_at_least = 1;
    iterate_until(frames_drawn, &fx, "the first frame");
    vireo_display_view_set_keyboard_grabbed(fx.view, TRUE);
    g_assert_true(vireo_display_view_get_keyboard_grabbed(fx.view));
    vireo_display_view_set_keyboard_grabbed(fx.view, FALSE);
    g_assert_false(vireo_display_view_get_keyboard_grabbed(fx.view));

    /* A message in place of the display, and back. */
    vireo_display_view_show_error(fx.view, "Something went wrong");
    g_assert_cmpstr(vireo_display_view_get_error_message(fx.view), ==, "Something went wrong");
    vireo_display_view_show_error(fx.view, NULL);
    g_assert_null(vireo_display_view_get_error_message(fx.view));

    vireo_display_view_set_input(fx.view, NULL, NULL);
    g_array_unref(log.keys);
    fixture_teardown(&fx);
}

/* Without OpenGL (GDK_DEBUG=gl-disable), the view says why instead of
 * showing a blank area. */
static void test_gl_error(void)
{
    Fixture fx = { 0 };
    Readback rb;
    const char *message;
    int distinct = 0;

    /* The view also logs the failure it shows, as a warning. */
    g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
    fixture_setup(&fx, 320, 240, 480, 320);
    iterate_for(500);
    message = vireo_display_view_get_error_message(fx.view);
    g_test_message("shown: %s", message);
    g_assert_nonnull(message);
    g_assert_nonnull(strstr(message, "The display cannot be shown"));

    /* Light text on a dark grey background: more than one colour, and not
     * a black area. */
    rb = snapshot_widget(GTK_WIDGET(fx.view));
    readback_save(&rb, "gtk-view-gl-error");
    for (int i = 1; i < rb.width * rb.height; i++) {
        distinct += memcmp(rb.pixels + (size_t)i * 4, rb.pixels, 3) != 0;
    }
    g_assert_cmpint(distinct, >, 100);
    g_assert_true(readback_is(&rb, 2, 2, (const guint8[]){ 0x24, 0x27, 0x2e }, 1));
    g_free(rb.pixels);
    fixture_teardown(&fx);
}

int main(int argc, char *argv[])
{
    gtk_test_init(&argc, &argv, NULL);
    if (g_strcmp0(g_getenv("VIREO_EXPECT_GL_ERROR"), "1") == 0) {
        g_test_add_func("/display-view/gl-error", test_gl_error);
    } else {
        g_test_add_func("/display-view/pattern", test_pattern);
        g_test_add_func("/display-view/size-request", test_size_request);
        g_test_add_func("/display-view/size-hidden", test_size_hidden);
        g_test_add_func("/display-view/properties", test_properties);
        g_test_add_func("/display-view/input", test_input);
    }
    return g_test_run();
}
