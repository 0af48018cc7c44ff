/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "engine/bus.h"
#include "engine/clock.h"
#include "engine/stats.h"

#include <glib.h>

G_BEGIN_DECLS

/*
 * A machine: its bus, its clock and its vCPUs, each vCPU on its own worker
 * thread. Boards (in devices/) build machines; the runtime (vireo-run, the
 * GUI's controller) starts, pauses, resumes and stops them.
 */
typedef struct VireoMachine VireoMachine;

/* What a vCPU back end (the software engine, KVM, ...) implements. */
typedef struct VireoVcpuOps {
    /* Runs guest code until vireo_machine_vcpu_should_stop() is true for it,
     * checking at least at every translated block or VM exit. */
    void (*run)(void *vcpu);
    /* From another thread: make run() notice a stop request soon, also when
     * it waits for an interrupt. */
    void (*kick)(void *vcpu);
    /* Back to the architectural reset state (called while stopped). */
    void (*reset)(void *vcpu);
    /* Copy of the counters, readable while the vCPU runs. */
    void (*get_stats)(void *vcpu, VireoVcpuStats *stats);
    void (*free)(void *vcpu);
    /* The vCPU's whole architectural state (engine/snap.h), written and
     * replaced while it is stopped. A load checks every value; it drops
     * whatever the vCPU derived from its old state (TLBs, reservations). */
    bool (*save)(void *vcpu, VireoSnapWriter *w, GError **error);
    bool (*load)(void *vcpu, VireoSnapReader *r, GError **error);
    /* The layout version of what save() writes (the section's version,
     * which load() sees); 0 means 1. */
    unsigned state_version;
} VireoVcpuOps;

typedef enum {
    VIREO_MACHINE_CREATED,
    VIREO_MACHINE_RUNNING,
    VIREO_MACHINE_PAUSED,
    VIREO_MACHINE_STOPPED,
} VireoMachineState;

typedef enum {
    VIREO_EXIT_NONE,     /* still running */
    VIREO_EXIT_POWEROFF, /* the guest powered off; code is its status */
    VIREO_EXIT_RESET,    /* the guest asked for a reset (handled inside) */
    VIREO_EXIT_STOPPED,  /* the host stopped it (vireo_machine_stop) */
    VIREO_EXIT_FAULT,    /* the VM cannot continue; see the message */
} VireoExitReason;

/* Called on a machine thread for every state change; the GUI forwards it to
 * its main thread. */
typedef void (*VireoMachineEventFunc)(VireoMachine *machine, VireoMachineState state,
                                      void *user_data);
/* Called while every vCPU is stopped, to bring devices and memory back to
 * their power-on state (reload images, reset devices). */
typedef void (*VireoMachineResetFunc)(VireoMachine *machine, void *user_data);

/* Takes ownership of `bus` and `clock`. */
VireoMachine *vireo_machine_new(VireoBus *bus, VireoClock *clock);
void vireo_machine_free(VireoMachine *machine);

VireoBus *vireo_machine_bus(VireoMachine *machine);
VireoClock *vireo_machine_clock(VireoMachine *machine);

/* Adds a vCPU before the machine starts; returns its index. */
unsigned vireo_machine_add_vcpu(VireoMachine *machine, const VireoVcpuOps *ops, void *vcpu);
unsigned vireo_machine_n_vcpus(VireoMachine *machine);
void *vireo_machine_vcpu(VireoMachine *machine, unsigned index);
/* The host's id of the worker thread of vCPU `index` (Linux: its TID, as
 * ps -L shows it), once the machine has started; -1 before that, for an
 * index out of range and on hosts without thread ids. */
gint64 vireo_machine_vcpu_thread_id(VireoMachine *machine, unsigned index);

void vireo_machine_set_event_func(VireoMachine *machine, VireoMachineEventFunc func,
                                  void *user_data);
void vireo_machine_set_reset_func(VireoMachine *machine, VireoMachineResetFunc func,
                                  void *user_data);
/* Called on the machine's supervisor thread after a vCPU asked for a
 * debugger stop (vireo_machine_request_debug_stop) and every vCPU parked;
 * the machine is then paused. */
typedef void (*VireoMachineDebugFunc)(VireoMachine *machine, void *user_data);
void vireo_machine_set_debug_func(VireoMachine *machine, VireoMachineDebugFunc func,
                                  void *user_data);
/* Called on the machine's supervisor thread after each reset it made
 * (vireo_machine_request_reset(), the guest's or the host's), once every
 * vCPU is back in its reset state and before any of them runs again. */
typedef void (*VireoMachineResetNotifyFunc)(VireoMachine *machine, void *user_data);
void vireo_machine_set_reset_notify(VireoMachine *machine, VireoMachineResetNotifyFunc func,
                                    void *user_data);
/* Before vireo_machine_start(): start paused, before the first instruction
 * (a debugger resumes it). */
void vireo_machine_set_start_paused(VireoMachine *machine, bool paused);

/* Keeps `data` alive until the machine is freed (board state). */
void vireo_machine_add_cleanup(VireoMachine *machine, GDestroyNotify destroy, void *data);
/* The same for what uses the vCPUs (a debugger stub): run when the machine
 * is freed, once it has stopped and before its vCPUs and board state go. */
void vireo_machine_add_stop_cleanup(VireoMachine *machine, GDestroyNotify destroy, void *data);

/* Runtime control, from any thread except the machine's own vCPU threads. */
bool vireo_machine_start(VireoMachine *machine, GError **error);
void vireo_machine_pause(VireoMachine *machine); /* returns once every vCPU stopped */
void vireo_machine_resume(VireoMachine *machine);
/* Force off; waits for the threads. Several threads may call it at once:
 * each returns once the machine has stopped. */
void vireo_machine_stop(VireoMachine *machine);
VireoMachineState vireo_machine_state(VireoMachine *machine);

/* The machine's state (docs/SNAPSHOTS.md): its shape, the clock, every
 * vCPU, every device and RAM, as one stream. The machine must be paused
 * (or not started yet). Saving fails, naming it, when a device cannot be
 * saved. */
bool vireo_machine_save_state(VireoMachine *machine, VireoSnapWriter *w, GError **error);
/* Replaces a paused (or not yet started) machine's state with the one in
 * `stream` (a whole stream in memory). Everything is checked before
 * anything changes; a stream that is corrupt, truncated, from another
 * machine's shape or refused by a device fails with a message and leaves
 * the machine as it was. */
bool vireo_machine_load_state(VireoMachine *machine, const guint8 *stream, gsize len,
                              GError **error);

/*
 * Live migration's pre-copy (docs/MIGRATION.md): RAM goes out while the
 * machine runs, in rounds, as streams of RAM sections alone; the
 * destination gathers it in a RAM image, and the final stream (the machine
 * paused) holds everything else and the pages written since the last round.
 * Which pages those are comes from the bus's dirty log (engine/bus.h).
 */
typedef struct VireoRamImage VireoRamImage;

/* A stream holding RAM alone: every page (`dirty` NULL: "ram" sections,
 * pages that are zero left out) or the pages `dirty` sets (one bit per RAM
 * page: "ram-dirty" sections, zero pages included). The machine may run;
 * a page written meanwhile goes out as it was at some moment, and the dirty
 * log reports it. */
typedef struct {
    uint64_t pages;      /* pages stored */
    uint64_t zero_pages; /* pages found zero and left out (every page only) */
} VireoRamSaveStats;
/* `stats`, when not NULL, gets the figures added. */
bool vireo_machine_save_ram(VireoMachine *machine, VireoSnapWriter *w, const uint64_t *dirty,
                            VireoRamSaveStats *stats, GError **error);
/* As vireo_machine_save_state(), with RAM as the pages `dirty` sets. */
bool vireo_machine_save_state_dirty(VireoMachine *machine, VireoSnapWriter *w,
                                    const uint64_t *dirty, GError **error);

/* An empty (all zero) image of `size` bytes of RAM. */
VireoRamImage *vireo_ram_image_new(uint64_t size, GError **error);
void vireo_ram_image_free(VireoRamImage *image);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VireoRamImage, vireo_ram_image_free)
/* Applies a stream's RAM sections, all "ram" or all "ram-dirty" ones, and
 * skips its other sections (refuses them with `ram_only`). The stream is checked whole first
 * (framing, checksums, every RAM chunk's framing); a frame that passes those checks and still fails
 * to decompress leaves the image written in part, and the image must then be thrown away. */
bool vireo_ram_image_apply(VireoRamImage *image, const guint8 *stream, gsize len, bool ram_only,
                           GError **error);
/* As vireo_machine_load_state(), but RAM becomes `image`'s (moved, not
 * copied: the image holds nothing afterwards) and the stream's RAM sections
 * are skipped: the caller applied them to the image. On a failure the
 * machine and the image stay as they were. */
bool vireo_machine_load_state_with_ram(VireoMachine *machine, const guint8 *stream, gsize len,
                                       VireoRamImage *image, GError **error);

/* Requests from the guest side (devices, vCPUs); any thread, never blocks. */
void vireo_machine_request_poweroff(VireoMachine *machine, int code);
void vireo_machine_request_reset(VireoMachine *machine);
/* Resets a paused machine now (devices, memory images, vCPUs); it stays
 * paused. False when the machine is not paused. */
bool vireo_machine_reset_paused(VireoMachine *machine);
void vireo_machine_request_fault(VireoMachine *machine, const char *message);
/* From a vCPU that hit a breakpoint, a watchpoint or finished a step: pause
 * the machine with every vCPU at an instruction boundary, then call the
 * debug function. */
void vireo_machine_request_debug_stop(VireoMachine *machine);

/* Waits until the machine has stopped for good (power-off, stop or fault) and
 * returns why; `code` gets the power-off status, `message` (owned by the
 * machine) the fault text. */
VireoExitReason vireo_machine_wait(VireoMachine *machine, int *code, const char **message);
/* The same, without waiting: VIREO_EXIT_NONE while it still runs. */
VireoExitReason vireo_machine_exit_reason(VireoMachine *machine, int *code, const char **message);

/* For vCPU back ends: whether the vCPU's run() must return now. */
bool vireo_machine_vcpu_should_stop(VireoMachine *machine);

/* Counters of one vCPU, or the sum over all when index is -1. */
void vireo_machine_get_stats(VireoMachine *machine, int index, VireoVcpuStats *stats);

G_END_DECLS
