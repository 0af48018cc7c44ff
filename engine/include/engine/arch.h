/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <stdbool.h>

G_BEGIN_DECLS

/* Guest architectures Vireo knows of. */
typedef enum {
    VIREO_ARCH_RISCV64,
    VIREO_ARCH_ARM64,
    VIREO_ARCH_X86_64,
    VIREO_ARCH_COUNT,
} VireoArch;

/* The stable name used in files and on the command line ("riscv64", ...). */
const char *vireo_arch_name(VireoArch arch);
bool vireo_arch_from_name(const char *name, VireoArch *arch);
/* The architecture of the host this build runs on, or VIREO_ARCH_COUNT. */
VireoArch vireo_arch_host(void);
/* Whether the software engine has a frontend for `arch`. */
bool vireo_arch_has_frontend(VireoArch arch);

G_END_DECLS
