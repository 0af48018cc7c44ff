/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "vireo-display-view.h"
#include "vireo-vm-controller.h"

G_BEGIN_DECLS

/*
 * The Display view of a VM's pane: the guest's screen (a VireoDisplayView on
 * the controller's scanout, with its keys and pointer going to the
 * machine's keyboard and tablet), or why there is none.
 *
 * - Pages: "none" (no display device: the configuration has none, or the
 *   machine runs without one), "off" (a display, but the machine is off),
 *   "waiting" (the machine runs but the guest has not turned its display on:
 *   where its output is, and a button to the Console view), "display" (the
 *   screen) and "detached" (the screen is in a window of its own).
 * - While the view has the keyboard, a banner says how to release it, and
 *   the shortcut controllers of the window that would see a key before the
 *   view (the application's accelerators, mnemonics) are switched off, so
 *   that every key reaches the guest; the release combination gives them
 *   back.
 * - "fullscreen" moves the screen into a window of its own, full screen:
 *   GTK keeps one main loop and one GL context per window, so the same view
 *   just changes windows. Closing that window, F11 (with the keyboard
 *   released) or its Leave Full Screen button brings the screen back.
 */

#define VIREO_TYPE_DISPLAY_PAGE (vireo_display_page_get_type())

G_DECLARE_FINAL_TYPE(VireoDisplayPage, vireo_display_page, VIREO, DISPLAY_PAGE, GtkWidget)

GtkWidget *vireo_display_page_new(void);

void vireo_display_page_set_controller(VireoDisplayPage *self, VireoVmController *controller);
/* The detached window's title. */
void vireo_display_page_set_title(VireoDisplayPage *self, const char *title);

/* "none", "off", "waiting", "display" or "detached". */
const char *vireo_display_page_get_page(VireoDisplayPage *self);
/* The screen: a page showing the display or the detached window. */
gboolean vireo_display_page_get_showing_display(VireoDisplayPage *self);
VireoDisplayView *vireo_display_page_get_view(VireoDisplayPage *self);
/* The window the screen is in while detached, or NULL. */
GtkWindow *vireo_display_page_get_window(VireoDisplayPage *self);
/* The banner's text while the keyboard is captured, or NULL. */
const char *vireo_display_page_get_hint(VireoDisplayPage *self);

/* "display.scale-mode" (state "fit", "integer" or "native") and
 * "display.fullscreen" (boolean state), for menus. */
GActionGroup *vireo_display_page_get_actions(VireoDisplayPage *self);

void vireo_display_page_set_fullscreen(VireoDisplayPage *self, gboolean fullscreen);
gboolean vireo_display_page_get_fullscreen(VireoDisplayPage *self);

G_END_DECLS
