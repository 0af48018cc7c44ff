/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "display/input.h"
#include "display/viewport.h"
#include "engine/scanout.h"

G_BEGIN_DECLS

/*
 * The guest's display in a GTK window: a GtkGLArea that shows a
 * VireoScanout with the display's OpenGL renderer (display/renderer.h).
 *
 * - Drawing: at the widget's size times its scale factor, in device pixels,
 *   placed by the scale mode (fit, integer or native 1:1). It redraws when
 *   the scanout publishes something: the notification arrives on the
 *   device's thread and is passed to the main context, at most one pending
 *   at a time; GTK's frame clock then paces the redraws.
 * - Size: it asks the device for its size in device pixels when it settles
 *   after a resize (vireo_scanout_request_size()).
 * - Input: a click focuses it and captures the keyboard (the host's system
 *   shortcuts go to the guest too, where the windowing system allows it);
 *   the release combination (Ctrl+Alt+G by default, "release-keys") gives
 *   it back, and so does leaving the widget's focus. Keys (as evdev codes),
 *   the pointer (in guest pixels), buttons and the wheel go to a
 *   VireoInputOps table (display/input.h).
 * - Errors: when OpenGL or the renderer fails, the widget shows the reason
 *   in place of the display ("error-message"), never a blank area.
 *
 * The view does not own the scanout, which must outlive it or be unset.
 */

#define VIREO_TYPE_SCALE_MODE (vireo_scale_mode_get_type())
GType vireo_scale_mode_get_type(void);

#define VIREO_TYPE_DISPLAY_VIEW (vireo_display_view_get_type())

G_DECLARE_FINAL_TYPE(VireoDisplayView, vireo_display_view, VIREO, DISPLAY_VIEW, GtkGLArea)

GtkWidget *vireo_display_view_new(void);

/* Shows `scanout` (NULL: nothing). */
void vireo_display_view_set_scanout(VireoDisplayView *self, VireoScanout *scanout);
VireoScanout *vireo_display_view_get_scanout(VireoDisplayView *self);

/* Where keys and the pointer go; `ops` must stay valid while set. */
void vireo_display_view_set_input(VireoDisplayView *self, const VireoInputOps *ops, void *opaque);

void vireo_display_view_set_scale_mode(VireoDisplayView *self, VireoScaleMode mode);
VireoScaleMode vireo_display_view_get_scale_mode(VireoDisplayView *self);

/* "Ctrl+Alt+G" and the like (see vireo_key_combo_parse()); FALSE, with the
 * combination unchanged, when `combo` does not parse. */
gboolean vireo_display_view_set_release_keys(VireoDisplayView *self, const char *combo,
                                             GError **error);
char *vireo_display_view_dup_release_keys(VireoDisplayView *self);

/* Whether the keyboard is captured, and a sentence for a window to show
 * while it is ("Press Ctrl+Alt+G to release the keyboard"). */
gboolean vireo_display_view_get_keyboard_grabbed(VireoDisplayView *self);
void vireo_display_view_set_keyboard_grabbed(VireoDisplayView *self, gboolean grabbed);
char *vireo_display_view_dup_grab_hint(VireoDisplayView *self);

/* Shows `message` in place of the display, as for a GL failure; NULL
 * shows the display again (when GL works). */
void vireo_display_view_show_error(VireoDisplayView *self, const char *message);
/* What is shown in place of the display; NULL when the display shows. */
const char *vireo_display_view_get_error_message(VireoDisplayView *self);

/* Frames rendered so far. */
guint64 vireo_display_view_get_frame_count(VireoDisplayView *self);

G_END_DECLS
