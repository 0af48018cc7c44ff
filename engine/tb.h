/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * Internal to engine/: decoded blocks as the CPU core keeps them, and what
 * every backend shares to go from one block to the next (links, the jump
 * cache, the exit-request check and the counters), as inline functions so
 * that a backend's run loop follows a link without a call.
 */

#include "engine/backend.h"
#include "engine/cpu.h"

/* A block's IR as the backends run it: each op with the address of the
 * interpreter's handler for it (the JIT keeps them too, for its calls to
 * slow paths and helpers, which locate the instruction from its op). */
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
    /* The JIT's code for the block (a VireoJitFn), NULL where the
     * interpreter runs it. */
    const void *native;
    const void *native_checked;   /* where code of a linked block jumps in */
    const void *native_entry;     /* the same, without the checks (same page) */
    const uint32_t *native_links; /* the JIT's patch sites, per link slot */
    /* The guest code it was decoded from (guest_len bytes), NULL when the
     * block may not be revived (cpu.c). */
    const uint8_t *guest_code;
    uint32_t guest_len;
    bool no_native; /* the JIT cannot compile it: the interpreter runs it */
    uint32_t heat;  /* runs on the interpreter so far, under the JIT */
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

/* Whether `next` was decoded from the page `tb` was decoded from, at the
 * same virtual page. A link from `tb` to such a block needs no check that
 * `next` is current once `tb` runs: `tb` was current when it was entered
 * (each entry checks, or follows such a link from a block that was), the
 * instruction TLB and the context cannot change while blocks run without
 * going back to the run loop, and a link is made only to a block current at
 * the page's generation (a revived block loses its links, tb_revive()). A
 * write to the page by this hart makes it leave at the next block boundary
 * (exit_request); one by another hart or a device is seen by the next
 * check, at most VIREO_RUN_CHECK_PERIOD blocks later, as the architecture
 * allows: a hart must run fence.i to see code written, which leaves. */
static inline bool vireo_tb_same_page(const VireoTb *tb, const VireoTb *next)
{
    return ((tb->vpc ^ next->vpc) & ~(uint64_t)(VIREO_PAGE_SIZE - 1)) == 0 &&
           ((tb->ppc ^ next->ppc) & ~(uint64_t)(VIREO_PAGE_SIZE - 1)) == 0;
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

/* Counters are kept in a register while blocks run: `packed` adds up, per
 * block, the retired instructions (bits 0-23), memory ops (bits 24-47) and
 * one block (bits 48-63). They are published to the vCPU's statistics on the
 * way out, before helpers (which may read instret), and at least every
 * VIREO_RUN_CHECK_PERIOD blocks, so no field can overflow in between. A run
 * loop looks at exit_request at every block boundary: an interrupt from
 * another hart (an IPI that the sender's firmware spins waiting on) or a
 * device is taken after one block, not thousands. Going back to the run
 * loop costs a few cache misses, so the period is long: a compute loop's
 * blocks leave compiled code once per 4096 blocks. */
#define VIREO_RUN_CHECK_PERIOD 4096
#define VIREO_PACK_INSNS       0xffffffull
#define VIREO_PACK_MEM         (0xffffffull << 24)
#define VIREO_PACK_BLOCK       (1ull << 48)
G_STATIC_ASSERT((uint64_t)VIREO_RUN_CHECK_PERIOD *VIREO_IR_MAX_OPS <= VIREO_PACK_INSNS &&
                VIREO_RUN_CHECK_PERIOD < (1u << 16));

/* The packed counters of a whole block (tb->acc_full). */
static inline uint64_t vireo_tb_pack(const VireoIrBlock *block)
{
    return block->n_guest | ((uint64_t)block->n_mem << 24) | VIREO_PACK_BLOCK;
}

/* The instructions and memory ops counted in `packed`, published (what a
 * helper may read); the block field is left to the caller. */
static inline void vireo_run_publish_counts(VireoCpu *cpu, uint64_t packed)
{
    VIREO_STAT_ADD(cpu, insns, packed & VIREO_PACK_INSNS);
    VIREO_STAT_ADD(cpu, dtlb_hits, (packed & VIREO_PACK_MEM) >> 24);
}

static inline void vireo_run_publish(VireoCpu *cpu, uint64_t *packed, unsigned *budget)
{
    vireo_run_publish_counts(cpu, *packed);
    VIREO_STAT_ADD(cpu, blocks, *packed >> 48);
    *packed = 0;
    *budget = VIREO_RUN_CHECK_PERIOD;
}

/* The key a run loop follows links under: the current exec_key, or 1, which
 * matches no link, to run one block only. */
static inline uint64_t vireo_run_key(const VireoCpu *cpu, bool chain)
{
    return chain ? cpu->exec_key : 1;
}

/* At the end of a block that left through its static exit `slot` for
 * `target`, with the block's counters added to `packed`: the block to run
 * next without going back to the run loop (the block's own link when it is
 * current, else the jump cache's, which becomes the link), or NULL with
 * cpu->pc = target when the run loop must look (an exit request, one block
 * only, a miss). `same` tells whether a block may run in the caller's
 * backend now. */
static inline VireoTb *vireo_run_follow(VireoCpu *cpu, VireoTb *tb, unsigned slot, uint64_t target,
                                        uint64_t key, uint64_t *packed, unsigned *budget,
                                        bool (*same)(const VireoCpu *, const VireoTb *))
{
    VireoTbLink *l;
    VireoTb *next;

    if (__builtin_expect(--*budget == 0, 0)) {
        vireo_run_publish(cpu, packed, budget);
    }
    if (__builtin_expect(atomic_load_explicit(&cpu->exit_request, memory_order_relaxed), 0)) {
        cpu->pc = target;
        return NULL;
    }
    /* Follow the block's own link when it is current: no lookup. */
    l = &tb->links[slot];
    next = l->tb;
    if (__builtin_expect(l->key == key && same(cpu, next) &&
                             (vireo_tb_same_page(tb, next) || vireo_tb_current(cpu, next)),
                         1)) {
        return next;
    }
    cpu->pc = target;
    if (key == 1) {
        return NULL; /* one block only */
    }
    next = vireo_jc_lookup(cpu);
    if (next != NULL && same(cpu, next)) {
        l->tb = next;
        l->key = key;
        if (tb->native_links != NULL) {
            cpu->backend->link(cpu, tb, slot, next, key); /* the JIT patches its code */
        }
        return next;
    }
    return NULL;
}

/* After a computed jump (or a helper's control transfer) to cpu->pc, with
 * the block's counters added: the block to run next through the jump
 * cache, or NULL when the run loop must look. */
static inline VireoTb *vireo_run_lookup(VireoCpu *cpu, uint64_t key, uint64_t *packed,
                                        unsigned *budget,
                                        bool (*same)(const VireoCpu *, const VireoTb *))
{
    VireoTb *next;

    if (__builtin_expect(--*budget == 0, 0)) {
        vireo_run_publish(cpu, packed, budget);
    }
    if (__builtin_expect(atomic_load_explicit(&cpu->exit_request, memory_order_relaxed), 0) ||
        key == 1) {
        return NULL;
    }
    next = vireo_jc_lookup(cpu);
    return next != NULL && same(cpu, next) ? next : NULL;
}

/* Room for `bytes` more in the code buffer, for a backend that compiles a
 * block after it was decoded; NULL when it is full (then the buffer is
 * emptied at the next lookup of a block, when no block runs).
 * vireo_code_take() then keeps what was used. */
static inline void *vireo_code_room(VireoCpu *cpu, size_t bytes)
{
    if (cpu->code_used + bytes > cpu->code_cap) {
        cpu->code_full = true;
        return NULL;
    }
    return cpu->code_buf + cpu->code_used;
}

static inline void vireo_code_take(VireoCpu *cpu, size_t bytes)
{
    cpu->code_used += (bytes + 15u) & ~(size_t)15u;
}

/* The threaded interpreter (interp.c): the bytes a block's form takes, and
 * building it in `mem` (that many bytes, aligned for pointers); every
 * backend's blocks start with it. */
size_t vireo_interp_tb_bytes(const VireoIrBlock *block);
VireoTb *vireo_interp_compile(const VireoIrBlock *block, void *mem);
/* Run `tb` and the blocks it leads to (see VireoBackendOps.execute). */
void vireo_interp_exec(VireoCpu *cpu, VireoTb *tb, bool chain);
/* An F op on cpu->regs, the flags into cpu->fp_flags. False after raising
 * illegal instruction for an invalid dynamic rounding mode. */
bool vireo_interp_fp(VireoCpu *cpu, const VireoIrInsn *in);
extern const VireoBackendOps vireo_interp_backend;

/* The JIT (engine/jit/), on x86-64 hosts. */
extern const VireoBackendOps vireo_jit_backend;

/* The backend of `kind`, or NULL when it is not available here. */
const VireoBackendOps *vireo_engine_backend(VireoEngineKind kind);

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
