/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "engine/arch.h"

#include <string.h>

static const char *const arch_names[VIREO_ARCH_COUNT] = {
    [VIREO_ARCH_RISCV64] = "riscv64",
    [VIREO_ARCH_ARM64] = "arm64",
    [VIREO_ARCH_X86_64] = "x86_64",
};

const char *vireo_arch_name(VireoArch arch)
{
    return arch < VIREO_ARCH_COUNT ? arch_names[arch] : "unknown";
}

bool vireo_arch_from_name(const char *name, VireoArch *arch)
{
    for (int i = 0; i < VIREO_ARCH_COUNT; i++) {
        if (name != NULL && strcmp(name, arch_names[i]) == 0) {
            *arch = (VireoArch)i;
            return true;
        }
    }
    return false;
}

VireoArch vireo_arch_host(void)
{
#if defined(__x86_64__)
    return VIREO_ARCH_X86_64;
#elif defined(__aarch64__)
    return VIREO_ARCH_ARM64;
#elif defined(__riscv) && __riscv_xlen == 64
    return VIREO_ARCH_RISCV64;
#else
    return VIREO_ARCH_COUNT;
#endif
}

bool vireo_arch_has_frontend(VireoArch arch)
{
    return arch == VIREO_ARCH_RISCV64;
}
