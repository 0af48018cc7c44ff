/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Snapshots in the real application, under a display
 * (tests/with-display.sh):
 *
 * - thumbnails: the guest's screen scaled from each pixel layout, the
 *   console's text drawn as a terminal;
 * - the demo VM with a qcow2 disk: the camera button insensitive while it
 *   is stopped and saying why; one click while it runs takes a snapshot
 *   named by the date and time, with the screen as its thumbnail, listed in
 *   the Snapshots view; restoring brings the screen back as it was; deleting
 *   empties the list; a stopped VM lists its snapshots from the image,
 *   starts from one and deletes one;
 * - a VM on a raw disk: the camera insensitive with the reason, and the
 *   view saying that snapshots need qcow2.
 */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "devices/block.h"
#include "ui-helpers.h"
#include "vireo-demo.h"
#include "vireo-thumbnail.h"
#include "vireo-vm-view.h"

/* ---- Thumbnails ----------------------------------------------------------- */

typedef struct {
    guint8 *rgba;
    int width, height;
} Picture;

static Picture decode_png(GBytes *png)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GdkTexture) texture = gdk_texture_new_from_bytes(png, &error);
    Picture p = { 0 };

    g_assert_no_error(error);
    p.width = gdk_texture_get_width(texture);
    p.height = gdk_texture_get_height(texture);
    p.rgba = g_malloc((size_t)p.width * p.height * 4);
    /* GDK_MEMORY_DEFAULT: B8G8R8A8 premultiplied, as a native 0xAARRGGBB. */
    gdk_texture_download(texture, p.rgba, (gsize)p.width * 4);
    return p;
}

/* 0xRRGGBB at (x, y). */
static guint32 pixel(const Picture *p, int x, int y)
{
    guint32 v;

    memcpy(&v, p->rgba + ((size_t)y * p->width + x) * 4, 4);
    return v & 0xffffff;
}

/* A 640 x 400 screen: red on the left half, blue on the right, in `format`
 * (whose bytes from the lowest address are given). */
static void check_scanout_format(VireoPixelFormat format, const guint8 red[4], const guint8 blue[4])
{
    VireoScanout *scanout = vireo_scanout_new();
    g_autofree guint8 *image = g_malloc(640 * 400 * 4);
    g_autoptr(GBytes) png = NULL;
    Picture p;

    g_assert_null(vireo_thumbnail_from_scanout(scanout, 320)); /* no mode yet */
    for (int y = 0; y < 400; y++) {
        for (int x = 0; x < 640; x++) {
            memcpy(image + ((size_t)y * 640 + x) * 4, x < 320 ? red : blue, 4);
        }
    }
    g_assert_true(vireo_scanout_set_mode(scanout, 640, 400, format));
    vireo_scanout_update(scanout, image, 640 * 4, (VireoScanoutRect){ 0, 0, 640, 400 });
    png = vireo_thumbnail_from_scanout(scanout, 320);
    g_assert_nonnull(png);
    p = decode_png(png);
    g_assert_cmpint(p.width, ==, 320);
    g_assert_cmpint(p.height, ==, 200);
    g_assert_cmphex(pixel(&p, 10, 100), ==, 0xff0000);
    g_assert_cmphex(pixel(&p, 310, 100), ==, 0x0000ff);
    g_free(p.rgba);
    /* The screen switched off has no picture. */
    g_assert_true(vireo_scanout_set_mode(scanout, 0, 0, format));
    vireo_scanout_update(scanout, image, 0, (VireoScanoutRect){ 0, 0, 0, 0 });
    g_clear_pointer(&png, g_bytes_unref);
    png = vireo_thumbnail_from_scanout(scanout, 320);
    g_assert_null(png);
    vireo_scanout_free(scanout);
}

static void test_thumbnail_scanout(void)
{
    static const guint8 bgrx_red[4] = { 0, 0, 255, 0 }, bgrx_blue[4] = { 255, 0, 0, 0 };
    static const guint8 rgba_red[4] = { 255, 0, 0, 255 }, rgba_blue[4] = { 0, 0, 255, 255 };
    static const guint8 xrgb_red[4] = { 0, 255, 0, 0 }, xrgb_blue[4] = { 0, 0, 0, 255 };
    static const guint8 xbgr_red[4] = { 0, 0, 0, 255 }, xbgr_blue[4] = { 0, 255, 0, 0 };

    check_scanout_format(VIREO_PIXEL_B8G8R8X8, bgrx_red, bgrx_blue);
    check_scanout_format(VIREO_PIXEL_R8G8B8A8, rgba_red, rgba_blue);
    check_scanout_format(VIREO_PIXEL_X8R8G8B8, xrgb_red, xrgb_blue);
    check_scanout_format(VIREO_PIXEL_X8B8G8R8, xbgr_red, xbgr_blue);
}

/* Pixels brighter than the terminal's ground in a band of rows. */
static guint bright_pixels(const Picture *p, int y0, int y1)
{
    guint n = 0;

    for (int y = MAX(y0, 0); y < MIN(y1, p->height); y++) {
        for (int x = 0; x < p->width; x++) {
            n += (pixel(p, x, y) & 0xff) > 0x60;
        }
    }
    return n;
}

static void test_thumbnail_text(void)
{
    g_autoptr(GBytes) empty = vireo_thumbnail_from_text("", 80, 24, 320);
    g_autoptr(GBytes) top = vireo_thumbnail_from_text("OpenSBI v1.1\n\n\n", 80, 24, 320);
    g_autoptr(GString) many = g_string_new(NULL);
    g_autoptr(GBytes) bottom = NULL;
    Picture p;

    g_assert_nonnull(empty);
    p = decode_png(empty);
    g_assert_cmpint(p.width, ==, 320);
    g_assert_cmpint(p.height, >, 80);
    g_assert_cmpint(p.height, <, 240);
    g_assert_cmpuint(bright_pixels(&p, 0, p.height), ==, 0);
    g_assert_cmphex(pixel(&p, 5, 5), ==, 0x1e1e1e);
    g_free(p.rgba);

    /* One line: drawn at the top, the blank lines after it dropped. */
    p = decode_png(top);
    g_assert_cmpuint(bright_pixels(&p, 0, p.height / 8), >, 20);
    g_assert_cmpuint(bright_pixels(&p, p.height / 4, p.height), ==, 0);
    g_free(p.rgba);

    /* Forty lines: the last 24 fill the picture to its bottom. */
    for (int i = 0; i < 40; i++) {
        g_string_append_printf(many, "line %d: ################\r\n", i);
    }
    bottom = vireo_thumbnail_from_text(many->str, 80, 24, 320);
    p = decode_png(bottom);
    g_assert_cmpuint(bright_pixels(&p, p.height * 7 / 8, p.height), >, 20);
    g_free(p.rgba);
}

/* ---- Waiting -------------------------------------------------------------- */

typedef struct {
    VireoVmController *controller;
    guint n;
} ListWait;

static gboolean listed(gpointer data)
{
    ListWait *w = data;

    return !vireo_vm_controller_get_busy(w->controller) &&
           vireo_vm_controller_get_snapshots_listed(w->controller) &&
           g_list_model_get_n_items(vireo_vm_controller_get_snapshots(w->controller)) == w->n;
}

static void wait_listed(VireoVmController *controller, guint n, const char *what)
{
    ListWait w = { controller, n };

    ui_wait(listed, &w, what);
}

static gboolean error_shown(gpointer data)
{
    VireoVmView *view = data;
    VireoVmController *c = vireo_vm_entry_get_controller(vireo_vm_view_get_entry(view));

    return !vireo_vm_controller_get_busy(c) && vireo_vm_view_get_error(view) != NULL;
}

static gboolean display_active(gpointer data)
{
    return vireo_vm_controller_get_display_active(data);
}

/* What "snapshot-done" reported. */
typedef struct {
    VireoVmController *controller;
    guint n;
    VireoSnapshotOp op;
    char *name;
} DoneLog;

static void on_done(VireoVmController *c, VireoSnapshotOp op, const char *name, DoneLog *log)
{
    log->n++;
    log->op = op;
    g_free(log->name);
    log->name = g_strdup(name);
}

typedef struct {
    DoneLog *log;
    guint n;
} DoneWait;

static gboolean done_n(gpointer data)
{
    DoneWait *w = data;
    const char *error = vireo_vm_controller_get_last_error(w->log->controller);

    if (error != NULL) {
        g_error("the controller reports: %s", error);
    }
    return w->log->n >= w->n;
}

/* Waits for the report after the `mark`-th, of `op`. */
static void wait_done(DoneLog *log, guint mark, VireoSnapshotOp op, const char *what)
{
    DoneWait w = { log, mark + 1 };

    ui_wait(done_n, &w, what);
    g_assert_cmpint(log->op, ==, op);
}

/* The message dialog on screen, headed `heading`. */
static AdwMessageDialog *find_dialog(const char *heading)
{
    GListModel *windows = gtk_window_get_toplevels(); /* not ours */

    for (guint i = 0; i < g_list_model_get_n_items(windows); i++) {
        g_autoptr(GtkWindow) w = g_list_model_get_item(windows, i);
        if (ADW_IS_MESSAGE_DIALOG(w) && gtk_widget_get_visible(GTK_WIDGET(w))) {
            g_assert_cmpstr(adw_message_dialog_get_heading(ADW_MESSAGE_DIALOG(w)), ==, heading);
            return ADW_MESSAGE_DIALOG(w);
        }
    }
    g_error("no dialog “%s” on screen", heading);
}

/* The message dialog on screen, answered with `response` as a click on its
 * button does: the response, then the dialog closes. */
static void answer_dialog(const char *response, const char *heading)
{
    AdwMessageDialog *dialog;

    ui_spin(100);
    dialog = find_dialog(heading);
    adw_message_dialog_response(dialog, response);
    gtk_window_close(GTK_WINDOW(dialog));
    ui_spin(100);
}

/* ---- The screen ----------------------------------------------------------- */

typedef struct {
    guint8 *pixels; /* 4 bytes a pixel, rows packed */
    int width, height;
} Screen;

static void probe_notify(void *opaque)
{
}

/* The guest's screen now, as a new presenter gets it. */
static Screen grab_screen(VireoVmController *controller)
{
    VireoScanout *scanout = vireo_vm_controller_get_scanout(controller);
    VireoScanoutFrame frame;
    Screen s = { 0 };
    int presenter;

    g_assert_nonnull(scanout);
    presenter = vireo_scanout_attach(scanout, probe_notify, NULL);
    g_assert_cmpint(presenter, >=, 0);
    g_assert_true(vireo_scanout_acquire(scanout, presenter, &frame));
    g_assert_nonnull(frame.pixels);
    s.width = frame.width;
    s.height = frame.height;
    s.pixels = g_malloc((size_t)s.width * s.height * 4);
    for (int y = 0; y < s.height; y++) {
        memcpy(s.pixels + (size_t)y * s.width * 4, frame.pixels + (size_t)y * frame.stride,
               (size_t)s.width * 4);
    }
    vireo_scanout_release(scanout, presenter);
    vireo_scanout_detach(scanout, presenter);
    return s;
}

static guint screen_diff(const Screen *a, const Screen *b)
{
    guint n = 0;

    if (a->width != b->width || a->height != b->height) {
        return G_MAXUINT;
    }
    for (size_t i = 0; i < (size_t)a->width * a->height; i++) {
        n += memcmp(a->pixels + i * 4, b->pixels + i * 4, 4) != 0;
    }
    return n;
}

typedef struct {
    VireoVmController *controller;
    const Screen *from;
} ChangeWait;

/* The scene moved on by many frames: one frame changes a few thousand
 * pixels (the birds, the clock). */
static gboolean screen_changed(gpointer data)
{
    ChangeWait *w = data;
    Screen now = grab_screen(w->controller);
    guint diff = screen_diff(&now, w->from);

    g_free(now.pixels);
    return diff > 20000;
}

/* ---- The tests ------------------------------------------------------------ */

/* A name that Pango would read as markup. */
#define MARKUP_NAME "<b>before</b> & after"

static VireoVmView *select_vm(VireoWindow *window, VireoVmEntry *entry)
{
    vireo_window_select_entry(window, entry);
    ui_spin(100);
    return VIREO_VM_VIEW(vireo_window_get_selected_view(window));
}

static GtkWidget *find_widget(GtkWidget *widget, GType type)
{
    if (G_TYPE_CHECK_INSTANCE_TYPE(widget, type)) {
        return widget;
    }
    for (GtkWidget *c = gtk_widget_get_first_child(widget); c != NULL;
         c = gtk_widget_get_next_sibling(c)) {
        GtkWidget *found = find_widget(c, type);
        if (found != NULL) {
            return found;
        }
    }
    return NULL;
}

static VireoVmSnapshot *snapshot_at(VireoVmController *controller, guint i)
{
    g_autoptr(VireoVmSnapshot) s =
        g_list_model_get_item(vireo_vm_controller_get_snapshots(controller), i);

    return s; /* the list keeps it */
}

/* A demo VM whose first disk is a new qcow2 image in its folder. */
static VireoVmEntry *create_vm(VireoVmLibrary *library, const char *name, const char *program,
                               gboolean qcow2)
{
    g_autoptr(VireoVmConfig) config = vireo_demo_config_new();
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("vireo-snapshot-disk-XXXXXX", &error);
    g_autofree char *disk = NULL;
    VireoVmEntry *entry;

    g_assert_no_error(error);
    g_assert_cmpstr(vireo_vm_config_get_kernel(config), ==, program);
    vireo_vm_config_set_name(config, name);
    if (qcow2) {
        disk = g_build_filename(dir, "disk.qcow2", NULL);
        g_assert_true(vireo_qcow2_create(disk, 64 << 20, NULL, &error));
    } else {
        disk = g_build_filename(dir, "disk.img", NULL);
        g_assert_true(g_file_set_contents(disk, "", 0, &error));
        g_assert_cmpint(truncate(disk, 64 << 20), ==, 0);
    }
    g_assert_no_error(error);
    vireo_vm_config_add_disk(config, disk, FALSE);
    vireo_vm_config_set_disk_format(config, 0,
                                    qcow2 ? VIREO_BLOCK_FORMAT_QCOW2 : VIREO_BLOCK_FORMAT_RAW);
    entry = vireo_vm_library_create(library, config, &error);
    g_assert_no_error(error);
    return entry;
}

static void test_take_restore_delete(void)
{
    g_autofree char *program = vireo_demo_find_program(NULL);
    VireoApplication *app;
    VireoWindow *window;
    VireoVmEntry *entry;
    VireoVmController *controller;
    VireoVmView *view;
    VireoSnapshotsView *snapshots;
    GtkWidget *camera, *row, *picture;
    VireoVmSnapshot *snapshot;
    g_autofree char *first_name = NULL;
    g_autofree char *second_name = NULL;
    AdwMessageDialog *name_dialog;
    GtkEditable *name_entry;
    const char *reason = NULL;
    DoneLog log = { 0 };
    guint mark;
    Screen saved, later, restored, again;
    ChangeWait change;
    Picture thumb;
    GDateTime *date;
    g_autoptr(GDateTime) now = NULL;

    if (program == NULL) {
        g_test_skip("this build has no demo program (riscv64-unknown-elf-gcc)");
        return;
    }
    app = ui_app_start();
    window = ui_app_window(app);
    gtk_window_set_default_size(GTK_WINDOW(window), 1180, 760);
    entry = create_vm(vireo_application_get_library(app), "Snapshots", program, TRUE);
    view = select_vm(window, entry);
    controller = vireo_vm_entry_get_controller(entry);
    log.controller = controller;
    g_signal_connect(controller, "snapshot-done", G_CALLBACK(on_done), &log);
    snapshots = vireo_vm_view_get_snapshots(view);
    camera = ui_find_button(GTK_WIDGET(view), "vm.snapshot");
    g_assert_nonnull(camera);

    /* Stopped: no camera, and why; the view lists the image's (none). */
    g_assert_false(vireo_vm_controller_get_can_snapshot(controller, &reason));
    g_assert_cmpstr(reason, ==, "Start the virtual machine to take a snapshot");
    g_assert_false(gtk_widget_is_sensitive(GTK_WIDGET(camera)));
    g_assert_cmpstr(gtk_widget_get_tooltip_text(camera), ==, reason);
    vireo_vm_view_set_page(view, "snapshots");
    wait_listed(controller, 0, "the stopped VM's snapshots");
    g_assert_cmpstr(vireo_snapshots_view_get_page(snapshots), ==, "empty");
    ui_screenshot("snapshots-empty");

    /* Running with its screen on, the camera takes one (paused here, so
     * that the screen stays as the snapshot keeps it). */
    gtk_widget_activate_action(GTK_WIDGET(window), "win.start", NULL);
    ui_wait_state(entry, VIREO_VM_STATE_RUNNING, "the VM to run");
    ui_wait(display_active, controller, "the demo's screen");
    ui_spin(1500);
    g_assert_true(vireo_vm_controller_get_can_snapshot(controller, NULL));
    g_assert_true(gtk_widget_is_sensitive(camera));
    g_assert_cmpstr(gtk_widget_get_tooltip_text(camera), ==, "Take Snapshot");
    gtk_widget_activate_action(GTK_WIDGET(window), "win.pause", NULL);
    ui_wait_state(entry, VIREO_VM_STATE_PAUSED, "the VM to pause");
    now = g_date_time_new_now_utc();
    mark = log.n;
    g_signal_emit_by_name(camera, "clicked");
    g_assert_true(vireo_vm_controller_get_busy(controller));
    wait_done(&log, mark, VIREO_SNAPSHOT_OP_TAKE, "the snapshot to be taken");
    wait_listed(controller, 1, "the new snapshot in the list");
    g_assert_cmpint(vireo_vm_entry_get_state(entry), ==, VIREO_VM_STATE_PAUSED);
    g_assert_null(vireo_vm_view_get_error(view));
    /* Paused, the screen is the one the snapshot keeps. */
    saved = grab_screen(controller);

    /* Named by the date and time, with the screen as its thumbnail. */
    snapshot = snapshot_at(controller, 0);
    first_name = g_strdup(vireo_vm_snapshot_get_name(snapshot));
    g_assert_cmpstr(first_name, ==, log.name);
    g_assert_true(
        g_regex_match_simple("^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d$", first_name, 0, 0));
    date = vireo_vm_snapshot_get_date(snapshot);
    g_assert_cmpint(ABS(g_date_time_difference(date, now)), <, 10 * G_TIME_SPAN_SECOND);
    g_assert_cmpuint(vireo_vm_snapshot_get_state_size(snapshot), >, 0);
    g_assert_cmpuint(vireo_vm_snapshot_get_vm_clock_ns(snapshot), >, 0);
    g_assert_nonnull(vireo_vm_snapshot_get_thumbnail(snapshot));
    thumb = decode_png(vireo_vm_snapshot_get_thumbnail(snapshot));
    g_assert_cmpint(thumb.width, ==, 320);
    g_assert_cmpint(thumb.height, ==, (int)(320.0 * saved.height / saved.width + 0.5));
    g_free(thumb.rgba);
    g_assert_cmpstr(vireo_snapshots_view_get_page(snapshots), ==, "list");
    row = vireo_snapshots_view_find_row(snapshots, first_name);
    g_assert_nonnull(row);
    g_assert_cmpstr(adw_preferences_row_get_title(ADW_PREFERENCES_ROW(row)), ==, first_name);
    picture = find_widget(row, GTK_TYPE_PICTURE);
    g_assert_nonnull(picture);
    g_assert_nonnull(gtk_picture_get_paintable(GTK_PICTURE(picture)));
    g_assert_true(ui_shows_text(row, first_name));
    ui_screenshot("snapshots-list");

    /* The scene moves on; restoring brings it back as it was. */
    gtk_widget_activate_action(GTK_WIDGET(window), "win.pause", NULL);
    ui_wait_state(entry, VIREO_VM_STATE_RUNNING, "the VM to resume");
    change = (ChangeWait){ controller, &saved };
    ui_wait(screen_changed, &change, "the scene to move on");
    gtk_widget_activate_action(GTK_WIDGET(window), "win.pause", NULL);
    ui_wait_state(entry, VIREO_VM_STATE_PAUSED, "the VM to pause again");
    later = grab_screen(controller);
    g_assert_cmpuint(screen_diff(&later, &saved), >, 20000);
    mark = log.n;
    gtk_widget_activate_action(GTK_WIDGET(snapshots), "snapshots.restore", "s",
                               vireo_vm_snapshot_get_id(snapshot));
    {
        g_autofree char *heading = g_strdup_printf("Restore “%s”?", first_name);
        answer_dialog("restore", heading);
    }
    wait_done(&log, mark, VIREO_SNAPSHOT_OP_RESTORE, "the snapshot to be restored");
    ui_wait_state(entry, VIREO_VM_STATE_PAUSED, "the VM paused as it was");
    ui_spin(300);
    restored = grab_screen(controller);
    /* The screen the snapshot keeps is the picture the device holds: the
     * one shown, or the next one when the guest had sent it but the machine
     * paused before it showed. Either way far closer than the later one. */
    g_test_message("pixels changed: later %u, restored %u", screen_diff(&later, &saved),
                   screen_diff(&restored, &saved));
    g_assert_cmpuint(screen_diff(&restored, &saved) * 4, <, screen_diff(&later, &saved));
    /* Restoring again gives the same screen. The list was read again: its
     * items are new. */
    snapshot = snapshot_at(controller, 0);
    mark = log.n;
    gtk_widget_activate_action(GTK_WIDGET(snapshots), "snapshots.restore", "s",
                               vireo_vm_snapshot_get_id(snapshot));
    {
        g_autofree char *heading = g_strdup_printf("Restore “%s”?", first_name);
        answer_dialog("restore", heading);
    }
    wait_done(&log, mark, VIREO_SNAPSHOT_OP_RESTORE, "the snapshot to be restored again");
    ui_spin(300);
    again = grab_screen(controller);
    g_assert_cmpuint(screen_diff(&again, &restored), ==, 0);
    vireo_vm_view_set_page(view, "display");
    ui_screenshot("snapshots-restored");
    vireo_vm_view_set_page(view, "snapshots");

    /* A second one, named in the dialog (plain text, never markup), while
     * it runs; then delete the first: cancelled, then confirmed. */
    gtk_widget_activate_action(GTK_WIDGET(window), "win.pause", NULL);
    ui_wait_state(entry, VIREO_VM_STATE_RUNNING, "the VM to resume");
    mark = log.n;
    g_assert_true(gtk_widget_activate_action(GTK_WIDGET(snapshots), "snapshots.take-named", NULL));
    ui_spin(100);
    name_dialog = find_dialog("Take Snapshot");
    /* The date and time are offered; a name that is taken is replaced. */
    name_entry = GTK_EDITABLE(adw_message_dialog_get_extra_child(name_dialog));
    g_assert_true(g_regex_match_simple("^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d$",
                                       gtk_editable_get_text(name_entry), 0, 0));
    gtk_editable_set_text(name_entry, first_name);
    g_assert_cmpstr(adw_message_dialog_get_response_label(name_dialog, "take"), ==, "_Replace");
    gtk_editable_set_text(name_entry, "");
    g_assert_false(adw_message_dialog_get_response_enabled(name_dialog, "take"));
    gtk_editable_set_text(name_entry, MARKUP_NAME);
    g_assert_true(adw_message_dialog_get_response_enabled(name_dialog, "take"));
    g_assert_cmpstr(adw_message_dialog_get_response_label(name_dialog, "take"), ==, "_Take");
    answer_dialog("take", "Take Snapshot");
    wait_done(&log, mark, VIREO_SNAPSHOT_OP_TAKE, "a second snapshot");
    wait_listed(controller, 2, "two snapshots");
    second_name = g_strdup(log.name);
    g_assert_cmpstr(second_name, ==, MARKUP_NAME);
    g_assert_true(
        ui_shows_text(vireo_snapshots_view_find_row(snapshots, MARKUP_NAME), MARKUP_NAME));
    mark = log.n;
    gtk_widget_activate_action(GTK_WIDGET(snapshots), "snapshots.delete", "s",
                               vireo_vm_snapshot_get_id(snapshot_at(controller, 0)));
    {
        g_autofree char *heading = g_strdup_printf("Delete “%s”?", first_name);
        answer_dialog("cancel", heading);
        ui_spin(200);
        g_assert_cmpuint(g_list_model_get_n_items(vireo_vm_controller_get_snapshots(controller)),
                         ==, 2);
        gtk_widget_activate_action(GTK_WIDGET(snapshots), "snapshots.delete", "s",
                                   vireo_vm_snapshot_get_id(snapshot_at(controller, 0)));
        answer_dialog("delete", heading);
    }
    wait_done(&log, mark, VIREO_SNAPSHOT_OP_DELETE, "the snapshot to be deleted");
    wait_listed(controller, 1, "one snapshot left");
    g_assert_null(vireo_snapshots_view_find_row(snapshots, first_name));
    g_assert_cmpstr(log.name, ==, first_name);
    g_assert_cmpstr(vireo_vm_snapshot_get_name(snapshot_at(controller, 0)), ==, second_name);

    /* What the back end refuses reaches the error bar, and nothing is
     * taken. */
    vireo_vm_controller_take_snapshot(controller, "tab\there", NULL);
    ui_wait(error_shown, view, "the refusal in the error bar");
    g_assert_nonnull(
        strstr(vireo_vm_view_get_error(view), "Cannot take the snapshot “tab\there”: "));
    g_assert_cmpuint(g_list_model_get_n_items(vireo_vm_controller_get_snapshots(controller)), ==,
                     1);

    /* Stopped: listed from the image, started from, deleted from it. */
    gtk_widget_activate_action(GTK_WIDGET(window), "win.power-off", NULL);
    ui_wait_state(entry, VIREO_VM_STATE_STOPPED, "the VM to stop");
    vireo_vm_controller_refresh_snapshots(controller);
    g_assert_true(vireo_vm_controller_get_busy(controller));
    wait_listed(controller, 1, "the image's snapshot");
    g_assert_cmpstr(vireo_snapshots_view_get_page(snapshots), ==, "list");
    snapshot = snapshot_at(controller, 0);
    g_assert_nonnull(vireo_vm_snapshot_get_thumbnail(snapshot));
    mark = log.n;
    gtk_widget_activate_action(GTK_WIDGET(snapshots), "snapshots.restore", "s",
                               vireo_vm_snapshot_get_id(snapshot));
    {
        g_autofree char *heading =
            g_strdup_printf("Start From “%s”?", vireo_vm_snapshot_get_name(snapshot));
        answer_dialog("restore", heading);
    }
    wait_done(&log, mark, VIREO_SNAPSHOT_OP_RESTORE, "the VM to start from the snapshot");
    ui_wait_state(entry, VIREO_VM_STATE_RUNNING, "the VM to run from the snapshot");
    g_assert_null(vireo_vm_view_get_error(view));
    ui_wait(display_active, controller, "the screen of the snapshot");
    gtk_widget_activate_action(GTK_WIDGET(window), "win.power-off", NULL);
    ui_wait_state(entry, VIREO_VM_STATE_STOPPED, "the VM to stop again");
    wait_listed(controller, 1, "the snapshot still there");
    snapshot = snapshot_at(controller, 0);
    mark = log.n;
    gtk_widget_activate_action(GTK_WIDGET(snapshots), "snapshots.delete", "s",
                               vireo_vm_snapshot_get_id(snapshot));
    {
        g_autofree char *heading =
            g_strdup_printf("Delete “%s”?", vireo_vm_snapshot_get_name(snapshot));
        answer_dialog("delete", heading);
    }
    wait_done(&log, mark, VIREO_SNAPSHOT_OP_DELETE, "the stopped VM's snapshot to be deleted");
    wait_listed(controller, 0, "no snapshot left");
    g_assert_cmpstr(vireo_snapshots_view_get_page(snapshots), ==, "empty");
    g_assert_null(vireo_vm_view_get_error(view));

    g_free(saved.pixels);
    g_free(later.pixels);
    g_free(restored.pixels);
    g_free(again.pixels);
    g_free(log.name);
    ui_app_quit(app);
}

#define MARK        "written on the raw disk"
#define MARK_OFFSET (3u << 20)

static void write_mark(const char *path, guint64 offset)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VireoBlock) block = vireo_block_open(path, false, &error);
    struct iovec iov = { (void *)MARK, sizeof MARK };

    g_assert_no_error(error);
    g_assert_cmpint(vireo_block_pwritev(block, &iov, 1, offset), ==, 0);
    g_assert_cmpint(vireo_block_flush(block), ==, 0);
}

/* The qcow2 image reads the mark where the raw image had it, and zeros
 * around it. */
static void check_mark(const char *path, guint64 offset)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VireoBlock) block = vireo_block_open(path, true, &error);
    char buf[sizeof MARK + 16];
    struct iovec iov = { buf, sizeof buf };

    g_assert_no_error(error);
    g_assert_cmpint(vireo_block_get_format(block), ==, VIREO_BLOCK_FORMAT_QCOW2);
    g_assert_cmpuint(vireo_block_get_size(block), ==, 64 << 20);
    g_assert_cmpint(vireo_block_preadv(block, &iov, 1, offset - 8), ==, 0);
    for (int i = 0; i < 8; i++) {
        g_assert_cmpint(buf[i], ==, 0);
    }
    g_assert_cmpstr(buf + 8, ==, MARK);
}

static gboolean converted(gpointer data)
{
    VireoVmEntry *entry = data;

    return !vireo_vm_controller_get_busy(vireo_vm_entry_get_controller(entry)) &&
           g_str_has_suffix(vireo_vm_config_get_disk_path(vireo_vm_entry_get_config(entry), 0),
                            ".qcow2");
}

/* A raw disk: no snapshots, and the reason where the camera and the view
 * are; converted to qcow2, snapshots can be taken. */
static void test_raw_disk(void)
{
    g_autofree char *program = vireo_demo_find_program(NULL);
    VireoApplication *app;
    VireoWindow *window;
    VireoVmEntry *entry;
    VireoVmController *controller;
    VireoVmView *view;
    VireoSnapshotsView *snapshots;
    const char *reason = NULL;
    g_autofree char *raw = NULL;
    const char *converted_path;

    if (program == NULL) {
        g_test_skip("this build has no demo program (riscv64-unknown-elf-gcc)");
        return;
    }
    app = ui_app_start();
    window = ui_app_window(app);
    entry = create_vm(vireo_application_get_library(app), "Raw Disk", program, FALSE);
    raw = g_strdup(vireo_vm_config_get_disk_path(vireo_vm_entry_get_config(entry), 0));
    write_mark(raw, MARK_OFFSET);
    view = select_vm(window, entry);
    controller = vireo_vm_entry_get_controller(entry);
    snapshots = vireo_vm_view_get_snapshots(view);
    vireo_vm_view_set_page(view, "snapshots");
    wait_listed(controller, 0, "the raw image's listing");
    g_assert_cmpstr(vireo_snapshots_view_get_page(snapshots), ==, "unavailable");
    g_assert_nonnull(strstr(vireo_vm_controller_get_snapshots_error(controller), "qcow2"));

    gtk_widget_activate_action(GTK_WIDGET(window), "win.start", NULL);
    ui_wait_state(entry, VIREO_VM_STATE_RUNNING, "the VM on a raw disk to run");
    g_assert_false(vireo_vm_controller_get_can_snapshot(controller, &reason));
    g_assert_nonnull(strstr(reason, "qcow2"));
    g_assert_false(gtk_widget_activate_action(GTK_WIDGET(view), "vm.snapshot", NULL) &&
                   vireo_vm_controller_get_busy(controller));
    ui_screenshot("snapshots-raw");
    gtk_widget_activate_action(GTK_WIDGET(window), "win.power-off", NULL);
    ui_wait_state(entry, VIREO_VM_STATE_STOPPED, "the VM on a raw disk to stop");

    /* Stopped, its disk becomes a qcow2 image beside the raw one, with the
     * same bytes; then it can take snapshots. */
    g_assert_true(gtk_widget_activate_action(GTK_WIDGET(view), "vm.convert-disks", NULL));
    answer_dialog("convert", "Convert the Disks to qcow2?");
    ui_wait(converted, entry, "the disk to be converted");
    converted_path = vireo_vm_config_get_disk_path(vireo_vm_entry_get_config(entry), 0);
    g_assert_true(g_str_has_suffix(converted_path, "/disk.qcow2"));
    g_assert_cmpint(vireo_vm_config_get_disk_format(vireo_vm_entry_get_config(entry), 0), ==,
                    VIREO_BLOCK_FORMAT_QCOW2);
    g_assert_true(g_file_test(raw, G_FILE_TEST_IS_REGULAR)); /* kept */
    check_mark(converted_path, MARK_OFFSET);
    wait_listed(controller, 0, "the converted image's snapshots");
    /* Saved, the entry moved in the list: its pane is a new one. */
    view = VIREO_VM_VIEW(vireo_window_get_selected_view(window));
    g_assert_true(vireo_vm_view_get_entry(view) == entry);
    vireo_vm_view_set_page(view, "snapshots");
    ui_spin(100);
    snapshots = vireo_vm_view_get_snapshots(view);
    g_assert_cmpstr(vireo_snapshots_view_get_page(snapshots), ==, "empty");
    g_assert_false(vireo_vm_controller_get_has_raw_disk(controller));
    gtk_widget_activate_action(GTK_WIDGET(window), "win.start", NULL);
    ui_wait_state(entry, VIREO_VM_STATE_RUNNING, "the converted VM to run");
    g_assert_true(vireo_vm_controller_get_can_snapshot(controller, NULL));
    gtk_widget_activate_action(GTK_WIDGET(window), "win.power-off", NULL);
    ui_wait_state(entry, VIREO_VM_STATE_STOPPED, "the converted VM to stop");
    ui_app_quit(app);
}

int main(int argc, char *argv[])
{
    ui_fresh_dirs();
    gtk_test_init(&argc, &argv, NULL);
    g_test_add_func("/ui/snapshots/thumbnail-scanout", test_thumbnail_scanout);
    g_test_add_func("/ui/snapshots/thumbnail-text", test_thumbnail_text);
    g_test_add_func("/ui/snapshots/take-restore-delete", test_take_restore_delete);
    g_test_add_func("/ui/snapshots/raw-disk", test_raw_disk);
    return g_test_run();
}
