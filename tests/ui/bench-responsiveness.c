/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * How responsive the main loop stays while the demo VM boots in the real
 * application: a 10 ms timeout is re-armed for 5 seconds from the start of
 * the VM, and the delay of each firing past its due time is recorded. Prints
 * the mean, the 99th percentile and the worst delay. BENCH_CPUS=n boots the
 * demo with n vCPUs; BENCH_TRACE=1 prints each delay over 20 ms as it
 * happens. GSK_RENDERER picks GTK's renderer (under Xvfb, "gl" runs on
 * llvmpipe and competes with the vCPU threads for the processors).
 */
#include "config.h"

#include <stdlib.h>

#include "ui-helpers.h"
#include "vireo-demo.h"
#include "vireo-vm-view.h"

#define INTERVAL_MS 10
#define DURATION_S  5

typedef struct {
    GArray *delays; /* gint64, microseconds */
    gint64 due;
    gint64 end;
    gboolean done;
} Probe;

static gboolean on_tick(gpointer data)
{
    Probe *p = data;
    gint64 now = g_get_monotonic_time();

    g_array_append_val(p->delays, (gint64){ MAX(0, now - p->due) });
    if (g_getenv("BENCH_TRACE") != NULL && now - p->due > 20000) {
        g_printerr("late by %.1f ms at %.2f s\n", (now - p->due) / 1000.0,
                   (p->end - now) / -1e6 + DURATION_S);
    }
    if (now >= p->end) {
        p->done = TRUE;
        return G_SOURCE_REMOVE;
    }
    p->due = now + INTERVAL_MS * 1000;
    g_timeout_add(INTERVAL_MS, on_tick, p);
    return G_SOURCE_REMOVE;
}

static int compare_delays(const void *a, const void *b)
{
    gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;
    return x < y ? -1 : x > y;
}

static void test_responsiveness(void)
{
    VireoApplication *app;
    VireoWindow *window;
    VireoVmEntry *entry;
    Probe p = { 0 };
    gint64 sum = 0;
    guint n, p99;
    g_autofree char *summary = NULL;

    if (!g_file_test(VIREO_DEMO_FIRMWARE, G_FILE_TEST_IS_REGULAR) ||
        !g_file_test(VIREO_DEMO_KERNEL, G_FILE_TEST_IS_REGULAR)) {
        g_test_skip("OpenSBI or U-Boot is not installed (packages opensbi, u-boot-qemu)");
        return;
    }
    app = ui_app_start();
    window = ui_app_window(app);
    entry = vireo_window_get_selected_entry(window);
    g_assert_nonnull(entry);

    /* BENCH_CPUS=n: the demo with n vCPUs instead of its default. */
    if (g_getenv("BENCH_CPUS") != NULL) {
        g_autoptr(VireoVmConfig) config = vireo_vm_config_copy(vireo_vm_entry_get_config(entry));
        vireo_vm_config_set_cpus(config, (guint)atoi(g_getenv("BENCH_CPUS")));
        g_assert_true(
            vireo_vm_library_save(vireo_application_get_library(app), entry, config, NULL));
    }
    p.delays = g_array_new(FALSE, FALSE, sizeof(gint64));
    gtk_widget_activate_action(GTK_WIDGET(window), "win.start", NULL);
    p.end = g_get_monotonic_time() + DURATION_S * G_USEC_PER_SEC;
    p.due = g_get_monotonic_time() + INTERVAL_MS * 1000;
    g_timeout_add(INTERVAL_MS, on_tick, &p);
    while (!p.done) {
        g_main_context_iteration(NULL, TRUE);
    }
    g_assert_cmpint(vireo_vm_entry_get_state(entry), ==, VIREO_VM_STATE_RUNNING);

    n = p.delays->len;
    g_assert_cmpuint(n, >, 0);
    g_array_sort(p.delays, compare_delays);
    for (guint i = 0; i < n; i++) {
        sum += g_array_index(p.delays, gint64, i);
    }
    p99 = MIN(n - 1, (guint)((double)n * 0.99));
    summary = g_strdup_printf("main loop while the demo VM boots: %u ticks of %d ms over %d s, "
                              "delay mean %.2f ms, p99 %.2f ms, worst %.2f ms",
                              n, INTERVAL_MS, DURATION_S, (double)sum / n / 1000.0,
                              (double)g_array_index(p.delays, gint64, p99) / 1000.0,
                              (double)g_array_index(p.delays, gint64, n - 1) / 1000.0);
    g_test_message("%s", summary);
    g_printerr("%s\n", summary);
    g_array_unref(p.delays);

    gtk_widget_activate_action(GTK_WIDGET(window), "win.power-off", NULL);
    ui_spin(500);
    ui_app_quit(app);
}

int main(int argc, char *argv[])
{
    ui_fresh_dirs();
    gtk_test_init(&argc, &argv, NULL);
    g_test_add_func("/bench/ui/responsiveness", test_responsiveness);
    return g_test_run();
}
