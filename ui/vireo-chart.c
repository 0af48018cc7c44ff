/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "vireo-chart"

#include "config.h"

#include "vireo-chart.h"

#define GRID_LINES 4

typedef struct {
    VireoSeries *series;
    GdkRGBA color;
    gulong changed_id;
} Layer;

struct _VireoChart {
    GtkWidget parent_instance;

    VireoAxis *axis;
    GArray *layers; /* Layer */
    char *label_format;
};

G_DEFINE_FINAL_TYPE(VireoChart, vireo_chart, GTK_TYPE_WIDGET)

static void layer_clear(gpointer data)
{
    Layer *layer = data;

    g_clear_signal_handler(&layer->changed_id, layer->series);
    g_clear_object(&layer->series);
}

/* The automatic axis follows the largest sample of every series. */
static void refit(VireoChart *self)
{
    double max = 0.0;

    for (guint i = 0; i < self->layers->len; i++) {
        Layer *layer = &g_array_index(self->layers, Layer, i);
        max = MAX(max, vireo_series_get_max(layer->series));
    }
    vireo_axis_fit(self->axis, max);
}

static void on_series_changed(VireoChart *self)
{
    refit(self);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

static void get_foreground(GtkWidget *widget, GdkRGBA *color)
{
    G_GNUC_BEGIN_IGNORE_DEPRECATIONS
    gtk_style_context_get_color(gtk_widget_get_style_context(widget), color);
    G_GNUC_END_IGNORE_DEPRECATIONS
}

static void draw_series(VireoChart *self, cairo_t *cr, Layer *layer, double width, double height)
{
    guint n = vireo_series_get_n_samples(layer->series);
    guint capacity = vireo_series_get_capacity(layer->series);
    double step = capacity > 1 ? width / (double)(capacity - 1) : width;
    double x0;

    if (n < 2) {
        return;
    }
    /* The newest sample sits at the right edge; older ones to its left. */
    x0 = width - step * (double)(n - 1);
    cairo_move_to(cr, x0, height);
    for (guint i = 0; i < n; i++) {
        double y = height * (1.0 - vireo_axis_normalize(self->axis,
                                                        vireo_series_get_sample(layer->series, i)));
        cairo_line_to(cr, x0 + step * (double)i, y);
    }
    cairo_line_to(cr, width, height);
    cairo_close_path(cr);
    cairo_set_source_rgba(cr, layer->color.red, layer->color.green, layer->color.blue, 0.15);
    cairo_fill(cr);

    for (guint i = 0; i < n; i++) {
        double y = height * (1.0 - vireo_axis_normalize(self->axis,
                                                        vireo_series_get_sample(layer->series, i)));
        y = CLAMP(y, 1.0, height - 1.0);
        if (i == 0) {
            cairo_move_to(cr, x0, y);
        } else {
            cairo_line_to(cr, x0 + step * (double)i, y);
        }
    }
    gdk_cairo_set_source_rgba(cr, &layer->color);
    cairo_set_line_width(cr, 1.5);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_stroke(cr);
}

static void vireo_chart_snapshot(GtkWidget *widget, GtkSnapshot *snapshot)
{
    VireoChart *self = VIREO_CHART(widget);
    double width = gtk_widget_get_width(widget);
    double height = gtk_widget_get_height(widget);
    GdkRGBA fg, grid;
    cairo_t *cr;

    if (width <= 0 || height <= 0) {
        return;
    }
    get_foreground(widget, &fg);
    grid = fg;
    grid.alpha = 0.12f;

    /* Grid: a line at each quarter of the axis. */
    for (int i = 0; i <= GRID_LINES; i++) {
        float y = (float)(height - 1) * (float)i / GRID_LINES;
        gtk_snapshot_append_color(snapshot, &grid, &GRAPHENE_RECT_INIT(0, y, (float)width, 1));
    }

    cr =
        gtk_snapshot_append_cairo(snapshot, &GRAPHENE_RECT_INIT(0, 0, (float)width, (float)height));
    for (guint i = 0; i < self->layers->len; i++) {
        draw_series(self, cr, &g_array_index(self->layers, Layer, i), width, height);
    }
    cairo_destroy(cr);

    if (self->label_format != NULL) {
        GString *text = g_string_new(self->label_format);
        char number[G_ASCII_DTOSTR_BUF_SIZE];
        PangoLayout *layout;
        GdkRGBA label = fg;

        g_snprintf(number, sizeof number, "%g", vireo_axis_get_max(self->axis));
        g_string_replace(text, "%s", number, 1);
        layout = gtk_widget_create_pango_layout(widget, text->str);
        g_string_free(text, TRUE);
        label.alpha = 0.6f;
        gtk_snapshot_save(snapshot);
        gtk_snapshot_translate(snapshot, &GRAPHENE_POINT_INIT(4, 2));
        gtk_snapshot_append_layout(snapshot, layout, &label);
        gtk_snapshot_restore(snapshot);
        g_object_unref(layout);
    }
}

static void vireo_chart_measure(GtkWidget *widget, GtkOrientation orientation, int for_size,
                                int *minimum, int *natural, int *minimum_baseline,
                                int *natural_baseline)
{
    if (orientation == GTK_ORIENTATION_HORIZONTAL) {
        *minimum = 120;
        *natural = 400;
    } else {
        *minimum = 80;
        *natural = 120;
    }
}

static void vireo_chart_dispose(GObject *object)
{
    VireoChart *self = VIREO_CHART(object);

    if (self->layers != NULL) {
        g_array_set_size(self->layers, 0);
    }
    if (self->axis != NULL) {
        g_signal_handlers_disconnect_by_data(self->axis, self);
        g_clear_object(&self->axis);
    }
    G_OBJECT_CLASS(vireo_chart_parent_class)->dispose(object);
}

static void vireo_chart_finalize(GObject *object)
{
    VireoChart *self = VIREO_CHART(object);

    g_array_unref(self->layers);
    g_free(self->label_format);
    G_OBJECT_CLASS(vireo_chart_parent_class)->finalize(object);
}

static void vireo_chart_class_init(VireoChartClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    object_class->dispose = vireo_chart_dispose;
    object_class->finalize = vireo_chart_finalize;
    widget_class->snapshot = vireo_chart_snapshot;
    widget_class->measure = vireo_chart_measure;
    gtk_widget_class_set_css_name(widget_class, "chart");
    gtk_widget_class_set_accessible_role(widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void vireo_chart_init(VireoChart *self)
{
    self->layers = g_array_new(FALSE, TRUE, sizeof(Layer));
    g_array_set_clear_func(self->layers, layer_clear);
    self->axis = vireo_axis_new_auto(1.0);
    gtk_widget_set_hexpand(GTK_WIDGET(self), TRUE);
}

GtkWidget *vireo_chart_new(void)
{
    return g_object_new(VIREO_TYPE_CHART, NULL);
}

VireoAxis *vireo_chart_get_axis(VireoChart *self)
{
    g_return_val_if_fail(VIREO_IS_CHART(self), NULL);
    return self->axis;
}

void vireo_chart_set_axis(VireoChart *self, VireoAxis *axis)
{
    g_return_if_fail(VIREO_IS_CHART(self));
    g_return_if_fail(VIREO_IS_AXIS(axis));

    if (self->axis != NULL) {
        g_signal_handlers_disconnect_by_data(self->axis, self);
    }
    g_set_object(&self->axis, axis);
    g_signal_connect_swapped(axis, "notify::max", G_CALLBACK(gtk_widget_queue_draw), self);
    refit(self);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

void vireo_chart_set_label_format(VireoChart *self, const char *format)
{
    g_return_if_fail(VIREO_IS_CHART(self));

    g_free(self->label_format);
    self->label_format = g_strdup(format);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

void vireo_chart_add_series(VireoChart *self, VireoSeries *series, const char *color)
{
    Layer layer = { 0 };

    g_return_if_fail(VIREO_IS_CHART(self));
    g_return_if_fail(VIREO_IS_SERIES(series));
    g_return_if_fail(color != NULL);

    layer.series = g_object_ref(series);
    if (!gdk_rgba_parse(&layer.color, color)) {
        gdk_rgba_parse(&layer.color, "#3584e4");
    }
    layer.changed_id =
        g_signal_connect_swapped(series, "changed", G_CALLBACK(on_series_changed), self);
    g_array_append_val(self->layers, layer);
    on_series_changed(self);
}

void vireo_chart_remove_all(VireoChart *self)
{
    g_return_if_fail(VIREO_IS_CHART(self));

    g_array_set_size(self->layers, 0);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}
