/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Starts the demo VM in the real application and reads the OpenSBI banner
 * and then the U-Boot prompt from the console's terminal; types a command;
 * watches the statistics counters rise, stop while paused and rise again
 * after resume, and the Just-in-Time Compiler panel's figures; forces it
 * off; runs it again on the interpreter.
 */
#include "config.h"

#include <string.h>

#include "ui-helpers.h"
#include "vireo-demo.h"
#include "vireo-vm-row.h"
#include "vireo-vm-view.h"

typedef struct {
    VireoVmView *view;
    const char *text;
    guint count;
} ConsoleWait;

static guint count_text(VireoVmView *view, const char *text)
{
    g_autofree char *all = vireo_console_view_dup_text(vireo_vm_view_get_console(view));
    guint n = 0;

    for (const char *p = all; p != NULL && (p = strstr(p, text)) != NULL; p += strlen(text)) {
        n++;
    }
    return n;
}

static gboolean console_has(gpointer data)
{
    ConsoleWait *w = data;
    return count_text(w->view, w->text) >= w->count;
}

typedef struct {
    VireoVmView *view;
    guint samples;
} StatsWait;

static gboolean more_samples(gpointer data)
{
    StatsWait *w = data;
    return vireo_stats_view_get_last_sample(vireo_vm_view_get_stats(w->view), NULL) >= w->samples;
}

static guint64 sample_insns(VireoVmView *view, guint wait_samples)
{
    VireoStatsView *stats = vireo_vm_view_get_stats(view);
    StatsWait w = { view, vireo_stats_view_get_last_sample(stats, NULL) + wait_samples };
    VireoVcpuStats s;

    ui_wait(more_samples, &w, "statistics samples");
    vireo_stats_view_get_last_sample(stats, &s);
    return s.insns;
}

/* A figure of the JIT panel that is shown and is not zero. */
static void assert_jit_figure(VireoStatsView *stats, const char *name)
{
    const char *value = vireo_stats_view_get_jit_value(stats, name);

    g_test_message("JIT %s: %s", name, value != NULL ? value : "(hidden)");
    g_assert_nonnull(value);
    g_assert_nonnull(strpbrk(value, "123456789"));
}

/* The JIT panel is the last of the view: scrolls to the bottom. */
static void scroll_to_jit_panel(VireoStatsView *stats)
{
    GtkWidget *scrolled = gtk_widget_get_first_child(GTK_WIDGET(stats));
    GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment(GTK_SCROLLED_WINDOW(scrolled));

    gtk_adjustment_set_value(adj, gtk_adjustment_get_upper(adj));
    ui_spin(200);
}

static const char *row_badge(VireoWindow *window, VireoVmEntry *entry)
{
    for (GtkWidget *c = gtk_widget_get_first_child(GTK_WIDGET(vireo_window_get_list(window)));
         c != NULL; c = gtk_widget_get_next_sibling(c)) {
        if (VIREO_IS_VM_ROW(c) && vireo_vm_row_get_entry(VIREO_VM_ROW(c)) == entry) {
            return vireo_vm_row_get_badge(VIREO_VM_ROW(c));
        }
    }
    return NULL;
}

static void test_demo(void)
{
    VireoApplication *app;
    VireoWindow *window;
    VireoVmEntry *entry;
    VireoVmView *view;
    ConsoleWait banner, prompt;
    VireoStatsView *stats;
    VireoVmConfig *config;
    VireoVcpuStats s;
    g_autoptr(GError) error = NULL;
    guint64 a, b;

    if (!g_file_test(VIREO_DEMO_FIRMWARE, G_FILE_TEST_IS_REGULAR) ||
        !g_file_test(VIREO_DEMO_KERNEL, G_FILE_TEST_IS_REGULAR)) {
        g_test_skip("OpenSBI or U-Boot is not installed (packages opensbi, u-boot-qemu)");
        return;
    }
    app = ui_app_start();
    window = ui_app_window(app);
    gtk_window_set_default_size(GTK_WINDOW(window), 1180, 760);
    entry = vireo_window_get_selected_entry(window);
    g_assert_nonnull(entry);
    if (vireo_vm_entry_get_error(entry) != NULL) {
        g_error("the demo VM has an error: %s", vireo_vm_entry_get_error(entry));
    }
    view = VIREO_VM_VIEW(vireo_window_get_selected_view(window));
    g_assert_nonnull(view);
    g_assert_cmpstr(row_badge(window, entry), ==, "Stopped");
    ui_screenshot("main-window");

    /* Start it with the window's shortcut action. */
    gtk_widget_activate_action(GTK_WIDGET(window), "win.start", NULL);
    ui_wait_state(entry, VIREO_VM_STATE_RUNNING, "the VM to run");
    g_assert_cmpstr(row_badge(window, entry), ==, "Running");

    banner = (ConsoleWait){ view, "OpenSBI v1.1", 1 };
    ui_wait(console_has, &banner, "the OpenSBI banner in the terminal");
    prompt = (ConsoleWait){ view, "=> ", 1 };
    ui_wait(console_has, &prompt, "the U-Boot prompt in the terminal");

    /* Typing in the terminal reaches U-Boot. */
    g_signal_emit_by_name(vireo_console_view_get_terminal(vireo_vm_view_get_console(view)),
                          "commit", "version\r", 8);
    prompt = (ConsoleWait){ view, "U-Boot 2023", 2 };
    ui_wait(console_has, &prompt, "U-Boot's answer to the version command");
    ui_screenshot("console");

    /* The counters rise while it runs. */
    vireo_vm_view_set_page(view, "statistics");
    a = sample_insns(view, 1);
    b = sample_insns(view, 4);
    g_assert_cmpuint(b, >, a);
    ui_spin(3000);
    ui_screenshot("statistics");

    /* The JIT panel, where this build has the JIT (the default engine):
     * every row shown, with figures, as the VM runs. */
    stats = vireo_vm_view_get_stats(view);
    if (vireo_engine_available(VIREO_ENGINE_JIT, NULL)) {
        static const char *const figures[] = { "blocks",       "code-size", "native-share",
                                               "compile-time", "chained",   "hit-rate" };
        static const char *const counts[] = { "invalidated", "flushes", "fallbacks",
                                              "interp-time" };

        g_assert_cmpstr(vireo_stats_view_get_jit_value(stats, "status"), ==, "Compiling");
        for (guint i = 0; i < G_N_ELEMENTS(figures); i++) {
            assert_jit_figure(stats, figures[i]);
        }
        /* These may well be zero for this guest, but are shown. */
        for (guint i = 0; i < G_N_ELEMENTS(counts); i++) {
            const char *value = vireo_stats_view_get_jit_value(stats, counts[i]);
            g_test_message("JIT %s: %s", counts[i], value != NULL ? value : "(hidden)");
            g_assert_nonnull(value);
        }
        scroll_to_jit_panel(stats);
        ui_screenshot("jit-panel");
    } else {
        g_assert_cmpstr(vireo_stats_view_get_jit_value(stats, "status"), ==, "Interpreter only");
        g_assert_null(vireo_stats_view_get_jit_value(stats, "blocks"));
    }

    /* Paused, they stand still. */
    gtk_widget_activate_action(GTK_WIDGET(window), "win.pause", NULL);
    ui_wait_state(entry, VIREO_VM_STATE_PAUSED, "the VM to pause");
    g_assert_cmpstr(row_badge(window, entry), ==, "Paused");
    a = sample_insns(view, 1);
    b = sample_insns(view, 4);
    g_assert_cmpuint(b, ==, a);

    /* Resumed, they rise again. */
    gtk_widget_activate_action(GTK_WIDGET(window), "win.pause", NULL);
    ui_wait_state(entry, VIREO_VM_STATE_RUNNING, "the VM to resume");
    a = sample_insns(view, 1);
    b = sample_insns(view, 4);
    g_assert_cmpuint(b, >, a);

    /* Forced off, it stops; the console keeps what it showed. */
    gtk_widget_activate_action(GTK_WIDGET(window), "win.power-off", NULL);
    ui_wait_state(entry, VIREO_VM_STATE_STOPPED, "the VM to stop");
    g_assert_cmpstr(row_badge(window, entry), ==, "Stopped");
    g_assert_cmpuint(count_text(view, "OpenSBI v1.1"), >=, 1);
    g_assert_null(vireo_vm_view_get_error(view));

    /* Set to the interpreter, it runs without compiling: the JIT panel
     * says so and hides its rows. */
    config = vireo_vm_config_copy(vireo_vm_entry_get_config(entry));
    vireo_vm_config_set_engine(config, VIREO_ENGINE_INTERP);
    g_assert_true(vireo_vm_library_save(vireo_application_get_library(app), entry, config, &error));
    g_assert_no_error(error);
    g_object_unref(config);
    ui_spin(100);
    /* The saved VM's pane is made anew. */
    g_assert_true(vireo_window_get_selected_entry(window) == entry);
    view = VIREO_VM_VIEW(vireo_window_get_selected_view(window));
    vireo_vm_view_set_page(view, "statistics");
    stats = vireo_vm_view_get_stats(view);
    gtk_widget_activate_action(GTK_WIDGET(window), "win.start", NULL);
    ui_wait_state(entry, VIREO_VM_STATE_RUNNING, "the VM to run on the interpreter");
    a = sample_insns(view, 1);
    b = sample_insns(view, 4);
    g_assert_cmpuint(b, >, a);
    vireo_stats_view_get_last_sample(stats, &s);
    g_assert_cmpuint(s.jit_blocks, ==, 0);
    g_assert_cmpuint(s.jit_insns, ==, 0);
    g_assert_cmpstr(vireo_stats_view_get_jit_value(stats, "status"), ==, "Interpreter only");
    g_assert_null(vireo_stats_view_get_jit_value(stats, "blocks"));
    g_assert_null(vireo_stats_view_get_jit_value(stats, "compile-time"));
    scroll_to_jit_panel(stats);
    ui_screenshot("jit-panel-interpreter");
    gtk_widget_activate_action(GTK_WIDGET(window), "win.power-off", NULL);
    ui_wait_state(entry, VIREO_VM_STATE_STOPPED, "the VM to stop");

    ui_app_quit(app);
}

/* The demo with its firmware missing shows which package to install. */
static void test_demo_missing_firmware(void)
{
    g_autofree char *dir = g_build_filename(g_get_user_data_dir(), "vireo", "vms", "missing", NULL);
    g_autofree char *conf = g_build_filename(dir, "vm.conf", NULL);
    const char *text = "[core]\nname=Demo\n[boot]\n"
                       "firmware=/usr/lib/riscv64-linux-gnu/opensbi/generic/missing.bin\n"
                       "kernel=/usr/lib/u-boot/qemu-riscv64_smode/missing.bin\n";
    VireoApplication *app;
    VireoWindow *window;
    VireoVmEntry *entry;
    VireoVmView *view;

    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    g_assert_true(g_file_set_contents(conf, text, -1, NULL));
    app = ui_app_start();
    window = ui_app_window(app);
    entry = vireo_vm_library_lookup(vireo_application_get_library(app), "missing");
    g_assert_nonnull(entry);
    vireo_window_select_entry(window, entry);
    ui_spin(100);
    view = VIREO_VM_VIEW(vireo_window_get_selected_view(window));
    g_assert_cmpstr(row_badge(window, entry), ==, "Error");
    g_assert_nonnull(vireo_vm_view_get_error(view));
    g_assert_nonnull(strstr(vireo_vm_view_get_error(view), "“opensbi”"));

    /* Starting anyway reports the same reason and stays stopped. */
    gtk_widget_activate_action(GTK_WIDGET(window), "win.start", NULL);
    ui_spin(500);
    g_assert_cmpint(vireo_vm_entry_get_state(entry), ==, VIREO_VM_STATE_STOPPED);
    g_assert_nonnull(strstr(vireo_vm_view_get_error(view), "apt install opensbi"));
    ui_screenshot("missing-firmware");
    ui_app_quit(app);
}

int main(int argc, char *argv[])
{
    ui_fresh_dirs();
    gtk_test_init(&argc, &argv, NULL);
    g_test_add_func("/ui/demo/boot-console-statistics", test_demo);
    g_test_add_func("/ui/demo/missing-firmware", test_demo_missing_firmware);
    return g_test_run();
}
