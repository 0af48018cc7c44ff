/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Shows the animated test pattern, with a circling cursor, in either
 * presenter: for trying the display by hand and for screenshots.
 *
 *   display-demo [--gtk] [--scale fit|integer|native] [--size WxH]
 *                [--format B8G8R8X8|...] [--follow] [--fps N] [--no-display]
 *
 * --follow makes the pattern switch to the size the window asks for, as a
 * display device that follows the window would; --no-display shows the
 * "No display device" picture instead of the pattern. Keys and the pointer
 * the presenter sends are printed.
 */
#include <gtk/gtk.h>
#include <stdio.h>
#include <string.h>

#include "display/pixel.h"
#include "display/placeholder.h"
#include "display/sdl-window.h"
#include "display/test-pattern.h"
#include "vireo-display-view.h"

static void print_key(void *opaque, unsigned code, bool pressed)
{
    printf("key %u %s\n", code, pressed ? "down" : "up");
}

static void print_motion(void *opaque, int x, int y, int w, int h)
{
    printf("pointer %d, %d of %d x %d\n", x, y, w, h);
}

static void print_button(void *opaque, unsigned button, bool pressed)
{
    printf("button 0x%x %s\n", button, pressed ? "down" : "up");
}

static void print_wheel(void *opaque, int dx, int dy)
{
    printf("wheel %d, %d\n", dx, dy);
}

static const VireoInputOps print_input = {
    .key = print_key,
    .pointer_motion = print_motion,
    .pointer_button = print_button,
    .wheel = print_wheel,
};

static void on_activate(GtkApplication *app, gpointer data)
{
    VireoScanout *scanout = data;
    GtkWidget *window = gtk_application_window_new(app);
    GtkWidget *view = vireo_display_view_new();
    VireoScaleMode mode = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(app), "scale-mode"));

    gtk_window_set_title(GTK_WINDOW(window), "Vireo display");
    gtk_window_set_default_size(GTK_WINDOW(window), 960, 600);
    vireo_display_view_set_scale_mode(VIREO_DISPLAY_VIEW(view), mode);
    vireo_display_view_set_scanout(VIREO_DISPLAY_VIEW(view), scanout);
    vireo_display_view_set_input(VIREO_DISPLAY_VIEW(view), &print_input, NULL);
    gtk_window_set_child(GTK_WINDOW(window), view);
    gtk_window_present(GTK_WINDOW(window));
}

int main(int argc, char *argv[])
{
    gboolean gtk = FALSE, follow = FALSE, no_display = FALSE;
    char *scale = NULL, *size = NULL, *format_name = NULL;
    double fps = 60;
    const GOptionEntry entries[] = {
        { "gtk", 0, 0, G_OPTION_ARG_NONE, &gtk, "Use the GTK view instead of SDL", NULL },
        { "scale", 0, 0, G_OPTION_ARG_STRING, &scale, "fit, integer or native", "MODE" },
        { "size", 0, 0, G_OPTION_ARG_STRING, &size, "Pattern size (default 640x480)", "WxH" },
        { "format", 0, 0, G_OPTION_ARG_STRING, &format_name, "Pixel format", "NAME" },
        { "follow", 0, 0, G_OPTION_ARG_NONE, &follow, "Follow the window's size", NULL },
        { "fps", 0, 0, G_OPTION_ARG_DOUBLE, &fps, "Pattern frames per second", "N" },
        { "no-display", 0, 0, G_OPTION_ARG_NONE, &no_display, "Show the no-device picture", NULL },
        { NULL },
    };
    g_autoptr(GOptionContext) context = g_option_context_new(NULL);
    g_autoptr(GError) error = NULL;
    VireoScaleMode mode = VIREO_SCALE_FIT;
    VireoPixelFormat format = VIREO_PIXEL_B8G8R8X8;
    VireoScanout *scanout = vireo_scanout_new();
    VireoTestPattern *pattern = NULL;
    VireoNoDisplay *picture = NULL;
    int w = 640, h = 480, status = 0;

    g_option_context_add_main_entries(context, entries, NULL);
    if (!g_option_context_parse(context, &argc, &argv, &error)) {
        fprintf(stderr, "display-demo: %s\n", error->message);
        return 2;
    }
    if (scale != NULL) {
        mode = strcmp(scale, "integer") == 0  ? VIREO_SCALE_INTEGER
               : strcmp(scale, "native") == 0 ? VIREO_SCALE_NATIVE
                                              : VIREO_SCALE_FIT;
    }
    if (size != NULL && sscanf(size, "%dx%d", &w, &h) != 2) {
        fprintf(stderr, "display-demo: --size WxH\n");
        return 2;
    }
    for (int f = VIREO_PIXEL_B8G8R8X8; format_name != NULL && f <= VIREO_PIXEL_A8B8G8R8; f++) {
        if (g_ascii_strcasecmp(format_name, vireo_pixel_format_name(f)) == 0) {
            format = f;
        }
    }

    if (no_display) {
        picture = vireo_no_display_new(scanout, w, h);
    } else {
        pattern = vireo_test_pattern_new(scanout, format);
        vireo_test_pattern_resize(pattern, w, h);
        vireo_test_pattern_set_cursor(pattern, TRUE);
        vireo_test_pattern_start(pattern, fps, follow);
    }

    if (gtk) {
        g_autoptr(GtkApplication) app =
            gtk_application_new("io.github.vireo.DisplayDemo", G_APPLICATION_NON_UNIQUE);
        g_object_set_data(G_OBJECT(app), "scale-mode", GINT_TO_POINTER(mode));
        g_signal_connect(app, "activate", G_CALLBACK(on_activate), scanout);
        status = g_application_run(G_APPLICATION(app), 1, argv);
    } else {
        VireoSdlWindowConfig config;
        VireoSdlWindow *window;

        vireo_sdl_window_config_init(&config);
        config.name = "Vireo display";
        config.width = 960;
        config.height = 600;
        config.scale_mode = mode;
        config.input = &print_input;
        window = vireo_sdl_window_new(scanout, &config, &error);
        if (window == NULL) {
            fprintf(stderr, "display-demo: %s\n", error->message);
            status = 1;
        } else {
            vireo_sdl_window_run(window);
            vireo_sdl_window_free(window);
        }
    }

    vireo_test_pattern_free(pattern);
    vireo_no_display_free(picture);
    vireo_scanout_free(scanout);
    g_free(scale);
    g_free(size);
    g_free(format_name);
    return status;
}
