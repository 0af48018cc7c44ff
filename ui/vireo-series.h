/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/*
 * A fixed-length history of samples taken at a fixed rate: the newest
 * `capacity` values, oldest first. Charts draw it; "changed" says that a
 * sample was added or the history cleared.
 */

#define VIREO_TYPE_SERIES (vireo_series_get_type())

G_DECLARE_FINAL_TYPE(VireoSeries, vireo_series, VIREO, SERIES, GObject)

VireoSeries *vireo_series_new(const char *name, guint capacity);

const char *vireo_series_get_name(VireoSeries *self);
guint vireo_series_get_capacity(VireoSeries *self);
/* How many samples are held (up to the capacity). */
guint vireo_series_get_n_samples(VireoSeries *self);
/* Sample `index`, 0 being the oldest held. */
double vireo_series_get_sample(VireoSeries *self, guint index);
double vireo_series_get_last(VireoSeries *self);
double vireo_series_get_max(VireoSeries *self);

void vireo_series_push(VireoSeries *self, double value);
void vireo_series_clear(VireoSeries *self);

G_END_DECLS
