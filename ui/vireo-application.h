/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "vireo-vm-library.h"

G_BEGIN_DECLS

#define VIREO_TYPE_APPLICATION (vireo_application_get_type())

G_DECLARE_FINAL_TYPE(VireoApplication, vireo_application, VIREO, APPLICATION, AdwApplication)

VireoApplication *vireo_application_new(void);
/* The application's settings, or NULL when its schema is not installed. */
GSettings *vireo_application_get_settings(VireoApplication *self);
/* The user's VMs, read at startup. */
VireoVmLibrary *vireo_application_get_library(VireoApplication *self);

G_END_DECLS
