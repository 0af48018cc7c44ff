/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "vireo-window"

#include "config.h"

#include <glib/gi18n.h>

#include "vireo-window.h"

struct _VireoWindow {
    AdwApplicationWindow parent_instance;
    AdwStatusPage *empty_page;
};

G_DEFINE_FINAL_TYPE(VireoWindow, vireo_window, ADW_TYPE_APPLICATION_WINDOW)

static GSettings *window_settings(VireoWindow *self)
{
    GtkApplication *app = gtk_window_get_application(GTK_WINDOW(self));

    if (app == NULL || !VIREO_IS_APPLICATION(app)) {
        return NULL;
    }
    return vireo_application_get_settings(VIREO_APPLICATION(app));
}

static gboolean vireo_window_close_request(GtkWindow *window)
{
    VireoWindow *self = VIREO_WINDOW(window);
    GSettings *settings = window_settings(self);
    int width, height;

    if (settings != NULL) {
        gtk_window_get_default_size(window, &width, &height);
        g_settings_set(settings, "window-size", "(ii)", width, height);
        g_settings_set_boolean(settings, "window-maximized", gtk_window_is_maximized(window));
    }
    return GTK_WINDOW_CLASS(vireo_window_parent_class)->close_request(window);
}

static void vireo_window_constructed(GObject *object)
{
    VireoWindow *self = VIREO_WINDOW(object);
    GSettings *settings;
    int width = 960, height = 640;

    G_OBJECT_CLASS(vireo_window_parent_class)->constructed(object);

    settings = window_settings(self);
    if (settings != NULL) {
        g_settings_get(settings, "window-size", "(ii)", &width, &height);
        if (g_settings_get_boolean(settings, "window-maximized")) {
            gtk_window_maximize(GTK_WINDOW(self));
        }
    }
    gtk_window_set_default_size(GTK_WINDOW(self), MAX(width, 360), MAX(height, 294));
}

static void vireo_window_class_init(VireoWindowClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    GtkWindowClass *window_class = GTK_WINDOW_CLASS(klass);

    object_class->constructed = vireo_window_constructed;
    window_class->close_request = vireo_window_close_request;

    gtk_widget_class_set_template_from_resource(widget_class,
                                                "/io/github/vireo/Vireo/vireo-window.ui");
    gtk_widget_class_bind_template_child(widget_class, VireoWindow, empty_page);
}

static void vireo_window_init(VireoWindow *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
}

VireoWindow *vireo_window_new(VireoApplication *app)
{
    return g_object_new(VIREO_TYPE_WINDOW, "application", app, NULL);
}
