/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Starts the real Vireo application (under Xvfb when run by meson), waits for
 * its main window to be mapped with its title, then quits through the
 * application's own quit action.
 */
#include "config.h"

#include <libglib-testing/signal-logger.h>

#include "vireo-application.h"

typedef struct {
    VireoApplication *app;
    GtkWindow *window;
    int ticks;
    gboolean saw_mapped;
    char *title;
} Fixture;

static gboolean check_window(gpointer data)
{
    Fixture *f = data;
    GtkWindow *window = gtk_application_get_active_window(GTK_APPLICATION(f->app));

    if (window != NULL && gtk_widget_get_mapped(GTK_WIDGET(window))) {
        f->window = window;
        f->saw_mapped = TRUE;
        f->title = g_strdup(gtk_window_get_title(window));
        g_action_group_activate_action(G_ACTION_GROUP(f->app), "quit", NULL);
        return G_SOURCE_REMOVE;
    }
    if (++f->ticks > 200) { /* 10 s */
        g_application_quit(G_APPLICATION(f->app));
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

static void on_startup(GApplication *app, gpointer data)
{
    g_timeout_add(50, check_window, data);
}

static void test_ui_startup(void)
{
    g_autoptr(GtSignalLogger) logger = gt_signal_logger_new();
    Fixture f = { 0 };
    char *argv[] = { (char *)"vireo", NULL };
    int status;

    f.app = vireo_application_new();
    g_application_set_flags(G_APPLICATION(f.app), G_APPLICATION_NON_UNIQUE);
    g_signal_connect(f.app, "startup", G_CALLBACK(on_startup), &f);
    gt_signal_logger_connect(logger, f.app, "window-added");
    gt_signal_logger_connect(logger, f.app, "window-removed");

    status = g_application_run(G_APPLICATION(f.app), 1, argv);

    g_assert_cmpint(status, ==, 0);
    g_assert_true(f.saw_mapped);
    g_assert_cmpstr(f.title, ==, "Vireo");
    GtkWindow *added = NULL, *removed = NULL;
    gt_signal_logger_assert_emission_pop(logger, f.app, "window-added", &added);
    gt_signal_logger_assert_emission_pop(logger, f.app, "window-removed", &removed);
    g_assert_true(added == f.window);
    g_assert_true(removed == f.window);
    g_object_unref(added);
    g_object_unref(removed);
    gt_signal_logger_assert_no_emissions(logger);
    g_free(f.title);
    g_object_unref(f.app);
}

int main(int argc, char *argv[])
{
    g_autofree char *root = g_dir_make_tmp("vireo-ui-startup-XXXXXX", NULL);
    g_autofree char *data = g_build_filename(root, "data", NULL);
    g_autofree char *conf = g_build_filename(root, "config", NULL);

    /* Its own XDG folders: the first start creates the demo VM there. */
    g_setenv("XDG_DATA_HOME", data, TRUE);
    g_setenv("XDG_CONFIG_HOME", conf, TRUE);
    gtk_test_init(&argc, &argv, NULL);
    g_test_add_func("/ui/startup", test_ui_startup);
    return g_test_run();
}
