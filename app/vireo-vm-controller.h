/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

#include "engine/input.h"
#include "engine/scanout.h"
#include "engine/stats.h"
#include "vireo-vm-config.h"

G_BEGIN_DECLS

/*
 * Runs one virtual machine. Built with a configuration; each start builds a
 * new machine from it on a worker thread. Every signal and property change
 * happens on the main context the controller was created in; operations that
 * wait for the vCPUs (start, pause, power off) run on worker threads, and
 * "busy" is TRUE while one is under way.
 */

typedef enum {
    VIREO_VM_STATE_STOPPED,
    VIREO_VM_STATE_RUNNING,
    VIREO_VM_STATE_PAUSED,
} VireoVmState;

#define VIREO_TYPE_VM_STATE (vireo_vm_state_get_type())
GType vireo_vm_state_get_type(void);

#define VIREO_TYPE_VM_CONTROLLER (vireo_vm_controller_get_type())

G_DECLARE_FINAL_TYPE(VireoVmController, vireo_vm_controller, VIREO, VM_CONTROLLER, GObject)

VireoVmController *vireo_vm_controller_new(VireoVmConfig *config);

VireoVmConfig *vireo_vm_controller_get_config(VireoVmController *self);
/* Takes effect at the next start. */
void vireo_vm_controller_set_config(VireoVmController *self, VireoVmConfig *config);

VireoVmState vireo_vm_controller_get_state(VireoVmController *self);
gboolean vireo_vm_controller_get_busy(VireoVmController *self);
/* The message of the last error, or NULL; cleared by the next start. */
const char *vireo_vm_controller_get_last_error(VireoVmController *self);

void vireo_vm_controller_start(VireoVmController *self);
void vireo_vm_controller_pause(VireoVmController *self);
void vireo_vm_controller_resume(VireoVmController *self);
void vireo_vm_controller_reset(VireoVmController *self);
/* Force off: stops the vCPUs without asking the guest. */
void vireo_vm_controller_power_off(VireoVmController *self);

/* Console: output arrives through the "console-output" signal; what came
 * before (up to a limit) is kept for views attached later. */
GBytes *vireo_vm_controller_get_console_history(VireoVmController *self);
void vireo_vm_controller_send_input(VireoVmController *self, const guint8 *data, gsize len);

/* The display: the scanout of the current machine's display device, NULL
 * without one (a configuration without a display, no machine built yet).
 * It changes with the "scanout" property, which is notified before a
 * machine is freed: a view showing it lets go then. */
VireoScanout *vireo_vm_controller_get_scanout(VireoVmController *self);
/* Whether the guest has turned its display on (set a mode on the output):
 * the "display-active" property. FALSE while the guest has not, without a
 * display, and while the machine is stopped. */
gboolean vireo_vm_controller_get_display_active(VireoVmController *self);
/* Whether the configuration has a display device (the "[display]" group):
 * the machine then also gets a keyboard and a tablet. */
gboolean vireo_vm_controller_has_display(VireoVmController *self);
/* Keys and the pointer for the machine's keyboard and tablet, called on the
 * main thread with the controller as `opaque`. They reach the guest while
 * the machine runs or is paused and has the devices, and go nowhere
 * otherwise. */
const VireoInputOps *vireo_vm_controller_get_input_ops(void);

/* Counters of the current (or last) machine: vCPU `index`, or the sum with
 * -1. Returns FALSE (and zeros) when no machine was built yet. */
guint vireo_vm_controller_get_n_vcpus(VireoVmController *self);
gboolean vireo_vm_controller_get_stats(VireoVmController *self, int index, VireoVcpuStats *stats);

G_END_DECLS
