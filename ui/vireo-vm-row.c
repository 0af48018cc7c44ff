/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "vireo-vm-row"

#include "config.h"

#include <glib/gi18n.h>

#include "vireo-vm-row.h"

struct _VireoVmRow {
    GtkListBoxRow parent_instance;

    VireoVmEntry *entry;

    /* Template widgets */
    GtkImage *icon;
    GtkLabel *name_label;
    GtkLabel *details_label;
    GtkLabel *badge;
};

G_DEFINE_FINAL_TYPE(VireoVmRow, vireo_vm_row, GTK_TYPE_LIST_BOX_ROW)

static const char *const badge_classes[] = { "stopped", "running", "paused", "error" };

static void set_badge(VireoVmRow *self, const char *text, const char *css_class)
{
    for (guint i = 0; i < G_N_ELEMENTS(badge_classes); i++) {
        gtk_widget_remove_css_class(GTK_WIDGET(self->badge), badge_classes[i]);
    }
    gtk_widget_add_css_class(GTK_WIDGET(self->badge), css_class);
    gtk_label_set_label(self->badge, text);
}

/* "256 MiB", "2 GiB": whole units without decimals. */
static char *format_memory(guint64 bytes)
{
    if (bytes >= (1ull << 30) && bytes % (1ull << 30) == 0) {
        /* Translators: a memory size in gibibytes. */
        return g_strdup_printf(_("%u GiB"), (guint)(bytes >> 30));
    }
    if (bytes % (1ull << 20) == 0) {
        /* Translators: a memory size in mebibytes. */
        return g_strdup_printf(_("%u MiB"), (guint)(bytes >> 20));
    }
    return g_format_size_full(bytes, G_FORMAT_SIZE_IEC_UNITS);
}

static void update(VireoVmRow *self)
{
    VireoVmConfig *config = vireo_vm_entry_get_config(self->entry);
    const char *error = vireo_vm_entry_get_error(self->entry);
    g_autofree char *accessible = NULL;

    gtk_label_set_label(self->name_label, vireo_vm_entry_get_name(self->entry));
    if (config != NULL) {
        g_autofree char *memory = format_memory(vireo_vm_config_get_memory(config));
        guint cpus = vireo_vm_config_get_cpus(config);
        g_autofree char *cpu_text = g_strdup_printf(ngettext("%u vCPU", "%u vCPUs", cpus), cpus);
        g_autofree char *details = g_strdup_printf(
            "%s · %s · %s", vireo_arch_name(vireo_vm_config_get_arch(config)), memory, cpu_text);
        gtk_label_set_label(self->details_label, details);
    } else {
        gtk_label_set_label(self->details_label, _("Configuration cannot be read"));
    }
    gtk_widget_set_tooltip_text(GTK_WIDGET(self), error);

    switch (vireo_vm_entry_get_state(self->entry)) {
    case VIREO_VM_STATE_RUNNING: set_badge(self, _("Running"), "running"); break;
    case VIREO_VM_STATE_PAUSED: set_badge(self, _("Paused"), "paused"); break;
    case VIREO_VM_STATE_STOPPED:
    default:
        if (error != NULL) {
            set_badge(self, _("Error"), "error");
        } else {
            set_badge(self, _("Stopped"), "stopped");
        }
        break;
    }
    /* Translators: a VM in the list, for screen readers: name, state. */
    accessible = g_strdup_printf(_("%s, %s"), vireo_vm_entry_get_name(self->entry),
                                 gtk_label_get_label(self->badge));
    gtk_accessible_update_property(GTK_ACCESSIBLE(self), GTK_ACCESSIBLE_PROPERTY_LABEL, accessible,
                                   -1);
}

static void vireo_vm_row_dispose(GObject *object)
{
    VireoVmRow *self = VIREO_VM_ROW(object);

    if (self->entry != NULL) {
        g_signal_handlers_disconnect_by_data(self->entry, self);
        g_clear_object(&self->entry);
    }
    gtk_widget_dispose_template(GTK_WIDGET(self), VIREO_TYPE_VM_ROW);
    G_OBJECT_CLASS(vireo_vm_row_parent_class)->dispose(object);
}

static void vireo_vm_row_class_init(VireoVmRowClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    object_class->dispose = vireo_vm_row_dispose;

    gtk_widget_class_set_template_from_resource(widget_class,
                                                "/io/github/vireo/Vireo/vireo-vm-row.ui");
    gtk_widget_class_bind_template_child(widget_class, VireoVmRow, icon);
    gtk_widget_class_bind_template_child(widget_class, VireoVmRow, name_label);
    gtk_widget_class_bind_template_child(widget_class, VireoVmRow, details_label);
    gtk_widget_class_bind_template_child(widget_class, VireoVmRow, badge);
}

static void vireo_vm_row_init(VireoVmRow *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
}

GtkWidget *vireo_vm_row_new(VireoVmEntry *entry)
{
    VireoVmRow *self;

    g_return_val_if_fail(VIREO_IS_VM_ENTRY(entry), NULL);

    self = g_object_new(VIREO_TYPE_VM_ROW, NULL);
    self->entry = g_object_ref(entry);
    g_signal_connect_swapped(entry, "notify", G_CALLBACK(update), self);
    update(self);
    return GTK_WIDGET(self);
}

VireoVmEntry *vireo_vm_row_get_entry(VireoVmRow *self)
{
    g_return_val_if_fail(VIREO_IS_VM_ROW(self), NULL);
    return self->entry;
}

const char *vireo_vm_row_get_badge(VireoVmRow *self)
{
    g_return_val_if_fail(VIREO_IS_VM_ROW(self), NULL);
    return gtk_label_get_label(self->badge);
}
