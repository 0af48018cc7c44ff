/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <stdint.h>

/*
 * Counters of one vCPU. Each is written only by the vCPU's own thread (with
 * relaxed atomic stores) and may be read at any time from other threads, so
 * reading never stops the vCPU. Values only grow, except across a reset.
 */
typedef struct VireoVcpuStats {
    uint64_t insns;          /* guest instructions retired */
    uint64_t blocks;         /* translated blocks executed */
    uint64_t decode_hits;    /* block lookups served by the decode cache */
    uint64_t decode_misses;  /* blocks decoded */
    uint64_t decode_revived; /* blocks current again: their page was written elsewhere */
    uint64_t itlb_hits, itlb_misses, itlb_flushes;
    uint64_t dtlb_hits, dtlb_misses, dtlb_flushes;
    uint64_t tlb_victim_hits; /* TLB misses served by an evicted entry, without a page walk */
    uint64_t exceptions;      /* synchronous traps taken */
    uint64_t interrupts;      /* asynchronous traps taken */
    uint64_t jit_blocks;      /* blocks compiled to native code (0 without a JIT) */
    uint64_t jit_code_bytes;  /* native code in the code cache now */
    uint64_t jit_insns;       /* guest instructions run as native code */
    uint64_t jit_fallbacks;   /* blocks the JIT left to the interpreter (ops it lacks) */
    uint64_t jit_compile_ns;  /* host time spent compiling */
    uint64_t jit_entries;     /* calls of compiled code from the run loop; the other compiled
                                 blocks run were reached from compiled code (chained) */
    uint64_t jit_invalidated; /* compiled blocks dropped: their code was written */
    uint64_t jit_flushes;     /* times the code cache was emptied (full, or reset) */
    uint64_t halted_ns;       /* host time spent waiting for an interrupt */
    uint64_t jit_interp_ns;   /* host time the JIT's vCPU ran blocks on the interpreter (not
                                 hot yet), summed from the coarse clock: the sum is exact on
                                 average, not each part */
} VireoVcpuStats;

/* Adds every counter of `b` to `a`. */
static inline void vireo_vcpu_stats_add(VireoVcpuStats *a, const VireoVcpuStats *b)
{
    uint64_t *pa = (uint64_t *)a;
    const uint64_t *pb = (const uint64_t *)b;
    for (unsigned i = 0; i < sizeof *a / sizeof(uint64_t); i++) {
        pa[i] += pb[i];
    }
}
