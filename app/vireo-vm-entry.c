/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "vireo-vm-entry"

#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>

#include "vireo-vm-entry.h"

#include "engine/error.h"

struct _VireoVmEntry {
    GObject parent_instance;

    char *id;
    char *dir;
    VireoVmConfig *config;
    char *error;
    VireoVmController *controller;
};

G_DEFINE_FINAL_TYPE(VireoVmEntry, vireo_vm_entry, G_TYPE_OBJECT)

enum {
    PROP_0,
    PROP_ID,
    PROP_DIR,
    PROP_NAME,
    PROP_CONFIG,
    PROP_ERROR,
    PROP_STATE,
    N_PROPS,
};

static GParamSpec *properties[N_PROPS];

static void set_error(VireoVmEntry *self, const char *message)
{
    if (g_strcmp0(self->error, message) != 0) {
        g_free(self->error);
        self->error = g_strdup(message);
        g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_ERROR]);
    }
}

static void set_config(VireoVmEntry *self, VireoVmConfig *config)
{
    if (g_set_object(&self->config, config)) {
        if (self->controller != NULL && config != NULL) {
            vireo_vm_controller_set_config(self->controller, config);
        }
        g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_CONFIG]);
        g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_NAME]);
    }
}

static void on_controller_state(VireoVmEntry *self)
{
    g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_STATE]);
}

static void vireo_vm_entry_dispose(GObject *object)
{
    VireoVmEntry *self = VIREO_VM_ENTRY(object);

    if (self->controller != NULL) {
        g_signal_handlers_disconnect_by_data(self->controller, self);
        g_clear_object(&self->controller);
    }
    G_OBJECT_CLASS(vireo_vm_entry_parent_class)->dispose(object);
}

static void vireo_vm_entry_finalize(GObject *object)
{
    VireoVmEntry *self = VIREO_VM_ENTRY(object);

    g_free(self->id);
    g_free(self->dir);
    g_clear_object(&self->config);
    g_free(self->error);
    G_OBJECT_CLASS(vireo_vm_entry_parent_class)->finalize(object);
}

static void vireo_vm_entry_get_property(GObject *object, guint prop_id, GValue *value,
                                        GParamSpec *pspec)
{
    VireoVmEntry *self = VIREO_VM_ENTRY(object);

    switch (prop_id) {
    case PROP_ID: g_value_set_string(value, self->id); break;
    case PROP_DIR: g_value_set_string(value, self->dir); break;
    case PROP_NAME: g_value_set_string(value, vireo_vm_entry_get_name(self)); break;
    case PROP_CONFIG: g_value_set_object(value, self->config); break;
    case PROP_ERROR: g_value_set_string(value, self->error); break;
    case PROP_STATE: g_value_set_enum(value, vireo_vm_entry_get_state(self)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void vireo_vm_entry_set_property(GObject *object, guint prop_id, const GValue *value,
                                        GParamSpec *pspec)
{
    VireoVmEntry *self = VIREO_VM_ENTRY(object);

    switch (prop_id) {
    case PROP_ID: self->id = g_value_dup_string(value); break;
    case PROP_DIR: self->dir = g_value_dup_string(value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void vireo_vm_entry_class_init(VireoVmEntryClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);

    object_class->dispose = vireo_vm_entry_dispose;
    object_class->finalize = vireo_vm_entry_finalize;
    object_class->get_property = vireo_vm_entry_get_property;
    object_class->set_property = vireo_vm_entry_set_property;

    properties[PROP_ID] =
        g_param_spec_string("id", NULL, NULL, NULL,
                            G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
    properties[PROP_DIR] =
        g_param_spec_string("dir", NULL, NULL, NULL,
                            G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
    properties[PROP_NAME] =
        g_param_spec_string("name", NULL, NULL, NULL,
                            G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
    properties[PROP_CONFIG] =
        g_param_spec_object("config", NULL, NULL, VIREO_TYPE_VM_CONFIG,
                            G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
    properties[PROP_ERROR] =
        g_param_spec_string("error", NULL, NULL, NULL,
                            G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
    properties[PROP_STATE] =
        g_param_spec_enum("state", NULL, NULL, VIREO_TYPE_VM_STATE, VIREO_VM_STATE_STOPPED,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
    g_object_class_install_properties(object_class, N_PROPS, properties);
}

static void vireo_vm_entry_init(VireoVmEntry *self)
{
}

VireoVmEntry *vireo_vm_entry_new(const char *id, const char *dir)
{
    g_return_val_if_fail(id != NULL, NULL);
    g_return_val_if_fail(dir != NULL, NULL);
    return g_object_new(VIREO_TYPE_VM_ENTRY, "id", id, "dir", dir, NULL);
}

const char *vireo_vm_entry_get_id(VireoVmEntry *self)
{
    g_return_val_if_fail(VIREO_IS_VM_ENTRY(self), NULL);
    return self->id;
}

const char *vireo_vm_entry_get_dir(VireoVmEntry *self)
{
    g_return_val_if_fail(VIREO_IS_VM_ENTRY(self), NULL);
    return self->dir;
}

char *vireo_vm_entry_dup_config_path(VireoVmEntry *self)
{
    g_return_val_if_fail(VIREO_IS_VM_ENTRY(self), NULL);
    return g_build_filename(self->dir, "vm.conf", NULL);
}

const char *vireo_vm_entry_get_name(VireoVmEntry *self)
{
    g_return_val_if_fail(VIREO_IS_VM_ENTRY(self), NULL);
    return self->config != NULL ? vireo_vm_config_get_name(self->config) : self->id;
}

VireoVmConfig *vireo_vm_entry_get_config(VireoVmEntry *self)
{
    g_return_val_if_fail(VIREO_IS_VM_ENTRY(self), NULL);
    return self->config;
}

const char *vireo_vm_entry_get_error(VireoVmEntry *self)
{
    g_return_val_if_fail(VIREO_IS_VM_ENTRY(self), NULL);
    return self->error;
}

void vireo_vm_entry_check_files(VireoVmEntry *self)
{
    g_autoptr(GError) error = NULL;

    g_return_if_fail(VIREO_IS_VM_ENTRY(self));

    if (self->config == NULL) {
        return;
    }
    vireo_vm_config_check_files(self->config, &error);
    set_error(self, error != NULL ? error->message : NULL);
}

gboolean vireo_vm_entry_reload(VireoVmEntry *self)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VireoVmConfig) config = NULL;
    g_autofree char *path = NULL;

    g_return_val_if_fail(VIREO_IS_VM_ENTRY(self), FALSE);

    path = vireo_vm_entry_dup_config_path(self);
    config = vireo_vm_config_load_from_file(path, &error);
    if (config == NULL) {
        set_config(self, NULL);
        set_error(self, error->message);
        return FALSE;
    }
    set_config(self, config);
    vireo_vm_entry_check_files(self);
    return TRUE;
}

gboolean vireo_vm_entry_save(VireoVmEntry *self, VireoVmConfig *config, GError **error)
{
    g_autofree char *path = NULL;
    g_autoptr(VireoVmConfig) copy = NULL;

    g_return_val_if_fail(VIREO_IS_VM_ENTRY(self), FALSE);
    g_return_val_if_fail(VIREO_IS_VM_CONFIG(config), FALSE);

    path = vireo_vm_entry_dup_config_path(self);
    if (g_mkdir_with_parents(self->dir, 0755) != 0) {
        int err = errno;
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, _("Cannot create “%s”: %s"), self->dir,
                    g_strerror(err));
        return FALSE;
    }
    if (!vireo_vm_config_save_to_file(config, path, error)) {
        return FALSE;
    }
    copy = vireo_vm_config_copy(config);
    set_config(self, copy);
    vireo_vm_entry_check_files(self);
    return TRUE;
}

VireoVmController *vireo_vm_entry_get_controller(VireoVmEntry *self)
{
    g_return_val_if_fail(VIREO_IS_VM_ENTRY(self), NULL);

    if (self->controller == NULL && self->config != NULL) {
        self->controller = vireo_vm_controller_new(self->config);
        g_signal_connect_swapped(self->controller, "notify::state", G_CALLBACK(on_controller_state),
                                 self);
    }
    return self->controller;
}

VireoVmController *vireo_vm_entry_peek_controller(VireoVmEntry *self)
{
    g_return_val_if_fail(VIREO_IS_VM_ENTRY(self), NULL);
    return self->controller;
}

VireoVmState vireo_vm_entry_get_state(VireoVmEntry *self)
{
    g_return_val_if_fail(VIREO_IS_VM_ENTRY(self), VIREO_VM_STATE_STOPPED);
    return self->controller != NULL ? vireo_vm_controller_get_state(self->controller)
                                    : VIREO_VM_STATE_STOPPED;
}
