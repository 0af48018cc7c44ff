/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <stdbool.h>

/*
 * An interrupt line from a device to an interrupt controller. The controller
 * owns the callback; the device only drives the level. Safe to call from any
 * thread as long as the controller's callback is.
 */
typedef struct VireoIrq {
    void (*set_level)(void *opaque, unsigned line, bool level);
    void *opaque;
    unsigned line;
} VireoIrq;

static inline void vireo_irq_set(const VireoIrq *irq, bool level)
{
    if (irq != NULL && irq->set_level != NULL) {
        irq->set_level(irq->opaque, irq->line, level);
    }
}
