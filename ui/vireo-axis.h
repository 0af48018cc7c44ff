/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/*
 * A chart's value axis: maps values to [0, 1]. Its range is fixed (0 to
 * 100 for percentages) or follows the data, rounded up to 1, 2 or 5 times
 * a power of ten so that the scale stays readable.
 */

#define VIREO_TYPE_AXIS (vireo_axis_get_type())

G_DECLARE_FINAL_TYPE(VireoAxis, vireo_axis, VIREO, AXIS, GObject)

VireoAxis *vireo_axis_new_fixed(double min, double max);
/* From 0 to at least `floor`, growing with the data. */
VireoAxis *vireo_axis_new_auto(double floor);

double vireo_axis_get_min(VireoAxis *self);
double vireo_axis_get_max(VireoAxis *self);
gboolean vireo_axis_get_auto(VireoAxis *self);
/* For an automatic axis: fit the range to data whose largest value is
 * `max_value`. Notifies "max" when it changes. */
void vireo_axis_fit(VireoAxis *self, double max_value);
/* Where `value` falls on the axis, clamped to [0, 1]. */
double vireo_axis_normalize(VireoAxis *self, double value);
/* The smallest 1, 2 or 5 times a power of ten that is at least `value`. */
double vireo_axis_nice_ceil(double value);

G_END_DECLS
