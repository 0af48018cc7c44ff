/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>
#include <vte/vte.h>

#include "vireo-vm-controller.h"

G_BEGIN_DECLS

/*
 * The guest's serial console in a terminal: what the controller reads from
 * the console ring is fed to it, and what the user types goes to the UART.
 * Ctrl+Shift+C and Ctrl+Shift+V copy and paste.
 */

#define VIREO_TYPE_CONSOLE_VIEW (vireo_console_view_get_type())

G_DECLARE_FINAL_TYPE(VireoConsoleView, vireo_console_view, VIREO, CONSOLE_VIEW, GtkWidget)

GtkWidget *vireo_console_view_new(void);
void vireo_console_view_set_controller(VireoConsoleView *self, VireoVmController *controller);
VteTerminal *vireo_console_view_get_terminal(VireoConsoleView *self);
/* The terminal's text, scrollback included. */
char *vireo_console_view_dup_text(VireoConsoleView *self);

G_END_DECLS
