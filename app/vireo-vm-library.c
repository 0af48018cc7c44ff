/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "vireo-vm-library"

#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

#include "vireo-vm-library.h"

#include "engine/error.h"

struct _VireoVmLibrary {
    GObject parent_instance;

    char *base_dir;
    GPtrArray *entries; /* VireoVmEntry, sorted */
};

static void list_model_iface_init(GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE(VireoVmLibrary, vireo_vm_library, G_TYPE_OBJECT,
                              G_IMPLEMENT_INTERFACE(G_TYPE_LIST_MODEL, list_model_iface_init))

enum {
    PROP_0,
    PROP_BASE_DIR,
    N_PROPS,
};

static GParamSpec *properties[N_PROPS];

static GType list_model_get_item_type(GListModel *model)
{
    return VIREO_TYPE_VM_ENTRY;
}

static guint list_model_get_n_items(GListModel *model)
{
    return VIREO_VM_LIBRARY(model)->entries->len;
}

static gpointer list_model_get_item(GListModel *model, guint position)
{
    VireoVmLibrary *self = VIREO_VM_LIBRARY(model);

    if (position >= self->entries->len) {
        return NULL;
    }
    return g_object_ref(g_ptr_array_index(self->entries, position));
}

static void list_model_iface_init(GListModelInterface *iface)
{
    iface->get_item_type = list_model_get_item_type;
    iface->get_n_items = list_model_get_n_items;
    iface->get_item = list_model_get_item;
}

static char *sort_key(VireoVmEntry *entry)
{
    g_autofree char *folded = g_utf8_casefold(vireo_vm_entry_get_name(entry), -1);
    return g_utf8_collate_key(folded, -1);
}

/* By name, ignoring case, in the user's language's order. */
static int compare_entries(VireoVmEntry *a, VireoVmEntry *b)
{
    g_autofree char *ka = sort_key(a);
    g_autofree char *kb = sort_key(b);
    int c = strcmp(ka, kb);

    return c != 0 ? c : strcmp(vireo_vm_entry_get_id(a), vireo_vm_entry_get_id(b));
}

static int compare_entries_ptr(gconstpointer a, gconstpointer b)
{
    return compare_entries(*(VireoVmEntry **)a, *(VireoVmEntry **)b);
}

/* Inserts `entry` at its sorted place. */
static void insert_sorted(VireoVmLibrary *self, VireoVmEntry *entry)
{
    guint pos = 0;

    while (pos < self->entries->len &&
           compare_entries(g_ptr_array_index(self->entries, pos), entry) < 0) {
        pos++;
    }
    g_ptr_array_insert(self->entries, (int)pos, g_object_ref(entry));
    g_list_model_items_changed(G_LIST_MODEL(self), pos, 0, 1);
}

static gboolean remove_entry(VireoVmLibrary *self, VireoVmEntry *entry)
{
    guint pos;

    if (!g_ptr_array_find(self->entries, entry, &pos)) {
        return FALSE;
    }
    g_ptr_array_remove_index(self->entries, pos);
    g_list_model_items_changed(G_LIST_MODEL(self), pos, 1, 0);
    return TRUE;
}

static gboolean io_error(GError **error, const char *what, GError *cause)
{
    g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, "%s: %s", what, cause->message);
    g_error_free(cause);
    return FALSE;
}

static gboolean is_own_entry(VireoVmLibrary *self, VireoVmEntry *entry)
{
    return g_ptr_array_find(self->entries, entry, NULL);
}

/* Deletes `file` and, when it is a folder (not a link to one), what is in
 * it. Symbolic links are removed, never followed. */
static gboolean delete_tree(GFile *file, GError **error)
{
    g_autoptr(GFileInfo) info = NULL;

    info = g_file_query_info(file, G_FILE_ATTRIBUTE_STANDARD_TYPE,
                             G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, error);
    if (info == NULL) {
        return FALSE;
    }
    if (g_file_info_get_file_type(info) == G_FILE_TYPE_DIRECTORY) {
        g_autoptr(GFileEnumerator) children = g_file_enumerate_children(
            file, G_FILE_ATTRIBUTE_STANDARD_NAME, G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, error);
        if (children == NULL) {
            return FALSE;
        }
        for (;;) {
            GFile *child;
            if (!g_file_enumerator_iterate(children, NULL, &child, NULL, error)) {
                return FALSE;
            }
            if (child == NULL) {
                break;
            }
            if (!delete_tree(child, error)) {
                return FALSE;
            }
        }
    }
    return g_file_delete(file, NULL, error);
}

/* Copies the folder `from` into the new folder `to`: files, folders and
 * symbolic links as links. */
static gboolean copy_tree(GFile *from, GFile *to, GError **error)
{
    g_autoptr(GFileEnumerator) children = NULL;

    if (!g_file_make_directory(to, NULL, error)) {
        return FALSE;
    }
    children = g_file_enumerate_children(
        from, G_FILE_ATTRIBUTE_STANDARD_NAME "," G_FILE_ATTRIBUTE_STANDARD_TYPE,
        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, error);
    if (children == NULL) {
        return FALSE;
    }
    for (;;) {
        GFileInfo *info;
        GFile *child;
        g_autoptr(GFile) target = NULL;

        if (!g_file_enumerator_iterate(children, &info, &child, NULL, error)) {
            return FALSE;
        }
        if (info == NULL) {
            break;
        }
        target = g_file_get_child(to, g_file_info_get_name(info));
        if (g_file_info_get_file_type(info) == G_FILE_TYPE_DIRECTORY) {
            if (!copy_tree(child, target, error)) {
                return FALSE;
            }
        } else if (!g_file_copy(child, target,
                                G_FILE_COPY_NOFOLLOW_SYMLINKS | G_FILE_COPY_ALL_METADATA, NULL,
                                NULL, NULL, error)) {
            return FALSE;
        }
    }
    return TRUE;
}

static char *new_id(VireoVmLibrary *self)
{
    for (;;) {
        g_autofree char *id = g_uuid_string_random();
        g_autofree char *dir = g_build_filename(self->base_dir, id, NULL);
        if (!g_file_test(dir, G_FILE_TEST_EXISTS)) {
            return g_steal_pointer(&id);
        }
    }
}

static void vireo_vm_library_finalize(GObject *object)
{
    VireoVmLibrary *self = VIREO_VM_LIBRARY(object);

    g_free(self->base_dir);
    g_ptr_array_unref(self->entries);
    G_OBJECT_CLASS(vireo_vm_library_parent_class)->finalize(object);
}

static void vireo_vm_library_get_property(GObject *object, guint prop_id, GValue *value,
                                          GParamSpec *pspec)
{
    VireoVmLibrary *self = VIREO_VM_LIBRARY(object);

    switch (prop_id) {
    case PROP_BASE_DIR: g_value_set_string(value, self->base_dir); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void vireo_vm_library_set_property(GObject *object, guint prop_id, const GValue *value,
                                          GParamSpec *pspec)
{
    VireoVmLibrary *self = VIREO_VM_LIBRARY(object);

    switch (prop_id) {
    case PROP_BASE_DIR:
        g_free(self->base_dir);
        self->base_dir = g_value_dup_string(value);
        if (self->base_dir == NULL) {
            self->base_dir = g_build_filename(g_get_user_data_dir(), "vireo", "vms", NULL);
        }
        break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void vireo_vm_library_class_init(VireoVmLibraryClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);

    object_class->finalize = vireo_vm_library_finalize;
    object_class->get_property = vireo_vm_library_get_property;
    object_class->set_property = vireo_vm_library_set_property;

    properties[PROP_BASE_DIR] =
        g_param_spec_string("base-dir", NULL, NULL, NULL,
                            G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
    g_object_class_install_properties(object_class, N_PROPS, properties);
}

static void vireo_vm_library_init(VireoVmLibrary *self)
{
    self->entries = g_ptr_array_new_with_free_func(g_object_unref);
}

VireoVmLibrary *vireo_vm_library_new(const char *base_dir)
{
    return g_object_new(VIREO_TYPE_VM_LIBRARY, "base-dir", base_dir, NULL);
}

const char *vireo_vm_library_get_base_dir(VireoVmLibrary *self)
{
    g_return_val_if_fail(VIREO_IS_VM_LIBRARY(self), NULL);
    return self->base_dir;
}

gboolean vireo_vm_library_load(VireoVmLibrary *self, GError **error)
{
    g_autoptr(GDir) dir = NULL;
    g_autoptr(GPtrArray) entries = NULL;
    GError *cause = NULL;
    const char *name;
    guint old_len;

    g_return_val_if_fail(VIREO_IS_VM_LIBRARY(self), FALSE);

    if (g_mkdir_with_parents(self->base_dir, 0755) != 0) {
        int err = errno;
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, _("Cannot create “%s”: %s"), self->base_dir,
                    g_strerror(err));
        return FALSE;
    }
    dir = g_dir_open(self->base_dir, 0, &cause);
    if (dir == NULL) {
        return io_error(error, self->base_dir, cause);
    }
    entries = g_ptr_array_new_with_free_func(g_object_unref);
    while ((name = g_dir_read_name(dir)) != NULL) {
        g_autofree char *path = g_build_filename(self->base_dir, name, NULL);
        VireoVmEntry *entry;

        /* Leftovers of interrupted writes and other files are not VMs. */
        if (name[0] == '.' || !g_file_test(path, G_FILE_TEST_IS_DIR) ||
            g_file_test(path, G_FILE_TEST_IS_SYMLINK)) {
            continue;
        }
        entry = vireo_vm_library_lookup(self, name);
        entry = entry != NULL ? g_object_ref(entry) : vireo_vm_entry_new(name, path);
        vireo_vm_entry_reload(entry);
        g_ptr_array_add(entries, entry);
    }
    g_ptr_array_sort(entries, compare_entries_ptr);

    old_len = self->entries->len;
    g_ptr_array_unref(self->entries);
    self->entries = g_steal_pointer(&entries);
    g_list_model_items_changed(G_LIST_MODEL(self), 0, old_len, self->entries->len);
    return TRUE;
}

VireoVmEntry *vireo_vm_library_lookup(VireoVmLibrary *self, const char *id)
{
    g_return_val_if_fail(VIREO_IS_VM_LIBRARY(self), NULL);
    g_return_val_if_fail(id != NULL, NULL);

    for (guint i = 0; i < self->entries->len; i++) {
        VireoVmEntry *entry = g_ptr_array_index(self->entries, i);
        if (strcmp(vireo_vm_entry_get_id(entry), id) == 0) {
            return entry;
        }
    }
    return NULL;
}

VireoVmEntry *vireo_vm_library_create(VireoVmLibrary *self, VireoVmConfig *config, GError **error)
{
    g_autofree char *id = NULL;
    g_autofree char *dir = NULL;
    g_autoptr(VireoVmEntry) entry = NULL;

    g_return_val_if_fail(VIREO_IS_VM_LIBRARY(self), NULL);
    g_return_val_if_fail(VIREO_IS_VM_CONFIG(config), NULL);

    if (!vireo_vm_config_validate(config, error)) {
        return NULL;
    }
    if (g_mkdir_with_parents(self->base_dir, 0755) != 0) {
        int err = errno;
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, _("Cannot create “%s”: %s"), self->base_dir,
                    g_strerror(err));
        return NULL;
    }
    id = new_id(self);
    dir = g_build_filename(self->base_dir, id, NULL);
    if (g_mkdir(dir, 0755) != 0) {
        int err = errno;
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, _("Cannot create “%s”: %s"), dir,
                    g_strerror(err));
        return NULL;
    }
    entry = vireo_vm_entry_new(id, dir);
    if (!vireo_vm_entry_save(entry, config, error)) {
        g_rmdir(dir);
        return NULL;
    }
    insert_sorted(self, entry);
    return entry;
}

gboolean vireo_vm_library_save(VireoVmLibrary *self, VireoVmEntry *entry, VireoVmConfig *config,
                               GError **error)
{
    g_autoptr(VireoVmEntry) hold = NULL;

    g_return_val_if_fail(VIREO_IS_VM_LIBRARY(self), FALSE);
    g_return_val_if_fail(VIREO_IS_VM_ENTRY(entry), FALSE);
    g_return_val_if_fail(VIREO_IS_VM_CONFIG(config), FALSE);
    g_return_val_if_fail(is_own_entry(self, entry), FALSE);

    if (!vireo_vm_entry_save(entry, config, error)) {
        return FALSE;
    }
    /* The name may have changed: move the entry to its place. */
    hold = g_object_ref(entry);
    remove_entry(self, entry);
    insert_sorted(self, entry);
    return TRUE;
}

gboolean vireo_vm_library_rename(VireoVmLibrary *self, VireoVmEntry *entry, const char *name,
                                 GError **error)
{
    g_autoptr(VireoVmConfig) config = NULL;
    GError *cause = NULL;

    g_return_val_if_fail(VIREO_IS_VM_LIBRARY(self), FALSE);
    g_return_val_if_fail(VIREO_IS_VM_ENTRY(entry), FALSE);
    g_return_val_if_fail(name != NULL, FALSE);

    if (vireo_vm_entry_get_config(entry) == NULL) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG, "%s", vireo_vm_entry_get_error(entry));
        return FALSE;
    }
    if (!vireo_vm_config_check_name(name, &cause)) {
        g_propagate_prefixed_error(error, cause, "[core] name: ");
        return FALSE;
    }
    config = vireo_vm_config_copy(vireo_vm_entry_get_config(entry));
    vireo_vm_config_set_name(config, name);
    return vireo_vm_library_save(self, entry, config, error);
}

VireoVmEntry *vireo_vm_library_clone(VireoVmLibrary *self, VireoVmEntry *entry, const char *name,
                                     GError **error)
{
    g_autoptr(VireoVmConfig) config = NULL;
    g_autoptr(VireoVmEntry) clone = NULL;
    g_autoptr(GFile) from = NULL;
    g_autoptr(GFile) to = NULL;
    g_autofree char *id = NULL;
    g_autofree char *dir = NULL;
    const char *old_dir;
    GError *cause = NULL;

    g_return_val_if_fail(VIREO_IS_VM_LIBRARY(self), NULL);
    g_return_val_if_fail(VIREO_IS_VM_ENTRY(entry), NULL);

    if (vireo_vm_entry_get_config(entry) == NULL) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG, "%s", vireo_vm_entry_get_error(entry));
        return NULL;
    }
    config = vireo_vm_config_copy(vireo_vm_entry_get_config(entry));
    if (name != NULL) {
        vireo_vm_config_set_name(config, name);
    }
    if (!vireo_vm_config_validate(config, error)) {
        return NULL;
    }

    id = new_id(self);
    dir = g_build_filename(self->base_dir, id, NULL);
    from = g_file_new_for_path(vireo_vm_entry_get_dir(entry));
    to = g_file_new_for_path(dir);
    if (!copy_tree(from, to, &cause)) {
        delete_tree(to, NULL);
        return io_error(error, dir, cause), NULL;
    }

    /* Images the VM owns now live in the new folder; those outside stay
     * where they are and are shared. */
    old_dir = vireo_vm_entry_get_dir(entry);
    vireo_vm_config_clear_disks(config);
    for (guint i = 0; i < vireo_vm_config_get_n_disks(vireo_vm_entry_get_config(entry)); i++) {
        VireoVmConfig *orig = vireo_vm_entry_get_config(entry);
        const char *path = vireo_vm_config_get_disk_path(orig, i);
        gboolean ro = vireo_vm_config_get_disk_read_only(orig, i);
        gsize n = strlen(old_dir);
        if (g_str_has_prefix(path, old_dir) && path[n] == G_DIR_SEPARATOR) {
            g_autofree char *moved = g_build_filename(dir, path + n + 1, NULL);
            vireo_vm_config_add_disk(config, moved, ro);
        } else {
            vireo_vm_config_add_disk(config, path, ro);
        }
        vireo_vm_config_set_disk_format(config, i, vireo_vm_config_get_disk_format(orig, i));
    }

    clone = vireo_vm_entry_new(id, dir);
    if (!vireo_vm_entry_save(clone, config, error)) {
        delete_tree(to, NULL);
        return NULL;
    }
    insert_sorted(self, clone);
    return clone;
}

gboolean vireo_vm_library_delete(VireoVmLibrary *self, VireoVmEntry *entry, GError **error)
{
    g_autoptr(VireoVmEntry) hold = NULL;
    g_autoptr(GFile) base = NULL;
    g_autoptr(GFile) dir = NULL;
    g_autoptr(GFile) parent = NULL;
    GError *cause = NULL;
    VireoVmController *controller;

    g_return_val_if_fail(VIREO_IS_VM_LIBRARY(self), FALSE);
    g_return_val_if_fail(VIREO_IS_VM_ENTRY(entry), FALSE);
    g_return_val_if_fail(is_own_entry(self, entry), FALSE);

    controller = vireo_vm_entry_peek_controller(entry);
    if (controller != NULL && vireo_vm_controller_get_state(controller) != VIREO_VM_STATE_STOPPED) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    _("“%s” is running; turn it off before deleting it"),
                    vireo_vm_entry_get_name(entry));
        return FALSE;
    }

    /* Only a folder directly inside the library's own folder is removed. */
    base = g_file_new_for_path(self->base_dir);
    dir = g_file_new_for_path(vireo_vm_entry_get_dir(entry));
    parent = g_file_get_parent(dir);
    if (parent == NULL || !g_file_equal(parent, base)) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, _("“%s” is not in the library's folder"),
                    vireo_vm_entry_get_dir(entry));
        return FALSE;
    }
    if (!delete_tree(dir, &cause)) {
        return io_error(error, vireo_vm_entry_get_dir(entry), cause);
    }
    hold = g_object_ref(entry);
    remove_entry(self, entry);
    return TRUE;
}
