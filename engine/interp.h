/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* Internal to engine/: the threaded interpreter's block format. */

#include "engine/cpu.h"

typedef struct VireoExecInsn {
    const void *handler; /* label of the op's handler in vireo_interp_exec() */
    VireoIrInsn in;
} VireoExecInsn;

typedef struct {
    VireoTb *tb;
    uint64_t key; /* VireoCpu.exec_key when linked */
} VireoTbLink;

struct VireoTb {
    VireoTb *next; /* hash chain */
    uint64_t vpc, ppc;
    const uint32_t *gen_ptr; /* the page's code generation counter */
    uint32_t gen;            /* its value when the block was decoded */
    uint32_t flags;          /* decode flags */
    uint32_t n_ops, n_guest, n_mem, n_links;
    uint64_t acc_full; /* instructions, memory ops and one block, packed (interp.c) */
    /* Direct links to the blocks that follow at each static exit (side
     * exits, both sides of a final branch, a jump's target); an exit op's
     * `c` field holds its first slot. After code[]. */
    VireoTbLink *links;
    uint16_t *pc_off; /* n_guest + 1 entries, after links[] */
    VireoExecInsn code[];
};

static inline VireoJumpCacheEntry *vireo_jc_entry(VireoCpu *cpu, uint64_t pc)
{
    /* The page number is mixed in: blocks at one offset in many pages would
     * otherwise all share a slot. */
    return &cpu->jc[((pc >> 1) ^ (pc >> (VIREO_PAGE_SHIFT + 1)) ^ (pc >> 25)) &
                    (VIREO_JC_SIZE - 1)];
}

/* Whether `tb` may run now at its virtual pc: the current context's
 * instruction TLB maps its page, executable, to the physical page the block
 * was decoded from, and nothing has written that page since. Links and the
 * jump cache check this instead of being dropped on every TLB flush, so a
 * context switch or an sfence.vma costs a page walk per code page, not a
 * lookup per block. */
static inline bool vireo_tb_current(const VireoCpu *cpu, const VireoTb *tb)
{
    const VireoTlbEntry *e = &cpu->itlb[(tb->vpc >> VIREO_PAGE_SHIFT) & (VIREO_TLB_SIZE - 1)];

    return e->tag_x == (tb->vpc & ~(uint64_t)(VIREO_PAGE_SIZE - 1)) &&
           e->ppage == (tb->ppc & ~(uint64_t)(VIREO_PAGE_SIZE - 1)) &&
           __atomic_load_n(tb->gen_ptr, __ATOMIC_RELAXED) == tb->gen;
}

/* The cached block for cpu->pc, or NULL when the slow lookup is needed. */
static inline VireoTb *vireo_jc_lookup(VireoCpu *cpu)
{
    uint64_t pc = cpu->pc;
    const VireoJumpCacheEntry *j = vireo_jc_entry(cpu, pc);

    if (j->vpc == pc && j->key == cpu->exec_key && vireo_tb_current(cpu, j->tb)) {
        return j->tb;
    }
    return NULL;
}

/* Recompute cpu->exec_key after a change of what it packs. */
static inline void vireo_cpu_update_exec_key(VireoCpu *cpu)
{
    cpu->exec_key = ((uint64_t)cpu->jc_epoch << 32) | ((uint64_t)cpu->ictx << 24) |
                    (cpu->decode_flags & 0xffffffu);
}

static inline void vireo_cpu_bump_epoch(VireoCpu *cpu)
{
    cpu->jc_epoch++;
    vireo_cpu_update_exec_key(cpu);
}

/* The bytes the executable form of a decoded block takes, and building it
 * in `mem` (that many bytes, aligned for pointers). */
size_t vireo_interp_tb_bytes(const VireoIrBlock *block);
VireoTb *vireo_interp_compile(const VireoIrBlock *block, void *mem);
/* Run `tb` and the blocks it leads to through the jump cache, until a block
 * ends in a way that needs the dispatcher (a trap, an exit, a miss, or a
 * pending exit request), or `tb` alone when `chain` is false. On return
 * cpu->pc is the next pc. */
void vireo_interp_exec(VireoCpu *cpu, VireoTb *tb, bool chain);

/* Slow paths shared by the interpreter and helpers (cpu.c). `insn` locates
 * the instruction for a precise exception. */
bool vireo_cpu_load_slow(VireoCpu *cpu, const VireoIrInsn *insn, uint64_t va, unsigned size,
                         uint64_t *value);
bool vireo_cpu_store_slow(VireoCpu *cpu, const VireoIrInsn *insn, uint64_t va, unsigned size,
                          uint64_t value);
/* Host address of an aligned word for an atomic access with write
 * permission, or NULL after taking the exception. */
void *vireo_cpu_atomic_addr(VireoCpu *cpu, const VireoIrInsn *insn, uint64_t va, unsigned size,
                            bool is_lr);
