/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "vireo-vm-controller.h"

G_BEGIN_DECLS

/*
 * Live statistics of a VM's engine: sampled a few times a second on the
 * main thread while the VM runs (reading the counters does not stop the
 * vCPUs), shown as numbers and as a minute of history in charts.
 */

#define VIREO_TYPE_STATS_VIEW (vireo_stats_view_get_type())

G_DECLARE_FINAL_TYPE(VireoStatsView, vireo_stats_view, VIREO, STATS_VIEW, GtkWidget)

#define VIREO_STATS_SAMPLE_MS    250
#define VIREO_STATS_HISTORY_SECS 60

GtkWidget *vireo_stats_view_new(void);
void vireo_stats_view_set_controller(VireoStatsView *self, VireoVmController *controller);
/* The totals of the last sample and how many samples were taken. */
guint vireo_stats_view_get_last_sample(VireoStatsView *self, VireoVcpuStats *total);
/* What the Just-in-Time Compiler panel shows: "status", or the value of a
 * row, NULL while the row is hidden (the JIT is not compiling): "blocks",
 * "code-size", "native-share", "compile-time", "chained", "hit-rate",
 * "invalidated", "flushes", "fallbacks". */
const char *vireo_stats_view_get_jit_value(VireoStatsView *self, const char *name);

G_END_DECLS
