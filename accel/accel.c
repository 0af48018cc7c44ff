/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "accel/accel.h"
#include "engine/error.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#ifdef __linux__
#include <linux/kvm.h>
#endif

static const char *const accel_names[VIREO_ACCEL_COUNT] = {
    [VIREO_ACCEL_SOFT] = "soft",
    [VIREO_ACCEL_KVM] = "kvm",
    [VIREO_ACCEL_HVF] = "hvf",
    [VIREO_ACCEL_WHPX] = "whpx",
};

const char *vireo_accel_name(VireoAccelKind kind)
{
    return kind < VIREO_ACCEL_COUNT ? accel_names[kind] : "unknown";
}

bool vireo_accel_from_name(const char *name, VireoAccelKind *kind)
{
    for (int i = 0; i < VIREO_ACCEL_COUNT; i++) {
        if (name != NULL && strcmp(name, accel_names[i]) == 0) {
            *kind = (VireoAccelKind)i;
            return true;
        }
    }
    return false;
}

static bool unavailable(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static bool unavailable(GError **error, const char *fmt, ...)
{
    va_list ap;

    if (error != NULL) {
        va_start(ap, fmt);
        *error = g_error_new_valist(VIREO_ERROR, VIREO_ERROR_ACCEL_UNAVAILABLE, fmt, ap);
        va_end(ap);
    }
    return false;
}

static bool probe_kvm(VireoArch arch, GError **error)
{
#ifdef __linux__
    int fd, version;

    if (arch != vireo_arch_host()) {
        return unavailable(error, _("KVM runs only %s guests on this host"),
                           vireo_arch_name(vireo_arch_host()));
    }
    fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        return unavailable(error, _("/dev/kvm cannot be opened: %s"), g_strerror(errno));
    }
    version = ioctl(fd, KVM_GET_API_VERSION, 0);
    close(fd);
    if (version != KVM_API_VERSION) {
        return unavailable(error, _("/dev/kvm speaks API version %d, not %d"), version,
                           KVM_API_VERSION);
    }
    return true;
#else
    return unavailable(error, _("KVM is only available on Linux hosts"));
#endif
}

bool vireo_accel_probe(VireoAccelKind kind, VireoArch arch, GError **error)
{
    switch (kind) {
    case VIREO_ACCEL_SOFT:
        if (!vireo_arch_has_frontend(arch)) {
            return unavailable(error, _("The software engine cannot run %s guests yet"),
                               vireo_arch_name(arch));
        }
        return true;
    case VIREO_ACCEL_KVM: return probe_kvm(arch, error);
    case VIREO_ACCEL_HVF:
        /* Hypervisor.framework exists only on macOS; this build has no
         * backend for it. */
        return unavailable(error, _("Hypervisor.framework is only available on macOS hosts"));
    case VIREO_ACCEL_WHPX:
        return unavailable(error,
                           _("Windows Hypervisor Platform is only available on Windows hosts"));
    default: return unavailable(error, _("Unknown accelerator"));
    }
}

VireoAccelKind vireo_accel_select(VireoArch arch)
{
    static const VireoAccelKind order[] = { VIREO_ACCEL_KVM, VIREO_ACCEL_HVF, VIREO_ACCEL_WHPX,
                                            VIREO_ACCEL_SOFT };

    for (guint i = 0; i < G_N_ELEMENTS(order); i++) {
        if (vireo_accel_probe(order[i], arch, NULL)) {
            return order[i];
        }
    }
    return VIREO_ACCEL_COUNT;
}
