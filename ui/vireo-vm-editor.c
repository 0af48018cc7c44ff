/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "vireo-vm-editor"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "vireo-vm-editor.h"

#include "vireo-demo.h"
#include "vireo-vm-machine.h"
#include "vireo-window.h"

#include "engine/error.h"

typedef struct {
    char *path;
    gboolean read_only;
    VireoBlockFormat format; /* kept as the configuration has it; new disks: detected */
} DiskItem;

struct _VireoVmEditor {
    AdwWindow parent_instance;

    VireoVmLibrary *library;
    VireoVmEntry *entry; /* NULL for a new VM */
    GArray *disks;       /* DiskItem */
    GHashTable *errors;  /* field name → message */
    VireoArch arch;
    VireoAccelKind accel;
    GtkWidget *arch_checks[VIREO_ARCH_COUNT];
    GtkWidget *accel_checks[VIREO_ACCEL_COUNT];
    GtkWidget *accel_rows[VIREO_ACCEL_COUNT];
    GtkFileChooserNative *chooser;

    /* Template widgets */
    AdwToastOverlay *toast_overlay;
    GtkWidget *save_button;
    GtkWidget *name_row;
    GtkEntry *name_entry;
    AdwExpanderRow *arch_row;
    AdwExpanderRow *accel_row;
    GtkSpinButton *cpus_spin;
    AdwComboRow *cpu_row;
    AdwComboRow *engine_row;
    GtkWidget *memory_row;
    GtkEntry *memory_entry;
    GtkWidget *firmware_row;
    GtkEntry *firmware_entry;
    GtkWidget *firmware_button;
    GtkWidget *kernel_row;
    GtkEntry *kernel_entry;
    GtkWidget *kernel_button;
    GtkWidget *initrd_row;
    GtkEntry *initrd_entry;
    GtkWidget *initrd_button;
    GtkWidget *cmdline_row;
    GtkEntry *cmdline_entry;
    GtkWidget *add_disk_button;
    GtkListBox *disk_list;
    AdwComboRow *network_row;
    GtkWidget *forwards_row;
    GtkEntry *forwards_entry;
    AdwComboRow *display_row;
    GtkSwitch *gdb_switch;
    GtkWidget *gdb_port_row;
    GtkEntry *gdb_port_entry;
};

G_DEFINE_FINAL_TYPE(VireoVmEditor, vireo_vm_editor, ADW_TYPE_WINDOW)

enum {
    SAVED,
    N_SIGNALS,
};

static guint signals[N_SIGNALS];

static const char *accel_title(VireoAccelKind kind)
{
    switch (kind) {
    case VIREO_ACCEL_SOFT: return _("Software engine");
    case VIREO_ACCEL_KVM: return _("KVM");
    case VIREO_ACCEL_HVF: return _("Hypervisor.framework");
    case VIREO_ACCEL_WHPX: return _("Windows Hypervisor Platform");
    default: return vireo_accel_name(kind);
    }
}

static void disk_item_clear(gpointer data)
{
    DiskItem *item = data;
    g_free(item->path);
}

/* ---- Field errors ------------------------------------------------------- */

/* Marks `row` (and its entry) invalid with `message` next to the field, or
 * valid again with its hint. */
static void set_field_error(VireoVmEditor *self, const char *field, GtkWidget *row,
                            GtkWidget *input, const char *message)
{
    const char *hint = g_object_get_data(G_OBJECT(row), "hint");

    if (message != NULL) {
        g_hash_table_insert(self->errors, g_strdup(field), g_strdup(message));
        adw_action_row_set_subtitle(ADW_ACTION_ROW(row), message);
        gtk_widget_add_css_class(row, "vireo-invalid");
        if (input != NULL) {
            gtk_widget_add_css_class(input, "error");
        }
    } else {
        g_hash_table_remove(self->errors, field);
        adw_action_row_set_subtitle(ADW_ACTION_ROW(row), hint != NULL ? hint : "");
        gtk_widget_remove_css_class(row, "vireo-invalid");
        if (input != NULL) {
            gtk_widget_remove_css_class(input, "error");
        }
    }
}

static void check_with(VireoVmEditor *self, const char *field, GtkWidget *row, GtkWidget *input,
                       GError *error)
{
    set_field_error(self, field, row, input, error != NULL ? error->message : NULL);
    g_clear_error(&error);
}

static char *entry_text(GtkEntry *entry)
{
    return g_strstrip(g_strdup(gtk_editable_get_text(GTK_EDITABLE(entry))));
}

static void validate(VireoVmEditor *self);

/* ---- Architecture and accelerator choices ------------------------------- */

static void update_accel_rows(VireoVmEditor *self)
{
    for (int i = 0; i < VIREO_ACCEL_COUNT; i++) {
        g_autoptr(GError) error = NULL;
        gboolean ok = vireo_vm_machine_can_run(self->arch, (VireoAccelKind)i, &error);

        gtk_widget_set_sensitive(self->accel_rows[i], ok);
        adw_action_row_set_subtitle(ADW_ACTION_ROW(self->accel_rows[i]), ok ? "" : error->message);
    }
    adw_expander_row_set_subtitle(self->accel_row, accel_title(self->accel));
}

static void on_arch_toggled(GtkCheckButton *check, VireoVmEditor *self)
{
    if (!gtk_check_button_get_active(check)) {
        return;
    }
    self->arch = GPOINTER_TO_UINT(g_object_get_data(G_OBJECT(check), "value"));
    adw_expander_row_set_subtitle(self->arch_row, vireo_arch_name(self->arch));
    update_accel_rows(self);
    validate(self);
}

static void on_accel_toggled(GtkCheckButton *check, VireoVmEditor *self)
{
    if (!gtk_check_button_get_active(check)) {
        return;
    }
    self->accel = GPOINTER_TO_UINT(g_object_get_data(G_OBJECT(check), "value"));
    adw_expander_row_set_subtitle(self->accel_row, accel_title(self->accel));
    validate(self);
}

static GtkWidget *add_choice(VireoVmEditor *self, AdwExpanderRow *expander, const char *title,
                             GtkWidget *group, guint value, GCallback toggled, GtkWidget **row_out)
{
    GtkWidget *row = adw_action_row_new();
    GtkWidget *check = gtk_check_button_new();

    adw_preferences_row_set_use_markup(ADW_PREFERENCES_ROW(row), FALSE);
    adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), title);
    gtk_widget_set_valign(check, GTK_ALIGN_CENTER);
    if (group != NULL) {
        gtk_check_button_set_group(GTK_CHECK_BUTTON(check), GTK_CHECK_BUTTON(group));
    }
    g_object_set_data(G_OBJECT(check), "value", GUINT_TO_POINTER(value));
    adw_action_row_add_prefix(ADW_ACTION_ROW(row), check);
    adw_action_row_set_activatable_widget(ADW_ACTION_ROW(row), check);
    g_signal_connect(check, "toggled", toggled, self);
    adw_expander_row_add_row(expander, row);
    if (row_out != NULL) {
        *row_out = row;
    }
    return check;
}

static void build_choices(VireoVmEditor *self)
{
    for (int i = 0; i < VIREO_ARCH_COUNT; i++) {
        GtkWidget *row;
        self->arch_checks[i] = add_choice(self, self->arch_row, vireo_arch_name((VireoArch)i),
                                          i > 0 ? self->arch_checks[0] : NULL, (guint)i,
                                          G_CALLBACK(on_arch_toggled), &row);
        /* An architecture without a frontend cannot be chosen; the row
         * says why. */
        if (!vireo_arch_has_frontend((VireoArch)i)) {
            g_autoptr(GError) error = NULL;
            vireo_accel_probe(VIREO_ACCEL_SOFT, (VireoArch)i, &error);
            gtk_widget_set_sensitive(row, FALSE);
            adw_action_row_set_subtitle(ADW_ACTION_ROW(row), error != NULL ? error->message : "");
        }
    }
    for (int i = 0; i < VIREO_ACCEL_COUNT; i++) {
        self->accel_checks[i] = add_choice(self, self->accel_row, accel_title((VireoAccelKind)i),
                                           i > 0 ? self->accel_checks[0] : NULL, (guint)i,
                                           G_CALLBACK(on_accel_toggled), &self->accel_rows[i]);
    }
}

/* ---- Disks -------------------------------------------------------------- */

static void rebuild_disks(VireoVmEditor *self);

static void on_disk_remove(GtkButton *button, VireoVmEditor *self)
{
    guint index = GPOINTER_TO_UINT(g_object_get_data(G_OBJECT(button), "index"));

    if (index < self->disks->len) {
        g_array_remove_index(self->disks, index);
    }
    rebuild_disks(self);
    validate(self);
}

static void on_disk_read_only(GtkCheckButton *check, GParamSpec *pspec, VireoVmEditor *self)
{
    guint index = GPOINTER_TO_UINT(g_object_get_data(G_OBJECT(check), "index"));

    if (index < self->disks->len) {
        g_array_index(self->disks, DiskItem, index).read_only = gtk_check_button_get_active(check);
    }
}

static void rebuild_disks(VireoVmEditor *self)
{
    GtkWidget *child;

    while ((child = gtk_widget_get_first_child(GTK_WIDGET(self->disk_list))) != NULL) {
        gtk_list_box_remove(self->disk_list, child);
    }
    for (guint i = 0; i < self->disks->len; i++) {
        DiskItem *item = &g_array_index(self->disks, DiskItem, i);
        g_autofree char *base = g_path_get_basename(item->path);
        GtkWidget *row = adw_action_row_new();
        GtkWidget *ro = gtk_check_button_new_with_mnemonic(_("_Read-only"));
        GtkWidget *remove = gtk_button_new_from_icon_name("user-trash-symbolic");

        adw_preferences_row_set_use_markup(ADW_PREFERENCES_ROW(row), FALSE);
        adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), base);
        g_object_set_data_full(G_OBJECT(row), "hint", g_strdup(item->path), g_free);
        adw_action_row_set_subtitle(ADW_ACTION_ROW(row), item->path);
        adw_action_row_set_subtitle_lines(ADW_ACTION_ROW(row), 2);
        gtk_check_button_set_active(GTK_CHECK_BUTTON(ro), item->read_only);
        gtk_widget_set_valign(ro, GTK_ALIGN_CENTER);
        g_object_set_data(G_OBJECT(ro), "index", GUINT_TO_POINTER(i));
        g_signal_connect(ro, "notify::active", G_CALLBACK(on_disk_read_only), self);
        gtk_widget_set_valign(remove, GTK_ALIGN_CENTER);
        gtk_widget_add_css_class(remove, "flat");
        gtk_widget_set_tooltip_text(remove, _("Remove Disk"));
        gtk_accessible_update_property(GTK_ACCESSIBLE(remove), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                       _("Remove Disk"), -1);
        g_object_set_data(G_OBJECT(remove), "index", GUINT_TO_POINTER(i));
        g_signal_connect(remove, "clicked", G_CALLBACK(on_disk_remove), self);
        adw_action_row_add_suffix(ADW_ACTION_ROW(row), ro);
        adw_action_row_add_suffix(ADW_ACTION_ROW(row), remove);
        gtk_list_box_append(self->disk_list, row);
    }
    gtk_widget_set_visible(GTK_WIDGET(self->disk_list), self->disks->len > 0);
    gtk_widget_set_sensitive(self->add_disk_button, self->disks->len < VIREO_VM_CONFIG_MAX_DISKS);
}

/* ---- Validation --------------------------------------------------------- */

static GStrv split_forwards(const char *text)
{
    g_auto(GStrv) parts = g_strsplit_set(text, ",; ", -1);
    GPtrArray *kept = g_ptr_array_new();

    for (guint i = 0; parts[i] != NULL; i++) {
        if (*parts[i] != '\0') {
            g_ptr_array_add(kept, g_strdup(parts[i]));
        }
    }
    g_ptr_array_add(kept, NULL);
    return (GStrv)g_ptr_array_free(kept, FALSE);
}

/* Checks the file an entry names, if any; FALSE when it has a problem. */
static gboolean check_file_field(VireoVmEditor *self, const char *field, GtkWidget *row,
                                 GtkEntry *entry)
{
    g_autofree char *path = entry_text(entry);
    GError *error = NULL;

    if (*path != '\0') {
        vireo_vm_config_check_file(path, &error);
    }
    check_with(self, field, row, GTK_WIDGET(entry), error);
    return !g_hash_table_contains(self->errors, field);
}

static VireoNetworkMode selected_network(VireoVmEditor *self)
{
    return adw_combo_row_get_selected(self->network_row) == 1 ? VIREO_NETWORK_USER
                                                              : VIREO_NETWORK_NONE;
}

static VireoDisplayDevice selected_display(VireoVmEditor *self)
{
    return adw_combo_row_get_selected(self->display_row) == 1 ? VIREO_DISPLAY_VIRTIO_GPU
                                                              : VIREO_DISPLAY_NONE;
}

/* Checks every field, shows each error next to its field and enables Save
 * only when there is none. */
/* The debugger's port: what the entry holds when the switch is on, 0 when
 * it is off; FALSE with why when it is on without a valid port. */
static gboolean gdb_port(VireoVmEditor *self, guint *port, GError **error)
{
    g_autofree char *text = entry_text(self->gdb_port_entry);

    *port = 0;
    if (!gtk_switch_get_active(self->gdb_switch)) {
        return TRUE;
    }
    if (*text == '\0') {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG, _("a port is required"));
        return FALSE;
    }
    if (!vireo_vm_config_parse_gdb_port(text, port, error)) {
        return FALSE;
    }
    if (*port == 0) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    _("0 is not a port (1 to 65535); turn the switch off instead"));
        return FALSE;
    }
    return TRUE;
}

static void validate(VireoVmEditor *self)
{
    g_autofree char *name = entry_text(self->name_entry);
    g_autofree char *memory = entry_text(self->memory_entry);
    g_autofree char *cmdline = entry_text(self->cmdline_entry);
    g_autofree char *firmware = entry_text(self->firmware_entry);
    g_autofree char *kernel = entry_text(self->kernel_entry);
    g_autofree char *initrd = entry_text(self->initrd_entry);
    g_autofree char *forwards_text = entry_text(self->forwards_entry);
    g_auto(GStrv) forwards = split_forwards(forwards_text);
    GError *error = NULL;
    guint64 bytes;
    guint port;

    if (self->errors == NULL) {
        return; /* still being built */
    }

    vireo_vm_config_check_name(name, &error);
    check_with(self, "name", self->name_row, GTK_WIDGET(self->name_entry), error);

    error = NULL;
    if (vireo_vm_config_parse_memory(memory, &bytes, &error)) {
        vireo_vm_config_check_memory(bytes, &error);
    }
    check_with(self, "memory", self->memory_row, GTK_WIDGET(self->memory_entry), error);

    /* Each file field shows its own problem first, then the rules between
     * them (the configuration's own checks). */
    if (check_file_field(self, "firmware", self->firmware_row, self->firmware_entry) &&
        !vireo_vm_config_check_boot(firmware, kernel, &error)) {
        check_with(self, "firmware", self->firmware_row, GTK_WIDGET(self->firmware_entry), error);
    }
    check_file_field(self, "kernel", self->kernel_row, self->kernel_entry);
    error = NULL;
    if (check_file_field(self, "initrd", self->initrd_row, self->initrd_entry) &&
        !vireo_vm_config_check_initrd(initrd, kernel, &error)) {
        check_with(self, "initrd", self->initrd_row, GTK_WIDGET(self->initrd_entry), error);
    }

    error = NULL;
    vireo_vm_config_check_cmdline(cmdline, &error);
    check_with(self, "cmdline", self->cmdline_row, GTK_WIDGET(self->cmdline_entry), error);

    error = NULL;
    vireo_vm_config_check_forwards(selected_network(self), (const char *const *)forwards, &error);
    check_with(self, "forwards", self->forwards_row, GTK_WIDGET(self->forwards_entry), error);

    error = NULL;
    gdb_port(self, &port, &error);
    check_with(self, "gdb", self->gdb_port_row, GTK_WIDGET(self->gdb_port_entry), error);

    /* Disks: each row shows its own problem. */
    g_hash_table_remove(self->errors, "disks");
    for (guint i = 0; i < self->disks->len; i++) {
        GtkListBoxRow *row = gtk_list_box_get_row_at_index(self->disk_list, (int)i);
        error = NULL;
        vireo_vm_config_check_file(g_array_index(self->disks, DiskItem, i).path, &error);
        if (row != NULL) {
            g_autofree char *field = g_strdup_printf("disk.%u", i);
            check_with(self, field, GTK_WIDGET(row), NULL, error);
            if (g_hash_table_contains(self->errors, field)) {
                g_hash_table_insert(self->errors, g_strdup("disks"), g_strdup(field));
            }
        } else {
            g_clear_error(&error);
        }
    }

    /* A display and a network card leave fewer slots for disks: the
     * display's row says so, or the network's without a display. */
    error = NULL;
    vireo_vm_config_check_devices(self->arch, selected_display(self), selected_network(self),
                                  self->disks->len, &error);
    if (selected_display(self) != VIREO_DISPLAY_NONE) {
        check_with(self, "display", GTK_WIDGET(self->display_row), NULL, error);
        set_field_error(self, "network", GTK_WIDGET(self->network_row), NULL, NULL);
    } else {
        set_field_error(self, "display", GTK_WIDGET(self->display_row), NULL, NULL);
        check_with(self, "network", GTK_WIDGET(self->network_row), NULL, error);
    }

    /* The architecture and accelerator must be able to run. */
    error = NULL;
    if (!vireo_vm_machine_can_run(self->arch, self->accel, &error)) {
        adw_expander_row_set_subtitle(self->accel_row, error->message);
        gtk_widget_add_css_class(GTK_WIDGET(self->accel_row), "vireo-invalid");
        g_hash_table_insert(self->errors, g_strdup("accelerator"), g_strdup(error->message));
        g_clear_error(&error);
    } else {
        adw_expander_row_set_subtitle(self->accel_row, accel_title(self->accel));
        gtk_widget_remove_css_class(GTK_WIDGET(self->accel_row), "vireo-invalid");
        g_hash_table_remove(self->errors, "accelerator");
    }

    gtk_widget_action_set_enabled(GTK_WIDGET(self), "editor.save",
                                  g_hash_table_size(self->errors) == 0);
}

/* The CPU row's models, in its order (the riscv64 board's; the first is the
 * default). */
static const char *const cpu_models[] = { "max", "rva22", "rv64gc" };

static guint cpu_model_index(const char *cpu)
{
    for (guint i = 0; cpu != NULL && i < G_N_ELEMENTS(cpu_models); i++) {
        if (strcmp(cpu_models[i], cpu) == 0) {
            return i;
        }
    }
    return 0;
}

/* The engine row's choices, in its order: the first leaves [core] engine
 * out (the default, the JIT where this build has it). */
static const VireoEngineKind engine_choices[] = { VIREO_ENGINE_DEFAULT, VIREO_ENGINE_INTERP };

static guint engine_index(VireoEngineKind engine)
{
    return engine == VIREO_ENGINE_INTERP ? 1 : 0;
}

static VireoEngineKind selected_engine(VireoVmEditor *self)
{
    return engine_choices[MIN(adw_combo_row_get_selected(self->engine_row),
                              G_N_ELEMENTS(engine_choices) - 1)];
}

/* ---- Building and saving the configuration ------------------------------ */

static VireoVmConfig *build_config(VireoVmEditor *self)
{
    VireoVmConfig *config = vireo_vm_config_new();
    g_autofree char *name = entry_text(self->name_entry);
    g_autofree char *memory = entry_text(self->memory_entry);
    g_autofree char *firmware = entry_text(self->firmware_entry);
    g_autofree char *kernel = entry_text(self->kernel_entry);
    g_autofree char *initrd = entry_text(self->initrd_entry);
    g_autofree char *cmdline = entry_text(self->cmdline_entry);
    g_autofree char *forwards_text = entry_text(self->forwards_entry);
    g_auto(GStrv) forwards = split_forwards(forwards_text);
    guint64 bytes = VIREO_VM_CONFIG_DEFAULT_MEMORY;
    guint port = 0;

    vireo_vm_config_parse_memory(memory, &bytes, NULL);
    vireo_vm_config_set_name(config, name);
    vireo_vm_config_set_arch(config, self->arch);
    vireo_vm_config_set_accel(config, self->accel);
    vireo_vm_config_set_cpus(config, (guint)gtk_spin_button_get_value_as_int(self->cpus_spin));
    vireo_vm_config_set_cpu(
        config,
        cpu_models[MIN(adw_combo_row_get_selected(self->cpu_row), G_N_ELEMENTS(cpu_models) - 1)]);
    vireo_vm_config_set_engine(config, selected_engine(self));
    vireo_vm_config_set_memory(config, bytes);
    vireo_vm_config_set_firmware(config, firmware);
    vireo_vm_config_set_kernel(config, kernel);
    vireo_vm_config_set_initrd(config, initrd);
    vireo_vm_config_set_cmdline(config, cmdline);
    for (guint i = 0; i < self->disks->len; i++) {
        DiskItem *item = &g_array_index(self->disks, DiskItem, i);
        vireo_vm_config_add_disk(config, item->path, item->read_only);
        vireo_vm_config_set_disk_format(config, i, item->format);
    }
    vireo_vm_config_set_network(config, selected_network(self));
    vireo_vm_config_set_forwards(config, (const char *const *)forwards);
    vireo_vm_config_set_display(config, selected_display(self));
    if (gdb_port(self, &port, NULL)) {
        vireo_vm_config_set_gdb_port(config, port);
    }
    return config;
}

static void save_action(GtkWidget *widget, const char *name, GVariant *param)
{
    VireoVmEditor *self = VIREO_VM_EDITOR(widget);
    g_autoptr(VireoVmConfig) config = NULL;
    g_autoptr(GError) error = NULL;
    VireoVmEntry *entry = self->entry;

    validate(self);
    if (g_hash_table_size(self->errors) > 0) {
        return;
    }
    config = build_config(self);
    if (entry == NULL) {
        entry = vireo_vm_library_create(self->library, config, &error);
    } else if (!vireo_vm_library_save(self->library, entry, config, &error)) {
        entry = NULL;
    }
    if (entry == NULL) {
        g_autofree char *text = g_strdup_printf(_("Cannot save: %s"), error->message);
        g_autofree char *escaped = g_markup_escape_text(text, -1);
        /* A toast's title is Pango markup. */
        adw_toast_overlay_add_toast(self->toast_overlay, adw_toast_new(escaped));
        return;
    }
    g_signal_emit(self, signals[SAVED], 0, entry);
    gtk_window_destroy(GTK_WINDOW(self));
}

static void cancel_action(GtkWidget *widget, const char *name, GVariant *param)
{
    gtk_window_destroy(GTK_WINDOW(widget));
}

/* ---- File choosers ------------------------------------------------------ */

typedef enum {
    CHOOSE_FIRMWARE,
    CHOOSE_KERNEL,
    CHOOSE_INITRD,
    CHOOSE_DISK,
} ChooseTarget;

static void on_chooser_response(GtkNativeDialog *dialog, int response, VireoVmEditor *self)
{
    ChooseTarget target = GPOINTER_TO_UINT(g_object_get_data(G_OBJECT(dialog), "target"));

    if (response == GTK_RESPONSE_ACCEPT) {
        g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
        g_autofree char *path = file != NULL ? g_file_get_path(file) : NULL;

        if (path != NULL) {
            switch (target) {
            case CHOOSE_FIRMWARE:
                gtk_editable_set_text(GTK_EDITABLE(self->firmware_entry), path);
                break;
            case CHOOSE_KERNEL:
                gtk_editable_set_text(GTK_EDITABLE(self->kernel_entry), path);
                break;
            case CHOOSE_INITRD:
                gtk_editable_set_text(GTK_EDITABLE(self->initrd_entry), path);
                break;
            case CHOOSE_DISK: {
                DiskItem item = { g_strdup(path), FALSE, vireo_vm_config_detect_format(path) };
                g_array_append_val(self->disks, item);
                rebuild_disks(self);
                break;
            }
            default: break;
            }
        }
    }
    g_clear_object(&self->chooser);
    validate(self);
}

static void choose_file(VireoVmEditor *self, ChooseTarget target, const char *title)
{
    g_clear_object(&self->chooser);
    self->chooser = gtk_file_chooser_native_new(
        title, GTK_WINDOW(self), GTK_FILE_CHOOSER_ACTION_OPEN, _("_Select"), _("_Cancel"));
    gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(self->chooser), TRUE);
    g_object_set_data(G_OBJECT(self->chooser), "target", GUINT_TO_POINTER(target));
    g_signal_connect(self->chooser, "response", G_CALLBACK(on_chooser_response), self);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(self->chooser));
}

static void on_firmware_button(VireoVmEditor *self)
{
    choose_file(self, CHOOSE_FIRMWARE, _("Choose the Firmware"));
}

static void on_kernel_button(VireoVmEditor *self)
{
    choose_file(self, CHOOSE_KERNEL, _("Choose the Kernel or Boot Loader"));
}

static void on_initrd_button(VireoVmEditor *self)
{
    choose_file(self, CHOOSE_INITRD, _("Choose the Initial RAM Disk"));
}

static void on_add_disk_button(VireoVmEditor *self)
{
    choose_file(self, CHOOSE_DISK, _("Choose a Disk Image"));
}

/* ---- Filling the fields ------------------------------------------------- */

static void set_entry(GtkEntry *entry, const char *text)
{
    gtk_editable_set_text(GTK_EDITABLE(entry), text != NULL ? text : "");
}

static void load_config(VireoVmEditor *self, VireoVmConfig *config)
{
    g_autofree char *memory = vireo_vm_config_format_memory(vireo_vm_config_get_memory(config));
    g_autofree char *forwards = g_strjoinv(", ", (char **)vireo_vm_config_get_forwards(config));

    set_entry(self->name_entry, vireo_vm_config_get_name(config));
    self->arch = vireo_vm_config_get_arch(config);
    self->accel = vireo_vm_config_get_accel(config);
    gtk_check_button_set_active(GTK_CHECK_BUTTON(self->arch_checks[self->arch]), TRUE);
    gtk_check_button_set_active(GTK_CHECK_BUTTON(self->accel_checks[self->accel]), TRUE);
    adw_expander_row_set_subtitle(self->arch_row, vireo_arch_name(self->arch));
    gtk_spin_button_set_value(self->cpus_spin, vireo_vm_config_get_cpus(config));
    adw_combo_row_set_selected(self->cpu_row, cpu_model_index(vireo_vm_config_get_cpu(config)));
    adw_combo_row_set_selected(self->engine_row, engine_index(vireo_vm_config_get_engine(config)));
    set_entry(self->memory_entry, memory);
    set_entry(self->firmware_entry, vireo_vm_config_get_firmware(config));
    set_entry(self->kernel_entry, vireo_vm_config_get_kernel(config));
    set_entry(self->initrd_entry, vireo_vm_config_get_initrd(config));
    set_entry(self->cmdline_entry, vireo_vm_config_get_cmdline(config));
    g_array_set_size(self->disks, 0);
    for (guint i = 0; i < vireo_vm_config_get_n_disks(config); i++) {
        DiskItem item = { g_strdup(vireo_vm_config_get_disk_path(config, i)),
                          vireo_vm_config_get_disk_read_only(config, i),
                          vireo_vm_config_get_disk_format(config, i) };
        g_array_append_val(self->disks, item);
    }
    rebuild_disks(self);
    adw_combo_row_set_selected(self->network_row,
                               vireo_vm_config_get_network(config) == VIREO_NETWORK_USER ? 1 : 0);
    set_entry(self->forwards_entry, forwards);
    adw_combo_row_set_selected(
        self->display_row, vireo_vm_config_get_display(config) == VIREO_DISPLAY_VIRTIO_GPU ? 1 : 0);
    gtk_switch_set_active(self->gdb_switch, vireo_vm_config_get_gdb_port(config) != 0);
    if (vireo_vm_config_get_gdb_port(config) != 0) {
        g_autofree char *port = g_strdup_printf("%u", vireo_vm_config_get_gdb_port(config));
        set_entry(self->gdb_port_entry, port);
    } else {
        /* Where gdb-multiarch users usually look first. */
        set_entry(self->gdb_port_entry, "1234");
    }
    update_accel_rows(self);
}

/* ---- GObject ------------------------------------------------------------ */

static void vireo_vm_editor_dispose(GObject *object)
{
    VireoVmEditor *self = VIREO_VM_EDITOR(object);

    if (self->chooser != NULL) {
        gtk_native_dialog_destroy(GTK_NATIVE_DIALOG(self->chooser));
        g_clear_object(&self->chooser);
    }
    g_clear_object(&self->library);
    g_clear_object(&self->entry);
    gtk_widget_dispose_template(GTK_WIDGET(self), VIREO_TYPE_VM_EDITOR);
    G_OBJECT_CLASS(vireo_vm_editor_parent_class)->dispose(object);
}

static void vireo_vm_editor_finalize(GObject *object)
{
    VireoVmEditor *self = VIREO_VM_EDITOR(object);

    g_array_unref(self->disks);
    g_clear_pointer(&self->errors, g_hash_table_unref);
    G_OBJECT_CLASS(vireo_vm_editor_parent_class)->finalize(object);
}

static void vireo_vm_editor_class_init(VireoVmEditorClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    object_class->dispose = vireo_vm_editor_dispose;
    object_class->finalize = vireo_vm_editor_finalize;

    /* The VM that was created or saved. */
    signals[SAVED] = g_signal_new("saved", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                  NULL, NULL, G_TYPE_NONE, 1, VIREO_TYPE_VM_ENTRY);

    gtk_widget_class_set_template_from_resource(widget_class,
                                                "/io/github/vireo/Vireo/vireo-vm-editor.ui");
    gtk_widget_class_bind_template_child(widget_class, VireoVmEditor, toast_overlay);
    gtk_widget_class_bind_template_child(widget_class, VireoVmEditor, save_button);
    gtk_widget_class_bind_template_child(widget_class, VireoVmEditor, name_row);
    gtk_widget_class_bind_template_child(widget_class, VireoVmEditor, name_entry);
    gtk_widget_class_bind_template_child(widget_class, VireoVmEditor, arch_row);
    gtk_widget_class_bind_template_child(widget_class, VireoVmEditor, accel_row);
    gtk_widget_class_bind_template_child(widget_class, VireoVmEditor, cpus_spin);
    gtk_widget_class_bind_template_child(widget_class, VireoVmEditor, cpu_row);
    gtk_widget_class_bind_template_child(widget_class, VireoVmEditor, engine_row);
    gtk_widget_class_bind_template_child(widget_class, VireoVmEditor, memory_row);
    gtk_widget_class_bind_template_child(widget_class, VireoVmEditor, memory_entry);
    gtk_widget_class_bind_template_child(widget_class, VireoVmEditor, firmware_row);
    gtk_widget_class_bind_template_child(widget_class, VireoVmEditor, firmware_entry);
    gtk_widget_class_bind_template_child(widget_class, VireoVmEditor, firmware_button);
    gtk_widget_class_bind_template_child(widget_class, VireoVmEditor, kernel_row);
    gtk_widget_class_bind_template_child(widget_class, VireoVmEditor, kernel_entry);
    gtk_widget_class_bind_template_child(widget_class, VireoVmEditor, kernel_button);
    gtk_widget_class_bind_template_child(widget_class, VireoVmEditor, initrd_row);
    gtk_widget_class_bind_template_child(widget_class, VireoVmEditor, initrd_entry);
    gtk_widget_class_bind_template_child(widget_class, VireoVmEditor, initrd_button);
    gtk_widget_class_bind_template_child(widget_class, VireoVmEditor, cmdline_row);
    gtk_widget_class_bind_template_child(widget_class, VireoVmEditor, cmdline_entry);
    gtk_widget_class_bind_template_child(widget_class, VireoVmEditor, add_disk_button);
    gtk_widget_class_bind_template_child(widget_class, VireoVmEditor, disk_list);
    gtk_widget_class_bind_template_child(widget_class, VireoVmEditor, network_row);
    gtk_widget_class_bind_template_child(widget_class, VireoVmEditor, forwards_row);
    gtk_widget_class_bind_template_child(widget_class, VireoVmEditor, forwards_entry);
    gtk_widget_class_bind_template_child(widget_class, VireoVmEditor, display_row);
    gtk_widget_class_bind_template_child(widget_class, VireoVmEditor, gdb_switch);
    gtk_widget_class_bind_template_child(widget_class, VireoVmEditor, gdb_port_row);
    gtk_widget_class_bind_template_child(widget_class, VireoVmEditor, gdb_port_entry);

    gtk_widget_class_install_action(widget_class, "editor.save", NULL, save_action);
    gtk_widget_class_install_action(widget_class, "editor.cancel", NULL, cancel_action);
    gtk_widget_class_add_binding_action(widget_class, GDK_KEY_Escape, 0, "editor.cancel", NULL);
    gtk_widget_class_add_binding_action(widget_class, GDK_KEY_s, GDK_CONTROL_MASK, "editor.save",
                                        NULL);
}

static void vireo_vm_editor_init(VireoVmEditor *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));

    GtkEntry *entries[] = { self->name_entry,     self->memory_entry,  self->firmware_entry,
                            self->kernel_entry,   self->initrd_entry,  self->cmdline_entry,
                            self->forwards_entry, self->gdb_port_entry };
    GtkWidget *buttons[] = { self->firmware_button, self->kernel_button, self->initrd_button };

    self->disks = g_array_new(FALSE, TRUE, sizeof(DiskItem));
    g_array_set_clear_func(self->disks, disk_item_clear);
    build_choices(self);

    /* Without the JIT in this build the default is the interpreter, and
     * the first choice says so. */
    if (!vireo_engine_available(VIREO_ENGINE_JIT, NULL)) {
        const char *first[] = { _("Default (interpreter)"), NULL };

        gtk_string_list_splice(GTK_STRING_LIST(adw_combo_row_get_model(self->engine_row)), 0, 1,
                               first);
        adw_action_row_set_subtitle(
            ADW_ACTION_ROW(self->engine_row),
            _("This build of Vireo has no just-in-time compiler for this computer"));
    }

    g_object_set_data_full(G_OBJECT(self->memory_row), "hint",
                           g_strdup(adw_action_row_get_subtitle(ADW_ACTION_ROW(self->memory_row))),
                           g_free);
    g_object_set_data_full(
        G_OBJECT(self->forwards_row), "hint",
        g_strdup(adw_action_row_get_subtitle(ADW_ACTION_ROW(self->forwards_row))), g_free);

    g_object_set_data_full(
        G_OBJECT(self->gdb_port_row), "hint",
        g_strdup(adw_action_row_get_subtitle(ADW_ACTION_ROW(self->gdb_port_row))), g_free);

    for (guint i = 0; i < G_N_ELEMENTS(entries); i++) {
        g_signal_connect_swapped(entries[i], "changed", G_CALLBACK(validate), self);
        gtk_entry_set_activates_default(entries[i], TRUE);
    }
    for (guint i = 0; i < G_N_ELEMENTS(buttons); i++) {
        gtk_accessible_update_property(GTK_ACCESSIBLE(buttons[i]), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                       _("Choose a File…"), -1);
    }
    g_signal_connect_swapped(self->network_row, "notify::selected", G_CALLBACK(validate), self);
    g_signal_connect_swapped(self->display_row, "notify::selected", G_CALLBACK(validate), self);
    g_signal_connect_swapped(self->gdb_switch, "notify::active", G_CALLBACK(validate), self);
    g_signal_connect_swapped(self->firmware_button, "clicked", G_CALLBACK(on_firmware_button),
                             self);
    g_signal_connect_swapped(self->kernel_button, "clicked", G_CALLBACK(on_kernel_button), self);
    g_signal_connect_swapped(self->initrd_button, "clicked", G_CALLBACK(on_initrd_button), self);
    g_signal_connect_swapped(self->add_disk_button, "clicked", G_CALLBACK(on_add_disk_button),
                             self);
    gtk_window_set_default_widget(GTK_WINDOW(self), self->save_button);
}

GtkWidget *vireo_vm_editor_new(GtkWindow *parent, VireoVmLibrary *library, VireoVmEntry *entry)
{
    VireoVmEditor *self;
    g_autoptr(VireoVmConfig) config = NULL;

    g_return_val_if_fail(parent == NULL || GTK_IS_WINDOW(parent), NULL);
    g_return_val_if_fail(VIREO_IS_VM_LIBRARY(library), NULL);
    g_return_val_if_fail(entry == NULL || VIREO_IS_VM_ENTRY(entry), NULL);

    self = g_object_new(VIREO_TYPE_VM_EDITOR, "transient-for", parent, "application",
                        parent != NULL ? gtk_window_get_application(parent) : NULL, NULL);
    self->library = g_object_ref(library);
    self->entry = entry != NULL ? g_object_ref(entry) : NULL;

    if (entry != NULL && vireo_vm_entry_get_config(entry) != NULL) {
        g_autofree char *title = g_strdup_printf(_("Edit “%s”"), vireo_vm_entry_get_name(entry));
        gtk_window_set_title(GTK_WINDOW(self), title);
        config = vireo_vm_config_copy(vireo_vm_entry_get_config(entry));
    } else {
        /* A new VM: RISC-V on the software engine, starting OpenSBI when it
         * is installed. */
        gtk_window_set_title(GTK_WINDOW(self), _("New Virtual Machine"));
        gtk_button_set_label(GTK_BUTTON(self->save_button), _("C_reate"));
        config = vireo_vm_config_new();
        vireo_vm_config_set_name(config, _("New Virtual Machine"));
        if (g_file_test(VIREO_DEMO_FIRMWARE, G_FILE_TEST_IS_REGULAR)) {
            vireo_vm_config_set_firmware(config, VIREO_DEMO_FIRMWARE);
        }
    }
    load_config(self, config);
    self->errors = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    validate(self);
    return GTK_WIDGET(self);
}

GtkWidget *vireo_vm_editor_get_field(VireoVmEditor *self, const char *name)
{
    const struct {
        const char *name;
        gsize offset;
    } fields[] = {
        { "name", G_STRUCT_OFFSET(VireoVmEditor, name_entry) },
        { "memory", G_STRUCT_OFFSET(VireoVmEditor, memory_entry) },
        { "cpus", G_STRUCT_OFFSET(VireoVmEditor, cpus_spin) },
        { "cpu", G_STRUCT_OFFSET(VireoVmEditor, cpu_row) },
        { "engine", G_STRUCT_OFFSET(VireoVmEditor, engine_row) },
        { "firmware", G_STRUCT_OFFSET(VireoVmEditor, firmware_entry) },
        { "kernel", G_STRUCT_OFFSET(VireoVmEditor, kernel_entry) },
        { "initrd", G_STRUCT_OFFSET(VireoVmEditor, initrd_entry) },
        { "cmdline", G_STRUCT_OFFSET(VireoVmEditor, cmdline_entry) },
        { "forwards", G_STRUCT_OFFSET(VireoVmEditor, forwards_entry) },
        { "architecture", G_STRUCT_OFFSET(VireoVmEditor, arch_row) },
        { "accelerator", G_STRUCT_OFFSET(VireoVmEditor, accel_row) },
        { "network", G_STRUCT_OFFSET(VireoVmEditor, network_row) },
        { "display", G_STRUCT_OFFSET(VireoVmEditor, display_row) },
        { "gdb-switch", G_STRUCT_OFFSET(VireoVmEditor, gdb_switch) },
        { "gdb", G_STRUCT_OFFSET(VireoVmEditor, gdb_port_entry) },
        { "save", G_STRUCT_OFFSET(VireoVmEditor, save_button) },
    };

    g_return_val_if_fail(VIREO_IS_VM_EDITOR(self), NULL);
    g_return_val_if_fail(name != NULL, NULL);

    for (guint i = 0; i < G_N_ELEMENTS(fields); i++) {
        if (strcmp(fields[i].name, name) == 0) {
            return G_STRUCT_MEMBER(GtkWidget *, self, fields[i].offset);
        }
    }
    return NULL;
}

const char *vireo_vm_editor_get_field_error(VireoVmEditor *self, const char *name)
{
    g_return_val_if_fail(VIREO_IS_VM_EDITOR(self), NULL);
    return g_hash_table_lookup(self->errors, name);
}
