/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "vireo-application"

#include "config.h"

#include <glib/gi18n.h>

#include "vireo-application.h"
#include "vireo-demo.h"
#include "vireo-resources.h"
#include "vireo-window.h"

struct _VireoApplication {
    AdwApplication parent_instance;
    GSettings *settings;
    VireoVmLibrary *library;
};

G_DEFINE_FINAL_TYPE(VireoApplication, vireo_application, ADW_TYPE_APPLICATION)

static void vireo_application_activate(GApplication *app)
{
    VireoApplication *self = VIREO_APPLICATION(app);
    GtkWindow *window = gtk_application_get_active_window(GTK_APPLICATION(app));

    if (window == NULL) {
        window = GTK_WINDOW(vireo_window_new(self));
    }
    gtk_window_present(window);
}

/* Reads the VM library; on the first start (no library folder yet) it gets
 * the demo VMs. Problems are reported in the window, never fatal. */
static void load_library(VireoApplication *self)
{
    g_autoptr(GError) error = NULL;
    gboolean first_start;

    self->library = vireo_vm_library_new(NULL);
    first_start = !g_file_test(vireo_vm_library_get_base_dir(self->library), G_FILE_TEST_EXISTS);
    if (!vireo_vm_library_load(self->library, &error)) {
        g_warning("%s", error->message);
        return;
    }
    if (first_start) {
        VireoVmEntry *demo = vireo_demo_populate(self->library, &error);
        if (demo == NULL) {
            g_warning("%s", error->message);
        } else if (self->settings != NULL) {
            /* The window opens on the demo, wherever the names sort it. */
            g_settings_set_string(self->settings, "last-selected-vm", vireo_vm_entry_get_id(demo));
        }
    }
}

static void vireo_application_startup(GApplication *app)
{
    VireoApplication *self = VIREO_APPLICATION(app);
    GSettingsSchemaSource *source = g_settings_schema_source_get_default();
    g_autoptr(GSettingsSchema) schema = NULL;

    G_APPLICATION_CLASS(vireo_application_parent_class)->startup(app);

    if (source != NULL) {
        schema = g_settings_schema_source_lookup(source, APP_ID, TRUE);
    }
    if (schema != NULL) {
        self->settings = g_settings_new(APP_ID);
    } else {
        g_message("Settings schema %s is not installed; window state will not be saved", APP_ID);
    }
    load_library(self);
}

static void vireo_application_finalize(GObject *object)
{
    VireoApplication *self = VIREO_APPLICATION(object);

    g_clear_object(&self->settings);
    g_clear_object(&self->library);
    G_OBJECT_CLASS(vireo_application_parent_class)->finalize(object);
}

static void vireo_application_class_init(VireoApplicationClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GApplicationClass *app_class = G_APPLICATION_CLASS(klass);

    object_class->finalize = vireo_application_finalize;
    app_class->activate = vireo_application_activate;
    app_class->startup = vireo_application_startup;
}

static void about_action(GSimpleAction *action, GVariant *param, gpointer user_data)
{
    VireoApplication *self = user_data;
    GtkWindow *parent = gtk_application_get_active_window(GTK_APPLICATION(self));
    static const char *developers[] = { "The Vireo developers", NULL };

    adw_show_about_window(parent, "application-name", _("Vireo"), "application-icon", APP_ID,
                          "version", PACKAGE_VERSION, "developer-name", _("The Vireo developers"),
                          "developers", developers, "license-type", GTK_LICENSE_GPL_3_0, "comments",
                          _("Run and manage virtual machines"), "translator-credits",
                          _("translator-credits"), NULL);
}

static void quit_action(GSimpleAction *action, GVariant *param, gpointer user_data)
{
    GtkApplication *app = user_data;
    GList *windows = g_list_copy(gtk_application_get_windows(app));

    /* Close windows first so that they save their state. */
    for (GList *l = windows; l != NULL; l = l->next) {
        gtk_window_close(GTK_WINDOW(l->data));
    }
    g_list_free(windows);
    g_application_quit(G_APPLICATION(app));
}

static const GActionEntry app_actions[] = {
    { .name = "about", .activate = about_action },
    { .name = "quit", .activate = quit_action },
};

static void vireo_application_init(VireoApplication *self)
{
    static const struct {
        const char *action;
        const char *accels[3];
    } accels[] = {
        { "app.quit", { "<Control>q", NULL } },
        { "win.new-vm", { "<Control>n", NULL } },
        { "win.start", { "<Control><Shift>r", NULL } },
        { "win.pause", { "<Control><Shift>p", NULL } },
        { "win.reset", { "<Control><Shift>b", NULL } },
        { "win.power-off", { "<Control><Shift>o", NULL } },
        { "win.fullscreen", { "F11", NULL } },
        { "win.go-back", { "<Alt>Left", NULL } },
    };

    g_action_map_add_action_entries(G_ACTION_MAP(self), app_actions, G_N_ELEMENTS(app_actions),
                                    self);
    for (guint i = 0; i < G_N_ELEMENTS(accels); i++) {
        gtk_application_set_accels_for_action(GTK_APPLICATION(self), accels[i].action,
                                              accels[i].accels);
    }
}

VireoApplication *vireo_application_new(void)
{
    /* The resource bundle lives in this static library; referencing it keeps
     * the linker from dropping it (it registers itself when loaded). */
    g_return_val_if_fail(vireo_get_resource() != NULL, NULL);
    return g_object_new(VIREO_TYPE_APPLICATION, "application-id", APP_ID, "flags",
                        G_APPLICATION_DEFAULT_FLAGS, "resource-base-path", "/io/github/vireo/Vireo",
                        NULL);
}

GSettings *vireo_application_get_settings(VireoApplication *self)
{
    g_return_val_if_fail(VIREO_IS_APPLICATION(self), NULL);
    return self->settings;
}

VireoVmLibrary *vireo_application_get_library(VireoApplication *self)
{
    g_return_val_if_fail(VIREO_IS_APPLICATION(self), NULL);

    /* Before startup (a window built without a running application). */
    if (self->library == NULL) {
        load_library(self);
    }
    return self->library;
}
