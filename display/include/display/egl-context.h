/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "engine/scanout.h"

G_BEGIN_DECLS

/*
 * OpenGL contexts without a window system: Mesa's surfaceless EGL platform
 * (eglGetPlatformDisplayEXT with EGL_PLATFORM_SURFACELESS_MESA), which
 * needs neither X nor /dev/dri (llvmpipe renders on the CPU when there is
 * no GPU). It implements VireoGlProvider (engine/scanout.h) for devices
 * that render with OpenGL, such as virtio-gpu in virgl mode, and gives
 * presenters contexts in the same share group, in which they can draw the
 * textures those devices render.
 *
 * Every context is made configless (EGL_KHR_no_config_context) and current
 * without a surface (EGL_KHR_surfaceless_context); they render into
 * framebuffer objects. All share their objects with one root context that
 * is never current. The EGL display stays initialised when the provider is
 * freed, since other code in the process may use the same display.
 */

/* Desktop OpenGL (core profile for 3.2 and later), or OpenGL ES when
 * `gles`. Fails with the reason (no EGL, no surfaceless platform, no
 * configless or surfaceless contexts, no context of OpenGL 3.2 or OpenGL
 * ES 3.0). */
VireoGlProvider *vireo_egl_provider_new(gboolean gles, GError **error);
/* Every context it made must have been destroyed. */
void vireo_egl_provider_free(VireoGlProvider *provider);

G_END_DECLS
