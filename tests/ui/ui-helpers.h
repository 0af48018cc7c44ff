/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * Helpers for tests that drive the real application in-process: start it
 * without g_application_run() so that the test keeps control, run the main
 * loop until a condition holds, and save screenshots of the screen when
 * VIREO_SCREENSHOT_DIR is set.
 */

#include <libglib-testing/signal-logger.h>
#include <string.h>

#include "vireo-application.h"
#include "vireo-vm-entry.h"
#include "vireo-window.h"

#define UI_WAIT_SECONDS 90

/* Points the XDG folders at a new temporary folder, before GLib caches
 * them. G_TEST_OPTION_ISOLATE_DIRS would also hide the system's data
 * folders, where the MIME database that image loading needs lives. */
static inline void ui_fresh_dirs(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *root = g_dir_make_tmp("vireo-ui-test-XXXXXX", &error);
    const char *vars[][2] = {
        { "XDG_DATA_HOME", "data" },
        { "XDG_CONFIG_HOME", "config" },
        { "XDG_CACHE_HOME", "cache" },
        { "XDG_STATE_HOME", "state" },
    };

    g_assert_no_error(error);
    for (guint i = 0; i < G_N_ELEMENTS(vars); i++) {
        g_autofree char *dir = g_build_filename(root, vars[i][1], NULL);
        g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
        g_setenv(vars[i][0], dir, TRUE);
    }
}

typedef gboolean (*UiCondition)(gpointer data);

/* Runs the main loop for `ms` milliseconds, and no longer: GTK on X11
 * without a window manager may keep a main loop busy without end (a
 * toplevel that sets its size hints again at each PropertyNotify of them,
 * seen on a loaded host), so the loop is not run until it is idle. */
static inline void ui_spin(guint ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;

    while (g_get_monotonic_time() < end) {
        if (!g_main_context_iteration(NULL, FALSE)) {
            g_usleep(2000);
        }
    }
}

/* Runs the main loop until `cond` holds; fails the test after a while. */
static inline void ui_wait(UiCondition cond, gpointer data, const char *what)
{
    gint64 deadline = g_get_monotonic_time() + UI_WAIT_SECONDS * G_USEC_PER_SEC;

    while (!cond(data)) {
        if (g_get_monotonic_time() > deadline) {
            g_error("timed out waiting for %s", what);
        }
        g_main_context_iteration(NULL, FALSE);
        g_usleep(1000);
    }
}

/* Each instance gets an identifier of its own, so that a restarted
 * application does not meet the previous one on the session bus. */
static inline VireoApplication *ui_app_start(void)
{
    static guint serial;
    VireoApplication *app = vireo_application_new();
    g_autoptr(GError) error = NULL;
    g_autofree char *id = g_strdup_printf("io.github.vireo.Vireo.Test%u", serial++);

    g_application_set_application_id(G_APPLICATION(app), id);
    g_application_set_flags(G_APPLICATION(app), G_APPLICATION_NON_UNIQUE);
    g_application_register(G_APPLICATION(app), NULL, &error);
    g_assert_no_error(error);
    g_application_activate(G_APPLICATION(app));
    ui_spin(200);
    return app;
}

static inline VireoWindow *ui_app_window(VireoApplication *app)
{
    GtkWindow *window = gtk_application_get_active_window(GTK_APPLICATION(app));

    g_assert_true(VIREO_IS_WINDOW(window));
    return VIREO_WINDOW(window);
}

static inline gboolean ui_no_windows(gpointer app)
{
    return gtk_application_get_windows(GTK_APPLICATION(app)) == NULL;
}

/* Quits through the application's own action and drops it. */
static inline void ui_app_quit(VireoApplication *app)
{
    g_action_group_activate_action(G_ACTION_GROUP(app), "quit", NULL);
    ui_wait(ui_no_windows, app, "the windows to close");
    ui_spin(100);
    g_object_unref(app);
}

/* Whether a label under `widget`, on screen, shows exactly `text`: text
 * shown as markup by mistake loses its tags or shows nothing. */
static inline gboolean ui_shows_text(GtkWidget *widget, const char *text)
{
    if (GTK_IS_LABEL(widget) && gtk_widget_get_mapped(widget) &&
        strcmp(gtk_label_get_text(GTK_LABEL(widget)), text) == 0) {
        return TRUE;
    }
    for (GtkWidget *c = gtk_widget_get_first_child(widget); c != NULL;
         c = gtk_widget_get_next_sibling(c)) {
        if (ui_shows_text(c, text)) {
            return TRUE;
        }
    }
    return FALSE;
}

/* With VIREO_SCREENSHOT_DIR set: saves the screen as DIR/NAME.png. */
static inline void ui_screenshot(const char *name)
{
    const char *dir = g_getenv("VIREO_SCREENSHOT_DIR");
    g_autofree char *file = NULL;
    char *argv[] = { (char *)"import", (char *)"-window", (char *)"root", NULL, NULL };

    if (dir == NULL) {
        return;
    }
    ui_spin(500); /* let the frame reach the screen */
    file = g_strdup_printf("%s/%s.png", dir, name);
    argv[3] = file;
    if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL)) {
        g_test_message("could not save %s", file);
    }
}

typedef struct {
    VireoVmEntry *entry;
    VireoVmState state;
} UiStateWait;

static inline gboolean ui_state_is(gpointer data)
{
    UiStateWait *w = data;
    VireoVmController *c = vireo_vm_entry_get_controller(w->entry);

    /* A start that fails says why. */
    if (w->state == VIREO_VM_STATE_RUNNING && vireo_vm_controller_get_last_error(c) != NULL) {
        g_error("the controller reports: %s", vireo_vm_controller_get_last_error(c));
    }
    return vireo_vm_entry_get_state(w->entry) == w->state && !vireo_vm_controller_get_busy(c);
}

/* Runs the main loop until the VM is in `state` and its controller idle. */
static inline void ui_wait_state(VireoVmEntry *entry, VireoVmState state, const char *what)
{
    UiStateWait w = { entry, state };

    ui_wait(ui_state_is, &w, what);
}

/* The button under `widget` that activates `action`, or NULL. */
static inline GtkWidget *ui_find_button(GtkWidget *widget, const char *action)
{
    if (GTK_IS_BUTTON(widget) &&
        g_strcmp0(gtk_actionable_get_action_name(GTK_ACTIONABLE(widget)), action) == 0) {
        return widget;
    }
    for (GtkWidget *c = gtk_widget_get_first_child(widget); c != NULL;
         c = gtk_widget_get_next_sibling(c)) {
        GtkWidget *found = ui_find_button(c, action);
        if (found != NULL) {
            return found;
        }
    }
    return NULL;
}
