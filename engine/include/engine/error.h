/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The one error domain of Vireo. Every public function that can fail takes a
 * GError ** and reports one of these codes with a message meant for people.
 */
#define VIREO_ERROR (vireo_error_quark())

typedef enum {
    VIREO_ERROR_CONFIG,            /* a configuration value is invalid */
    VIREO_ERROR_MEMORY,            /* guest memory cannot be allocated or reached */
    VIREO_ERROR_DEVICE,            /* a device model failed */
    VIREO_ERROR_FAULT,             /* the guest faulted in a way the VM cannot continue */
    VIREO_ERROR_ACCEL_UNAVAILABLE, /* the accelerator cannot run on this host */
    VIREO_ERROR_IO,                /* a host file or socket operation failed */
    VIREO_ERROR_FORMAT,            /* an image, snapshot or file has a bad format */
    VIREO_ERROR_UNSUPPORTED,       /* valid, but this object or format cannot do it */
} VireoErrorCode;

GQuark vireo_error_quark(void);

G_END_DECLS
