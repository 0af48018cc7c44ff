/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The Display view of a VM's pane in the real application, under a display
 * (tests/with-display.sh):
 *
 * - its pages: no display device, the display off before the first start,
 *   the screen once the machine runs with virtio-gpu;
 * - the demo VM's animated scene, read back from the VireoDisplayView the
 *   way GTK draws it: not blank, and changing over time;
 * - the size the guest is asked for following the window (the demo program
 *   takes the size the GPU reports and draws at it);
 * - scale modes through the header bar's actions;
 * - the keyboard captured by a click: the banner, keys that are the
 *   application's shortcuts going to the guest instead (real key events
 *   from xdotool, where it is installed), and the release combination;
 * - the display in a window of its own, full screen, and back;
 * - the editor's display choice, which leaves room for three disks.
 */
#include "config.h"

#include <linux/input-event-codes.h>
#include <string.h>

#include "engine/error.h"
#include "ui-helpers.h"
#include "vireo-demo.h"
#include "vireo-display-page.h"
#include "vireo-vm-editor.h"
#include "vireo-vm-view.h"

#ifdef GDK_WINDOWING_X11
#include <gdk/x11/gdkx.h>
#endif

/* ---- Waiting ------------------------------------------------------------- */

typedef struct {
    VireoDisplayPage *page;
    const char *name;
} PageWait;

static gboolean page_is(gpointer data)
{
    PageWait *w = data;

    return g_strcmp0(vireo_display_page_get_page(w->page), w->name) == 0;
}

static void wait_page(VireoDisplayPage *page, const char *name)
{
    PageWait w = { page, name };
    g_autofree char *what = g_strdup_printf("the display page “%s”", name);

    ui_wait(page_is, &w, what);
}

typedef struct {
    VireoDisplayView *view;
    guint64 frames;
} FrameWait;

static gboolean frames_drawn(gpointer data)
{
    FrameWait *w = data;
    return gtk_widget_get_mapped(GTK_WIDGET(w->view)) &&
           vireo_display_view_get_frame_count(w->view) >= w->frames;
}

/* Waits until the view has drawn `n` more frames. */
static void wait_frames(VireoDisplayView *view, guint n)
{
    FrameWait w = { view, vireo_display_view_get_frame_count(view) + n };

    ui_wait(frames_drawn, &w, "frames of the display");
}

/* ---- Reading the view back ----------------------------------------------- */

typedef struct {
    guint8 *rgb; /* 3 bytes a pixel, top row first */
    int width, height;
} Shot;

/* The widget's pixels as the window shows them: the render node its parent
 * draws for it, rendered by the window's own GSK renderer. */
static Shot shoot(GtkWidget *widget)
{
    Shot shot = { 0 };
    GtkWidget *parent = gtk_widget_get_parent(widget);
    GtkSnapshot *snapshot = gtk_snapshot_new();
    GskRenderer *renderer = gtk_native_get_renderer(gtk_widget_get_native(widget));
    g_autoptr(GdkTexture) texture = NULL;
    g_autofree guint8 *argb = NULL;
    GskRenderNode *node;
    graphene_rect_t bounds;

    g_assert_true(gtk_widget_compute_bounds(widget, parent, &bounds));
    gtk_widget_snapshot_child(parent, widget, snapshot);
    node = gtk_snapshot_free_to_node(snapshot);
    g_assert_nonnull(node);
    texture = gsk_renderer_render_texture(renderer, node, &bounds);
    gsk_render_node_unref(node);
    shot.width = gdk_texture_get_width(texture);
    shot.height = gdk_texture_get_height(texture);
    argb = g_malloc((size_t)shot.width * shot.height * 4);
    gdk_texture_download(texture, argb, (gsize)shot.width * 4);
    shot.rgb = g_malloc((size_t)shot.width * shot.height * 3);
    for (int i = 0; i < shot.width * shot.height; i++) {
        guint32 px;
        memcpy(&px, argb + (size_t)i * 4, 4);
        shot.rgb[i * 3 + 0] = (guint8)(px >> 16);
        shot.rgb[i * 3 + 1] = (guint8)(px >> 8);
        shot.rgb[i * 3 + 2] = (guint8)px;
    }
    return shot;
}

/* Colours among a grid of samples, and the share of the commonest. */
static guint colours(const Shot *s, double *commonest)
{
    g_autoptr(GHashTable) seen = g_hash_table_new(g_direct_hash, g_direct_equal);
    guint samples = 0, top = 0;

    for (int y = 0; y < s->height; y += 4) {
        for (int x = 0; x < s->width; x += 4) {
            const guint8 *p = s->rgb + ((size_t)y * s->width + x) * 3;
            gpointer key = GUINT_TO_POINTER(1u + (p[0] << 16 | p[1] << 8 | p[2]));
            guint n = GPOINTER_TO_UINT(g_hash_table_lookup(seen, key)) + 1;
            g_hash_table_insert(seen, key, GUINT_TO_POINTER(n));
            top = MAX(top, n);
            samples++;
        }
    }
    *commonest = samples > 0 ? (double)top / samples : 1.0;
    return g_hash_table_size(seen);
}

static guint differing_pixels(const Shot *a, const Shot *b)
{
    guint n = 0;

    g_assert_cmpint(a->width, ==, b->width);
    g_assert_cmpint(a->height, ==, b->height);
    for (size_t i = 0; i < (size_t)a->width * a->height; i++) {
        n += memcmp(a->rgb + i * 3, b->rgb + i * 3, 3) != 0;
    }
    return n;
}

/* ---- The scanout's size, seen by a presenter of the test's own ---------- */

typedef struct {
    VireoScanout *scanout;
    int presenter;
    int width, height; /* of the last frame */
} SizeProbe;

static void probe_notify(void *opaque)
{
}

static gboolean scanout_size_is(gpointer data)
{
    SizeProbe *p = data;
    VireoScanoutFrame frame;

    if (vireo_scanout_acquire(p->scanout, p->presenter, &frame)) {
        p->width = frame.width;
        p->height = frame.height;
        vireo_scanout_release(p->scanout, p->presenter);
    }
    return FALSE;
}

typedef struct {
    SizeProbe *probe;
    GtkWidget *view;
} SizeWait;

/* The guest draws at the size of the view, in device pixels. */
static gboolean guest_follows_view(gpointer data)
{
    SizeWait *w = data;
    int scale = gtk_widget_get_scale_factor(w->view);

    scanout_size_is(w->probe);
    return w->probe->width == gtk_widget_get_width(w->view) * scale &&
           w->probe->height == gtk_widget_get_height(w->view) * scale;
}

/* ---- Keys, as the guest gets them ----------------------------------------- */

typedef struct {
    GArray *keys; /* code, pressed */
} KeyLog;

static void log_key(void *opaque, unsigned code, bool pressed)
{
    KeyLog *log = opaque;
    unsigned e[2] = { code, pressed };

    g_array_append_vals(log->keys, e, 2);
}

static const VireoInputOps log_ops = { .key = log_key };

typedef struct {
    KeyLog *log;
    unsigned code;
} KeyWait;

static gboolean key_pressed(gpointer data)
{
    KeyWait *w = data;

    for (guint i = 0; i + 1 < w->log->keys->len; i += 2) {
        if (g_array_index(w->log->keys, unsigned, i) == w->code &&
            g_array_index(w->log->keys, unsigned, i + 1) == 1) {
            return TRUE;
        }
    }
    return FALSE;
}

static gboolean grabbed_is(gpointer data)
{
    return vireo_display_view_get_keyboard_grabbed(data);
}

static gboolean not_grabbed(gpointer data)
{
    return !vireo_display_view_get_keyboard_grabbed(data);
}

/* The window's shortcut controllers of the capture phase that run before
 * the display sees a key: present, and all switched off or all on. */
static guint capture_shortcuts(GtkWidget *window, gboolean *all_off)
{
    g_autoptr(GListModel) list = gtk_widget_observe_controllers(window);
    guint n = 0, off = 0;

    for (guint i = 0; i < g_list_model_get_n_items(list); i++) {
        g_autoptr(GtkEventController) c = g_list_model_get_item(list, i);
        if (!GTK_IS_SHORTCUT_CONTROLLER(c)) {
            continue;
        }
        if (gtk_event_controller_get_propagation_phase(c) == GTK_PHASE_CAPTURE) {
            n++;
        } else if (gtk_event_controller_get_propagation_phase(c) == GTK_PHASE_NONE) {
            off++;
        }
    }
    *all_off = n == 0 && off > 0;
    return n;
}

/* Real key and button events through the X server (XTest), to the window
 * under the pointer; FALSE where that cannot be done. */
static gboolean xdotool(GtkWidget *widget, const char *const *args)
{
#ifdef GDK_WINDOWING_X11
    GtkNative *native = gtk_widget_get_native(widget);
    GdkSurface *surface = gtk_native_get_surface(native);
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *path = g_find_program_in_path("xdotool");
    graphene_point_t at;
    double nx, ny;
    int status = 1;

    if (path == NULL || !GDK_IS_X11_SURFACE(surface)) {
        return FALSE;
    }
    gtk_native_get_surface_transform(native, &nx, &ny);
    g_assert_true(
        gtk_widget_compute_point(widget, GTK_WIDGET(native),
                                 &GRAPHENE_POINT_INIT(gtk_widget_get_width(widget) / 2.0f,
                                                      gtk_widget_get_height(widget) / 2.0f),
                                 &at));
    g_ptr_array_add(argv, g_strdup(path));
    g_ptr_array_add(argv, g_strdup("mousemove"));
    g_ptr_array_add(argv, g_strdup("--window"));
    g_ptr_array_add(argv, g_strdup_printf("%lu", (unsigned long)gdk_x11_surface_get_xid(surface)));
    g_ptr_array_add(argv, g_strdup_printf("%d", (int)(at.x + nx)));
    g_ptr_array_add(argv, g_strdup_printf("%d", (int)(at.y + ny)));
    for (guint i = 0; args[i] != NULL; i++) {
        g_ptr_array_add(argv, g_strdup(args[i]));
    }
    g_ptr_array_add(argv, NULL);
    g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL,
                               NULL, &status, NULL));
    g_assert_cmpint(status, ==, 0);
    return TRUE;
#else
    return FALSE;
#endif
}

/* ---- The tests ------------------------------------------------------------ */

static VireoVmView *select_vm(VireoWindow *window, VireoVmEntry *entry)
{
    vireo_window_select_entry(window, entry);
    ui_spin(100);
    return VIREO_VM_VIEW(vireo_window_get_selected_view(window));
}

static gboolean console_has_prompt(gpointer data)
{
    g_autofree char *text = vireo_console_view_dup_text(vireo_vm_view_get_console(data));

    return text != NULL && strstr(text, "=> ") != NULL;
}

static gboolean have_firmware(void)
{
    if (!g_file_test(VIREO_DEMO_FIRMWARE, G_FILE_TEST_IS_REGULAR) ||
        !g_file_test(VIREO_DEMO_KERNEL, G_FILE_TEST_IS_REGULAR)) {
        g_test_skip("OpenSBI or U-Boot is not installed (packages opensbi, u-boot-qemu)");
        return FALSE;
    }
    return TRUE;
}

/* Which page the Display view shows for a VM without a display, and for
 * one with virtio-gpu before and after it starts: U-Boot never turns the
 * display on, so the page says that its output is on the serial console
 * rather than showing a blank screen, and its button leads there. */
static void test_pages(void)
{
    g_autoptr(VireoVmConfig) plain = NULL;
    g_autoptr(VireoVmConfig) gpu = NULL;
    g_autoptr(GError) error = NULL;
    VireoApplication *app;
    VireoWindow *window;
    VireoVmLibrary *library;
    VireoVmEntry *entry;
    VireoVmView *view;
    VireoDisplayPage *page;
    GtkWidget *button;

    if (!have_firmware()) {
        return;
    }
    app = ui_app_start();
    window = ui_app_window(app);
    library = vireo_application_get_library(app);
    plain = vireo_demo_config_new_console();
    vireo_vm_config_set_name(plain, "Serial Only");
    gpu = vireo_demo_config_new_console();
    vireo_vm_config_set_name(gpu, "With Display");
    vireo_vm_config_set_display(gpu, VIREO_DISPLAY_VIRTIO_GPU);

    entry = vireo_vm_library_create(library, plain, &error);
    g_assert_no_error(error);
    view = select_vm(window, entry);
    page = vireo_vm_view_get_display_page(view);
    vireo_vm_view_set_page(view, "display");
    g_assert_cmpstr(vireo_display_page_get_page(page), ==, "none");
    gtk_widget_activate_action(GTK_WIDGET(window), "win.start", NULL);
    ui_wait_state(entry, VIREO_VM_STATE_RUNNING, "the serial-only VM to run");
    ui_spin(200);
    g_assert_cmpstr(vireo_display_page_get_page(page), ==, "none");
    g_assert_null(vireo_vm_controller_get_scanout(vireo_vm_entry_get_controller(entry)));
    gtk_widget_activate_action(GTK_WIDGET(window), "win.power-off", NULL);
    ui_wait_state(entry, VIREO_VM_STATE_STOPPED, "the serial-only VM to stop");

    entry = vireo_vm_library_create(library, gpu, &error);
    g_assert_no_error(error);
    view = select_vm(window, entry);
    page = vireo_vm_view_get_display_page(view);
    vireo_vm_view_set_page(view, "display");
    g_assert_cmpstr(vireo_display_page_get_page(page), ==, "off");
    gtk_widget_activate_action(GTK_WIDGET(window), "win.start", NULL);
    ui_wait_state(entry, VIREO_VM_STATE_RUNNING, "the VM with a display to run");
    wait_page(page, "waiting");
    g_assert_nonnull(vireo_vm_controller_get_scanout(vireo_vm_entry_get_controller(entry)));
    g_assert_false(vireo_vm_controller_get_display_active(vireo_vm_entry_get_controller(entry)));
    g_assert_false(vireo_display_page_get_showing_display(page));
    /* The view already has the display, for the size it tells the guest. */
    g_assert_nonnull(vireo_display_view_get_scanout(vireo_display_page_get_view(page)));
    ui_screenshot("display-waiting");
    /* Still so at U-Boot's prompt, and the button shows the console. */
    ui_wait(console_has_prompt, view, "the U-Boot prompt");
    g_assert_cmpstr(vireo_display_page_get_page(page), ==, "waiting");
    button = ui_find_button(GTK_WIDGET(page), "vm.show-page");
    g_assert_nonnull(button);
    g_assert_true(gtk_widget_get_mapped(button));
    g_assert_cmpstr(
        g_variant_get_string(gtk_actionable_get_action_target_value(GTK_ACTIONABLE(button)), NULL),
        ==, "console");
    g_signal_emit_by_name(button, "clicked");
    ui_spin(100);
    g_assert_cmpstr(vireo_vm_view_get_page(view), ==, "console");
    gtk_widget_activate_action(GTK_WIDGET(window), "win.power-off", NULL);
    ui_wait_state(entry, VIREO_VM_STATE_STOPPED, "the VM with a display to stop");
    wait_page(page, "off");
    g_assert_false(vireo_display_page_get_showing_display(page));
    ui_app_quit(app);
}

/* The demo VM, which the first start created: the one booting the demo
 * program. */
static VireoVmEntry *find_demo(VireoVmLibrary *library, const char *program)
{
    guint n = g_list_model_get_n_items(G_LIST_MODEL(library));

    for (guint i = 0; i < n; i++) {
        g_autoptr(VireoVmEntry) entry = g_list_model_get_item(G_LIST_MODEL(library), i);
        VireoVmConfig *config = vireo_vm_entry_get_config(entry);
        if (config != NULL && g_strcmp0(vireo_vm_config_get_kernel(config), program) == 0) {
            return entry; /* the library keeps it */
        }
    }
    g_error("no demo VM booting %s", program);
}

static VireoVmEntry *library_item(VireoVmLibrary *library, guint i)
{
    g_autoptr(VireoVmEntry) entry = g_list_model_get_item(G_LIST_MODEL(library), i);

    g_assert_nonnull(entry);
    return entry; /* the library keeps it */
}

/* The first start with the demo program: the graphical demo, selected, and
 * the firmware demo beside it; the New menu's actions add either. Runs
 * first, while the library is new. */
static void test_first_start(void)
{
    g_autofree char *program = vireo_demo_find_program(NULL);
    VireoApplication *app;
    VireoWindow *window;
    VireoVmLibrary *library;
    VireoVmConfig *config;
    VireoVmEntry *demo, *firmware, *added;

    if (program == NULL) {
        g_test_skip("this build has no demo program (riscv64-unknown-elf-gcc)");
        return;
    }
    app = ui_app_start();
    window = ui_app_window(app);
    library = vireo_application_get_library(app);
    g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(library)), ==, 2);

    demo = find_demo(library, program);
    g_assert_true(vireo_window_get_selected_entry(window) == demo);
    config = vireo_vm_entry_get_config(demo);
    g_assert_cmpstr(vireo_vm_config_get_name(config), ==, "RISC-V Demo");
    g_assert_cmpint(vireo_vm_config_get_display(config), ==, VIREO_DISPLAY_VIRTIO_GPU);
    g_assert_null(vireo_vm_config_get_firmware(config));

    firmware =
        library_item(library, 0) == demo ? library_item(library, 1) : library_item(library, 0);
    config = vireo_vm_entry_get_config(firmware);
    g_assert_cmpstr(vireo_vm_config_get_name(config), ==, "RISC-V Firmware Demo");
    g_assert_cmpstr(vireo_vm_config_get_firmware(config), ==, VIREO_DEMO_FIRMWARE);
    g_assert_cmpstr(vireo_vm_config_get_kernel(config), ==, VIREO_DEMO_KERNEL);
    g_assert_cmpint(vireo_vm_config_get_display(config), ==, VIREO_DISPLAY_NONE);
    g_assert_null(vireo_vm_entry_get_error(firmware));

    gtk_widget_activate_action(GTK_WIDGET(window), "win.new-firmware-demo", NULL);
    ui_spin(100);
    g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(library)), ==, 3);
    added = vireo_window_get_selected_entry(window);
    g_assert_true(added != demo && added != firmware);
    config = vireo_vm_entry_get_config(added);
    g_assert_cmpstr(vireo_vm_config_get_kernel(config), ==, VIREO_DEMO_KERNEL);
    g_assert_cmpint(vireo_vm_config_get_display(config), ==, VIREO_DISPLAY_NONE);

    gtk_widget_activate_action(GTK_WIDGET(window), "win.new-demo", NULL);
    ui_spin(100);
    g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(library)), ==, 4);
    added = vireo_window_get_selected_entry(window);
    config = vireo_vm_entry_get_config(added);
    g_assert_cmpstr(vireo_vm_config_get_kernel(config), ==, program);
    g_assert_cmpint(vireo_vm_config_get_display(config), ==, VIREO_DISPLAY_VIRTIO_GPU);
    ui_app_quit(app);
}

/* The demo VM's animated scene, the size it is asked for, scale modes, the
 * keyboard and full screen. */
static void test_demo(void)
{
    g_autofree char *program = vireo_demo_find_program(NULL);
    VireoApplication *app;
    VireoWindow *window;
    VireoVmEntry *entry;
    VireoVmController *controller;
    VireoVmView *view;
    VireoDisplayPage *page;
    VireoDisplayView *dv;
    Shot a, b;
    double commonest;
    guint n_colours, changed;
    SizeProbe probe = { 0 };
    SizeWait sw;
    KeyLog log = { g_array_new(FALSE, FALSE, sizeof(unsigned)) };
    gboolean all_off;
    GtkWindow *own;

    if (program == NULL) {
        g_test_skip("this build has no demo program (riscv64-unknown-elf-gcc)");
        g_array_unref(log.keys);
        return;
    }
    app = ui_app_start();
    window = ui_app_window(app);
    gtk_window_set_default_size(GTK_WINDOW(window), 1180, 760);
    entry = find_demo(vireo_application_get_library(app), program);
    controller = vireo_vm_entry_get_controller(entry);
    view = select_vm(window, entry);
    page = vireo_vm_view_get_display_page(view);
    dv = vireo_display_page_get_view(page);
    vireo_vm_view_set_page(view, "display");
    g_assert_cmpstr(vireo_display_page_get_page(page), ==, "off");

    gtk_widget_activate_action(GTK_WIDGET(window), "win.start", NULL);
    ui_wait_state(entry, VIREO_VM_STATE_RUNNING, "the demo VM to run");
    wait_page(page, "display");

    /* Not blank, and moving. */
    probe.scanout = vireo_vm_controller_get_scanout(controller);
    g_assert_nonnull(probe.scanout);
    probe.presenter = vireo_scanout_attach(probe.scanout, probe_notify, NULL);
    g_assert_cmpint(probe.presenter, >=, 0);
    sw = (SizeWait){ &probe, GTK_WIDGET(dv) };
    ui_wait(guest_follows_view, &sw, "the demo to draw at the view's size");
    wait_frames(dv, 10);
    a = shoot(GTK_WIDGET(dv));
    n_colours = colours(&a, &commonest);
    g_test_message("%d x %d: %u colours, the commonest on %.0f %%", a.width, a.height, n_colours,
                   commonest * 100);
    g_assert_cmpuint(n_colours, >=, 16);
    g_assert_cmpfloat(commonest, <, 0.9);
    ui_spin(1000);
    wait_frames(dv, 5);
    b = shoot(GTK_WIDGET(dv));
    changed = differing_pixels(&a, &b);
    g_test_message("%u pixels changed in a second", changed);
    g_assert_cmpuint(changed, >, 100);
    ui_screenshot("display");
    g_free(a.rgb);
    g_free(b.rgb);

    /* A smaller window: the guest is asked for the view's new size, and
     * draws at it. */
    gtk_window_set_default_size(GTK_WINDOW(window), 900, 640);
    ui_spin(300);
    ui_wait(guest_follows_view, &sw, "the demo to draw at the view's new size");
    g_test_message("the guest follows the view: %d x %d", probe.width, probe.height);
    gtk_window_set_default_size(GTK_WINDOW(window), 1180, 760);
    ui_spin(300);
    ui_wait(guest_follows_view, &sw, "the demo to draw at the view's size again");
    vireo_scanout_detach(probe.scanout, probe.presenter);

    /* Scale modes, as the header bar's menu sets them. */
    gtk_widget_activate_action(GTK_WIDGET(view), "display.scale-mode", "s", "integer");
    g_assert_cmpint(vireo_display_view_get_scale_mode(dv), ==, VIREO_SCALE_INTEGER);
    gtk_widget_activate_action(GTK_WIDGET(view), "display.scale-mode", "s", "native");
    g_assert_cmpint(vireo_display_view_get_scale_mode(dv), ==, VIREO_SCALE_NATIVE);
    gtk_widget_activate_action(GTK_WIDGET(view), "display.scale-mode", "s", "fit");
    g_assert_cmpint(vireo_display_view_get_scale_mode(dv), ==, VIREO_SCALE_FIT);

    /* The keyboard: captured, the window's shortcuts step aside and the
     * banner says how to get it back. */
    vireo_display_view_set_input(dv, &log_ops, &log);
    g_assert_cmpuint(capture_shortcuts(GTK_WIDGET(window), &all_off), >, 0);
    if (xdotool(GTK_WIDGET(dv), (const char *const[]){ "click", "1", NULL })) {
        KeyWait kw = { &log, KEY_Q };
        ui_wait(grabbed_is, dv, "a click to capture the keyboard");
        g_assert_nonnull(strstr(vireo_display_page_get_hint(page), "Ctrl+Alt+G"));
        g_assert_cmpuint(capture_shortcuts(GTK_WIDGET(window), &all_off), ==, 0);
        g_assert_true(all_off);
        ui_screenshot("display-grabbed");
        /* Ctrl+Q quits and Ctrl+Shift+O forces the VM off, but not now:
         * both go to the guest. */
        xdotool(GTK_WIDGET(dv), (const char *const[]){ "key", "ctrl+q", NULL });
        ui_wait(key_pressed, &kw, "Ctrl+Q to reach the guest");
        kw.code = KEY_O;
        xdotool(GTK_WIDGET(dv), (const char *const[]){ "key", "ctrl+shift+o", NULL });
        ui_wait(key_pressed, &kw, "Ctrl+Shift+O to reach the guest");
        kw.code = KEY_LEFTCTRL;
        g_assert_true(key_pressed(&kw));
        ui_spin(300);
        g_assert_nonnull(gtk_application_get_windows(GTK_APPLICATION(app)));
        g_assert_cmpint(vireo_vm_entry_get_state(entry), ==, VIREO_VM_STATE_RUNNING);
        /* The release combination gives it all back. */
        xdotool(GTK_WIDGET(dv), (const char *const[]){ "key", "ctrl+alt+g", NULL });
        ui_wait(not_grabbed, dv, "Ctrl+Alt+G to release the keyboard");
    } else {
        g_test_message("xdotool or X11 missing: the capture is set directly");
        vireo_display_view_set_keyboard_grabbed(dv, TRUE);
        g_assert_nonnull(strstr(vireo_display_page_get_hint(page), "Ctrl+Alt+G"));
        g_assert_cmpuint(capture_shortcuts(GTK_WIDGET(window), &all_off), ==, 0);
        g_assert_true(all_off);
        vireo_display_view_set_keyboard_grabbed(dv, FALSE);
    }
    g_assert_null(vireo_display_page_get_hint(page));
    g_assert_cmpuint(capture_shortcuts(GTK_WIDGET(window), &all_off), >, 0);
    vireo_display_view_set_input(dv, vireo_vm_controller_get_input_ops(), controller);

    /* Full screen in a window of its own, which keeps drawing; closing it
     * brings the display back into the pane. */
    gtk_widget_activate_action(GTK_WIDGET(view), "display.fullscreen", NULL);
    own = vireo_display_page_get_window(page);
    g_assert_nonnull(own);
    g_assert_cmpstr(vireo_display_page_get_page(page), ==, "detached");
    g_assert_true(gtk_widget_get_root(GTK_WIDGET(dv)) == GTK_ROOT(own));
    wait_frames(dv, 5);
    a = shoot(GTK_WIDGET(dv));
    n_colours = colours(&a, &commonest);
    g_assert_cmpuint(n_colours, >=, 16);
    g_free(a.rgb);
    ui_screenshot("display-fullscreen");
    gtk_window_close(own);
    ui_spin(100);
    g_assert_null(vireo_display_page_get_window(page));
    wait_page(page, "display");
    g_assert_true(gtk_widget_get_root(GTK_WIDGET(dv)) == GTK_ROOT(window));
    wait_frames(dv, 5);

    gtk_widget_activate_action(GTK_WIDGET(window), "win.power-off", NULL);
    ui_wait_state(entry, VIREO_VM_STATE_STOPPED, "the demo VM to stop");
    wait_page(page, "off");
    g_array_unref(log.keys);
    ui_app_quit(app);
}

/* A display takes three of the board's slots: the configuration and the
 * editor refuse it with more than three disks, two with a network card. */
static void test_editor_disks(void)
{
    g_autoptr(VireoVmConfig) config = vireo_demo_config_new_console();
    g_autoptr(GError) error = NULL;
    VireoApplication *app;
    VireoWindow *window;
    VireoVmEntry *entry;
    GtkWidget *editor, *row, *network;

    if (!have_firmware()) {
        return;
    }
    for (int i = 0; i < 4; i++) {
        vireo_vm_config_add_disk(config, VIREO_DEMO_KERNEL, TRUE);
    }
    vireo_vm_config_set_name(config, "Four Disks");
    g_assert_true(vireo_vm_config_validate(config, &error));
    vireo_vm_config_set_display(config, VIREO_DISPLAY_VIRTIO_GPU);
    g_assert_false(vireo_vm_config_validate(config, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
    g_assert_nonnull(strstr(error->message, "[display] device"));
    g_clear_error(&error);
    vireo_vm_config_set_display(config, VIREO_DISPLAY_NONE);

    app = ui_app_start();
    window = ui_app_window(app);
    entry = vireo_vm_library_create(vireo_application_get_library(app), config, &error);
    g_assert_no_error(error);
    editor = vireo_vm_editor_new(GTK_WINDOW(window), vireo_application_get_library(app), entry);
    gtk_window_present(GTK_WINDOW(editor));
    ui_spin(200);
    row = vireo_vm_editor_get_field(VIREO_VM_EDITOR(editor), "display");
    g_assert_null(vireo_vm_editor_get_field_error(VIREO_VM_EDITOR(editor), "display"));
    g_assert_true(
        gtk_widget_is_sensitive(vireo_vm_editor_get_field(VIREO_VM_EDITOR(editor), "save")));
    adw_combo_row_set_selected(ADW_COMBO_ROW(row), 1);
    g_assert_nonnull(vireo_vm_editor_get_field_error(VIREO_VM_EDITOR(editor), "display"));
    g_assert_false(
        gtk_widget_is_sensitive(vireo_vm_editor_get_field(VIREO_VM_EDITOR(editor), "save")));
    adw_combo_row_set_selected(ADW_COMBO_ROW(row), 0);
    g_assert_null(vireo_vm_editor_get_field_error(VIREO_VM_EDITOR(editor), "display"));

    /* The network card takes a slot too: four disks fit beside it alone,
     * not beside it and a display (the configuration's own check). */
    network = vireo_vm_editor_get_field(VIREO_VM_EDITOR(editor), "network");
    adw_combo_row_set_selected(ADW_COMBO_ROW(network), 1);
    g_assert_null(vireo_vm_editor_get_field_error(VIREO_VM_EDITOR(editor), "network"));
    g_assert_true(
        gtk_widget_is_sensitive(vireo_vm_editor_get_field(VIREO_VM_EDITOR(editor), "save")));
    adw_combo_row_set_selected(ADW_COMBO_ROW(row), 1);
    g_assert_cmpstr(vireo_vm_editor_get_field_error(VIREO_VM_EDITOR(editor), "display"), ==,
                    "the board has room for at most 2 disks beside a display and a network card");
    g_assert_false(
        gtk_widget_is_sensitive(vireo_vm_editor_get_field(VIREO_VM_EDITOR(editor), "save")));
    adw_combo_row_set_selected(ADW_COMBO_ROW(row), 0);
    adw_combo_row_set_selected(ADW_COMBO_ROW(network), 0);
    g_assert_null(vireo_vm_editor_get_field_error(VIREO_VM_EDITOR(editor), "display"));
    g_assert_null(vireo_vm_editor_get_field_error(VIREO_VM_EDITOR(editor), "network"));
    gtk_window_destroy(GTK_WINDOW(editor));
    ui_app_quit(app);
}

int main(int argc, char *argv[])
{
    ui_fresh_dirs();
    gtk_test_init(&argc, &argv, NULL);
    g_test_add_func("/ui/display/first-start", test_first_start);
    g_test_add_func("/ui/display/pages", test_pages);
    g_test_add_func("/ui/display/demo", test_demo);
    g_test_add_func("/ui/display/editor-disks", test_editor_disks);
    return g_test_run();
}
