/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "vireo-stats-view"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "vireo-stats-view.h"

#include "vireo-chart.h"

#define HISTORY_SAMPLES (VIREO_STATS_HISTORY_SECS * 1000 / VIREO_STATS_SAMPLE_MS)

/* GNOME palette: blue, green, orange, purple, red, yellow, brown, teal. */
static const char *const palette[] = {
    "#3584e4", "#2ec27e", "#ff7800", "#9141ac", "#e01b24", "#e5a50a", "#986a44", "#0ab9dc",
};

struct _VireoStatsView {
    GtkWidget parent_instance;

    VireoVmController *controller;
    guint timer;
    guint n_samples;
    /* The vCPUs' time on the interpreter and running (not waiting), in ns,
     * each sample's added to 0.8 times the sum before: a figure over the
     * last seconds that one sample moves little. */
    double recent_interp_ns, recent_busy_ns;
    gint64 prev_time;
    VireoVcpuStats prev_total;
    VireoVcpuStats last_total;
    GArray *prev_vcpu; /* VireoVcpuStats */
    guint n_vcpus;
    GPtrArray *vcpu_rows;
    VireoEngineKind engine; /* what the machine runs on, taken when it starts */

    VireoSeries *total_mips;
    GPtrArray *vcpu_mips;
    VireoSeries *itlb_misses;
    VireoSeries *dtlb_misses;
    VireoSeries *exceptions;
    VireoSeries *interrupts;

    /* Template widgets */
    GtkWidget *migration_group;
    GtkLabel *migration_status_label;
    GtkLabel *migration_sent_label;
    GtkLabel *migration_remaining_label;
    AdwActionRow *migration_downtime_row;
    GtkLabel *migration_downtime_label;
    AdwActionRow *migration_time_row;
    GtkLabel *migration_time_label;
    VireoChart *mips_chart;
    GtkFlowBox *mips_legend;
    GtkLabel *mips_label;
    GtkLabel *insns_label;
    GtkLabel *blocks_label;
    GtkLabel *decode_label;
    AdwPreferencesGroup *vcpu_group;
    VireoChart *tlb_chart;
    GtkFlowBox *tlb_legend;
    GtkLabel *itlb_label;
    GtkLabel *dtlb_label;
    VireoChart *trap_chart;
    GtkFlowBox *trap_legend;
    GtkLabel *exc_label;
    GtkLabel *irq_label;
    GtkLabel *jit_status_label;
    GtkWidget *jit_blocks_row;
    GtkWidget *jit_code_row;
    GtkWidget *jit_share_row;
    GtkWidget *jit_interp_row;
    GtkWidget *jit_compile_row;
    GtkWidget *jit_chained_row;
    GtkWidget *jit_hits_row;
    GtkWidget *jit_invalidated_row;
    GtkWidget *jit_flushes_row;
    GtkWidget *jit_fallbacks_row;
    GtkLabel *jit_blocks_label;
    GtkLabel *jit_code_label;
    GtkLabel *jit_share_label;
    GtkLabel *jit_interp_label;
    GtkLabel *jit_compile_label;
    GtkLabel *jit_chained_label;
    GtkLabel *jit_hits_label;
    GtkLabel *jit_invalidated_label;
    GtkLabel *jit_flushes_label;
    GtkLabel *jit_fallbacks_label;
};

/* The JIT panel's rows by name (vireo_stats_view_get_jit_value()), each
 * with its value's label; "status" has no row of its own to hide. */
static const struct {
    const char *name;
    gsize row;
    gsize label;
} jit_rows[] = {
#define JIT_ROW(name, field)                                      \
    {                                                             \
        name, G_STRUCT_OFFSET(VireoStatsView, jit_##field##_row), \
            G_STRUCT_OFFSET(VireoStatsView, jit_##field##_label)  \
    }
    JIT_ROW("blocks", blocks),        JIT_ROW("code-size", code),
    JIT_ROW("native-share", share),   JIT_ROW("interp-time", interp),
    JIT_ROW("compile-time", compile), JIT_ROW("chained", chained),
    JIT_ROW("hit-rate", hits),        JIT_ROW("invalidated", invalidated),
    JIT_ROW("flushes", flushes),      JIT_ROW("fallbacks", fallbacks),
#undef JIT_ROW
};

G_DEFINE_FINAL_TYPE(VireoStatsView, vireo_stats_view, GTK_TYPE_WIDGET)

static guint64 delta(guint64 now, guint64 before)
{
    /* Counters restart with each machine (and at a reset). */
    return now >= before ? now - before : now;
}

static double percent(guint64 part, guint64 whole)
{
    return whole > 0 ? 100.0 * (double)part / (double)whole : 0.0;
}

static char *format_count(guint64 n)
{
    return g_strdup_printf("%'" G_GUINT64_FORMAT, n);
}

static void add_legend(GtkFlowBox *legend, const char *name, const char *color)
{
    g_autofree char *markup = NULL;
    GtkWidget *label;

    markup = g_markup_printf_escaped("<span foreground=\"%s\">●</span> %s", color, name);
    label = gtk_label_new(NULL);
    gtk_label_set_markup(GTK_LABEL(label), markup);
    gtk_label_set_xalign(GTK_LABEL(label), 0);
    gtk_widget_add_css_class(label, "caption");
    gtk_flow_box_append(legend, label);
}

static void clear_flow_box(GtkFlowBox *box)
{
    GtkWidget *child;

    while ((child = gtk_widget_get_first_child(GTK_WIDGET(box))) != NULL) {
        gtk_flow_box_remove(box, child);
    }
}

/* Per-vCPU series and rows follow the machine's vCPU count. */
static void rebuild_vcpus(VireoStatsView *self, guint n)
{
    vireo_chart_remove_all(self->mips_chart);
    clear_flow_box(self->mips_legend);
    for (guint i = 0; i < self->vcpu_rows->len; i++) {
        adw_preferences_group_remove(self->vcpu_group, g_ptr_array_index(self->vcpu_rows, i));
    }
    g_ptr_array_set_size(self->vcpu_rows, 0);
    g_ptr_array_set_size(self->vcpu_mips, 0);

    vireo_chart_add_series(self->mips_chart, self->total_mips, palette[0]);
    add_legend(self->mips_legend, _("Total"), palette[0]);
    for (guint i = 0; i < n; i++) {
        g_autofree char *name = g_strdup_printf(_("vCPU %u"), i);
        VireoSeries *series = vireo_series_new(name, HISTORY_SAMPLES);
        const char *color = palette[(i + 1) % G_N_ELEMENTS(palette)];
        GtkWidget *row = adw_action_row_new();
        GtkWidget *label = gtk_label_new("—");

        vireo_chart_add_series(self->mips_chart, series, color);
        add_legend(self->mips_legend, name, color);
        g_ptr_array_add(self->vcpu_mips, series);

        adw_preferences_row_set_use_markup(ADW_PREFERENCES_ROW(row), FALSE);
        adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), name);
        gtk_widget_add_css_class(label, "numeric");
        adw_action_row_add_suffix(ADW_ACTION_ROW(row), label);
        g_object_set_data(G_OBJECT(row), "value-label", label);
        adw_preferences_group_add(self->vcpu_group, row);
        g_ptr_array_add(self->vcpu_rows, row);
    }
    gtk_widget_set_visible(GTK_WIDGET(self->vcpu_group), n > 0);
    g_array_set_size(self->prev_vcpu, n);
    memset(self->prev_vcpu->data, 0, n * sizeof(VireoVcpuStats));
    self->n_vcpus = n;
}

static void show_tlb(GtkLabel *label, guint64 hits, guint64 misses, guint64 flushes,
                     double misses_per_s)
{
    g_autofree char *text = NULL;
    g_autofree char *m = format_count(misses);
    g_autofree char *f = format_count(flushes);

    /* Translators: TLB hit rate, misses per second, total misses, flushes. */
    text = g_strdup_printf(_("%.2f %% hits · %.0f misses/s · %s misses · %s flushes"),
                           percent(hits, hits + misses), misses_per_s, m, f);
    gtk_label_set_label(label, text);
}

static void show_rate(GtkLabel *label, double per_s, guint64 total)
{
    g_autofree char *t = format_count(total);
    /* Translators: events per second, then the total since the start. */
    g_autofree char *text = g_strdup_printf(_("%.0f/s · %s in all"), per_s, t);
    gtk_label_set_label(label, text);
}

static void set_count(GtkLabel *label, guint64 n)
{
    g_autofree char *text = format_count(n);
    gtk_label_set_label(label, text);
}

static void show_jit(VireoStatsView *self, const VireoVcpuStats *s)
{
    gboolean running = self->controller != NULL &&
                       vireo_vm_controller_get_state(self->controller) != VIREO_VM_STATE_STOPPED;
    gboolean jit = self->engine == VIREO_ENGINE_JIT;
    /* A machine on the interpreter has no JIT counters; the last run's
     * stay shown once it stopped. */
    gboolean active = jit && (s->jit_blocks > 0 || s->jit_insns > 0 || s->jit_code_bytes > 0);
    const char *status;

    if (!jit) {
        status = _("Interpreter only");
    } else if (running) {
        status = _("Compiling");
    } else {
        status = _("Not running");
    }
    gtk_label_set_label(self->jit_status_label, status);
    for (guint i = 0; i < G_N_ELEMENTS(jit_rows); i++) {
        gtk_widget_set_visible(G_STRUCT_MEMBER(GtkWidget *, self, jit_rows[i].row), active);
    }
    if (active) {
        g_autofree char *code = g_format_size(s->jit_code_bytes);
        g_autofree char *share = g_strdup_printf(_("%.1f %%"), percent(s->jit_insns, s->insns));
        /* Compiled blocks run from the run loop (entries) or from the block
         * before them; the counters are read without stopping the vCPUs. */
        guint64 chained = s->blocks > s->jit_entries ? s->blocks - s->jit_entries : 0;
        g_autofree char *chained_share = g_strdup_printf(_("%.1f %%"), percent(chained, s->blocks));
        /* Translators: a duration in milliseconds, with one decimal. */
        g_autofree char *compile = g_strdup_printf(_("%.1f ms"), (double)s->jit_compile_ns / 1e6);
        /* Translators: a hit rate, with two decimals. */
        g_autofree char *hits = g_strdup_printf(
            _("%.2f %%"), percent(s->decode_hits, s->decode_hits + s->decode_misses));

        /* Translators: a share of time, with one decimal. */
        g_autofree char *interp =
            self->recent_busy_ns >= 1e6
                ? g_strdup_printf(_("%.1f %%"),
                                  MIN(100.0, 100.0 * self->recent_interp_ns / self->recent_busy_ns))
                : g_strdup("—");

        set_count(self->jit_blocks_label, s->jit_blocks);
        gtk_label_set_label(self->jit_code_label, code);
        gtk_label_set_label(self->jit_share_label, share);
        gtk_label_set_label(self->jit_interp_label, interp);
        gtk_label_set_label(self->jit_compile_label, compile);
        gtk_label_set_label(self->jit_chained_label, chained_share);
        gtk_label_set_label(self->jit_hits_label, hits);
        set_count(self->jit_invalidated_label, s->jit_invalidated);
        set_count(self->jit_flushes_label, s->jit_flushes);
        set_count(self->jit_fallbacks_label, s->jit_fallbacks);
    }
}

static gint64 json_int(const VireoJson *object, const char *key)
{
    const VireoJson *v = object != NULL ? vireo_json_object_get(object, key) : NULL;
    return v != NULL ? vireo_json_get_int(v) : 0;
}

/* A migration through the VM's monitor, as query-migrate tells it. */
static void show_migration(VireoStatsView *self)
{
    g_autoptr(VireoJson) info = vireo_vm_controller_query_migration(self->controller);
    const VireoJson *status_json, *ram;
    const char *status, *text;
    g_autofree char *sent = NULL, *left = NULL, *time = NULL, *down = NULL;
    gboolean completed;

    gtk_widget_set_visible(self->migration_group, info != NULL);
    if (info == NULL) {
        return;
    }
    status_json = vireo_json_object_get(info, "status");
    status = status_json != NULL ? vireo_json_get_string(status_json, NULL) : "";
    ram = vireo_json_object_get(info, "ram");
    completed = g_strcmp0(status, "completed") == 0;
    if (g_strcmp0(status, "setup") == 0) {
        text = _("Connecting");
    } else if (g_strcmp0(status, "active") == 0) {
        text = _("Sending memory while the guest runs");
    } else if (completed) {
        text = _("Completed: the virtual machine runs on the destination");
    } else if (g_strcmp0(status, "failed") == 0) {
        text = _("Failed: the virtual machine runs on here");
    } else if (g_strcmp0(status, "cancelling") == 0) {
        text = _("Cancelling");
    } else {
        text = _("Cancelled: the virtual machine runs on here");
    }
    gtk_label_set_label(self->migration_status_label, text);
    sent = g_format_size((guint64)json_int(ram, "transferred"));
    gtk_label_set_label(self->migration_sent_label, sent);
    left = g_format_size_full((guint64)json_int(ram, "remaining"), G_FORMAT_SIZE_IEC_UNITS);
    gtk_label_set_label(self->migration_remaining_label, left);
    /* Translators: a duration in milliseconds. */
    time = g_strdup_printf(_("%d ms"), (int)MIN(json_int(info, "total-time"), G_MAXINT));
    gtk_label_set_label(self->migration_time_label, time);
    adw_preferences_row_set_title(ADW_PREFERENCES_ROW(self->migration_time_row),
                                  completed ? _("Total time") : _("Time so far"));
    adw_preferences_row_set_title(ADW_PREFERENCES_ROW(self->migration_downtime_row),
                                  completed ? _("Downtime") : _("Expected downtime"));
    if (completed || vireo_json_object_get(info, "expected-downtime") != NULL) {
        down = g_strdup_printf(
            _("%d ms"),
            (int)MIN(json_int(info, completed ? "downtime" : "expected-downtime"), G_MAXINT));
    }
    gtk_label_set_label(self->migration_downtime_label, down != NULL ? down : "—");
}

static void sample(VireoStatsView *self)
{
    gint64 now = g_get_monotonic_time();
    double dt = (double)(now - self->prev_time) / G_USEC_PER_SEC;
    guint n = vireo_vm_controller_get_n_vcpus(self->controller);
    VireoVcpuStats s;
    double mips, itlb_rate, dtlb_rate, exc_rate, irq_rate, busy;
    g_autofree char *text = NULL, *insns = NULL, *blocks = NULL, *misses = NULL;

    if (n != self->n_vcpus) {
        rebuild_vcpus(self, n);
    }
    vireo_vm_controller_get_stats(self->controller, -1, &s);
    if (dt <= 0) {
        dt = VIREO_STATS_SAMPLE_MS / 1000.0;
    }
    mips = (double)delta(s.insns, self->prev_total.insns) / dt / 1e6;
    itlb_rate = (double)delta(s.itlb_misses, self->prev_total.itlb_misses) / dt;
    dtlb_rate = (double)delta(s.dtlb_misses, self->prev_total.dtlb_misses) / dt;
    exc_rate = (double)delta(s.exceptions, self->prev_total.exceptions) / dt;
    irq_rate = (double)delta(s.interrupts, self->prev_total.interrupts) / dt;

    vireo_series_push(self->total_mips, mips);
    vireo_series_push(self->itlb_misses, itlb_rate);
    vireo_series_push(self->dtlb_misses, dtlb_rate);
    vireo_series_push(self->exceptions, exc_rate);
    vireo_series_push(self->interrupts, irq_rate);

    text = g_strdup_printf(_("%.1f MIPS"), mips);
    gtk_label_set_label(self->mips_label, text);
    insns = format_count(s.insns);
    gtk_label_set_label(self->insns_label, insns);
    blocks = format_count(s.blocks);
    gtk_label_set_label(self->blocks_label, blocks);
    g_clear_pointer(&text, g_free);
    misses = format_count(s.decode_misses);
    /* Translators: decode-cache hit rate, then blocks decoded. */
    text = g_strdup_printf(_("%.2f %% hits · %s decoded"),
                           percent(s.decode_hits, s.decode_hits + s.decode_misses), misses);
    gtk_label_set_label(self->decode_label, text);
    show_tlb(self->itlb_label, s.itlb_hits, s.itlb_misses, s.itlb_flushes, itlb_rate);
    show_tlb(self->dtlb_label, s.dtlb_hits, s.dtlb_misses, s.dtlb_flushes, dtlb_rate);
    show_rate(self->exc_label, exc_rate, s.exceptions);
    show_rate(self->irq_label, irq_rate, s.interrupts);
    busy = (double)n * dt * 1e9 - (double)delta(s.halted_ns, self->prev_total.halted_ns);
    self->recent_busy_ns = 0.8 * self->recent_busy_ns + MAX(busy, 0.0);
    self->recent_interp_ns = 0.8 * self->recent_interp_ns +
                             (double)delta(s.jit_interp_ns, self->prev_total.jit_interp_ns);
    show_jit(self, &s);
    show_migration(self);

    for (guint i = 0; i < n; i++) {
        VireoVcpuStats v;
        VireoVcpuStats *prev = &g_array_index(self->prev_vcpu, VireoVcpuStats, i);
        GtkWidget *row = g_ptr_array_index(self->vcpu_rows, i);
        double vm, idle;
        g_autofree char *value = NULL;

        vireo_vm_controller_get_stats(self->controller, (int)i, &v);
        vm = (double)delta(v.insns, prev->insns) / dt / 1e6;
        idle = MIN(100.0, (double)delta(v.halted_ns, prev->halted_ns) / (dt * 1e9) * 100.0);
        vireo_series_push(g_ptr_array_index(self->vcpu_mips, i), vm);
        /* Translators: MIPS of one vCPU, then the share of time it waited. */
        value = g_strdup_printf(_("%.1f MIPS · %.0f %% idle"), vm, idle);
        gtk_label_set_label(g_object_get_data(G_OBJECT(row), "value-label"), value);
        *prev = v;
    }

    self->prev_total = s;
    self->last_total = s;
    self->prev_time = now;
    self->n_samples++;
}

static gboolean on_tick(gpointer data)
{
    sample(data);
    return G_SOURCE_CONTINUE;
}

static void clear_history(VireoStatsView *self)
{
    vireo_series_clear(self->total_mips);
    vireo_series_clear(self->itlb_misses);
    vireo_series_clear(self->dtlb_misses);
    vireo_series_clear(self->exceptions);
    vireo_series_clear(self->interrupts);
    for (guint i = 0; i < self->vcpu_mips->len; i++) {
        vireo_series_clear(g_ptr_array_index(self->vcpu_mips, i));
    }
}

/* The engine `controller`'s configuration asks for, the default resolved. */
static VireoEngineKind controller_engine(VireoVmController *controller)
{
    VireoVmConfig *config = controller != NULL ? vireo_vm_controller_get_config(controller) : NULL;
    VireoEngineKind engine =
        config != NULL ? vireo_vm_config_get_engine(config) : VIREO_ENGINE_DEFAULT;

    return engine != VIREO_ENGINE_DEFAULT ? engine : vireo_engine_get_default();
}

static void on_state_changed(VireoStatsView *self)
{
    VireoVmState state = vireo_vm_controller_get_state(self->controller);

    if (state != VIREO_VM_STATE_STOPPED && self->timer == 0) {
        /* A new machine: its counters start from zero, on the engine its
         * configuration names now. */
        self->engine = controller_engine(self->controller);
        clear_history(self);
        memset(&self->prev_total, 0, sizeof self->prev_total);
        self->recent_interp_ns = self->recent_busy_ns = 0;
        if (self->prev_vcpu->len > 0) {
            memset(self->prev_vcpu->data, 0, self->prev_vcpu->len * sizeof(VireoVcpuStats));
        }
        self->prev_time = g_get_monotonic_time();
        self->timer = g_timeout_add(VIREO_STATS_SAMPLE_MS, on_tick, self);
        g_source_set_name_by_id(self->timer, "[vireo] statistics sampler");
    } else if (state == VIREO_VM_STATE_STOPPED && self->timer != 0) {
        sample(self);
        g_clear_handle_id(&self->timer, g_source_remove);
    }
    show_jit(self, &self->last_total);
}

static void vireo_stats_view_dispose(GObject *object)
{
    VireoStatsView *self = VIREO_STATS_VIEW(object);

    g_clear_handle_id(&self->timer, g_source_remove);
    if (self->controller != NULL) {
        g_signal_handlers_disconnect_by_data(self->controller, self);
        g_clear_object(&self->controller);
    }
    gtk_widget_dispose_template(GTK_WIDGET(self), VIREO_TYPE_STATS_VIEW);
    /* The template's unnamed top-level child is not cleared with it. */
    for (GtkWidget *child; (child = gtk_widget_get_first_child(GTK_WIDGET(self))) != NULL;) {
        gtk_widget_unparent(child);
    }
    G_OBJECT_CLASS(vireo_stats_view_parent_class)->dispose(object);
}

static void vireo_stats_view_finalize(GObject *object)
{
    VireoStatsView *self = VIREO_STATS_VIEW(object);

    g_array_unref(self->prev_vcpu);
    g_ptr_array_unref(self->vcpu_rows);
    g_ptr_array_unref(self->vcpu_mips);
    g_clear_object(&self->total_mips);
    g_clear_object(&self->itlb_misses);
    g_clear_object(&self->dtlb_misses);
    g_clear_object(&self->exceptions);
    g_clear_object(&self->interrupts);
    G_OBJECT_CLASS(vireo_stats_view_parent_class)->finalize(object);
}

static void vireo_stats_view_class_init(VireoStatsViewClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    object_class->dispose = vireo_stats_view_dispose;
    object_class->finalize = vireo_stats_view_finalize;

    g_type_ensure(VIREO_TYPE_CHART);
    gtk_widget_class_set_layout_manager_type(widget_class, GTK_TYPE_BIN_LAYOUT);
    gtk_widget_class_set_template_from_resource(widget_class,
                                                "/io/github/vireo/Vireo/vireo-stats-view.ui");
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, migration_group);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, migration_status_label);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, migration_sent_label);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, migration_remaining_label);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, migration_downtime_row);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, migration_downtime_label);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, migration_time_row);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, migration_time_label);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, mips_chart);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, mips_legend);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, mips_label);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, insns_label);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, blocks_label);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, decode_label);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, vcpu_group);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, tlb_chart);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, tlb_legend);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, itlb_label);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, dtlb_label);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, trap_chart);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, trap_legend);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, exc_label);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, irq_label);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, jit_status_label);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, jit_blocks_row);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, jit_code_row);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, jit_share_row);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, jit_interp_row);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, jit_blocks_label);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, jit_code_label);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, jit_share_label);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, jit_interp_label);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, jit_compile_row);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, jit_chained_row);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, jit_hits_row);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, jit_invalidated_row);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, jit_flushes_row);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, jit_fallbacks_row);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, jit_compile_label);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, jit_chained_label);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, jit_hits_label);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, jit_invalidated_label);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, jit_flushes_label);
    gtk_widget_class_bind_template_child(widget_class, VireoStatsView, jit_fallbacks_label);
}

static void vireo_stats_view_init(VireoStatsView *self)
{
    g_autoptr(VireoAxis) mips_axis = vireo_axis_new_auto(10.0);
    g_autoptr(VireoAxis) tlb_axis = vireo_axis_new_auto(10.0);
    g_autoptr(VireoAxis) trap_axis = vireo_axis_new_auto(10.0);

    gtk_widget_init_template(GTK_WIDGET(self));

    self->prev_vcpu = g_array_new(FALSE, TRUE, sizeof(VireoVcpuStats));
    self->vcpu_rows = g_ptr_array_new();
    self->vcpu_mips = g_ptr_array_new_with_free_func(g_object_unref);
    self->total_mips = vireo_series_new(_("Total"), HISTORY_SAMPLES);
    self->itlb_misses = vireo_series_new(_("I-TLB misses"), HISTORY_SAMPLES);
    self->dtlb_misses = vireo_series_new(_("D-TLB misses"), HISTORY_SAMPLES);
    self->exceptions = vireo_series_new(_("Exceptions"), HISTORY_SAMPLES);
    self->interrupts = vireo_series_new(_("Interrupts"), HISTORY_SAMPLES);

    vireo_chart_set_axis(self->mips_chart, mips_axis);
    vireo_chart_set_label_format(self->mips_chart, _("%s MIPS"));
    vireo_chart_set_axis(self->tlb_chart, tlb_axis);
    vireo_chart_set_label_format(self->tlb_chart, _("%s misses/s"));
    vireo_chart_add_series(self->tlb_chart, self->itlb_misses, palette[0]);
    vireo_chart_add_series(self->tlb_chart, self->dtlb_misses, palette[2]);
    add_legend(self->tlb_legend, _("I-TLB"), palette[0]);
    add_legend(self->tlb_legend, _("D-TLB"), palette[2]);
    vireo_chart_set_axis(self->trap_chart, trap_axis);
    vireo_chart_set_label_format(self->trap_chart, _("%s per second"));
    vireo_chart_add_series(self->trap_chart, self->exceptions, palette[3]);
    vireo_chart_add_series(self->trap_chart, self->interrupts, palette[1]);
    add_legend(self->trap_legend, _("Exceptions"), palette[3]);
    add_legend(self->trap_legend, _("Interrupts"), palette[1]);

    gtk_accessible_update_property(GTK_ACCESSIBLE(self->mips_chart), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                   _("Guest speed over the last minute"), -1);
    gtk_accessible_update_property(GTK_ACCESSIBLE(self->tlb_chart), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                   _("TLB misses per second over the last minute"), -1);
    gtk_accessible_update_property(GTK_ACCESSIBLE(self->trap_chart), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                   _("Exceptions and interrupts per second over the last minute"),
                                   -1);

    rebuild_vcpus(self, 0);
    self->engine = vireo_engine_get_default();
    gtk_label_set_label(self->mips_label, "—");
    gtk_label_set_label(self->insns_label, "—");
    gtk_label_set_label(self->blocks_label, "—");
    gtk_label_set_label(self->decode_label, "—");
    gtk_label_set_label(self->itlb_label, "—");
    gtk_label_set_label(self->dtlb_label, "—");
    gtk_label_set_label(self->exc_label, "—");
    gtk_label_set_label(self->irq_label, "—");
    show_jit(self, &self->last_total);
}

GtkWidget *vireo_stats_view_new(void)
{
    return g_object_new(VIREO_TYPE_STATS_VIEW, NULL);
}

void vireo_stats_view_set_controller(VireoStatsView *self, VireoVmController *controller)
{
    g_return_if_fail(VIREO_IS_STATS_VIEW(self));
    g_return_if_fail(controller == NULL || VIREO_IS_VM_CONTROLLER(controller));

    g_clear_handle_id(&self->timer, g_source_remove);
    if (self->controller != NULL) {
        g_signal_handlers_disconnect_by_data(self->controller, self);
    }
    g_set_object(&self->controller, controller);
    memset(&self->last_total, 0, sizeof self->last_total);
    self->engine = controller_engine(controller);
    if (controller != NULL) {
        g_signal_connect_swapped(controller, "notify::state", G_CALLBACK(on_state_changed), self);
        on_state_changed(self);
    }
}

guint vireo_stats_view_get_last_sample(VireoStatsView *self, VireoVcpuStats *total)
{
    g_return_val_if_fail(VIREO_IS_STATS_VIEW(self), 0);

    if (total != NULL) {
        *total = self->last_total;
    }
    return self->n_samples;
}

const char *vireo_stats_view_get_jit_value(VireoStatsView *self, const char *name)
{
    g_return_val_if_fail(VIREO_IS_STATS_VIEW(self), NULL);
    g_return_val_if_fail(name != NULL, NULL);

    if (strcmp(name, "status") == 0) {
        return gtk_label_get_label(self->jit_status_label);
    }
    for (guint i = 0; i < G_N_ELEMENTS(jit_rows); i++) {
        if (strcmp(jit_rows[i].name, name) == 0) {
            return gtk_widget_get_visible(G_STRUCT_MEMBER(GtkWidget *, self, jit_rows[i].row))
                       ? gtk_label_get_label(G_STRUCT_MEMBER(GtkLabel *, self, jit_rows[i].label))
                       : NULL;
        }
    }
    g_return_val_if_reached(NULL);
}
