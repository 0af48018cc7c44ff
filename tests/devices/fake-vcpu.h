/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "engine/machine.h"

#include <string.h>

/* A vCPU that runs no code: it idles until its machine asks it to stop.
 * Enough to start a machine and exercise devices that stop or reset it. */
typedef struct {
    VireoMachine *machine;
    int resets;
} FakeVcpu;

static inline void fake_vcpu_run(void *vcpu)
{
    FakeVcpu *v = vcpu;

    while (!vireo_machine_vcpu_should_stop(v->machine)) {
        g_usleep(200);
    }
}

static inline void fake_vcpu_kick(void *vcpu)
{
}

static inline void fake_vcpu_reset(void *vcpu)
{
    FakeVcpu *v = vcpu;
    v->resets++;
}

static inline void fake_vcpu_get_stats(void *vcpu, VireoVcpuStats *stats)
{
    memset(stats, 0, sizeof *stats);
}

static inline void fake_vcpu_free(void *vcpu)
{
}

static const VireoVcpuOps fake_vcpu_ops = {
    .run = fake_vcpu_run,
    .kick = fake_vcpu_kick,
    .reset = fake_vcpu_reset,
    .get_stats = fake_vcpu_get_stats,
    .free = fake_vcpu_free,
};
