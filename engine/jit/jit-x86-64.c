/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The JIT: IR blocks compiled to x86-64 code. A block's native code is a
 * function `uint64_t block(VireoCpu *cpu)` that runs the block and returns
 * how it left (an exit of the kind JIT_*, its link slot, and how many guest
 * instructions retired); the run loop here follows links and the jump cache
 * with the core's shared functions (tb.h), as the interpreter does.
 *
 * Guest registers live in cpu->regs throughout: every op reads its operands
 * from there and writes its result back, so that a helper, a slow path or an
 * exception sees the state exactly as the interpreter would leave it. Loads
 * and stores test the data TLB inline (the tag compare also checks natural
 * alignment) and call the core's slow paths out of line on a miss; MMIO,
 * misaligned and cross-page accesses take the slow path. Ops without an
 * expansion of their own call vireo_ir_eval() (arithmetic), the
 * interpreter's floating-point routine (softfloat) or the helper. A block
 * with an op the JIT does not compile (atomics, a debugger's stop) is left
 * to the interpreter, and counted.
 *
 * Registers of the generated code: rbx = &cpu->regs[16] (so that the
 * first 32 registers are one byte of displacement away), r12 = the data TLB
 * of the current context (reloaded after every call), r13 = cpu, r15 = the
 * packed counters (VireoJitFn); rbp, rsi, r8-r11 and r14 hold cached guest
 * registers (N_CACHE); rax, rcx, rdx and rdi are scratch. The frame keeps
 * 16 bytes at [rsp] for a slow load's value.
 */
#include "engine/softfloat.h"
#include "ir-eval.h"
#include "tb.h"
#include "x86-emit.h"

#include <stddef.h>
#include <string.h>
#include <time.h>

/* What compiled code returns: how the last block it ran left (`code`) and
 * the packed counters (tb.h) with every block it ran added. */
typedef struct {
    uint64_t code;
    uint64_t packed;
} VireoJitResult;
/* Runs the block and the compiled blocks it leads to, adding their counters
 * to `packed`, whose block field (bits 48-63) starts at 2^16 minus the
 * budget: the add that counts the last block the budget allows carries out
 * of bit 63, and the code leaves (jit_call()). */
typedef VireoJitResult (*VireoJitFn)(VireoCpu *cpu, uint64_t packed);

/* How the last block left, in bits 16-23 of `code`; bits 0-15 hold the link
 * slot. */
enum {
    JIT_LINK = 0,        /* through its static exit `slot`, cpu->pc set */
    JIT_LOOKUP = 1,      /* a computed jump to cpu->pc */
    JIT_HELPER_EXIT = 2, /* a helper ended the block and set cpu->pc */
    JIT_TRAPPED = 3,     /* an exception was taken */
    JIT_WFI = 4,         /* wait for an interrupt, then go on at cpu->pc */
};

G_STATIC_ASSERT(sizeof(VireoTbLink) == 16);

/* The most bytes one op's code takes, inline and out of line together; the
 * buffer check makes a block that would take more fail cleanly instead. */
#define JIT_OP_BYTES     384
#define JIT_FRAME_BYTES  (512 + 8 * (VIREO_IR_MAX_GUEST + 2)) /* with the counts' constants */
#define JIT_RECORD_BYTES 16  /* an exit record, per op that may have one */
#define REGS_BIAS        128 /* rbx = (char *)cpu->regs + REGS_BIAS */

static inline int32_t reg_disp(unsigned r)
{
    return (int32_t)(8 * r) - REGS_BIAS;
}

/* ---- helpers the generated code calls ---- */

static uint64_t jit_eval(uint64_t op, uint64_t a, uint64_t b)
{
    return vireo_ir_eval((VireoIrOp)op, a, b);
}

/* An AT op: through the TLB when the page is writable RAM without code,
 * as the interpreter does, else the slow path; false after an exception. */
static bool jit_atomic(VireoCpu *cpu, const VireoIrInsn *in)
{
    VireoIrOp op = (VireoIrOp)in->op;
    unsigned size = vireo_ir_atomic_size(op);
    uint64_t va = cpu->regs[in->a];
    const VireoTlbEntry *e = &cpu->dtlb[(va >> VIREO_PAGE_SHIFT) & (VIREO_TLB_SIZE - 1)];
    void *p;

    if (e->tag_w == (va & (~(uint64_t)(VIREO_PAGE_SIZE - 1) | (size - 1))) && *e->page_flags == 0) {
        p = (void *)(uintptr_t)(va + e->addend);
    } else {
        p = vireo_cpu_atomic_addr(cpu, in, va, size, op == VIREO_OP_LR32 || op == VIREO_OP_LR64);
        if (p == NULL) {
            return false;
        }
    }
    cpu->regs[in->d] = vireo_ir_atomic(cpu, op, p, cpu->regs[in->b], cpu->regs[in->c]);
    return true;
}

/* Before a helper, which may read instret (vireo_cpu_retired()): the
 * instructions and memory ops counted in `packed` so far are published;
 * returns `packed` without them (its block field, which holds the budget,
 * stays). */
static uint64_t jit_publish(VireoCpu *cpu, uint64_t packed)
{
    vireo_run_publish_counts(cpu, packed);
    return packed & ~(VIREO_PACK_BLOCK - 1);
}

static void jit_trap(VireoCpu *cpu, const VireoIrInsn *in)
{
    cpu->pc = vireo_cpu_insn_pc(cpu, in);
    cpu->cls->raise(cpu, (uint64_t)in->imm, (uint64_t)in->imm2);
}

/* ---- code generation ---- */

/* Out-of-line code, emitted after the block's body. */
typedef enum {
    STUB_LOAD,    /* slow load; back to `resume` */
    STUB_STORE,   /* slow store; back to `resume` */
    STUB_HELPER,  /* a helper returned non-zero */
    STUB_TRAP,    /* a call returned false: the exception was taken */
    STUB_ATOMIC,  /* an atomic op away from its fast path; back to `resume` */
    STUB_FP,      /* an F op the host's unit may not do: softfloat; back to `resume` */
    STUB_FP_ZERO, /* its result is no large normal: an exact zero goes on to `commit` */
} StubKind;

typedef struct {
    StubKind kind;
    uint8_t *jump;    /* the rel32 that goes to the stub */
    uint8_t *jump2;   /* another one, or NULL (a store's code-page check) */
    uint8_t *more[5]; /* more of them (an F op's checks) */
    unsigned n_more;
    const uint8_t *resume; /* where a slow access goes back to */
    const uint8_t *commit; /* STUB_FP_ZERO: where the inline result is stored */
    const VireoIrInsn *in;
    unsigned dirty; /* cached registers not yet written back at the op */
} Stub;

/* Guest registers a block uses often live in these host registers while
 * it runs: loaded when the body starts, written back before every exit and
 * every call (so that helpers, slow paths and exceptions see cpu->regs
 * exact), reloaded after every call. */
#define N_CACHE 7
static const int cache_host[N_CACHE] = { X_RBP, X_RSI, X_R8, X_R9, X_R10, X_R11, X_R14 };

typedef struct {
    X86Asm a;
    const VireoTb *tb;
    int8_t slot_of[VIREO_IR_NREGS]; /* cache slot of a guest register, -1 for none */
    uint8_t cached[N_CACHE];        /* guest register of each slot */
    unsigned n_cached;
    unsigned dirty; /* slots whose value is newer than cpu->regs, here */
    Stub stubs[2 * VIREO_IR_MAX_OPS];
    unsigned n_stubs;
    /* jumps to the block's epilogue, and from its checked entry to the
     * code that leaves when the block may not run */
    uint8_t *to_epilogue[3 * VIREO_IR_MAX_OPS + 4];
    unsigned n_epilogue;
    uint8_t *to_fail[4];
    unsigned n_fail;
    /* per link slot: where its jump is patched (0 for a slot that needs no
     * patching) */
    uint32_t site_jump[2 * VIREO_IR_MAX_OPS];
    uint8_t *entry;      /* the unchecked entry (NULL when there is none) */
    uint8_t *body;       /* the first op's code, the cached registers loaded */
    unsigned body_dirty; /* a block that loops on itself: `dirty` at its body */
    bool calls_helper;   /* the block has a HELPER op */
    /* the adds of the counters (emit_count()): where each one's rip-relative
     * displacement goes, and how many instructions it counts */
    uint8_t *count_site[5 * VIREO_IR_MAX_OPS + 8];
    uint8_t count_insns[5 * VIREO_IR_MAX_OPS + 8];
    unsigned n_counts;
    /* the exits to other blocks' checked entries (emit_exit_record()):
     * where each one's rip-relative displacement goes, and its code */
    uint8_t *record_site[2 * VIREO_IR_MAX_OPS + 8];
    uint32_t record_code[2 * VIREO_IR_MAX_OPS + 8];
    unsigned n_records;
    /* the calls (emit_call()): where each one's rip-relative displacement
     * goes, and the function */
    uint8_t *call_site[2 * VIREO_IR_MAX_OPS + 8];
    const void *call_fn[2 * VIREO_IR_MAX_OPS + 8];
    const uint8_t *call_site_at[2 * VIREO_IR_MAX_OPS + 8]; /* where its address is */
    unsigned n_calls;
    /* the guest registers known to hold a 32-bit value sign-extended, at
     * the op being compiled (register 0 too) */
    bool sext[VIREO_IR_NREGS];
    /* those known to hold a value in [0, 2^31) (sign-extended too) */
    bool nonneg[VIREO_IR_NREGS];
} Gen;

/* A stub for the jump at `jump`, with the registers dirty now; returned
 * for what differs (a second jump, another dirty set). */
static Stub *add_stub(Gen *g, StubKind kind, uint8_t *jump, const uint8_t *resume,
                      const VireoIrInsn *in)
{
    g_assert(g->n_stubs < G_N_ELEMENTS(g->stubs));
    g->stubs[g->n_stubs] =
        (Stub){ .kind = kind, .jump = jump, .resume = resume, .in = in, .dirty = g->dirty };
    return &g->stubs[g->n_stubs++];
}

/* host = R[r], from its cache register or from cpu->regs */
static void load_reg(Gen *g, int host, unsigned r)
{
    if (r == 0) {
        x_alu_rr(&g->a, false, X_XOR, host, host);
    } else if (g->slot_of[r] >= 0) {
        if (cache_host[g->slot_of[r]] != host) {
            x_mov_rr(&g->a, host, cache_host[g->slot_of[r]]);
        }
    } else {
        x_load64(&g->a, host, X_RBX, reg_disp(r));
    }
}

/* host = R[r] from cpu->regs (after a write-back: arguments of calls) */
static void load_mem(Gen *g, int host, unsigned r)
{
    if (r == 0) {
        x_alu_rr(&g->a, false, X_XOR, host, host);
    } else {
        x_load64(&g->a, host, X_RBX, reg_disp(r));
    }
}

/* R[r] = host, without changing what the generator knows is dirty */
static void put_reg(Gen *g, int host, unsigned r)
{
    if (g->slot_of[r] >= 0) {
        x_mov_rr(&g->a, cache_host[g->slot_of[r]], host);
    } else {
        x_store64(&g->a, host, X_RBX, reg_disp(r));
    }
}

static void store_reg(Gen *g, int host, unsigned r)
{
    put_reg(g, host, r);
    if (g->slot_of[r] >= 0) {
        g->dirty |= 1u << g->slot_of[r];
    }
}

static void write_back(Gen *g, unsigned dirty)
{
    for (unsigned i = 0; i < g->n_cached; i++) {
        if (dirty & (1u << i)) {
            x_store64(&g->a, cache_host[i], X_RBX, reg_disp(g->cached[i]));
        }
    }
}

static void reload_cached(Gen *g)
{
    for (unsigned i = 0; i < g->n_cached; i++) {
        x_load64(&g->a, cache_host[i], X_RBX, reg_disp(g->cached[i]));
    }
}

/* The cache slots whose register the block may read before it writes it:
 * loaded when the body starts; the others are written first, and hold no
 * value until then. The scan goes through the ops in order and stops,
 * counting every slot not yet seen, at the first op whose reads it does
 * not know (a call), and in a block that loops on itself at the first op
 * that may leave or call (its written slots count as dirty from the start,
 * emit_link(), and are written back there). */
static unsigned live_in_slots(const Gen *g, bool loop)
{
    unsigned seen = 0, live = 0, all = (1u << g->n_cached) - 1;

    for (uint32_t i = 0; i < g->tb->n_ops && seen != all; i++) {
        const VireoIrInsn *in = &g->tb->code[i].in;
        unsigned reads = 0, writes = 0;
        switch (vireo_ir_op_kind(in->op)) {
        case VIREO_IR_KIND_K: writes = 1; break;
        case VIREO_IR_KIND_U:
        case VIREO_IR_KIND_I: reads = 1, writes = 1; break;
        case VIREO_IR_KIND_R: reads = 2, writes = 1; break;
        case VIREO_IR_KIND_LD:
            if (loop) {
                return live | (all & ~seen);
            }
            reads = 1, writes = 1;
            break;
        case VIREO_IR_KIND_ST:
        case VIREO_IR_KIND_BR:
        case VIREO_IR_KIND_SX:
            if (loop) {
                return live | (all & ~seen);
            }
            reads = 2;
            break;
        default: return live | (all & ~seen);
        }
        const unsigned src[2] = { in->a, in->b };
        for (unsigned k = 0; k < reads; k++) {
            int slot = g->slot_of[src[k]];
            if (src[k] != 0 && slot >= 0 && !(seen & (1u << slot))) {
                seen |= 1u << slot;
                live |= 1u << slot;
            }
        }
        if (writes && in->d != 0 && g->slot_of[in->d] >= 0) {
            seen |= 1u << g->slot_of[in->d];
        }
    }
    return live | (all & ~seen);
}

/* After a call that writes no guest register (a slow load or store, the
 * arithmetic): only the cache registers the call may clobber are reloaded;
 * rbp and r14 are callee-saved. */
static void reload_clobbered(Gen *g)
{
    for (unsigned i = 0; i < g->n_cached; i++) {
        if (cache_host[i] != X_RBP && cache_host[i] != X_R14) {
            x_load64(&g->a, cache_host[i], X_RBX, reg_disp(g->cached[i]));
        }
    }
}

/* Before a call: cpu->regs made exact (the host registers keep their
 * values until the call clobbers them; reload_cached() after it). */
static void before_call(Gen *g)
{
    write_back(g, g->dirty);
    g->dirty = 0;
}

/* The host register that holds R[r] while the block runs, or -1. */
static int cached_host(const Gen *g, unsigned r)
{
    return r != 0 && g->slot_of[r] >= 0 ? cache_host[g->slot_of[r]] : -1;
}

/* Where an op computes R[d]: its cache register, else rax. */
static int dest_host(const Gen *g, unsigned d)
{
    int h = cached_host(g, d);

    return h >= 0 ? h : X_RAX;
}

/* host op= R[r] (group 1 op): from its cache register, cpu->regs, or 0. */
static void alu_src(Gen *g, bool w, int op, int host, unsigned r)
{
    int h = cached_host(g, r);

    if (r == 0) {
        x_alu_imm(&g->a, w, op, host, 0);
    } else if (h >= 0) {
        x_alu_rr(&g->a, w, op, host, h);
    } else {
        x_alu_mem(&g->a, w, op, host, X_RBX, reg_disp(r));
    }
}

/* R[d] = host, where host is dest_host(d). */
static void set_dest(Gen *g, int host, unsigned d)
{
    if (host == X_RAX) {
        store_reg(g, X_RAX, d);
    } else {
        g->dirty |= 1u << g->slot_of[d];
    }
}

/* R[d] = host (dest_host(d)), holding a result computed in 64 bits, or in
 * 32 when !w: then sign-extended, as the IR's 32-bit forms define it. */
static void finish_alu(Gen *g, bool w, int host, unsigned d)
{
    if (!w) {
        x_movsxd_rr(&g->a, host, host);
    }
    set_dest(g, host, d);
}

/* host op= imm (group 1 op), through rcx when it does not fit 32 bits. */
static void alu_imm(Gen *g, bool w, int op, int host, int64_t imm)
{
    if (x_fits32(imm)) {
        x_alu_imm(&g->a, w, op, host, (int32_t)imm);
    } else {
        x_mov_imm(&g->a, X_RCX, (uint64_t)imm);
        x_alu_rr(&g->a, w, op, host, X_RCX);
    }
}

/* Compares R[a] with R[b] (cmp or test), for a branch. */
static void emit_compare(Gen *g, unsigned ra, unsigned rb)
{
    int ha = cached_host(g, ra);

    if (ha < 0) {
        load_reg(g, X_RAX, ra);
        ha = X_RAX;
    }
    if (rb == 0) {
        x_op_reg(&g->a, true, X_OPC(0x85), ha, ha); /* test */
    } else {
        alu_src(g, true, X_CMP, ha, rb);
    }
}

/* The registers the block uses at least twice, most used first; in a
 * block that loops on itself, those it uses once too (loaded once, not at
 * every iteration). */
static void allocate_cache(Gen *g, const VireoTb *tb, bool loop)
{
    unsigned uses[VIREO_IR_NREGS] = { 0 };

    memset(g->slot_of, -1, sizeof g->slot_of);
    g->n_cached = 0;
    g->dirty = 0;
    for (uint32_t i = 0; i < tb->n_ops; i++) {
        const VireoIrInsn *in = &tb->code[i].in;
        switch (vireo_ir_op_kind(in->op)) {
        case VIREO_IR_KIND_K: uses[in->d]++; break;
        case VIREO_IR_KIND_U:
        case VIREO_IR_KIND_I:
        case VIREO_IR_KIND_LD:
            uses[in->a]++;
            uses[in->d]++;
            break;
        case VIREO_IR_KIND_R:
            uses[in->a]++;
            uses[in->b]++;
            uses[in->d]++;
            break;
        case VIREO_IR_KIND_ST:
        case VIREO_IR_KIND_BR:
        case VIREO_IR_KIND_SX:
            uses[in->a]++;
            uses[in->b]++;
            break;
        case VIREO_IR_KIND_F: /* inline on the host's unit, mostly (emit_fp()) */
            uses[in->a]++;
            uses[in->b]++;
            uses[in->c]++;
            uses[in->d]++;
            break;
        default:
            if (in->op == VIREO_OP_JMPR) {
                uses[in->a]++;
            }
            break; /* calls take their operands from cpu->regs */
        }
    }
    uses[0] = 0;
    /* the candidates, then the most used first (the lower register number
     * among equals) */
    unsigned cand[VIREO_IR_NREGS], n_cand = 0;
    for (unsigned r = 1; r < VIREO_IR_NREGS; r++) {
        if (uses[r] >= (loop ? 1u : 2u)) {
            cand[n_cand++] = r;
        }
    }
    while (g->n_cached < N_CACHE && n_cand > 0) {
        unsigned best = 0;
        for (unsigned i = 1; i < n_cand; i++) {
            if (uses[cand[i]] > uses[cand[best]]) {
                best = i;
            }
        }
        g->slot_of[cand[best]] = (int8_t)g->n_cached;
        g->cached[g->n_cached++] = (uint8_t)cand[best];
        memmove(&cand[best], &cand[best + 1], (n_cand - best - 1) * sizeof cand[0]);
        n_cand--;
    }
}

static void jump_to_epilogue(Gen *g)
{
    g_assert(g->n_epilogue < G_N_ELEMENTS(g->to_epilogue));
    g->to_epilogue[g->n_epilogue++] = x_jmp(&g->a);
}

/* Counts the block (`insns` of its instructions retired) into r15; the add
 * sets CF when the block was the last of the budget (VireoJitFn). It adds
 * a constant placed after the code (emit_constants()), one per
 * distinct count. */
static void emit_count(Gen *g, unsigned insns)
{
    X86Asm *a = &g->a;

    g_assert(insns <= VIREO_IR_MAX_GUEST && g->n_counts < G_N_ELEMENTS(g->count_site));
    x_byte(a, 0x4c); /* add r15, [rip + disp32] */
    x_byte(a, 0x03);
    x_byte(a, 0x3d);
    g->count_site[g->n_counts] = a->p;
    g->count_insns[g->n_counts++] = (uint8_t)insns;
    x_u32(a, 0);
}

/* rdi = this exit's record, for the checked entry it jumps to: its way out
 * (emit_epilogue()) leaves as this exit would, with `code` (JIT_LINK and
 * the slot, or JIT_LOOKUP) and this block as cur_tb. The records are
 * placed after the code (emit_constants()): {block, code}. */
static void emit_exit_record(Gen *g, uint32_t code)
{
    X86Asm *a = &g->a;

    g_assert(g->n_records < G_N_ELEMENTS(g->record_site));
    x_byte(a, 0x48); /* lea rdi, [rip + disp32] */
    x_byte(a, 0x8d);
    x_byte(a, 0x3d);
    g->record_site[g->n_records] = a->p;
    g->record_code[g->n_records++] = code;
    x_u32(a, 0);
}

/* call fn, through its address placed after the code (emit_constants()):
 * the engine's functions are too far from the code buffer for a rel32. */
static void emit_call(Gen *g, const void *fn)
{
    X86Asm *a = &g->a;

    g_assert(g->n_calls < G_N_ELEMENTS(g->call_site));
    x_byte(a, 0xff); /* call [rip + disp32] */
    x_byte(a, 0x15);
    g->call_site[g->n_calls] = a->p;
    g->call_fn[g->n_calls++] = fn;
    x_u32(a, 0);
}

/* The constants the code reads: the counts' (emit_count()), the exit
 * records (emit_exit_record()) and the addresses of the functions it calls
 * (emit_call()). */
static void emit_constants(Gen *g)
{
    X86Asm *a = &g->a;
    const uint8_t *at[VIREO_IR_MAX_GUEST + 1] = { NULL };

    while ((a->p - a->start) % 8 != 0) {
        x_byte(a, 0xcc);
    }
    for (unsigned i = 0; i < g->n_counts; i++) {
        unsigned insns = g->count_insns[i];
        if (at[insns] == NULL) {
            at[insns] = a->p;
            x_u64(a, insns | (g->tb->acc_full & ~VIREO_PACK_INSNS));
        }
        x_patch(a, g->count_site[i], at[insns]);
    }
    for (unsigned i = 0; i < g->n_records; i++) {
        x_patch(a, g->record_site[i], a->p);
        x_u64(a, (uint64_t)(uintptr_t)g->tb);
        x_u64(a, g->record_code[i]);
    }
    for (unsigned i = 0; i < g->n_calls; i++) {
        unsigned j = 0;
        while (g->call_fn[j] != g->call_fn[i]) {
            j++; /* the first call of the same function */
        }
        if (j == i) {
            g->call_site_at[i] = a->p;
            x_u64(a, (uint64_t)(uintptr_t)g->call_fn[i]);
        } else {
            g->call_site_at[i] = g->call_site_at[j];
        }
        x_patch(a, g->call_site[i], g->call_site_at[i]);
    }
}

/* Leaves the compiled code: the block is counted, and returns `kind`.
 * Right after a call (whose write-back made cpu->regs exact, and which
 * clobbered the cache registers) nothing is written back. */
static void emit_leave(Gen *g, unsigned kind, unsigned insns, bool after_call)
{
    if (!after_call) {
        write_back(g, g->dirty);
    }
    emit_count(g, insns);
    x_mov_imm(&g->a, X_RAX, (uint64_t)kind << 16);
    jump_to_epilogue(g);
}

static void set_pc(Gen *g, uint64_t pc);
static void load_near_ptr(Gen *g, int reg, const void *p);
static void store_cur_tb(Gen *g, int tmp);

/* Whether a static exit to `target` loops back to the block's own body. A
 * block that calls helpers takes its linked exit instead, and so runs with
 * the decode flags it was linked under (a helper that goes on may have
 * changed them, see emit_link()). */
static bool self_loop(const Gen *g, uint64_t target)
{
    return target == g->tb->vpc && !g->calls_helper;
}

/* The cache slots of the registers the block writes: every op with a
 * destination, those computed in their cache register (arithmetic, loads,
 * floating point on the host's unit, the atomics emit_atomic() takes
 * inline) and those a call computes (written to cpu->regs and reloaded
 * after it, for which a write-back stores what cpu->regs holds). */
static unsigned written_slots(const Gen *g)
{
    unsigned mask = 0;

    for (uint32_t i = 0; i < g->tb->n_ops; i++) {
        const VireoIrInsn *in = &g->tb->code[i].in;
        switch (vireo_ir_op_kind(in->op)) {
        case VIREO_IR_KIND_K:
        case VIREO_IR_KIND_U:
        case VIREO_IR_KIND_I:
        case VIREO_IR_KIND_LD:
        case VIREO_IR_KIND_R:
        case VIREO_IR_KIND_AT:
        case VIREO_IR_KIND_F:
            if (g->slot_of[in->d] >= 0) {
                mask |= 1u << g->slot_of[in->d];
            }
            break;
        default: break; /* no destination, or a helper's (reloaded after it) */
        }
    }
    return mask;
}

/* Whether one of the block's static exits loops back to it. */
static bool loops(const Gen *g)
{
    for (uint32_t i = 0; i < g->tb->n_ops; i++) {
        const VireoIrInsn *in = &g->tb->code[i].in;
        VireoIrKind k = vireo_ir_op_kind(in->op);
        if (((k == VIREO_IR_KIND_BR || k == VIREO_IR_KIND_SX || in->op == VIREO_OP_JMP ||
              in->op == VIREO_OP_EXIT) &&
             self_loop(g, (uint64_t)in->imm)) ||
            (k == VIREO_IR_KIND_BR && self_loop(g, (uint64_t)in->imm2))) {
            return true;
        }
    }
    return false;
}

/* Leaves the block through its static exit `slot` for `target`, with
 * `insns` of its instructions retired. Unless the budget ran out or an exit
 * is requested, the exit jumps straight to the linked block (its checked
 * entry, or its unchecked one within the page); jit_link() patches the
 * jump when the run loop links the slot (until then it leads back to the
 * run loop).
 *
 * The exit does not compare the link's key with exec_key, as the run loop
 * does: at a given exit of a given block the key is always the one the
 * link was made under, as far as the target's validity goes.
 *  - A block only runs with the decode flags it was decoded with: the run
 *    loop enters it through a lookup under exec_key, and a link is made by
 *    the run loop at the exit under the flags there.
 *  - Flags change within a block only at the same points at every run
 *    (rv_helper_set_fs_dirty() goes on; a helper whose change depends on
 *    data ends the block, VIREO_IR_EXIT), so an exit's flags are a function
 *    of the block.
 *  - The instruction TLB's context changes only where the block leaves
 *    (traps, xRET), and what the target's validity needs of it the entries
 *    check: a checked entry looks at the current instruction TLB, and an
 *    unchecked one is reached only from the same page, valid already.
 *  - The epoch changes only when every block and link is dropped. */
static void emit_link(Gen *g, unsigned slot, unsigned insns, uint64_t target)
{
    X86Asm *a = &g->a;
    uint8_t *leave[3];

    if (self_loop(g, target)) {
        /* A loop on itself: straight back to its body, whose cached
         * registers hold the values (dirty since the body started: the
         * body starts with every register it writes marked dirty, so they
         * need no write-back here). Nothing that runs in between could
         * have changed the context (exec_key), the mapping of its page or
         * its generation without leaving: a helper's change leaves, and so
         * does a write to code by this hart (exit_request). */
        /* The body takes what it writes as dirty from its start
         * (written_slots()); anything else dirty here is written back, or
         * its value would be lost at the body's first write-back. */
        write_back(g, g->dirty & ~g->body_dirty);
        emit_count(g, insns);
        leave[0] = x_jcc(a, X_CC_B); /* the budget ran out */
        x_op_mem(a, false, false, X_OPC(0x83), X_CMP, X_R13,
                 (int32_t)offsetof(VireoCpu, exit_request));
        x_byte(a, 0);
        leave[1] = x_jcc(a, X_CC_NE);
        x_patch(a, x_jmp(a), g->body);
        x_patch(a, leave[0], a->p);
        x_patch(a, leave[1], a->p);
        write_back(g, g->dirty);
        g->site_jump[slot] = 0;
        set_pc(g, target);
        x_mov_imm(a, X_RAX, (uint64_t)JIT_LOOKUP << 16);
        jump_to_epilogue(g);
        return;
    }
    write_back(g, g->dirty); /* the state the next block starts from */
    emit_count(g, insns);
    leave[0] = x_jcc(a, X_CC_B); /* the budget ran out */
    x_op_mem(a, false, false, X_OPC(0x83), X_CMP, X_R13, (int32_t)offsetof(VireoCpu, exit_request));
    x_byte(a, 0);
    leave[1] = x_jcc(a, X_CC_NE);
    if (((target ^ g->tb->vpc) & ~(uint64_t)(VIREO_PAGE_SIZE - 1)) != 0) {
        /* To another page: jit_link() points it at a checked entry, whose
         * way out leaves as this exit would (JIT_LINK, slot, this block).
         * Within the page it goes to an unchecked entry, or nowhere. */
        emit_exit_record(g, slot);
    }
    leave[2] = x_jmp(a);
    g->site_jump[slot] = (uint32_t)(leave[2] - a->start);
    for (unsigned i = 0; i < G_N_ELEMENTS(leave); i++) {
        x_patch(a, leave[i], a->p);
    }
    set_pc(g, target);
    x_mov_imm(a, X_RAX, slot); /* JIT_LINK */
    jump_to_epilogue(g);
}

/* A computed jump to rax (= cpu->pc): the jump cache looked up inline, as
 * vireo_jc_lookup() does, and on to the block's checked entry when the
 * entry is for this pc and the current exec_key and the block is
 * compiled; else back to the run loop, which looks again. */
static void emit_lookup(Gen *g)
{
    X86Asm *a = &g->a;
    uint8_t *leave[6];
    unsigned n = 0;

    G_STATIC_ASSERT(sizeof(VireoJumpCacheEntry) == 24);
    write_back(g, g->dirty);
    x_mov_rr(a, X_RSI, X_RAX); /* the pc; rsi is free once written back */
    emit_count(g, g->tb->n_guest);
    leave[n++] = x_jcc(a, X_CC_B); /* the budget ran out */
    x_op_mem(a, false, false, X_OPC(0x83), X_CMP, X_R13, (int32_t)offsetof(VireoCpu, exit_request));
    x_byte(a, 0);
    leave[n++] = x_jcc(a, X_CC_NE);
    /* rdx = &cpu->jc[((pc >> 1) ^ (pc >> 13) ^ (pc >> 25)) & (size - 1)] */
    x_mov_rr(a, X_RDX, X_RSI);
    x_shift_imm(a, true, X_SHR, X_RDX, 1);
    x_mov_rr(a, X_RCX, X_RSI);
    x_shift_imm(a, true, X_SHR, X_RCX, VIREO_PAGE_SHIFT + 1);
    x_alu_rr(a, true, X_XOR, X_RDX, X_RCX);
    x_mov_rr(a, X_RCX, X_RSI);
    x_shift_imm(a, true, X_SHR, X_RCX, 25);
    x_alu_rr(a, true, X_XOR, X_RDX, X_RCX);
    x_alu_imm(a, false, X_AND, X_RDX, VIREO_JC_SIZE - 1);
    x_op_reg(a, false, X_OPC(0x69), X_RDX, X_RDX); /* imul edx, edx, 24 */
    x_u32(a, (uint32_t)sizeof(VireoJumpCacheEntry));
    x_alu_mem(a, true, X_ADD, X_RDX, X_R13, (int32_t)offsetof(VireoCpu, jc));
    x_alu_mem(a, true, X_CMP, X_RSI, X_RDX, (int32_t)offsetof(VireoJumpCacheEntry, vpc));
    leave[n++] = x_jcc(a, X_CC_NE);
    x_load64(a, X_RCX, X_RDX, (int32_t)offsetof(VireoJumpCacheEntry, key));
    x_alu_mem(a, true, X_CMP, X_RCX, X_R13, (int32_t)offsetof(VireoCpu, exec_key));
    leave[n++] = x_jcc(a, X_CC_NE);
    x_load64(a, X_RCX, X_RDX, (int32_t)offsetof(VireoJumpCacheEntry, tb));
    x_load64(a, X_RAX, X_RCX, (int32_t)offsetof(VireoTb, native_checked));
    x_op_reg(a, true, X_OPC(0x85), X_RAX, X_RAX); /* test rax, rax */
    leave[n++] = x_jcc(a, X_CC_E);
    emit_exit_record(g, (uint32_t)JIT_LOOKUP << 16);
    x_byte(a, 0xff); /* jmp rax */
    x_byte(a, 0xe0);
    for (unsigned i = 0; i < n; i++) {
        x_patch(a, leave[i], a->p);
    }
    x_mov_imm(a, X_RAX, (uint64_t)JIT_LOOKUP << 16);
    jump_to_epilogue(g);
}

/* Where a linked block's exit (or a computed jump) comes in: the checks of
 * vireo_tb_current() on this block (the instruction TLB maps its page to
 * the physical page it was decoded from, unwritten since), with what is
 * known of it as immediates; then its body runs, in the frame of the code
 * that jumped here. When the checks fail, the code leaves as the previous
 * block's exit would have (rdi = its exit record), for this block's pc. */
static void emit_checked_entry(Gen *g)
{
    X86Asm *a = &g->a;
    const VireoTb *tb = g->tb;
    int32_t e =
        (int32_t)(((tb->vpc >> VIREO_PAGE_SHIFT) & (VIREO_TLB_SIZE - 1)) * sizeof(VireoTlbEntry));

    uint64_t vpage = tb->vpc & ~(uint64_t)(VIREO_PAGE_SIZE - 1);
    uint64_t ppage = tb->ppc & ~(uint64_t)(VIREO_PAGE_SIZE - 1);

    x_load64(a, X_RAX, X_R13, (int32_t)offsetof(VireoCpu, itlb));
    if (x_fits32((int64_t)vpage)) { /* cmp qword [rax + tag_x], vpage */
        x_op_mem(a, true, false, X_OPC(0x81), X_CMP, X_RAX,
                 e + (int32_t)offsetof(VireoTlbEntry, tag_x));
        x_u32(a, (uint32_t)vpage);
    } else {
        x_mov_imm(a, X_RDX, vpage);
        x_alu_mem(a, true, X_CMP, X_RDX, X_RAX, e + (int32_t)offsetof(VireoTlbEntry, tag_x));
    }
    g->to_fail[g->n_fail++] = x_jcc(a, X_CC_NE);
    x_mov_imm(a, X_RDX, ppage);
    x_alu_mem(a, true, X_CMP, X_RDX, X_RAX, e + (int32_t)offsetof(VireoTlbEntry, ppage));
    g->to_fail[g->n_fail++] = x_jcc(a, X_CC_NE);
    /* the page's generation (its counter does not move; the block's
     * generation may, tb_revive()) */
    x_mov_imm(a, X_RAX, (uint64_t)(uintptr_t)tb->gen_ptr);
    x_load32(a, X_RAX, X_RAX, 0);
    load_near_ptr(g, X_RCX, tb);
    x_alu_mem(a, false, X_CMP, X_RAX, X_RCX, (int32_t)offsetof(VireoTb, gen));
    g->to_fail[g->n_fail++] = x_jcc(a, X_CC_NE);
    /* The unchecked entry: where a block of the same page jumps in
     * (vireo_tb_same_page()). Neither entry sets cur_tb: the block sets it
     * before its calls and when it leaves, which is all that reads it. */
    g->entry = a->p;
}

/* The checked entry's way out, then the epilogue (eax = the exit's code):
 * code = eax, packed = r15. */
static void emit_epilogue(Gen *g)
{
    X86Asm *a = &g->a;
    uint8_t *tail;

    for (unsigned i = 0; i < g->n_fail; i++) {
        x_patch(a, g->to_fail[i], a->p);
    }
    set_pc(g, g->tb->vpc);
    x_load64(a, X_RCX, X_RDI, 0); /* the exit record: the block that left */
    x_store64(a, X_RCX, X_R13, (int32_t)offsetof(VireoCpu, cur_tb));
    x_load32(a, X_RAX, X_RDI, 8); /* and its code */
    tail = x_jmp(a);
    for (unsigned i = 0; i < g->n_epilogue; i++) {
        x_patch(a, g->to_epilogue[i], a->p);
    }
    store_cur_tb(g, X_RCX); /* the block that left */
    x_patch(a, tail, a->p);
    x_mov_rr(a, X_RDX, X_R15);
    x_alu_imm(a, true, X_ADD, X_RSP, 24);
    x_pop(a, X_R15);
    x_pop(a, X_R14);
    x_pop(a, X_R13);
    x_pop(a, X_R12);
    x_pop(a, X_RBP);
    x_pop(a, X_RBX);
    x_byte(a, 0xc3);
}

static void emit_prologue(Gen *g)
{
    X86Asm *a = &g->a;

    x_push(a, X_RBX);
    x_push(a, X_RBP);
    x_push(a, X_R12);
    x_push(a, X_R13);
    x_push(a, X_R14);
    x_push(a, X_R15);
    x_alu_imm(a, true, X_SUB, X_RSP, 24); /* [rsp]: a slow load's value; calls aligned */
    x_mov_rr(a, X_R13, X_RDI);
    x_op_mem(a, true, false, X_OPC(0x8d), X_RBX, X_RDI, REGS_BIAS); /* lea rbx, [rdi + bias] */
    x_load64(a, X_R12, X_R13, (int32_t)offsetof(VireoCpu, dtlb));
    x_mov_rr(a, X_R15, X_RSI);
}

static void set_pc(Gen *g, uint64_t pc)
{
    x_mov_imm(&g->a, X_RAX, pc);
    x_store64(&g->a, X_RAX, X_R13, (int32_t)offsetof(VireoCpu, pc));
}

static void reload_dtlb(Gen *g)
{
    x_load64(&g->a, X_R12, X_R13, (int32_t)offsetof(VireoCpu, dtlb));
}

/* reg = `p`: rip-relative when it is within 2 GiB of the code (the block's
 * structure and ops, which share the code buffer), else an immediate. */
static void load_near_ptr(Gen *g, int reg, const void *p)
{
    X86Asm *a = &g->a;
    int64_t disp = (int64_t)((uintptr_t)p - (uintptr_t)(a->p + 7));

    if (x_fits32(disp)) {
        x_byte(a, (uint8_t)(0x48 | ((reg & 8) ? 4 : 0))); /* lea reg, [rip + disp32] */
        x_byte(a, 0x8d);
        x_byte(a, (uint8_t)(0x05 | ((reg & 7) << 3)));
        x_u32(a, (uint32_t)disp);
    } else {
        x_mov_imm(a, reg, (uint64_t)(uintptr_t)p);
    }
}

/* cpu->cur_tb = this block, through `tmp`: before a call that may locate
 * an instruction (vireo_cpu_insn_pc()) and when the code leaves; the
 * entries do not set it (see emit_checked_entry()). */
static void store_cur_tb(Gen *g, int tmp)
{
    load_near_ptr(g, tmp, g->tb);
    x_store64(&g->a, tmp, X_R13, (int32_t)offsetof(VireoCpu, cur_tb));
}

/* rdi = cpu, rsi = the op (as the slow paths and helpers take them), and
 * cur_tb this block for them. */
static void args_cpu_insn(Gen *g, const VireoIrInsn *in)
{
    store_cur_tb(g, X_RSI);
    x_mov_rr(&g->a, X_RDI, X_R13);
    load_near_ptr(g, X_RSI, in);
}

static int branch_cc(VireoIrOp op)
{
    switch (op) {
    case VIREO_OP_BEQ:
    case VIREO_OP_XEQ: return X_CC_E;
    case VIREO_OP_BNE:
    case VIREO_OP_XNE: return X_CC_NE;
    case VIREO_OP_BLT:
    case VIREO_OP_XLT: return X_CC_L;
    case VIREO_OP_BGE:
    case VIREO_OP_XGE: return X_CC_GE;
    case VIREO_OP_BLTU:
    case VIREO_OP_XLTU: return X_CC_B;
    default: return X_CC_AE; /* BGEU, XGEU */
    }
}

static unsigned access_size(VireoIrOp op)
{
    switch (op) {
    case VIREO_OP_LD8S:
    case VIREO_OP_LD8U:
    case VIREO_OP_ST8: return 1;
    case VIREO_OP_LD16S:
    case VIREO_OP_LD16U:
    case VIREO_OP_ST16: return 2;
    case VIREO_OP_LD32S:
    case VIREO_OP_LD32U:
    case VIREO_OP_ST32: return 4;
    default: return 8;
    }
}

/* rax = the load's value of `op` read from [base + 0], extended. */
static void load_extend(Gen *g, VireoIrOp op, int base)
{
    X86Asm *a = &g->a;

    switch (op) {
    case VIREO_OP_LD8S: x_op_mem(a, true, false, X_OPC(0x0f, 0xbe), X_RAX, base, 0); break;
    case VIREO_OP_LD8U: x_op_mem(a, false, false, X_OPC(0x0f, 0xb6), X_RAX, base, 0); break;
    case VIREO_OP_LD16S: x_op_mem(a, true, false, X_OPC(0x0f, 0xbf), X_RAX, base, 0); break;
    case VIREO_OP_LD16U: x_op_mem(a, false, false, X_OPC(0x0f, 0xb7), X_RAX, base, 0); break;
    case VIREO_OP_LD32S: x_op_mem(a, true, false, X_OPC(0x63), X_RAX, base, 0); break;
    case VIREO_OP_LD32U: x_load32(a, X_RAX, base, 0); break;
    default: x_load64(a, X_RAX, base, 0); break;
    }
}

/* rax = the address R[a] + imm; rcx = its TLB entry; then compare the tag
 * at `tag_off` with the page and alignment bits of the address. Leaves the
 * rel32 of the jump to the slow path. */
static uint8_t *emit_tlb_check(Gen *g, const VireoIrInsn *in, unsigned size, size_t tag_off)
{
    X86Asm *a = &g->a;

    int ha = cached_host(g, in->a);

    if (ha >= 0 && x_fits32(in->imm)) {
        x_op_mem(a, true, false, X_OPC(0x8d), X_RAX, ha, (int32_t)in->imm); /* lea */
    } else {
        load_reg(g, X_RAX, in->a);
        if (in->imm != 0) {
            alu_imm(g, true, X_ADD, X_RAX, in->imm);
        }
    }
    /* rcx = index * sizeof entry + dtlb */
    G_STATIC_ASSERT((sizeof(VireoTlbEntry) & (sizeof(VireoTlbEntry) - 1)) == 0);
    G_STATIC_ASSERT(VIREO_PAGE_SHIFT + VIREO_TLB_BITS <= 32); /* the index is in eax */
    x_op_reg(a, false, X_OPC(0x89), X_RAX, X_RCX);            /* mov ecx, eax */
    x_shift_imm(a, false, X_SHR, X_RCX,
                (uint8_t)(VIREO_PAGE_SHIFT - __builtin_ctz(sizeof(VireoTlbEntry))));
    x_alu_imm(a, false, X_AND, X_RCX, (int32_t)((VIREO_TLB_SIZE - 1) * sizeof(VireoTlbEntry)));
    x_alu_rr(a, true, X_ADD, X_RCX, X_R12);
    /* rdx = va & (page mask | size - 1) */
    x_mov_rr(a, X_RDX, X_RAX);
    x_alu_imm(a, true, X_AND, X_RDX, (int32_t)(~(uint32_t)(VIREO_PAGE_SIZE - 1) | (size - 1)));
    x_alu_mem(a, true, X_CMP, X_RDX, X_RCX, (int32_t)tag_off);
    return x_jcc(a, X_CC_NE);
}

static void emit_load(Gen *g, const VireoIrInsn *in)
{
    X86Asm *a = &g->a;
    uint8_t *miss = emit_tlb_check(g, in, access_size(in->op), offsetof(VireoTlbEntry, tag_r));

    unsigned dirty = g->dirty;

    x_alu_mem(a, true, X_ADD, X_RAX, X_RCX, (int32_t)offsetof(VireoTlbEntry, addend));
    load_extend(g, in->op, X_RAX);
    store_reg(g, X_RAX, in->d);
    add_stub(g, STUB_LOAD, miss, a->p, in)->dirty = dirty; /* as before the load */
}

/* rax = the host address of a write of `size` bytes by `in`, on writable
 * RAM without code: returns the jump taken on a TLB miss (or misaligned),
 * and in *code the one taken on a page that holds code (or is watched). */
static uint8_t *emit_write_check(Gen *g, const VireoIrInsn *in, unsigned size, uint8_t **code)
{
    X86Asm *a = &g->a;
    uint8_t *miss = emit_tlb_check(g, in, size, offsetof(VireoTlbEntry, tag_w));

    x_load64(a, X_RDX, X_RCX, (int32_t)offsetof(VireoTlbEntry, page_flags));
    x_cmp_mem_imm8(a, true, X_RDX, 0, 0);
    *code = x_jcc(a, X_CC_NE);
    x_alu_mem(a, true, X_ADD, X_RAX, X_RCX, (int32_t)offsetof(VireoTlbEntry, addend));
    return miss;
}

static void emit_store(Gen *g, const VireoIrInsn *in)
{
    X86Asm *a = &g->a;
    unsigned size = access_size(in->op);
    uint8_t *code;
    uint8_t *miss = emit_write_check(g, in, size, &code);

    if (in->b == 0) {
        /* mov byte/word/dword/qword [rax], 0 */
        if (size == 1) {
            x_op_mem(a, false, false, X_OPC(0xc6), 0, X_RAX, 0);
            x_byte(a, 0);
        } else if (size == 2) {
            x_op_mem(a, false, true, X_OPC(0xc7), 0, X_RAX, 0);
            x_byte(a, 0);
            x_byte(a, 0);
        } else {
            x_op_mem(a, size == 8, false, X_OPC(0xc7), 0, X_RAX, 0);
            x_u32(a, 0);
        }
    } else {
        /* from the value's cache register, or rdx */
        int v = cached_host(g, in->b);
        if (v < 0) {
            v = X_RDX;
            load_reg(g, v, in->b);
        }
        switch (size) {
        case 1:
            if (v >= 4 && v < 8) {
                x_byte(a, 0x40); /* spl-dil need a REX prefix */
            }
            x_op_mem(a, false, false, X_OPC(0x88), v, X_RAX, 0);
            break;
        case 2: x_op_mem(a, false, true, X_OPC(0x89), v, X_RAX, 0); break;
        case 4: x_op_mem(a, false, false, X_OPC(0x89), v, X_RAX, 0); break;
        default: x_store64(a, v, X_RAX, 0); break;
        }
    }
    add_stub(g, STUB_STORE, miss, a->p, in)->jump2 = code; /* the same slow path */
}

/* AMOSWAP and AMOADD on writable RAM without code, as the interpreter
 * takes them (vireo_ir_atomic()): one host instruction locked on the host
 * word, xchg or lock xadd; what the TLB check does not pass (a miss,
 * misaligned, a page with code, MMIO) goes to jit_atomic(), out of line.
 * The other atomics always call it. */
static bool inline_atomic(const VireoIrInsn *in)
{
    VireoIrOp op = (VireoIrOp)in->op;

    /* the address is R[a] alone (emit_tlb_check() would add imm) */
    return (op == VIREO_OP_AMOSWAP32 || op == VIREO_OP_AMOSWAP64 || op == VIREO_OP_AMOADD32 ||
            op == VIREO_OP_AMOADD64) &&
           in->imm == 0;
}

static void emit_atomic(Gen *g, const VireoIrInsn *in)
{
    X86Asm *a = &g->a;
    VireoIrOp op = (VireoIrOp)in->op;
    unsigned size = vireo_ir_atomic_size(op);
    bool w = size == 8;
    unsigned dirty = g->dirty;
    uint8_t *code;
    uint8_t *miss = emit_write_check(g, in, size, &code);

    load_reg(g, X_RDX, in->b);
    if (op == VIREO_OP_AMOSWAP32 || op == VIREO_OP_AMOSWAP64) {
        x_op_mem(a, w, false, X_OPC(0x87), X_RDX, X_RAX, 0); /* xchg [rax], rdx */
    } else {
        x_byte(a, 0xf0); /* lock xadd [rax], rdx */
        x_op_mem(a, w, false, X_OPC(0x0f, 0xc1), X_RDX, X_RAX, 0);
    }
    if (!w) {
        x_movsxd_rr(a, X_RDX, X_RDX);
    }
    store_reg(g, X_RDX, in->d);
    Stub *st = add_stub(g, STUB_ATOMIC, miss, a->p, in);
    st->jump2 = code;
    st->dirty = dirty; /* as before the op */
}

/* ---- floating point on the host's unit ----
 *
 * The commonest binary32 and binary64 operations run inline on SSE where
 * the host's result is provably softfloat's and no flag can arise but NX:
 *  - arithmetic (add, sub, mul, div, sqrt, the four fused multiply-adds
 *    where the host has FMA) when the rounding mode is RNE (static, or
 *    dynamic with frm = RNE), NX is accrued already (so whether this result
 *    is inexact does not matter), and the result is finite with a biased
 *    exponent of at least 2, above the smallest normal. Then no operand was
 *    a NaN, no invalid operation, division by zero or overflow happened
 *    (each gives a NaN or an infinity), and the result is not tiny, so
 *    there is no underflow; the host rounds as softfloat does (MXCSR is at
 *    its default, vireo_softfloat_thread_init()). The operands may be
 *    anything, subnormals too: IEEE 754 defines the result, and RISC-V has
 *    no flag for a subnormal operand. A zero result passes for a sum, a
 *    difference or a square root, which give a zero only exactly;
 *  - comparisons, minimum and maximum of ordered operands (a NaN may
 *    raise NV, and the minimum of a NaN is the other operand);
 *  - sign injection and classification, which are bit arithmetic;
 *  - conversions between both formats and integers: to an integer in RNE
 *    or RTZ (which the host truncates in) where the host's 32 or 64-bit
 *    result is not its integer indefinite (it gives that for a NaN or a
 *    value out of range) and, for an unsigned one, is in its range (so
 *    that the signed conversion's is the same); from one, unsigned 64-bit
 *    ones below 2^63; binary32 to binary64 (exact; not for a NaN or an
 *    infinity) and back (as arithmetic).
 * An op whose result is always exact needs only a valid rounding mode.
 * binary32 operands must be NaN-boxed (else they read as the canonical
 * NaN). Everything else runs vireo_interp_fp() out of line (STUB_FP), as an
 * op the JIT does not inline does. */

typedef enum {
    FP_ARITH,
    FP_SQRT,
    FP_FMA,
    FP_CMP,
    FP_SGNJ,
    FP_MINMAX,
    FP_CLASS,
    FP_FROM_INT, /* from a 32 or 64-bit integer, signed or not */
    FP_TO_INT,   /* to a 32 or 64-bit integer, signed or not */
    FP_WIDEN,    /* binary32 to binary64 */
    FP_NARROW,   /* binary64 to binary32 */
} FpKind;

typedef struct {
    FpKind kind;
    bool dbl;     /* binary64, else binary32 */
    uint8_t code; /* SSE opcode, FMA3 opcode, condition code, sign op,
                   * 0 min or 1 max, or for conversions: 0 W, 1 WU, 2 L,
                   * 3 LU (of the integer; `dbl` is the FP side's format) */
} FpForm;

static bool fp_form(VireoIrOp op, FpForm *f)
{
    switch (op) {
#define FP_BOTH(NAME, KIND, CODE)                                                       \
    case VIREO_OP_##NAME##_S: *f = (FpForm){ KIND, false, (uint8_t)CODE }; return true; \
    case VIREO_OP_##NAME##_D: *f = (FpForm){ KIND, true, (uint8_t)CODE }; return true;
        FP_BOTH(FADD, FP_ARITH, 0x58)
        FP_BOTH(FSUB, FP_ARITH, 0x5c)
        FP_BOTH(FMUL, FP_ARITH, 0x59)
        FP_BOTH(FDIV, FP_ARITH, 0x5e)
        FP_BOTH(FSQRT, FP_SQRT, 0x51)
        FP_BOTH(FMADD, FP_FMA, 0xa9)  /* vfmadd213: a * b + c */
        FP_BOTH(FMSUB, FP_FMA, 0xab)  /* vfmsub213: a * b - c */
        FP_BOTH(FNMSUB, FP_FMA, 0xad) /* vfnmadd213: -(a * b) + c */
        FP_BOTH(FNMADD, FP_FMA, 0xaf) /* vfnmsub213: -(a * b) - c */
        FP_BOTH(FEQ, FP_CMP, X_CC_E)
        FP_BOTH(FLT, FP_CMP, X_CC_B)
        FP_BOTH(FLE, FP_CMP, X_CC_BE)
        FP_BOTH(FSGNJ, FP_SGNJ, 0)
        FP_BOTH(FSGNJN, FP_SGNJ, 1)
        FP_BOTH(FSGNJX, FP_SGNJ, 2)
        FP_BOTH(FMIN, FP_MINMAX, 0)
        FP_BOTH(FMAX, FP_MINMAX, 1)
        FP_BOTH(FCLASS, FP_CLASS, 0)
#undef FP_BOTH
#define FP_CVT(NAME, KIND, DBL, CODE) \
    case VIREO_OP_FCVT_##NAME: *f = (FpForm){ KIND, DBL, CODE }; return true;
        FP_CVT(D_W, FP_FROM_INT, true, 0)
        FP_CVT(D_WU, FP_FROM_INT, true, 1)
        FP_CVT(D_L, FP_FROM_INT, true, 2)
        FP_CVT(D_LU, FP_FROM_INT, true, 3)
        FP_CVT(S_W, FP_FROM_INT, false, 0)
        FP_CVT(S_WU, FP_FROM_INT, false, 1)
        FP_CVT(S_L, FP_FROM_INT, false, 2)
        FP_CVT(S_LU, FP_FROM_INT, false, 3)
        FP_CVT(W_D, FP_TO_INT, true, 0)
        FP_CVT(WU_D, FP_TO_INT, true, 1)
        FP_CVT(L_D, FP_TO_INT, true, 2)
        FP_CVT(LU_D, FP_TO_INT, true, 3)
        FP_CVT(W_S, FP_TO_INT, false, 0)
        FP_CVT(WU_S, FP_TO_INT, false, 1)
        FP_CVT(L_S, FP_TO_INT, false, 2)
        FP_CVT(LU_S, FP_TO_INT, false, 3)
#undef FP_CVT
    case VIREO_OP_FCVT_D_S: *f = (FpForm){ FP_WIDEN, true, 0 }; return true;
    case VIREO_OP_FCVT_S_D: *f = (FpForm){ FP_NARROW, false, 0 }; return true;
    default: return false;
    }
}

/* Jumps of one F op to its out-of-line path (STUB_FP). */
typedef struct {
    uint8_t *at[7];
    unsigned n;
} FpJumps;

static void fp_jump(FpJumps *j, uint8_t *at)
{
    g_assert(j->n < G_N_ELEMENTS(j->at));
    j->at[j->n++] = at;
}

/* host = R[r], a binary32 value, which must be NaN-boxed (rdx clobbered). */
static void load_boxed(Gen *g, int host, unsigned r, FpJumps *j)
{
    X86Asm *a = &g->a;

    load_reg(g, host, r);
    x_mov_rr(a, X_RDX, host);
    x_shift_imm(a, true, X_SHR, X_RDX, 32);
    x_alu_imm(a, false, X_CMP, X_RDX, -1);
    fp_jump(j, x_jcc(a, X_CC_NE));
}

/* xmm = R[r] (its low 32 bits for binary32, checked to be NaN-boxed) */
static void load_xmm(Gen *g, int xmm, unsigned r, bool dbl, FpJumps *j)
{
    X86Asm *a = &g->a;
    int h = cached_host(g, r);

    if (!dbl) {
        load_boxed(g, X_RAX, r, j);
        x_sse_reg(a, 0x66, false, 0x6e, xmm, X_RAX); /* movd xmm, eax */
    } else if (h >= 0) {
        x_sse_reg(a, 0x66, true, 0x6e, xmm, h); /* movq xmm, h */
    } else {
        x_sse_mem(a, 0xf2, false, 0x10, xmm, X_RBX, reg_disp(r)); /* movsd xmm, [R[r]] */
    }
}

/* rax |= the upper half of a NaN box */
static void box_rax(Gen *g)
{
    x_mov_imm(&g->a, X_RCX, 0xffffffff00000000ull);
    x_alu_rr(&g->a, true, X_OR, X_RAX, X_RCX);
}

/* Sign injection: rax = R[a] with the sign made from R[b]'s (rcx). */
static void emit_sgnj(Gen *g, const VireoIrInsn *in, const FpForm *f, FpJumps *j)
{
    X86Asm *a = &g->a;
    unsigned bits = f->dbl ? 64 : 32;

    if (f->dbl) {
        load_reg(g, X_RAX, in->a);
        load_reg(g, X_RCX, in->b);
    } else {
        load_boxed(g, X_RAX, in->a, j);
        load_boxed(g, X_RCX, in->b, j);
    }
    if (f->code == 1) {                             /* fsgnjn: the opposite of b's sign */
        x_op_reg(a, f->dbl, X_OPC(0xf7), 2, X_RCX); /* not */
    }
    /* rcx = the sign bit alone */
    x_shift_imm(a, f->dbl, X_SHR, X_RCX, (uint8_t)(bits - 1));
    x_shift_imm(a, f->dbl, X_SHL, X_RCX, (uint8_t)(bits - 1));
    if (f->code != 2) { /* a without its sign (32 bits: the upper half cleared) */
        x_shift_imm(a, f->dbl, X_SHL, X_RAX, 1);
        x_shift_imm(a, f->dbl, X_SHR, X_RAX, 1);
        x_alu_rr(a, f->dbl, X_OR, X_RAX, X_RCX);
    } else { /* fsgnjx */
        x_alu_rr(a, f->dbl, X_XOR, X_RAX, X_RCX);
    }
    if (!f->dbl) {
        box_rax(g);
    }
}

/* fclass: rax = the one bit of R[a]'s class. The bits, from 0: -inf,
 * -normal, -subnormal, -0, +0, +subnormal, +normal, +inf, signalling NaN,
 * quiet NaN: the positive classes' are 4 + k (k = 0 for a zero, 1
 * subnormal, 2 normal, 3 infinite), and the negative ones' 3 - k, which is
 * (4 + k) ^ 7. */
static void emit_fclass(Gen *g, const VireoIrInsn *in, const FpForm *f, FpJumps *j)
{
    X86Asm *a = &g->a;
    bool w = f->dbl;
    uint8_t mant = f->dbl ? 52 : 23, exp = f->dbl ? 11 : 8;
    uint8_t *to_sign[4], *to_shift;

    if (f->dbl) {
        load_reg(g, X_RAX, in->a);
    } else {
        load_boxed(g, X_RAX, in->a, j);
        x_op_reg(a, false, X_OPC(0x89), X_RAX, X_RAX); /* mov eax, eax */
    }
    x_mov_rr(a, X_RDX, X_RAX);
    x_shift_imm(a, w, X_SHL, X_RDX, 1); /* without the sign */
    x_mov_imm(a, X_RCX, 4);
    to_sign[0] = x_jcc(a, X_CC_E);                        /* a zero */
    x_shift_imm(a, w, X_SHR, X_RDX, (uint8_t)(mant + 1)); /* the biased exponent */
    x_mov_imm(a, X_RCX, 5);
    to_sign[1] = x_jcc(a, X_CC_E); /* subnormal */
    x_mov_imm(a, X_RCX, 6);
    x_alu_imm(a, false, X_CMP, X_RDX, (1 << exp) - 1);
    to_sign[2] = x_jcc(a, X_CC_NE); /* normal */
    x_mov_rr(a, X_RDX, X_RAX);
    x_shift_imm(a, w, X_SHL, X_RDX, (uint8_t)(exp + 1)); /* the fraction alone */
    x_mov_imm(a, X_RCX, 7);
    to_sign[3] = x_jcc(a, X_CC_E); /* infinite */
    /* a NaN: 8, or 9 when quiet (the fraction's top bit) */
    x_bt_imm(a, w, X_RAX, (uint8_t)(mant - 1));
    x_mov_imm(a, X_RCX, 8);
    x_alu_imm(a, false, X_ADC, X_RCX, 0);
    to_shift = x_jmp(a);
    for (unsigned i = 0; i < 4; i++) {
        x_patch(a, to_sign[i], a->p);
    }
    x_mov_rr(a, X_RDX, X_RAX);
    x_shift_imm(a, w, X_SAR, X_RDX, (uint8_t)(w ? 63 : 31)); /* 0, or all ones when negative */
    x_alu_imm(a, false, X_AND, X_RDX, 7);
    x_alu_rr(a, false, X_XOR, X_RCX, X_RDX);
    x_patch(a, to_shift, a->p);
    x_mov_imm(a, X_RAX, 1);
    x_shift_cl(a, false, X_SHL, X_RAX);
}

/* Compiles F op `in` inline, with its out-of-line path; false where it
 * always calls (an op not listed, a static rounding mode other than RNE). */
static bool emit_fp(Gen *g, const VireoIrInsn *in)
{
    X86Asm *a = &g->a;
    FpForm f;
    FpJumps j = { .n = 0 };
    uint8_t *not_large = NULL;
    unsigned dirty = g->dirty;
    const uint8_t *commit;

    if (!fp_form((VireoIrOp)in->op, &f) || (f.kind == FP_FMA && !__builtin_cpu_supports("fma"))) {
        return false;
    }
    /* The rounding mode and the flags: an op whose result is always exact
     * needs only a valid mode; one that rounds needs RNE and NX accrued (a
     * conversion to an integer: RTZ too, which the host truncates in). */
    bool rounds = f.kind == FP_ARITH || f.kind == FP_SQRT || f.kind == FP_FMA ||
                  f.kind == FP_NARROW || f.kind == FP_TO_INT ||
                  (f.kind == FP_FROM_INT && (f.code >= 2 || !f.dbl));
    bool truncate = f.kind == FP_TO_INT && in->flags == VIREO_RM_RTZ;
    if (in->flags == VIREO_IR_RM_DYN) {
        x_cmp_mem_imm8(a, true, X_R13, (int32_t)offsetof(VireoCpu, fp_rm),
                       rounds ? VIREO_RM_RNE : VIREO_RM_RMM);
        fp_jump(&j, x_jcc(a, rounds ? X_CC_NE : X_CC_A));
    } else if (in->flags > VIREO_RM_RMM || (rounds && in->flags != VIREO_RM_RNE && !truncate)) {
        return false; /* an invalid mode (illegal), or one the host does not round in */
    }
    if (rounds) {
        x_test_mem8(a, X_R13, (int32_t)offsetof(VireoCpu, fp_flags), VIREO_FFLAG_NX);
        fp_jump(&j, x_jcc(a, X_CC_E));
    }
    switch (f.kind) {
    case FP_SGNJ: emit_sgnj(g, in, &f, &j); break;
    case FP_CLASS: emit_fclass(g, in, &f, &j); break;
    case FP_CMP:
        load_xmm(g, 0, in->a, f.dbl, &j);
        load_xmm(g, 1, in->b, f.dbl, &j);
        x_sse_reg(a, f.dbl ? 0x66 : 0, false, 0x2e, 0, 1); /* ucomisd/ucomiss xmm0, xmm1 */
        fp_jump(&j, x_jcc(a, X_CC_P));                     /* unordered */
        x_setcc_rax(a, f.code);
        break;
    case FP_MINMAX:
        /* ordered operands, which raise no flag: the smaller or larger
         * one, and for equal ones (the same value, or zeros of both
         * signs), min: the OR of their bits, max: the AND (-0 < +0) */
        load_xmm(g, 0, in->a, f.dbl, &j);
        load_xmm(g, 1, in->b, f.dbl, &j);
        x_sse_reg(a, 0x66, f.dbl, 0x7e, 0, X_RAX); /* movq rax, xmm0 / movd eax, xmm0 */
        x_sse_reg(a, 0x66, f.dbl, 0x7e, 1, X_RCX);
        x_mov_rr(a, X_RDX, X_RAX);
        x_alu_rr(a, true, f.code == 0 ? X_OR : X_AND, X_RDX, X_RCX);
        x_sse_reg(a, f.dbl ? 0x66 : 0, false, 0x2e, 0, 1); /* ucomisd/ucomiss xmm0, xmm1 */
        fp_jump(&j, x_jcc(a, X_CC_P));                     /* unordered */
        /* min: b unless a < b; max: b when a < b */
        x_cmov_rr(a, f.code == 0 ? X_CC_AE : X_CC_B, X_RAX, X_RCX);
        x_cmov_rr(a, X_CC_E, X_RAX, X_RDX);
        break;
    case FP_FROM_INT:
        load_reg(g, X_RAX, in->a);
        if (f.code == 1) {
            x_op_reg(a, false, X_OPC(0x89), X_RAX, X_RAX); /* mov eax, eax */
        } else if (f.code == 3) {
            x_op_reg(a, true, X_OPC(0x85), X_RAX, X_RAX); /* test rax, rax */
            fp_jump(&j, x_jcc(a, 0x8));                   /* js: 2^63 or more */
        }
        /* cvtsi2sd / cvtsi2ss xmm0, eax / rax (an unsigned 32-bit value
         * zero-extended, as a 64-bit one) */
        x_sse_reg(a, f.dbl ? 0xf2 : 0xf3, f.code != 0, 0x2a, 0, X_RAX);
        x_sse_reg(a, 0x66, f.dbl, 0x7e, 0, X_RAX); /* movq rax, xmm0 / movd eax, xmm0 */
        break;
    case FP_TO_INT: {
        /* in 64 bits but for W; the unsigned ones' results must be the
         * signed conversion's, at least 0 (WU: below 2^32) */
        bool w = f.code != 0;
        load_xmm(g, 0, in->a, f.dbl, &j);
        /* cvttsd2si (truncating) or cvtsd2si (RNE) eax / rax, xmm0 (ss
         * for binary32); the integer indefinite (the most negative one)
         * for a NaN or a value out of range, which may also be a true
         * result: out of line */
        x_sse_reg(a, f.dbl ? 0xf2 : 0xf3, w, truncate ? 0x2c : 0x2d, X_RAX, 0);
        x_mov_rr(a, X_RCX, X_RAX);
        if (f.code == 1) {
            x_shift_imm(a, true, X_SHR, X_RCX, 32);
            fp_jump(&j, x_jcc(a, X_CC_NE)); /* negative, or 2^32 or more */
        } else if (f.code == 3) {
            x_op_reg(a, true, X_OPC(0x85), X_RCX, X_RCX); /* test rcx, rcx */
            fp_jump(&j, x_jcc(a, 0x8));                   /* js: negative */
        } else {
            x_op_reg(a, w, X_OPC(0xf7), 3, X_RCX); /* neg: overflows for that one alone */
            fp_jump(&j, x_jcc(a, 0x0));            /* jo */
        }
        if (f.code <= 1) {
            x_movsxd_rr(a, X_RAX, X_RAX); /* W and WU results are sign-extended */
        }
        break;
    }
    case FP_WIDEN:
        /* exact; a NaN (canonical in RISC-V) or an infinity out of line */
        load_xmm(g, 0, in->a, false, &j);
        x_sse_reg(a, 0xf3, false, 0x5a, 0, 0);    /* cvtss2sd xmm0, xmm0 */
        x_sse_reg(a, 0x66, true, 0x7e, 0, X_RAX); /* movq rax, xmm0 */
        x_lea_double(a, true, X_RCX, X_RAX);
        x_shift_imm(a, true, X_SHR, X_RCX, 53);
        x_alu_imm(a, false, X_CMP, X_RCX, 0x7ff);
        fp_jump(&j, x_jcc(a, X_CC_E));
        break;
    default:
        if (f.kind == FP_NARROW) {
            load_xmm(g, 0, in->a, true, &j);
            x_sse_reg(a, 0xf2, false, 0x5a, 0, 0); /* cvtsd2ss xmm0, xmm0 */
        } else {
            load_xmm(g, 0, in->a, f.dbl, &j);
            if (f.kind != FP_SQRT) {
                load_xmm(g, 1, in->b, f.dbl, &j);
            }
            if (f.kind == FP_FMA) {
                load_xmm(g, 2, in->c, f.dbl, &j);
                x_vex_0f38_66(a, f.dbl, f.code, 0, 1, 2); /* xmm0 = xmm1 * xmm0 +- xmm2 */
            } else {
                x_sse_reg(a, f.dbl ? 0xf2 : 0xf3, false, f.code, 0, f.kind == FP_SQRT ? 0 : 1);
            }
        }
        /* rax = the result; its biased exponent - 2 must be below the
         * largest one's (finite, and not within a binade of tiny) */
        x_sse_reg(a, 0x66, f.dbl, 0x7e, 0, X_RAX); /* movq rax, xmm0 / movd eax, xmm0 */
        x_lea_double(a, f.dbl, X_RCX, X_RAX);      /* without the sign */
        x_shift_imm(a, f.dbl, X_SHR, X_RCX, f.dbl ? 53 : 24);
        x_alu_imm(a, false, X_SUB, X_RCX, 2);
        x_alu_imm(a, false, X_CMP, X_RCX, f.dbl ? 0x7fc : 0xfc);
        not_large = x_jcc(a, X_CC_A);
        break;
    }
    commit = a->p;
    if (!f.dbl && f.kind != FP_CMP && f.kind != FP_SGNJ && f.kind != FP_TO_INT &&
        f.kind != FP_CLASS) {
        box_rax(g); /* a binary32 result (sign injection boxes its own) */
    }
    store_reg(g, X_RAX, in->d);

    /* the out-of-line paths, with the registers dirty before the op */
    bool zero_ok = in->op == VIREO_OP_FADD_S || in->op == VIREO_OP_FADD_D ||
                   in->op == VIREO_OP_FSUB_S || in->op == VIREO_OP_FSUB_D || f.kind == FP_SQRT;
    if (not_large != NULL && zero_ok) {
        Stub *z = add_stub(g, STUB_FP_ZERO, not_large, a->p, in);
        z->commit = commit;
        z->dirty = dirty;
        not_large = NULL;
    }
    if (not_large != NULL) {
        fp_jump(&j, not_large);
    }
    if (j.n > 0) {
        Stub *st = add_stub(g, STUB_FP, j.at[0], a->p, in);
        st->dirty = dirty;
        for (unsigned k = 1; k < j.n; k++) {
            g_assert(st->n_more < G_N_ELEMENTS(st->more));
            st->more[st->n_more++] = j.at[k];
        }
    }
    return true;
}

static void emit_eval_call(Gen *g, const VireoIrInsn *in, bool imm)
{
    X86Asm *a = &g->a;

    before_call(g);
    load_mem(g, X_RSI, in->a);
    if (imm) {
        x_mov_imm(a, X_RDX, (uint64_t)in->imm);
    } else {
        load_mem(g, X_RDX, in->b);
    }
    x_mov_imm(a, X_RDI, in->op);
    emit_call(g, (const void *)jit_eval);
    reload_clobbered(g);
    store_reg(g, X_RAX, in->d);
}

/* After op `in`: which registers are known to hold a 32-bit value
 * sign-extended (Gen.sext), for the sign extensions that can be left out.
 * What is not known is false; calls that may write any register forget
 * everything. */
static bool note_nonneg(const Gen *g, const VireoIrInsn *in)
{
    const bool *nn = g->nonneg;

    switch ((VireoIrOp)in->op) {
    case VIREO_OP_MOVI: return in->imm >= 0 && in->imm <= INT32_MAX;
    case VIREO_OP_MOV:
    case VIREO_OP_CZEQZ:
    case VIREO_OP_CZNEZ: return nn[in->a];
    case VIREO_OP_AND:
    case VIREO_OP_MINU: return nn[in->a] || nn[in->b];
    case VIREO_OP_OR:
    case VIREO_OP_XOR:
    case VIREO_OP_MIN:
    case VIREO_OP_MAX:
    case VIREO_OP_MAXU: return nn[in->a] && nn[in->b];
    case VIREO_OP_ANDI: return nn[in->a] || (in->imm >= 0 && in->imm <= INT32_MAX);
    case VIREO_OP_ORI:
    case VIREO_OP_XORI: return nn[in->a] && in->imm >= 0 && in->imm <= INT32_MAX;
    case VIREO_OP_SHRIW: return (in->imm & 31) != 0;
    case VIREO_OP_SHRI: return (in->imm & 63) >= 33;
    case VIREO_OP_SLT:
    case VIREO_OP_SLTU:
    case VIREO_OP_SEQ:
    case VIREO_OP_SNE:
    case VIREO_OP_SLTI:
    case VIREO_OP_SLTIU:
    case VIREO_OP_CLZ:
    case VIREO_OP_CTZ:
    case VIREO_OP_CPOP:
    case VIREO_OP_CLZW:
    case VIREO_OP_CTZW:
    case VIREO_OP_CPOPW:
    case VIREO_OP_ZEXT8:
    case VIREO_OP_ZEXT16:
    case VIREO_OP_LD8U:
    case VIREO_OP_LD16U: return true;
    default: return false;
    }
}

static void note_sext(Gen *g, const VireoIrInsn *in)
{
    VireoIrOp op = (VireoIrOp)in->op;
    bool *sx = g->sext;
    bool known, nonneg = note_nonneg(g, in);

    switch (op) {
    case VIREO_OP_MOVI: known = x_fits32(in->imm); break;
    case VIREO_OP_MOV: known = sx[in->a]; break;
    case VIREO_OP_AND:
    case VIREO_OP_OR:
    case VIREO_OP_XOR:
    case VIREO_OP_MIN:
    case VIREO_OP_MAX:
    case VIREO_OP_MINU:
    case VIREO_OP_MAXU: known = sx[in->a] && sx[in->b]; break;
    case VIREO_OP_ANDI:
    case VIREO_OP_ORI:
    case VIREO_OP_XORI: known = sx[in->a] && x_fits32(in->imm); break;
    case VIREO_OP_SARI: known = (in->imm & 63) >= 32; break;
    case VIREO_OP_CZEQZ:
    case VIREO_OP_CZNEZ: known = sx[in->a]; break;
    case VIREO_OP_ADDW:
    case VIREO_OP_SUBW:
    case VIREO_OP_SHLW:
    case VIREO_OP_SHRW:
    case VIREO_OP_SARW:
    case VIREO_OP_MULW:
    case VIREO_OP_DIVW:
    case VIREO_OP_DIVUW:
    case VIREO_OP_REMW:
    case VIREO_OP_REMUW:
    case VIREO_OP_ADDIW:
    case VIREO_OP_SHLIW:
    case VIREO_OP_SHRIW:
    case VIREO_OP_SARIW:
    case VIREO_OP_ROLW:
    case VIREO_OP_RORW:
    case VIREO_OP_RORIW:
    case VIREO_OP_SEXT8:
    case VIREO_OP_SEXT16:
    case VIREO_OP_SEXT32:
    case VIREO_OP_LD8S:
    case VIREO_OP_LD16S:
    case VIREO_OP_LD32S: known = true; break; /* and those note_nonneg() knows */
    case VIREO_OP_HELPER:
        memset(sx, 0, sizeof g->sext);
        memset(g->nonneg, 0, sizeof g->nonneg);
        sx[0] = g->nonneg[0] = true;
        return;
    default:
        switch (vireo_ir_op_kind(op)) {
        case VIREO_IR_KIND_K:
        case VIREO_IR_KIND_U:
        case VIREO_IR_KIND_I:
        case VIREO_IR_KIND_R:
        case VIREO_IR_KIND_LD:
        case VIREO_IR_KIND_AT:
        case VIREO_IR_KIND_F: known = false; break;
        default: return; /* writes no register */
        }
        break;
    }
    if (in->d != 0) {
        sx[in->d] = known || nonneg;
        g->nonneg[in->d] = nonneg;
    }
}

/* Division and remainder on the host's divider, with the two cases where
 * x86 would fault answered as the IR defines them: a divisor of zero (the
 * quotient all ones, the remainder the dividend) and, signed, a divisor of
 * -1 (the quotient the dividend negated, which wraps for the most negative
 * one, the remainder zero). The W forms divide the low 32 bits and
 * sign-extend. */
static void emit_divide(Gen *g, const VireoIrInsn *in)
{
    X86Asm *a = &g->a;
    VireoIrOp op = (VireoIrOp)in->op;
    bool w = op == VIREO_OP_DIV || op == VIREO_OP_DIVU || op == VIREO_OP_REM || op == VIREO_OP_REMU;
    bool is_signed =
        op == VIREO_OP_DIV || op == VIREO_OP_REM || op == VIREO_OP_DIVW || op == VIREO_OP_REMW;
    bool rem =
        op == VIREO_OP_REM || op == VIREO_OP_REMU || op == VIREO_OP_REMW || op == VIREO_OP_REMUW;
    uint8_t *zero, *minus1 = NULL, *done[2];

    load_reg(g, X_RAX, in->a);
    load_reg(g, X_RCX, in->b);
    x_op_reg(a, w, X_OPC(0x85), X_RCX, X_RCX); /* test rcx, rcx */
    zero = x_jcc(a, X_CC_E);
    if (is_signed) {
        x_alu_imm(a, w, X_CMP, X_RCX, -1);
        minus1 = x_jcc(a, X_CC_E);
        x_rex(a, w, 0, 0, 0);
        x_byte(a, 0x99); /* cqo / cdq */
    } else {
        x_alu_rr(a, false, X_XOR, X_RDX, X_RDX);
    }
    x_op_reg(a, w, X_OPC(0xf7), is_signed ? 7 : 6, X_RCX); /* idiv / div rcx */
    if (rem) {
        x_mov_rr(a, X_RAX, X_RDX);
    }
    done[0] = x_jmp(a);
    x_patch(a, zero, a->p);
    if (!rem) {
        x_mov_imm(a, X_RAX, ~(uint64_t)0);
    }
    if (is_signed) {
        done[1] = x_jmp(a);
        x_patch(a, minus1, a->p);
        if (rem) {
            x_alu_rr(a, false, X_XOR, X_RAX, X_RAX);
        } else {
            x_op_reg(a, w, X_OPC(0xf7), 3, X_RAX); /* neg */
        }
        x_patch(a, done[1], a->p);
    }
    x_patch(a, done[0], a->p);
    finish_alu(g, w, X_RAX, in->d);
}

/* Compiles one op. Returns false for an op the JIT leaves to the
 * interpreter. */
static bool emit_op(Gen *g, const VireoIrInsn *in)
{
    X86Asm *a = &g->a;
    const VireoTb *tb = g->tb;
    VireoIrOp op = (VireoIrOp)in->op;
    VireoIrKind kind = vireo_ir_op_kind(op);

    switch (op) {
    case VIREO_OP_MOVI:
        if (g->slot_of[in->d] >= 0) {
            x_mov_imm(a, cache_host[g->slot_of[in->d]], (uint64_t)in->imm);
            g->dirty |= 1u << g->slot_of[in->d];
        } else if (x_fits32(in->imm)) {
            x_store_imm32(a, X_RBX, reg_disp(in->d), (int32_t)in->imm);
        } else {
            x_mov_imm(a, X_RAX, (uint64_t)in->imm);
            store_reg(g, X_RAX, in->d);
        }
        return true;
    case VIREO_OP_MOV: {
        int t = dest_host(g, in->d);
        load_reg(g, t, in->a);
        set_dest(g, t, in->d);
        return true;
    }
    case VIREO_OP_ADD:
    case VIREO_OP_SUB:
    case VIREO_OP_AND:
    case VIREO_OP_OR:
    case VIREO_OP_XOR:
    case VIREO_OP_ADDW:
    case VIREO_OP_SUBW: {
        static const int8_t alu[] = {
            [VIREO_OP_ADD] = X_ADD,  [VIREO_OP_SUB] = X_SUB, [VIREO_OP_AND] = X_AND,
            [VIREO_OP_OR] = X_OR,    [VIREO_OP_XOR] = X_XOR, [VIREO_OP_ADDW] = X_ADD,
            [VIREO_OP_SUBW] = X_SUB,
        };
        /* the difference of two values in [0, 2^31) fits 32 bits signed:
         * subtracted in 64 bits, it is sign-extended already */
        bool w = (op != VIREO_OP_ADDW && op != VIREO_OP_SUBW) ||
                 (op == VIREO_OP_SUBW && g->nonneg[in->a] && g->nonneg[in->b]);
        bool commutes = op != VIREO_OP_SUB && op != VIREO_OP_SUBW;
        int t = dest_host(g, in->d);
        if (in->a == 0 && !commutes) { /* neg */
            load_reg(g, t, in->b);
            x_op_reg(a, w, X_OPC(0xf7), 3, t);                 /* neg */
        } else if (t != X_RAX && t == cached_host(g, in->b)) { /* d = a op d */
            if (!commutes) {
                t = X_RAX;
                load_reg(g, t, in->a);
                alu_src(g, w, alu[op], t, in->b);
            } else {
                alu_src(g, w, alu[op], t, in->a);
            }
        } else {
            load_reg(g, t, in->a);
            alu_src(g, w, alu[op], t, in->b);
        }
        finish_alu(g, w, t, in->d);
        return true;
    }
    case VIREO_OP_ADDI:
    case VIREO_OP_ANDI:
    case VIREO_OP_ORI:
    case VIREO_OP_XORI:
    case VIREO_OP_ADDIW: {
        static const int8_t alu[] = {
            [VIREO_OP_ADDI] = X_ADD, [VIREO_OP_ANDI] = X_AND,  [VIREO_OP_ORI] = X_OR,
            [VIREO_OP_XORI] = X_XOR, [VIREO_OP_ADDIW] = X_ADD,
        };
        bool w = op != VIREO_OP_ADDIW;
        int t = dest_host(g, in->d);
        int ha = cached_host(g, in->a);
        if (!w && in->imm == 0 && g->sext[in->a]) { /* sext.w of a sign-extended value */
            if (in->d != in->a) {
                load_reg(g, t, in->a);
                set_dest(g, t, in->d);
            }
            return true;
        }
        if (w) {
            load_reg(g, t, in->a);
            alu_imm(g, true, alu[op], t, in->imm);
        } else if (in->imm == 0 && ha >= 0) { /* sext.w */
            x_movsxd_rr(a, t, ha);
        } else {
            load_reg(g, t, in->a);
            if ((int32_t)(uint32_t)(uint64_t)in->imm != 0) {
                x_alu_imm(a, false, X_ADD, t, (int32_t)(uint32_t)(uint64_t)in->imm);
            }
            x_movsxd_rr(a, t, t);
        }
        set_dest(g, t, in->d);
        return true;
    }
    case VIREO_OP_SHL:
    case VIREO_OP_SHR:
    case VIREO_OP_SAR:
    case VIREO_OP_ROL:
    case VIREO_OP_ROR:
    case VIREO_OP_SHLW:
    case VIREO_OP_SHRW:
    case VIREO_OP_SARW:
    case VIREO_OP_ROLW:
    case VIREO_OP_RORW: {
        static const int8_t sh[] = {
            [VIREO_OP_SHL] = X_SHL,  [VIREO_OP_SHR] = X_SHR,  [VIREO_OP_SAR] = X_SAR,
            [VIREO_OP_ROL] = X_ROL,  [VIREO_OP_ROR] = X_ROR,  [VIREO_OP_SHLW] = X_SHL,
            [VIREO_OP_SHRW] = X_SHR, [VIREO_OP_SARW] = X_SAR, [VIREO_OP_ROLW] = X_ROL,
            [VIREO_OP_RORW] = X_ROR,
        };
        bool w = op == VIREO_OP_SHL || op == VIREO_OP_SHR || op == VIREO_OP_SAR ||
                 op == VIREO_OP_ROL || op == VIREO_OP_ROR;
        int t = dest_host(g, in->d);
        load_reg(g, X_RCX, in->b); /* first: t may be b's register */
        load_reg(g, t, in->a);
        /* x86 takes the count modulo 64 (32 for the 32-bit forms), as the
         * IR defines it. */
        x_shift_cl(a, w, sh[op], t);
        finish_alu(g, w, t, in->d);
        return true;
    }
    case VIREO_OP_SHLI:
    case VIREO_OP_SHRI:
    case VIREO_OP_SARI:
    case VIREO_OP_RORI:
    case VIREO_OP_SHLIW:
    case VIREO_OP_SHRIW:
    case VIREO_OP_SARIW:
    case VIREO_OP_RORIW: {
        static const int8_t sh[] = {
            [VIREO_OP_SHLI] = X_SHL,  [VIREO_OP_SHRI] = X_SHR,  [VIREO_OP_SARI] = X_SAR,
            [VIREO_OP_RORI] = X_ROR,  [VIREO_OP_SHLIW] = X_SHL, [VIREO_OP_SHRIW] = X_SHR,
            [VIREO_OP_SARIW] = X_SAR, [VIREO_OP_RORIW] = X_ROR,
        };
        bool w = op == VIREO_OP_SHLI || op == VIREO_OP_SHRI || op == VIREO_OP_SARI ||
                 op == VIREO_OP_RORI;
        int t = dest_host(g, in->d);
        uint8_t n = (uint8_t)((uint64_t)in->imm & (w ? 63 : 31));
        load_reg(g, t, in->a);
        x_shift_imm(a, w, sh[op], t, n);
        if (op == VIREO_OP_SHRIW && n != 0) {
            set_dest(g, t, in->d); /* below 2^31, zero-extended by the 32-bit shift */
        } else {
            finish_alu(g, w, t, in->d);
        }
        return true;
    }
    case VIREO_OP_SLT:
    case VIREO_OP_SLTU:
    case VIREO_OP_SEQ:
    case VIREO_OP_SNE:
        load_reg(g, X_RAX, in->a);
        load_reg(g, X_RCX, in->b);
        x_alu_rr(a, true, X_CMP, X_RAX, X_RCX);
        x_setcc_rax(a, op == VIREO_OP_SLT    ? X_CC_L
                       : op == VIREO_OP_SLTU ? X_CC_B
                       : op == VIREO_OP_SEQ  ? X_CC_E
                                             : X_CC_NE);
        store_reg(g, X_RAX, in->d);
        return true;
    case VIREO_OP_SLTI:
    case VIREO_OP_SLTIU:
        load_reg(g, X_RAX, in->a);
        alu_imm(g, true, X_CMP, X_RAX, in->imm);
        x_setcc_rax(a, op == VIREO_OP_SLTI ? X_CC_L : X_CC_B);
        store_reg(g, X_RAX, in->d);
        return true;
    case VIREO_OP_MUL:
    case VIREO_OP_MULW:
        load_reg(g, X_RAX, in->a);
        load_reg(g, X_RCX, in->b);
        x_op_reg(a, op == VIREO_OP_MUL, X_OPC(0x0f, 0xaf), X_RAX, X_RCX); /* imul rax, rcx */
        if (op == VIREO_OP_MULW) {
            x_movsxd_rr(a, X_RAX, X_RAX);
        }
        store_reg(g, X_RAX, in->d);
        return true;
    case VIREO_OP_MULH:
    case VIREO_OP_MULHU:
        load_reg(g, X_RAX, in->a);
        load_reg(g, X_RCX, in->b);
        x_op_reg(a, true, X_OPC(0xf7), op == VIREO_OP_MULH ? 5 : 4, X_RCX); /* imul/mul rcx */
        store_reg(g, X_RDX, in->d);
        return true;
    case VIREO_OP_DIV:
    case VIREO_OP_DIVU:
    case VIREO_OP_REM:
    case VIREO_OP_REMU:
    case VIREO_OP_DIVW:
    case VIREO_OP_DIVUW:
    case VIREO_OP_REMW:
    case VIREO_OP_REMUW: emit_divide(g, in); return true;
    case VIREO_OP_MIN:
    case VIREO_OP_MAX:
    case VIREO_OP_MINU:
    case VIREO_OP_MAXU:
        load_reg(g, X_RAX, in->a);
        load_reg(g, X_RCX, in->b);
        x_alu_rr(a, true, X_CMP, X_RAX, X_RCX);
        /* take b where a is not the one wanted */
        x_cmov_rr(a,
                  op == VIREO_OP_MIN    ? X_CC_G
                  : op == VIREO_OP_MAX  ? X_CC_L
                  : op == VIREO_OP_MINU ? X_CC_A
                                        : X_CC_B,
                  X_RAX, X_RCX);
        store_reg(g, X_RAX, in->d);
        return true;
    case VIREO_OP_CZEQZ:
    case VIREO_OP_CZNEZ:
        load_reg(g, X_RAX, in->a);
        load_reg(g, X_RDX, in->b);
        x_alu_rr(a, false, X_XOR, X_RCX, X_RCX);
        x_alu_imm(a, true, X_CMP, X_RDX, 0);
        x_cmov_rr(a, op == VIREO_OP_CZEQZ ? X_CC_E : X_CC_NE, X_RAX, X_RCX);
        store_reg(g, X_RAX, in->d);
        return true;
    case VIREO_OP_SEXT8:
    case VIREO_OP_SEXT16:
    case VIREO_OP_SEXT32:
    case VIREO_OP_ZEXT8:
    case VIREO_OP_ZEXT16:
    case VIREO_OP_ZEXT32: {
        /* movsx/movzx from al, ax or eax */
        load_reg(g, X_RAX, in->a);
        switch (op) {
        case VIREO_OP_SEXT8: x_op_reg(a, true, X_OPC(0x0f, 0xbe), X_RAX, X_RAX); break;
        case VIREO_OP_SEXT16: x_op_reg(a, true, X_OPC(0x0f, 0xbf), X_RAX, X_RAX); break;
        case VIREO_OP_SEXT32: x_movsxd_rr(a, X_RAX, X_RAX); break;
        case VIREO_OP_ZEXT8: x_op_reg(a, false, X_OPC(0x0f, 0xb6), X_RAX, X_RAX); break;
        case VIREO_OP_ZEXT16: x_op_reg(a, false, X_OPC(0x0f, 0xb7), X_RAX, X_RAX); break;
        default: x_op_reg(a, false, X_OPC(0x89), X_RAX, X_RAX); break; /* mov eax, eax */
        }
        store_reg(g, X_RAX, in->d);
        return true;
    }
    case VIREO_OP_REV8:
        load_reg(g, X_RAX, in->a);
        x_byte(a, 0x48); /* bswap rax */
        x_byte(a, 0x0f);
        x_byte(a, 0xc8);
        store_reg(g, X_RAX, in->d);
        return true;
    case VIREO_OP_FBOX_S:
    case VIREO_OP_FBOX_H:
        load_reg(g, X_RAX, in->a);
        x_mov_imm(a, X_RCX, op == VIREO_OP_FBOX_S ? 0xffffffff00000000ull : 0xffffffffffff0000ull);
        x_alu_rr(a, true, X_OR, X_RAX, X_RCX);
        store_reg(g, X_RAX, in->d);
        return true;
    case VIREO_OP_FENCE:
        if (in->flags & VIREO_IR_FENCE_STORE_LOAD) {
            x_byte(a, 0x0f); /* mfence */
            x_byte(a, 0xae);
            x_byte(a, 0xf0);
        }
        return true;
    case VIREO_OP_HELPER:
        before_call(g);
        x_mov_rr(a, X_RDI, X_R13);
        x_mov_rr(a, X_RSI, X_R15);
        emit_call(g, (const void *)jit_publish);
        x_mov_rr(a, X_R15, X_RAX);
        args_cpu_insn(g, in);
        emit_call(g, (const void *)in->helper);
        reload_dtlb(g);
        reload_cached(g);
        x_op_reg(a, false, X_OPC(0x85), X_RAX, X_RAX); /* test eax, eax */
        add_stub(g, STUB_HELPER, x_jcc(a, X_CC_NE), NULL, in);
        return true;
    case VIREO_OP_TRAP:
        before_call(g);
        args_cpu_insn(g, in);
        emit_call(g, (const void *)jit_trap);
        emit_leave(g, JIT_TRAPPED, in->gidx, true);
        return true;
    case VIREO_OP_JMP:
    case VIREO_OP_EXIT: emit_link(g, in->c, tb->n_guest, (uint64_t)in->imm); return true;
    case VIREO_OP_JMPR:
        load_reg(g, X_RAX, in->a);
        alu_imm(g, true, X_ADD, X_RAX, in->imm);
        if (in->flags != 0) {
            x_alu_imm(a, true, X_AND, X_RAX, (int32_t) ~(uint32_t)in->flags);
        }
        x_store64(a, X_RAX, X_R13, (int32_t)offsetof(VireoCpu, pc));
        emit_lookup(g);
        return true;
    case VIREO_OP_WFI:
        set_pc(g, (uint64_t)in->imm);
        emit_leave(g, JIT_WFI, tb->n_guest, false);
        return true;
    default: break;
    }
    switch (kind) {
    case VIREO_IR_KIND_R:
    case VIREO_IR_KIND_U:
        if (!vireo_ir_is_eval(op)) {
            return false;
        }
        emit_eval_call(g, in, false);
        return true;
    case VIREO_IR_KIND_I:
        if (!vireo_ir_is_eval(op)) {
            return false;
        }
        emit_eval_call(g, in, true);
        return true;
    case VIREO_IR_KIND_LD: emit_load(g, in); return true;
    case VIREO_IR_KIND_ST: emit_store(g, in); return true;
    case VIREO_IR_KIND_AT:
        if (inline_atomic(in)) {
            emit_atomic(g, in);
            return true;
        }
        before_call(g);
        args_cpu_insn(g, in);
        emit_call(g, (const void *)jit_atomic);
        reload_dtlb(g);
        reload_cached(g);
        x_op_reg(a, false, X_OPC(0x84), X_RAX, X_RAX); /* test al, al */
        add_stub(g, STUB_TRAP, x_jcc(a, X_CC_E), NULL, in);
        return true;
    case VIREO_IR_KIND_F:
        if (emit_fp(g, in)) {
            return true;
        }
        before_call(g);
        args_cpu_insn(g, in);
        emit_call(g, (const void *)vireo_interp_fp);
        reload_cached(g);
        x_op_reg(a, false, X_OPC(0x84), X_RAX, X_RAX); /* test al, al */
        add_stub(g, STUB_TRAP, x_jcc(a, X_CC_E), NULL, in);
        return true;
    case VIREO_IR_KIND_BR: {
        uint8_t *taken;
        emit_compare(g, in->a, in->b);
        taken = x_jcc(a, branch_cc(op));
        emit_link(g, in->c + 1u, tb->n_guest, (uint64_t)in->imm2);
        x_patch(a, taken, a->p);
        emit_link(g, in->c, tb->n_guest, (uint64_t)in->imm);
        return true;
    }
    case VIREO_IR_KIND_SX: {
        uint8_t *stay;
        emit_compare(g, in->a, in->b);
        stay = x_jcc(a, branch_cc(op) ^ 1); /* the opposite condition */
        emit_link(g, in->c, in->gidx + 1u, (uint64_t)in->imm);
        x_patch(a, stay, a->p);
        return true;
    }
    default: return false; /* DEBUG */
    }
}

/* After a slow path's call that returned false when it took an exception
 * (al): the code leaves, with the op not retired. */
static void leave_if_trapped(Gen *g, const VireoIrInsn *in)
{
    X86Asm *a = &g->a;
    uint8_t *ok;

    x_op_reg(a, false, X_OPC(0x84), X_RAX, X_RAX); /* test al, al */
    ok = x_jcc(a, X_CC_NE);
    emit_leave(g, JIT_TRAPPED, in->gidx, true);
    x_patch(a, ok, a->p);
}

/* The out-of-line path of an op that calls fn(cpu, in) with cpu->regs
 * exact (it writes R[d], or takes an exception: then the code leaves),
 * then goes back to the op's `resume`; `tlb`: the call may have changed
 * the data TLB's context. */
static void stub_call_back(Gen *g, const Stub *s, const void *fn, bool tlb)
{
    write_back(g, s->dirty);
    args_cpu_insn(g, s->in);
    emit_call(g, fn);
    if (tlb) {
        reload_dtlb(g);
    }
    reload_cached(g);
    leave_if_trapped(g, s->in);
    x_patch(&g->a, x_jmp(&g->a), s->resume);
}

static void emit_stubs(Gen *g)
{
    X86Asm *a = &g->a;

    for (unsigned i = 0; i < g->n_stubs; i++) {
        const Stub *s = &g->stubs[i];
        const VireoIrInsn *in = s->in;
        uint8_t *ok;

        x_patch(a, s->jump, a->p);
        if (s->jump2 != NULL) {
            x_patch(a, s->jump2, a->p);
        }
        for (unsigned k = 0; k < s->n_more; k++) {
            x_patch(a, s->more[k], a->p);
        }
        switch (s->kind) {
        case STUB_LOAD:
            /* vireo_cpu_load_slow(cpu, in, va = rax, size, &[rsp]), with
             * cpu->regs exact for its exception */
            write_back(g, s->dirty);
            x_mov_rr(a, X_RDX, X_RAX);
            args_cpu_insn(g, in);
            x_mov_imm(a, X_RCX, access_size(in->op));
            x_mov_rr(a, X_R8, X_RSP);
            emit_call(g, (const void *)vireo_cpu_load_slow);
            reload_dtlb(g);
            reload_clobbered(g);
            leave_if_trapped(g, in);
            load_extend(g, in->op, X_RSP);
            put_reg(g, X_RAX, in->d);
            x_patch(a, x_jmp(a), s->resume);
            break;
        case STUB_STORE:
            /* vireo_cpu_store_slow(cpu, in, va = rax, size, R[b]) */
            write_back(g, s->dirty);
            x_mov_rr(a, X_RDX, X_RAX);
            args_cpu_insn(g, in);
            x_mov_imm(a, X_RCX, access_size(in->op));
            load_mem(g, X_R8, in->b);
            emit_call(g, (const void *)vireo_cpu_store_slow);
            reload_dtlb(g);
            reload_clobbered(g);
            leave_if_trapped(g, in);
            x_patch(a, x_jmp(a), s->resume);
            break;
        case STUB_HELPER:
            /* VIREO_IR_TRAP: did not retire; VIREO_IR_EXIT: retired. */
            x_alu_imm(a, false, X_CMP, X_RAX, VIREO_IR_TRAP);
            ok = x_jcc(a, X_CC_NE);
            emit_leave(g, JIT_TRAPPED, in->gidx, true);
            x_patch(a, ok, a->p);
            emit_leave(g, JIT_HELPER_EXIT, in->gidx + 1u, true);
            break;
        case STUB_TRAP: emit_leave(g, JIT_TRAPPED, in->gidx, true); break;
        case STUB_FP_ZERO: {
            /* rax: the result, zero-extended from 32 bits for binary32 */
            FpForm f;
            fp_form((VireoIrOp)in->op, &f);
            x_mov_rr(a, X_RCX, X_RAX);
            x_alu_rr(a, f.dbl, X_ADD, X_RCX, X_RCX); /* without its sign */
            x_patch(a, x_jcc(a, X_CC_E), s->commit);
        }
            G_GNUC_FALLTHROUGH;
        case STUB_FP:
            /* softfloat: it writes R[d] and the flags, or takes an
             * exception (an invalid rounding mode) */
            stub_call_back(g, s, (const void *)vireo_interp_fp, false);
            break;
        case STUB_ATOMIC: stub_call_back(g, s, (const void *)jit_atomic, true); break;
        }
    }
}

/* ---- the backend ---- */

static size_t native_bound(uint32_t n_ops)
{
    /* with each op's exit records and the addresses of the functions it
     * calls */
    return JIT_FRAME_BYTES + (size_t)n_ops * (JIT_OP_BYTES + 2 * JIT_RECORD_BYTES + 16);
}

/* A block starts as the interpreter's form only: its code comes when it is
 * hot (jit_warm()). */
static size_t jit_size(VireoCpu *cpu, const VireoIrBlock *block)
{
    (void)cpu;
    return vireo_interp_tb_bytes(block);
}

/* The code generator's state, one per thread that compiles (a vCPU's),
 * kept from one block to the next: it is large, and only the counts are
 * reset. */
static GPrivate gen_private = G_PRIVATE_INIT(g_free);

static Gen *gen_state(void)
{
    Gen *g = g_private_get(&gen_private);

    if (g == NULL) {
        g = g_new(Gen, 1);
        g_private_set(&gen_private, g);
    }
    return g;
}

/* Compiles `tb` (its interpreter form, whose ops the generated code points
 * to) into [code, code + cap); returns the bytes used, 0 when it cannot.
 * The code is the prologue (where the run loop calls in), the checked
 * entry (where linked blocks jump in), the body, the out-of-line paths and
 * the epilogue, then the link sites' offsets (`*sites`). */
static size_t compile_native(VireoTb *tb, uint8_t *code, size_t cap, const uint8_t **checked,
                             const uint8_t **entry, const uint32_t **sites)
{
    Gen *g = gen_state();
    X86Asm *a = &g->a;
    size_t used = 0;
    uint8_t *skip;
    bool loop;

    *a = (X86Asm){ .start = code, .p = code, .end = code + cap };
    g->tb = tb;
    g->n_stubs = g->n_epilogue = g->n_fail = g->n_counts = g->n_records = g->n_calls = 0;
    g->calls_helper = false;
    for (uint32_t i = 0; i < tb->n_ops; i++) {
        if (tb->code[i].in.op == VIREO_OP_HELPER) {
            g->calls_helper = true;
        }
    }
    emit_prologue(g);
    skip = x_jmp(a);
    *checked = a->p;
    emit_checked_entry(g);
    *entry = g->entry;
    x_patch(a, skip, a->p);
    loop = loops(g);
    allocate_cache(g, tb, loop);
    unsigned live = live_in_slots(g, loop);
    for (unsigned i = 0; i < g->n_cached; i++) {
        if (live & (1u << i)) {
            x_load64(a, cache_host[i], X_RBX, reg_disp(g->cached[i]));
        }
    }
    g->body = a->p;
    if (loop) {
        g->dirty = written_slots(g); /* see emit_link() */
    }
    g->body_dirty = g->dirty;
    memset(g->sext, 0, sizeof g->sext);
    memset(g->nonneg, 0, sizeof g->nonneg);
    g->sext[0] = g->nonneg[0] = true;
    for (uint32_t i = 0; i < tb->n_ops; i++) {
        if (!emit_op(g, &tb->code[i].in)) {
            goto out;
        }
        note_sext(g, &tb->code[i].in);
    }
    emit_stubs(g);
    emit_epilogue(g);
    emit_constants(g);
    while ((a->p - a->start) % 4 != 0) {
        x_byte(a, 0xcc);
    }
    *sites = (const uint32_t *)(void *)a->p;
    for (uint32_t i = 0; i < tb->n_links; i++) {
        x_u32(a, g->site_jump[i]);
    }
    if (!a->overflow) {
        used = (size_t)(a->p - code);
    }
out:
    return used;
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Compiles `tb` into the code buffer; false when it stays on the
 * interpreter (an op the JIT lacks, or no room until the buffer is
 * emptied). */
static bool jit_compile_native(VireoCpu *cpu, VireoTb *tb)
{
    size_t cap = native_bound(tb->n_ops);
    uint8_t *code = vireo_code_room(cpu, cap);
    uint64_t start;
    const uint8_t *checked, *entry;
    const uint32_t *sites;
    size_t n;

    if (code == NULL) {
        return false;
    }
    start = now_ns();
    n = compile_native(tb, code, cap, &checked, &entry, &sites);
    VIREO_STAT_ADD(cpu, jit_compile_ns, now_ns() - start);
    if (n == 0) {
        tb->no_native = true;
        VIREO_STAT_ADD(cpu, jit_fallbacks, 1);
        return false;
    }
    vireo_code_take(cpu, n);
    vireo_engine_perf_map_add(code, n, tb->vpc);
    __builtin___clear_cache((char *)code, (char *)code + n);
    /* Links the interpreter made while the block was cold: made again,
     * and patched into the code, when the block next leaves through them. */
    memset(tb->links, 0, sizeof(VireoTbLink) * tb->n_links);
    tb->native_checked = checked;
    tb->native_entry = entry;
    tb->native_links = sites;
    tb->native = code;
    VIREO_STAT_ADD(cpu, jit_blocks, 1);
    VIREO_STAT_ADD(cpu, jit_code_bytes, n);
    return true;
}

/* Before a run of `tb`, which has no code yet: whether it has code now (this
 * is the run at which it is hot enough, and it compiled). The interpreter
 * counts the runs (heat). */
static bool jit_warm(VireoCpu *cpu, VireoTb *tb)
{
    if (tb->no_native || tb->heat + 1 < cpu->jit_threshold) {
        return false;
    }
    return jit_compile_native(cpu, tb);
}

static VireoTb *jit_compile(VireoCpu *cpu, const VireoIrBlock *block, void *mem, size_t *used)
{
    VireoTb *tb = vireo_interp_compile(block, mem);

    *used = vireo_interp_tb_bytes(block);
    return tb;
}

/* Points link `slot` of `tb`'s code at `next`'s checked entry, or its
 * unchecked entry when both blocks come from one page (the run loop linked
 * the slot, under a key that the exit need not check, see emit_link()); no
 * `next` unlinks it. Only this vCPU's thread runs or changes its code, and
 * not at the same time. */
static void jit_link(VireoCpu *cpu, VireoTb *tb, unsigned slot, VireoTb *next, uint64_t key)
{
    uint8_t *code = (uint8_t *)(uintptr_t)tb->native;
    const uint8_t *to;
    uint8_t *jump;
    int32_t rel;

    (void)cpu;
    (void)key;
    if (tb->native_links[slot] == 0) {
        return; /* a loop on itself, not patched */
    }
    jump = code + tb->native_links[slot];
    if (next == NULL) {
        to = jump + 4; /* back to the run loop */
    } else if (next->native_checked == NULL) {
        return;
    } else if (next->native_entry != NULL && vireo_tb_same_page(tb, next)) {
        to = next->native_entry;
    } else if (((tb->vpc ^ next->vpc) & ~(uint64_t)(VIREO_PAGE_SIZE - 1)) == 0) {
        /* An exit within the page goes to unchecked entries only
         * (emit_link()): this one goes back to the run loop. */
        to = jump + 4;
    } else {
        to = next->native_checked;
    }
    rel = (int32_t)(to - (jump + 4));
    memcpy(jump, &rel, 4);
}

static bool jit_runs(const VireoCpu *cpu, const VireoTb *tb)
{
    (void)cpu;
    return tb->native != NULL;
}

/* Calls `tb`'s code with the counters in *packed, for at most `allowed`
 * blocks; returns the code of the exit, with the blocks run added to
 * *packed and taken off *budget. */
static uint64_t jit_call(VireoCpu *cpu, const VireoTb *tb, uint64_t *packed, unsigned *budget,
                         unsigned allowed)
{
    const uint64_t low = VIREO_PACK_BLOCK - 1;
    uint64_t start = (uint64_t)(65536u - allowed) << 48;
    VireoJitResult r;
    unsigned ran;

    g_assert(allowed >= 1 && allowed <= *budget && allowed < 65536u);
    r = ((VireoJitFn)tb->native)(cpu, (*packed & low) | start);
    /* modulo 2^16: all that were allowed when the field carried out to 0 */
    ran = (unsigned)(((r.packed - start) >> 48) & 0xffff);
    *packed = (r.packed & low) + ((uint64_t)((*packed >> 48) + ran) << 48);
    *budget -= ran;
    return r.code;
}

/* The coarse monotonic clock, in ns: a few ns to read, against tens for
 * the precise one, and millions of runs on the interpreter to time in a
 * boot. It moves in ticks (1 to 10 ms), so one short run reads as 0 or a
 * tick; but a run starts at any point of a tick, so its reading is its
 * duration on average, and the sum of many is exact within a few ticks. */
static uint64_t coarse_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void jit_exec(VireoCpu *cpu, VireoTb *tb, bool chain)
{
    uint64_t packed = 0;
    unsigned budget = VIREO_RUN_CHECK_PERIOD;
    uint64_t insns_before = cpu->stats.insns; /* only compiled blocks run here */

    if (tb->native == NULL && !jit_warm(cpu, tb)) {
        /* On the interpreter, which goes on to other cold blocks and comes
         * back here for a block that is hot or compiled. */
        uint64_t start = coarse_ns();
        vireo_interp_exec(cpu, tb, chain);
        VIREO_STAT_ADD(cpu, jit_interp_ns, coarse_ns() - start);
        return;
    }
    while (tb != NULL) {
        uint64_t code, key;

        cpu->cur_tb = tb;
        /* The compiled code runs linked compiled blocks itself, at most
         * `budget` of them (one when not chaining). */
        code = jit_call(cpu, tb, &packed, &budget, chain ? budget : 1);
        VIREO_STAT_ADD(cpu, jit_entries, 1);
        tb = (VireoTb *)cpu->cur_tb; /* the block that left */
        if (budget == 0) {
            vireo_run_publish(cpu, &packed, &budget);
        }
        /* What was published so far ran compiled: counted now, so that the
         * figure is live while a guest loops here for long (a boot
         * loader polling its console never leaves). */
        VIREO_STAT_ADD(cpu, jit_insns, cpu->stats.insns - insns_before);
        insns_before = cpu->stats.insns;
        key = vireo_run_key(cpu, chain); /* a helper may have switched context */
        switch ((code >> 16) & 0xff) {
        case JIT_LINK:
            tb = vireo_run_follow(cpu, tb, (unsigned)(code & 0xffff), cpu->pc, key, &packed,
                                  &budget, jit_runs);
            break;
        case JIT_LOOKUP:
        case JIT_HELPER_EXIT: tb = vireo_run_lookup(cpu, key, &packed, &budget, jit_runs); break;
        case JIT_WFI:
            cpu->halted = true;
            tb = NULL;
            break;
        default: /* JIT_TRAPPED */ tb = NULL; break;
        }
    }
    vireo_run_publish(cpu, &packed, &budget);
    VIREO_STAT_ADD(cpu, jit_insns, cpu->stats.insns - insns_before);
    cpu->cur_tb = NULL;
}

static void jit_invalidate(VireoCpu *cpu, VireoTb *tb)
{
    if (tb->native != NULL) {
        VIREO_STAT_ADD(cpu, jit_invalidated, 1);
    }
}

static void jit_free(VireoCpu *cpu)
{
    if (__atomic_load_n(&cpu->stats.jit_code_bytes, __ATOMIC_RELAXED) != 0) {
        VIREO_STAT_ADD(cpu, jit_flushes, 1);
    }
    __atomic_store_n(&cpu->stats.jit_code_bytes, 0, __ATOMIC_RELAXED);
}

/* Blocks and their code live in the core's code buffer (executable for
 * this backend) and are dropped with it. */
const VireoBackendOps vireo_jit_backend = {
    .name = "jit",
    .executable = true,
    .size = jit_size,
    .compile = jit_compile,
    .execute = jit_exec,
    .invalidate = jit_invalidate,
    .free = jit_free,
    .link = jit_link,
};
