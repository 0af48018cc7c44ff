/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "engine/ir.h"

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

/*
 * Execution backends of the software engine: what runs a decoded IR block.
 * The generic CPU core (engine/cpu.c) owns the decoded-block cache, its
 * memory, the TLBs, the jump cache and the run loop; a backend turns a block
 * into its executable form in memory the core hands it, and runs it. Block
 * links, the jump cache, the exit-request check and the counters are the
 * core's (engine/tb.h), which both backends call inline, so that neither
 * repeats them and following a link costs no call.
 *
 *   size        the bytes compile() may use for `block` at most;
 *   compile     build the executable form of `block` in `mem` (that many
 *               bytes, 16-byte aligned, executable where the backend asked
 *               for it) and report the bytes used;
 *   execute     run `tb` and, when `chain` is true, the blocks it leads to,
 *               until one ends in a way that needs the run loop (an
 *               exception, a wait for an interrupt, an exit request, a block
 *               not yet decoded, or one of another backend); cpu->pc is then
 *               the next pc;
 *   invalidate  `tb` will not run again (its page was written): drop what
 *               the backend keeps about it outside its memory;
 *   free        every block was dropped (the code buffer was emptied);
 *   link        (optional) the run loop linked static exit `slot` of `tb` to
 *               `next` under `key`, or unlinked it (`next` NULL, key 0): for
 *               a backend that patches the jump into its code. Called only
 *               for blocks that have patch sites.
 */
struct VireoCpu;
struct VireoTb;

typedef struct VireoBackendOps {
    const char *name;
    /* Whether the code buffer must be executable for this backend. */
    bool executable;
    size_t (*size)(struct VireoCpu *cpu, const VireoIrBlock *block);
    struct VireoTb *(*compile)(struct VireoCpu *cpu, const VireoIrBlock *block, void *mem,
                               size_t *used);
    void (*execute)(struct VireoCpu *cpu, struct VireoTb *tb, bool chain);
    void (*invalidate)(struct VireoCpu *cpu, struct VireoTb *tb);
    void (*free)(struct VireoCpu *cpu);
    void (*link)(struct VireoCpu *cpu, struct VireoTb *tb, unsigned slot, struct VireoTb *next,
                 uint64_t key);
} VireoBackendOps;

/* Which backend a software vCPU runs its blocks on. */
typedef enum {
    VIREO_ENGINE_DEFAULT = 0, /* the process's default (vireo_engine_get_default()) */
    VIREO_ENGINE_INTERP = 1,  /* the threaded interpreter */
    VIREO_ENGINE_JIT = 2,     /* x86-64 code, the interpreter for what it cannot compile */
} VireoEngineKind;

/* "interp", "jit" ("default" for VIREO_ENGINE_DEFAULT). */
const char *vireo_engine_name(VireoEngineKind kind);
/* The kind named `name`; false for a name that is none. */
bool vireo_engine_from_name(const char *name, VireoEngineKind *kind);
/* Whether this build can run `kind` on this host; the reason otherwise. */
bool vireo_engine_available(VireoEngineKind kind, GError **error);
/* The engine that vCPUs created from now on use: unless set, the JIT
 * where this build has one for the host, else the interpreter. Set it
 * before building a machine. */
void vireo_engine_set_default(VireoEngineKind kind);
VireoEngineKind vireo_engine_get_default(void);

/* The JIT compiles a block when it runs for the `executions`-th time (1:
 * the first), for vCPUs created from now on; until then the interpreter
 * runs it, so that code that runs a few times (most of a boot's) costs no
 * compilation. VIREO_JIT_THRESHOLD is the default. */
#define VIREO_JIT_THRESHOLD 8
void vireo_engine_set_jit_threshold(unsigned executions);
unsigned vireo_engine_get_jit_threshold(void);

/* Opens /tmp/perf-PID.map, Linux perf's map of code it has no symbols for:
 * from now on the JIT names each block it compiles there ("vireo-block" and
 * its guest pc), so that `perf report` shows which guest code the time went
 * to. Code buffers are reused after a flush, so an address may be named
 * more than once (perf takes the last). False with `error` set when the file
 * cannot be written. */
gboolean vireo_engine_open_perf_map(GError **error);
/* Names [code, code + size) the block at guest `pc` in the map, if open. */
void vireo_engine_perf_map_add(const void *code, size_t size, uint64_t pc);

G_END_DECLS
