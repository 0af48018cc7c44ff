/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "engine/machine.h"

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

G_BEGIN_DECLS

/*
 * A GDB remote serial protocol server for a machine of the software engine.
 * It runs on its own thread, stops and resumes the machine through its run
 * control, and sets breakpoints, watchpoints and stepping through the
 * engine's debugger hooks (engine/debug.h). Every vCPU is a thread.
 */
typedef struct VireoGdbStub VireoGdbStub;

/* What the stub needs of a guest architecture. Register numbers are those of
 * the architecture's target description. */
typedef struct VireoGdbArch {
    /* Registers in the `g` packet: 0 .. g_regs - 1. */
    unsigned g_regs;
    /* The target description document `annex` (e.g. "target.xml"), or NULL. */
    char *(*target_xml)(void *vcpu, const char *annex);
    /* Register `regnum` in target byte order into `buf` (16 bytes); returns
     * its size, 0 when there is no such register. */
    unsigned (*read_reg)(void *vcpu, unsigned regnum, guint8 *buf);
    /* false when the register does not exist or cannot be written. */
    bool (*write_reg)(void *vcpu, unsigned regnum, const guint8 *buf, unsigned len);
    /* The physical address of `va` in the vCPU's current data context,
     * without side effects; false when it is not mapped. */
    bool (*translate)(void *vcpu, uint64_t va, uint64_t *pa);
    /* Text for `monitor info registers`. */
    char *(*info_registers)(void *vcpu);
} VireoGdbArch;

/* Listens on `spec`: "tcp:HOST:PORT" (HOST may be empty for 127.0.0.1; PORT
 * 0 picks a free one) or "unix:PATH". Call before vireo_machine_start(); the
 * debugger hooks of every vCPU are set up here. */
VireoGdbStub *vireo_gdb_stub_new(VireoMachine *machine, const VireoGdbArch *arch, const char *spec,
                                 GError **error);
/* A stub without a socket or a thread, for tests and fuzzing: the caller
 * hands it what a debugger sends (vireo_gdb_stub_session_input) and gets
 * what the stub answers. No thread waits for the machine to stop, so the
 * machine should not have been started: `c`, `s` and `vCont` then leave it
 * as it is, and an interrupt (0x03) ends their "running" state with a stop
 * reply. vireo_gdb_stub_free() detaches, as when a debugger goes away. */
VireoGdbStub *vireo_gdb_stub_new_session(VireoMachine *machine, const VireoGdbArch *arch);
/* Takes `len` bytes from the debugger (packets, acknowledgements, 0x03 and
 * noise, in any pieces) and appends the stub's answers, as they would go on
 * the wire, to `reply`. False once the debugger detached or killed the
 * machine; later input is ignored. */
bool vireo_gdb_stub_session_input(VireoGdbStub *stub, const void *data, size_t len, GString *reply);
/* Where it listens, for messages: "127.0.0.1:1234" or the socket's path. */
const char *vireo_gdb_stub_address(VireoGdbStub *stub);
/* Tells a connected debugger that the machine stopped for good (any
 * thread). */
void vireo_gdb_stub_machine_stopped(VireoGdbStub *stub, int code);
/* Closes the connection and the socket and ends the thread. */
void vireo_gdb_stub_free(VireoGdbStub *stub);

G_END_DECLS
