/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "vireo-series"

#include "config.h"

#include "vireo-series.h"

struct _VireoSeries {
    GObject parent_instance;

    char *name;
    double *ring;
    guint capacity;
    guint head; /* where the next sample goes */
    guint len;
};

G_DEFINE_FINAL_TYPE(VireoSeries, vireo_series, G_TYPE_OBJECT)

enum {
    CHANGED,
    N_SIGNALS,
};

static guint signals[N_SIGNALS];

static void vireo_series_finalize(GObject *object)
{
    VireoSeries *self = VIREO_SERIES(object);

    g_free(self->name);
    g_free(self->ring);
    G_OBJECT_CLASS(vireo_series_parent_class)->finalize(object);
}

static void vireo_series_class_init(VireoSeriesClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);

    object_class->finalize = vireo_series_finalize;

    signals[CHANGED] = g_signal_new("changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                    NULL, NULL, G_TYPE_NONE, 0);
}

static void vireo_series_init(VireoSeries *self)
{
}

VireoSeries *vireo_series_new(const char *name, guint capacity)
{
    VireoSeries *self;

    g_return_val_if_fail(capacity > 0, NULL);

    self = g_object_new(VIREO_TYPE_SERIES, NULL);
    self->name = g_strdup(name);
    self->capacity = capacity;
    self->ring = g_new0(double, capacity);
    return self;
}

const char *vireo_series_get_name(VireoSeries *self)
{
    g_return_val_if_fail(VIREO_IS_SERIES(self), NULL);
    return self->name;
}

guint vireo_series_get_capacity(VireoSeries *self)
{
    g_return_val_if_fail(VIREO_IS_SERIES(self), 0);
    return self->capacity;
}

guint vireo_series_get_n_samples(VireoSeries *self)
{
    g_return_val_if_fail(VIREO_IS_SERIES(self), 0);
    return self->len;
}

double vireo_series_get_sample(VireoSeries *self, guint index)
{
    g_return_val_if_fail(VIREO_IS_SERIES(self), 0.0);
    g_return_val_if_fail(index < self->len, 0.0);
    return self->ring[(self->head + self->capacity - self->len + index) % self->capacity];
}

double vireo_series_get_last(VireoSeries *self)
{
    g_return_val_if_fail(VIREO_IS_SERIES(self), 0.0);
    return self->len > 0 ? vireo_series_get_sample(self, self->len - 1) : 0.0;
}

double vireo_series_get_max(VireoSeries *self)
{
    double max = 0.0;

    g_return_val_if_fail(VIREO_IS_SERIES(self), 0.0);
    for (guint i = 0; i < self->len; i++) {
        max = MAX(max, vireo_series_get_sample(self, i));
    }
    return max;
}

void vireo_series_push(VireoSeries *self, double value)
{
    g_return_if_fail(VIREO_IS_SERIES(self));

    self->ring[self->head] = value;
    self->head = (self->head + 1) % self->capacity;
    self->len = MIN(self->len + 1, self->capacity);
    g_signal_emit(self, signals[CHANGED], 0);
}

void vireo_series_clear(VireoSeries *self)
{
    g_return_if_fail(VIREO_IS_SERIES(self));

    self->head = 0;
    self->len = 0;
    g_signal_emit(self, signals[CHANGED], 0);
}
