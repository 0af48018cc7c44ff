/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "vireo-application.h"

G_BEGIN_DECLS

#define VIREO_TYPE_WINDOW (vireo_window_get_type())

G_DECLARE_FINAL_TYPE(VireoWindow, vireo_window, VIREO, WINDOW, AdwApplicationWindow)

VireoWindow *vireo_window_new(VireoApplication *app);

G_END_DECLS
