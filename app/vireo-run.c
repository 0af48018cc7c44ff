/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/arch.h"

int main(int argc, char *argv[])
{
    gboolean version = FALSE;
    g_autoptr(GOptionContext) context = NULL;
    g_autoptr(GError) error = NULL;
    const GOptionEntry entries[] = {
        { "version", 'V', 0, G_OPTION_ARG_NONE, &version, N_("Print the version and exit"), NULL },
        { NULL },
    };
    const char *localedir = g_getenv("VIREO_LOCALEDIR");

    setlocale(LC_ALL, "");
    bindtextdomain(GETTEXT_PACKAGE, localedir != NULL ? localedir : LOCALEDIR);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    textdomain(GETTEXT_PACKAGE);

    context = g_option_context_new(NULL);
    g_option_context_set_summary(context, _("Run a virtual machine without a window."));
    g_option_context_add_main_entries(context, entries, GETTEXT_PACKAGE);
    if (!g_option_context_parse(context, &argc, &argv, &error)) {
        g_printerr("vireo-run: %s\n", error->message);
        g_printerr(_("Try “vireo-run --help” for more information.\n"));
        return 2;
    }
    if (version) {
        g_print("vireo-run %s\n", PACKAGE_VERSION);
        return 0;
    }
    if (argc > 1) {
        g_printerr(_("vireo-run: unexpected argument “%s”\n"), argv[1]);
        return 2;
    }
    g_printerr(_("vireo-run: nothing to run; this build's engine has no guest to start\n"));
    return 1;
}
