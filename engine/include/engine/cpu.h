/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "engine/backend.h"
#include "engine/bus.h"
#include "engine/debug.h"
#include "engine/ir.h"
#include "engine/machine.h"
#include "engine/stats.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * The architecture-neutral core of a software vCPU: the register file the IR
 * works on, the TLBs, the decoded-block cache and the dispatch loop. A guest
 * architecture (riscv64/) embeds VireoCpu at the start of its own CPU state
 * and provides a VireoCpuClass.
 */

/* Soft TLB: direct-mapped, one array per translation context (e.g. RISC-V
 * M, S, S with SUM, U) and per kind (instruction, data). A tag holds the
 * page's virtual address when the fast path may use the entry for that
 * access, and VIREO_TLB_INVALID otherwise. */
#define VIREO_TLB_BITS       12
#define VIREO_TLB_SIZE       (1u << VIREO_TLB_BITS)
#define VIREO_TLB_CONTEXTS   4
#define VIREO_TLB_VICTIMS    8
#define VIREO_TLB_LOG        256
#define VIREO_STRADDLE_CACHE 64
#define VIREO_TLB_INVALID    (~(uint64_t)0)

typedef enum {
    VIREO_ACCESS_LOAD = 0,
    VIREO_ACCESS_STORE = 1,
    VIREO_ACCESS_FETCH = 2,
} VireoAccess;

/* Permission bits cached in an entry. */
#define VIREO_TLB_PERM_R 0x1
#define VIREO_TLB_PERM_W 0x2
#define VIREO_TLB_PERM_X 0x4
/* Entry flags. */
#define VIREO_TLB_IO    0x1 /* the page is MMIO: every access goes to the bus */
#define VIREO_TLB_SLOW  0x2 /* permissions vary inside the page: check each access */
#define VIREO_TLB_WATCH 0x4 /* a debugger watches the page: loads and stores are slow */

typedef struct VireoTlbEntry {
    uint64_t tag_r, tag_w, tag_x; /* fast-path tags */
    uintptr_t addend;             /* host address = guest virtual address + addend */
    const guint8 *page_flags;     /* RAM page flags (code, watch); a zero byte otherwise */
    uint64_t vpage;               /* virtual page, VIREO_TLB_INVALID when empty */
    uint64_t ppage;               /* physical page */
    uint16_t asid;
    uint8_t perms; /* VIREO_TLB_PERM_* allowed in this entry's context */
    uint8_t flags; /* VIREO_TLB_IO, VIREO_TLB_SLOW */
    uint8_t global;
    uint8_t shift; /* log2 of the guest mapping's size (12 for 4 KiB, 21, 30, ...) */
} VireoTlbEntry;

/* The slots of one array that may hold an entry, so that a flush looks at
 * those alone: a slot is noted when it goes from empty to full. `n` above
 * VIREO_TLB_LOG means that more slots were filled than the log holds, and
 * a flush scans the whole array. A slot may be noted twice, and a noted
 * slot may be empty again. */
typedef struct VireoTlbLog {
    uint16_t n;
    uint8_t nonglobal; /* notes only the slots given a non-global entry */
    uint16_t slot[VIREO_TLB_LOG];
} VireoTlbLog;

typedef struct VireoTlb {
    VireoTlbEntry d[VIREO_TLB_CONTEXTS][VIREO_TLB_SIZE];
    VireoTlbEntry i[VIREO_TLB_CONTEXTS][VIREO_TLB_SIZE];
    VireoTlbLog dlog[VIREO_TLB_CONTEXTS], ilog[VIREO_TLB_CONTEXTS];
    /* The same for the non-global entries alone, which are all that a
     * flush by ASID (a context switch) has to find: the kernel's global
     * entries soon fill more slots than a log holds. */
    VireoTlbLog dlog_ng[VIREO_TLB_CONTEXTS], ilog_ng[VIREO_TLB_CONTEXTS];
    /* Per array, the last entries that a fill pushed out of it: a miss
     * looks here before it walks the page tables, so that two pages at the
     * same index take turns for the price of a swap. Flushed with the
     * arrays; the fast paths never read them. */
    VireoTlbEntry dv[VIREO_TLB_CONTEXTS][VIREO_TLB_VICTIMS];
    VireoTlbEntry iv[VIREO_TLB_CONTEXTS][VIREO_TLB_VICTIMS];
    uint8_t dv_next[VIREO_TLB_CONTEXTS], iv_next[VIREO_TLB_CONTEXTS];
    /* Virtual range [super_lo, super_hi) that holds every guest superpage
     * with a slice in the TLB (empty when lo >= hi): a flush by address
     * outside it only needs the address's own slot in each array. */
    uint64_t super_lo, super_hi;
} VireoTlb;

/* What a translation returns. */
typedef enum {
    VIREO_XLATE_OK,
    VIREO_XLATE_PAGE_FAULT,
    VIREO_XLATE_ACCESS_FAULT,
    VIREO_XLATE_MISALIGNED,
} VireoXlateResult;

typedef struct VireoCpu VireoCpu;
typedef struct VireoTb VireoTb;

/* The jump cache: the last block run at a virtual pc, per translation
 * context, so that going from one block to the next costs one lookup. */
#define VIREO_JC_BITS 16
#define VIREO_JC_SIZE (1u << VIREO_JC_BITS)

typedef struct VireoJumpCacheEntry {
    uint64_t vpc;
    VireoTb *tb;
    uint64_t key; /* VireoCpu.exec_key when the entry was made */
} VireoJumpCacheEntry;

typedef struct VireoCpuClass {
    /* Translate `va` for `access` in the current context and fill `entry`
     * (vpage, ppage, perms, asid, global, shift; the core fills the rest). */
    VireoXlateResult (*translate)(VireoCpu *cpu, uint64_t va, unsigned size, VireoAccess access,
                                  VireoTlbEntry *entry);
    /* Take the architecture's exception for a failed access at `va`. */
    void (*raise_access)(VireoCpu *cpu, VireoAccess access, VireoXlateResult why, uint64_t va);
    /* Take exception `cause` with value `tval` (IR TRAP and helpers). */
    void (*raise)(VireoCpu *cpu, uint64_t cause, uint64_t tval);
    /* Take the illegal-instruction exception for the instruction `bits`. */
    void (*raise_illegal)(VireoCpu *cpu, uint64_t bits);
    /* Decode the block at cpu->pc into `block`, fetching with
     * vireo_cpu_fetch16(). Returns false when fetching faulted (the
     * exception has been taken). */
    bool (*decode)(VireoCpu *cpu, VireoIrBlock *block);
    /* The longest instruction's bytes, when the decoder keeps every block
     * within VIREO_IR_MAX_GUEST times as many bytes from its pc (following
     * jumps included): the core marks that much as code before decoding.
     * 0: not said (a block may cover the rest of its page). */
    unsigned max_insn_bytes;
    /* Flags that change how code decodes (e.g. FP enabled); part of the
     * block cache key. The architecture calls vireo_cpu_set_decode_flags()
     * whenever they may have changed. */
    uint32_t (*decode_flags)(VireoCpu *cpu);
    /* Called when exit_request was seen: take a pending interrupt if any. */
    void (*check_interrupts)(VireoCpu *cpu);
    /* Wait until an interrupt is pending or the vCPU is kicked. */
    void (*wait_for_interrupt)(VireoCpu *cpu);
    /* Wait until the vCPU is kicked (an interrupt request, the machine
     * needs it) or `us` microseconds passed; the architecture may return
     * at once (RISC-V does unless only software interrupts are pending). */
    void (*wait_for_kick)(VireoCpu *cpu, int64_t us);
} VireoCpuClass;

/* A block of one instruction that straddles two pages (cpu.c). */
typedef struct {
    uint64_t vpc, ppc;
    uint32_t flags;
    uint32_t raw; /* the instruction's bytes when decoded; 0 matches none */
    VireoTb *tb;
} VireoStraddle;

struct VireoCpu {
    uint64_t regs[VIREO_IR_NREGS]; /* first: the hot path indexes it */
    uint64_t pc;
    VireoTlbEntry *dtlb;      /* current data context */
    VireoTlbEntry *itlb;      /* current instruction context */
    atomic_uint exit_request; /* VIREO_EXIT_* bits */
    uint8_t fp_rm;            /* dynamic rounding mode */
    uint8_t fp_flags;         /* accumulated exception flags */
    bool halted;              /* waiting for an interrupt */
    /* Monotonic time (µs) the current wait for an interrupt began, 0 when
     * not waiting: vireo_cpu_read_stats() counts an unfinished wait too. */
    int64_t halt_since_us;
    /* LR/SC reservation: host address and the value loaded. */
    bool res_valid;
    void *res_host;
    uint64_t res_value;

    const VireoCpuClass *cls;
    VireoMachine *machine;
    VireoBus *bus;
    VireoTlb *tlb;

    /* decoded-block cache */
    const VireoBackendOps *backend; /* what compiles and runs the blocks */
    VireoEngineKind engine;
    uint32_t decode_flags; /* current value of cls->decode_flags() */
    uint32_t jc_epoch;     /* bumped when decoded blocks are freed */
    unsigned ictx;         /* current instruction TLB context */
    /* What a cached link from a pc to a block depends on besides the
     * translation (which vireo_tb_current() checks): the epoch, the
     * instruction context and the decode flags, packed for one compare. */
    uint64_t exec_key;
    VireoJumpCacheEntry *jc;
    VireoTb **tb_hash;
    /* Decoded blocks are carved from one buffer and dropped all at once
     * when it is full: no allocator calls on the decode path. Blocks out
     * of the hash (their page was written) stay there until then. */
    uint8_t *code_buf;
    size_t code_used, code_cap;
    bool code_full; /* a backend found no room: empty the buffer at the next lookup */
    uint32_t tb_count;
    /* The JIT compiles a block at its jit_threshold-th execution (1: the
     * first); the interpreter runs it until then. */
    uint32_t jit_threshold;
    const VireoTb *cur_tb; /* the block being executed */
    /* The op whose slow load or store is under way: cpu->pc becomes its
     * instruction's pc only when the access raises an exception (locating
     * it costs cache misses that every TLB miss would pay otherwise). */
    const VireoIrInsn *access_insn;
    VireoTb *cur_scratch_tb; /* a block that straddles two pages, interpreted */
    /* Blocks of one instruction that straddles two pages, by page: used
     * again while the instruction's bytes are the same (cpu.c). */
    VireoStraddle straddle[VIREO_STRADDLE_CACHE];
    VireoIrBlock *scratch;   /* decoder output */
    uint64_t insns_at_reset; /* stats.insns when the architectural count was zero */
    /* Spin-wait hints (vireo_cpu_spin_hint): where the last one retired and
     * how many came in a row within a short distance. */
    uint64_t spin_at;
    unsigned spin_streak;
    /* The same for WFIs that complete at once (a pending interrupt the hart
     * does not take): where the last one was and how many came in a row. */
    uint64_t wfi_at;
    unsigned wfi_streak;

    /* Debugger state, NULL when no debugger may attach (engine/debug.h). */
    VireoCpuDebug *debug;

    /* counters, written only by this vCPU's thread */
    VireoVcpuStats stats;
};

/* Set up the core; `tlb` is owned by the caller (part of its CPU state). */
void vireo_cpu_init(VireoCpu *cpu, const VireoCpuClass *cls, VireoMachine *machine, VireoTlb *tlb);
void vireo_cpu_finalize(VireoCpu *cpu);

/* The dispatch loop: runs until the machine asks the vCPU to stop. */
void vireo_cpu_run(VireoCpu *cpu);
/* Runs one block (after taking a pending interrupt), for tests and
 * debuggers. Does nothing while the vCPU waits for an interrupt. */
void vireo_cpu_step(VireoCpu *cpu);
/* What VireoCpu.exit_request asks for. Run loops leave the blocks they run
 * at the next block boundary for either. */
#define VIREO_EXIT_REQUEST 1u /* look at the machine's state and interrupts */
#define VIREO_EXIT_BLOCKS  2u /* only go back to the run loop (code written) */

/* From another thread: have the loop look at its state soon. */
static inline void vireo_cpu_request_exit(VireoCpu *cpu)
{
    atomic_store_explicit(&cpu->exit_request, VIREO_EXIT_REQUEST, memory_order_release);
}

/* Debugger support (engine/debug.h), called while the vCPU is stopped:
 * attach (or with NULL detach) the debugger's state, and drop decoded code
 * and TLB entries after its breakpoints, watchpoints or stepping changed. */
void vireo_cpu_set_debug(VireoCpu *cpu, VireoCpuDebug *debug);
void vireo_cpu_debug_changed(VireoCpu *cpu);
/* For the frontend's decoder: whether the block must hold one instruction
 * (stepping, or watchpoints that report the exact instruction). */
static inline bool vireo_cpu_debug_single(const VireoCpu *cpu)
{
    return cpu->debug != NULL && (cpu->debug->step || cpu->debug->points->n_watchpoints > 0);
}
/* Whether a breakpoint is set at `pc`. */
static inline bool vireo_cpu_debug_break(const VireoCpu *cpu, uint64_t pc)
{
    return cpu->debug != NULL && vireo_debug_breakpoint_at(cpu->debug, pc);
}

/* TLB maintenance. */
void vireo_tlb_flush_all(VireoCpu *cpu);
/* Flush entries for `va` (any context), non-global ones of `asid` only when
 * `match_asid`; va = VIREO_TLB_INVALID flushes every address. */
void vireo_tlb_flush(VireoCpu *cpu, uint64_t va, bool match_asid, uint16_t asid);
/* Select the contexts the fast paths use. */
void vireo_tlb_set_context(VireoCpu *cpu, unsigned data_ctx, unsigned insn_ctx);

/* Drop every decoded block. */
void vireo_cpu_flush_code(VireoCpu *cpu);
/* Run blocks on the backend of `kind` from now on (vCPUs start with
 * vireo_engine_get_default()'s); every decoded block is dropped. While the
 * vCPU is stopped. False, with the code as it was, when the kind is not
 * available here (vireo_engine_available()). */
bool vireo_cpu_set_engine(VireoCpu *cpu, VireoEngineKind kind);
/* Use at most `bytes` (up to the 96 MiB reserved) for decoded blocks; the
 * blocks there now are dropped. For tests of a full buffer. */
void vireo_cpu_set_code_capacity(VireoCpu *cpu, size_t bytes);
/* Re-read cls->decode_flags() after a change of the state it depends on. */
void vireo_cpu_set_decode_flags(VireoCpu *cpu);
/* Instructions retired since the last architectural reset of the counter. */
static inline uint64_t vireo_cpu_icount(const VireoCpu *cpu)
{
    return cpu->stats.insns - cpu->insns_at_reset;
}

/* Memory access of 1, 2, 4 or 8 bytes with translation, for helpers and
 * the slow paths. On a fault the architecture's exception has been taken
 * and false returned. */
bool vireo_cpu_load(VireoCpu *cpu, uint64_t va, unsigned size, uint64_t *value);
bool vireo_cpu_store(VireoCpu *cpu, uint64_t va, unsigned size, uint64_t value);
/* Cache-block operations on the naturally aligned block of `size` bytes (a
 * power of two, at most a page) that holds `va`; a fault is taken as a
 * store's at `va`. Probe: whether a load or a store may access the block
 * (a clean, flush or invalidate of memory that is always coherent).
 * Zero: stores zeros to the block, which must be RAM. */
bool vireo_cpu_probe_block(VireoCpu *cpu, uint64_t va, unsigned size);
bool vireo_cpu_zero_block(VireoCpu *cpu, uint64_t va, unsigned size);
/* Instruction fetch for decoders: two bytes at `va`, or four at an aligned
 * `va` in one access (a store of another hart is seen whole or not at
 * all). */
bool vireo_cpu_fetch16(VireoCpu *cpu, uint64_t va, uint16_t *value);
bool vireo_cpu_fetch32(VireoCpu *cpu, uint64_t va, uint32_t *value);

/* For helpers: the guest pc of the instruction `insn` belongs to, and of the
 * one after it, in the block being executed. */
uint64_t vireo_cpu_insn_pc(const VireoCpu *cpu, const VireoIrInsn *insn);
uint64_t vireo_cpu_next_pc(const VireoCpu *cpu, const VireoIrInsn *insn);
/* Instructions retired so far, counting those of the current block before
 * `insn`. */
uint64_t vireo_cpu_retired(const VireoCpu *cpu, const VireoIrInsn *insn);

/* A helper for the architecture's spin-wait hint (RISC-V `pause`): a no-op
 * for the guest. When hints come in a tight loop for long (a lock whose
 * holder's vCPU thread is not running, as on a host with fewer cores than
 * vCPUs), the thread yields its core to the host's scheduler. */
int vireo_cpu_spin_hint(VireoCpu *cpu, const VireoIrInsn *insn);

/* Counters: relaxed stores by the owner, relaxed loads by readers. */
#define VIREO_STAT_ADD(cpu, field, n)                                              \
    __atomic_store_n(&(cpu)->stats.field,                                          \
                     __atomic_load_n(&(cpu)->stats.field, __ATOMIC_RELAXED) + (n), \
                     __ATOMIC_RELAXED)
void vireo_cpu_read_stats(VireoCpu *cpu, VireoVcpuStats *out);
