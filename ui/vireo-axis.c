/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "vireo-axis"

#include "config.h"

#include <math.h>

#include "vireo-axis.h"

struct _VireoAxis {
    GObject parent_instance;

    double min;
    double max;
    double floor;
    gboolean is_auto;
};

G_DEFINE_FINAL_TYPE(VireoAxis, vireo_axis, G_TYPE_OBJECT)

enum {
    PROP_0,
    PROP_MAX,
    N_PROPS,
};

static GParamSpec *properties[N_PROPS];

static void vireo_axis_get_property(GObject *object, guint prop_id, GValue *value,
                                    GParamSpec *pspec)
{
    VireoAxis *self = VIREO_AXIS(object);

    switch (prop_id) {
    case PROP_MAX: g_value_set_double(value, self->max); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void vireo_axis_class_init(VireoAxisClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);

    object_class->get_property = vireo_axis_get_property;

    properties[PROP_MAX] =
        g_param_spec_double("max", NULL, NULL, -G_MAXDOUBLE, G_MAXDOUBLE, 1.0,
                            G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
    g_object_class_install_properties(object_class, N_PROPS, properties);
}

static void vireo_axis_init(VireoAxis *self)
{
    self->max = 1.0;
}

VireoAxis *vireo_axis_new_fixed(double min, double max)
{
    VireoAxis *self;

    g_return_val_if_fail(max > min, NULL);

    self = g_object_new(VIREO_TYPE_AXIS, NULL);
    self->min = min;
    self->max = max;
    return self;
}

VireoAxis *vireo_axis_new_auto(double floor)
{
    VireoAxis *self;

    g_return_val_if_fail(floor > 0, NULL);

    self = g_object_new(VIREO_TYPE_AXIS, NULL);
    self->is_auto = TRUE;
    self->floor = floor;
    self->max = vireo_axis_nice_ceil(floor);
    return self;
}

double vireo_axis_get_min(VireoAxis *self)
{
    g_return_val_if_fail(VIREO_IS_AXIS(self), 0.0);
    return self->min;
}

double vireo_axis_get_max(VireoAxis *self)
{
    g_return_val_if_fail(VIREO_IS_AXIS(self), 1.0);
    return self->max;
}

gboolean vireo_axis_get_auto(VireoAxis *self)
{
    g_return_val_if_fail(VIREO_IS_AXIS(self), FALSE);
    return self->is_auto;
}

double vireo_axis_nice_ceil(double value)
{
    double magnitude, fraction;

    if (!(value > 0) || !isfinite(value)) {
        return 1.0;
    }
    magnitude = pow(10.0, floor(log10(value)));
    fraction = value / magnitude;
    if (fraction <= 1.0) {
        return magnitude;
    } else if (fraction <= 2.0) {
        return 2.0 * magnitude;
    } else if (fraction <= 5.0) {
        return 5.0 * magnitude;
    }
    return 10.0 * magnitude;
}

void vireo_axis_fit(VireoAxis *self, double max_value)
{
    double max;

    g_return_if_fail(VIREO_IS_AXIS(self));

    if (!self->is_auto) {
        return;
    }
    max = vireo_axis_nice_ceil(MAX(max_value, self->floor));
    if (max != self->max) {
        self->max = max;
        g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_MAX]);
    }
}

double vireo_axis_normalize(VireoAxis *self, double value)
{
    g_return_val_if_fail(VIREO_IS_AXIS(self), 0.0);

    if (!isfinite(value) || self->max <= self->min) {
        return 0.0;
    }
    return CLAMP((value - self->min) / (self->max - self->min), 0.0, 1.0);
}
