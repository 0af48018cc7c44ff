/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "vireo-axis.h"
#include "vireo-series.h"

G_BEGIN_DECLS

/*
 * A time-series chart: one value axis and any number of series, each drawn
 * as a line over a light fill, newest sample at the right edge. snapshot()
 * only draws; samples come from the series and the range from the axis.
 */

#define VIREO_TYPE_CHART (vireo_chart_get_type())

G_DECLARE_FINAL_TYPE(VireoChart, vireo_chart, VIREO, CHART, GtkWidget)

GtkWidget *vireo_chart_new(void);

VireoAxis *vireo_chart_get_axis(VireoChart *self);
void vireo_chart_set_axis(VireoChart *self, VireoAxis *axis);
/* The label of the axis maximum drawn in the corner: "%s" stands for the
 * number, as in "%s MIPS". */
void vireo_chart_set_label_format(VireoChart *self, const char *format);
/* Adds a series drawn in `color` (a CSS colour such as "#3584e4"). */
void vireo_chart_add_series(VireoChart *self, VireoSeries *series, const char *color);
void vireo_chart_remove_all(VireoChart *self);

G_END_DECLS
