/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Differential tests of the JIT against the threaded interpreter: random IR
 * programs (every arithmetic op, loads, stores and atomics that hit, miss,
 * fault, straddle pages or reach a device, floating point, side exits, helpers
 * that go on, leave or trap, every kind of terminator) run on two machines
 * that start alike, one per engine; afterwards the registers, the pc, the
 * exceptions taken, the retired-instruction count, the floating-point flags,
 * the device's state and memory must be the same. Programs run both block
 * by block and chained. Then targeted tests: an exception in the middle of
 * compiled code, and a block that rewrites code it runs next.
 */
#include "engine/backend.h"
#include "engine/cpu.h"
#include "engine/error.h"
#include "engine/machine.h"

#include <string.h>

#define RAM_BASE   0x80000000ull
#define RAM_SIZE   (4ull << 20)
#define CODE_BASE  (RAM_BASE + 0x10000) /* blocks, 0x100 apart */
#define DATA_BASE  (RAM_BASE + 0x100000)
#define DATA_SIZE  0x10000
#define MMIO_BASE  0x10000000ull
#define STOP_PC    0x7000 /* the program ends with a trap that goes there */
#define MAX_BLOCKS 8
#define LOOP_REG   14 /* and 15: no random op writes them (rreg()) */

typedef struct {
    VireoCpu cpu;
    VireoTlb tlb;
    GHashTable *blocks; /* pc -> VireoIrBlock*, not owned */
    uint64_t last_cause, last_tval;
    int n_traps;
    bool stop_on_trap; /* request an exit at each trap (chained runs) */
} TestCpu;

static VireoXlateResult test_translate(VireoCpu *cpu, uint64_t va, unsigned size,
                                       VireoAccess access, VireoTlbEntry *e)
{
    /* Identity mapping, every permission: what lies at an address is the
     * bus's business (holes fault with an access fault). */
    e->ppage = va & ~0xfffull;
    e->perms = 7;
    e->global = 1;
    return VIREO_XLATE_OK;
}

static void test_raise(VireoCpu *cpu, uint64_t cause, uint64_t tval)
{
    TestCpu *t = (TestCpu *)(void *)cpu;
    t->last_cause = cause;
    t->last_tval = tval;
    t->n_traps++;
    cpu->pc = STOP_PC;
    if (t->stop_on_trap) {
        vireo_cpu_request_exit(cpu);
    }
}

static void test_raise_access(VireoCpu *cpu, VireoAccess access, VireoXlateResult why, uint64_t va)
{
    test_raise(cpu, 100 + access * 10 + why, va);
}

static void test_raise_illegal(VireoCpu *cpu, uint64_t bits)
{
    test_raise(cpu, 2, bits);
}

static bool test_decode(VireoCpu *cpu, VireoIrBlock *block)
{
    TestCpu *t = (TestCpu *)(void *)cpu;
    const VireoIrBlock *src = g_hash_table_lookup(t->blocks, GSIZE_TO_POINTER(block->pc));
    uint16_t dummy;

    g_assert_nonnull(src);
    g_assert_true(vireo_cpu_fetch16(cpu, block->pc, &dummy)); /* marks the page as code */
    memcpy(block, src, sizeof *block);
    return true;
}

static uint32_t test_flags(VireoCpu *cpu)
{
    return 0;
}

static void test_nothing(VireoCpu *cpu)
{
}

static const VireoCpuClass test_class = {
    .translate = test_translate,
    .raise_access = test_raise_access,
    .raise = test_raise,
    .raise_illegal = test_raise_illegal,
    .decode = test_decode,
    .decode_flags = test_flags,
    .check_interrupts = test_nothing,
    .wait_for_interrupt = test_nothing,
};

typedef struct {
    uint64_t regs[16];
    uint64_t log; /* a hash of every access, in order */
    int reads, writes;
} FakeDev;

static bool dev_read(void *opaque, uint64_t off, unsigned size, uint64_t *value)
{
    FakeDev *d = opaque;
    d->reads++;
    d->log = d->log * 31 + off * 7 + size;
    *value = d->regs[(off / 8) % 16];
    return true;
}

static bool dev_write(void *opaque, uint64_t off, unsigned size, uint64_t value)
{
    FakeDev *d = opaque;
    d->writes++;
    d->log = d->log * 31 + off * 5 + size + value;
    d->regs[(off / 8) % 16] = value;
    return true;
}

static const VireoDeviceOps dev_ops = { .name = "fake", .read = dev_read, .write = dev_write };

/* One machine with one vCPU on one engine. */
typedef struct {
    VireoMachine *machine;
    guint8 *ram;
    FakeDev dev;
    TestCpu *t;
} Side;

static void stats_dummy(void *opaque, VireoVcpuStats *s)
{
    vireo_cpu_read_stats(&((TestCpu *)opaque)->cpu, s);
}

static void vcpu_dummy(void *opaque)
{
}

static const VireoVcpuOps dummy_ops = {
    .run = vcpu_dummy,
    .kick = vcpu_dummy,
    .reset = vcpu_dummy,
    .get_stats = stats_dummy,
};

/* The JIT compiles a block at this run of it: the first (targeted tests
 * count on compiled code from the start), or later (mixed runs). */
static unsigned jit_threshold = 1;

static void side_init(Side *s, VireoEngineKind kind, GHashTable *blocks)
{
    g_autoptr(GError) error = NULL;
    VireoBus *bus = vireo_bus_new();

    memset(s, 0, sizeof *s);
    s->ram = vireo_bus_add_ram(bus, RAM_BASE, RAM_SIZE, &error);
    g_assert_no_error(error);
    g_assert_true(vireo_bus_add_mmio(bus, "fake", MMIO_BASE, 0x1000, &dev_ops, &s->dev, &error));
    s->machine = vireo_machine_new(bus, vireo_clock_new(10000000));
    s->t = g_new0(TestCpu, 1);
    vireo_cpu_init(&s->t->cpu, &test_class, s->machine, &s->t->tlb);
    g_assert_true(vireo_cpu_set_engine(&s->t->cpu, kind));
    s->t->cpu.jit_threshold = jit_threshold;
    s->t->blocks = blocks;
    vireo_machine_add_vcpu(s->machine, &dummy_ops, s->t);
}

static void side_free(Side *s)
{
    vireo_cpu_finalize(&s->t->cpu);
    g_free(s->t);
    vireo_machine_free(s->machine);
}

/* ---- random programs ---- */

/* Helpers the programs call. Each reads instret, which must be exact at
 * the call on both engines. */
static int helper_go_on(VireoCpu *cpu, const VireoIrInsn *in)
{
    cpu->regs[in->d] = cpu->regs[in->a] * 3 + vireo_cpu_retired(cpu, in) + (uint64_t)in->imm;
    return VIREO_IR_CONTINUE;
}

static int helper_leave(VireoCpu *cpu, const VireoIrInsn *in)
{
    /* Retires and goes on at the block in `imm` (a control transfer). */
    cpu->regs[in->d] = vireo_cpu_retired(cpu, in) ^ vireo_cpu_insn_pc(cpu, in);
    cpu->pc = (uint64_t)in->imm;
    return VIREO_IR_EXIT;
}

static int helper_trap(VireoCpu *cpu, const VireoIrInsn *in)
{
    cpu->pc = vireo_cpu_insn_pc(cpu, in);
    cpu->cls->raise(cpu, 50, vireo_cpu_retired(cpu, in));
    return VIREO_IR_TRAP;
}

typedef struct {
    GRand *rand;
    VireoIrBlock *blocks[MAX_BLOCKS];
    unsigned n_blocks;
    /* no helpers in the program's blocks: a block that branches back to
     * itself then loops in its own compiled code (self_loop()) */
    bool no_helpers;
} Gen;

static uint64_t rnd(Gen *g, uint64_t n)
{
    return n <= 1 ? 0
                  : (uint64_t)g_rand_int_range(g->rand, 0, (gint32)MIN(n, (uint64_t)G_MAXINT32));
}

static uint64_t rnd64(Gen *g)
{
    return ((uint64_t)g_rand_int(g->rand) << 32) | g_rand_int(g->rand);
}

/* A value that exercises edges: small, negative, powers of two, widths. */
static uint64_t interesting(Gen *g)
{
    static const uint64_t edges[] = {
        0,
        1,
        2,
        7,
        31,
        32,
        33,
        63,
        64,
        65,
        0x7f,
        0x80,
        0xff,
        0x7fff,
        0x8000,
        0xffff,
        0x7fffffff,
        0x80000000ull,
        0xffffffffull,
        0x100000000ull,
        0x7fffffffffffffffull,
        0x8000000000000000ull,
        ~0ull,
        ~0ull - 1,
        0xfffffffffffff000ull,
    };
    switch (rnd(g, 4)) {
    case 0: return edges[rnd(g, G_N_ELEMENTS(edges))];
    case 1: return (uint64_t)(int64_t)(int32_t)(rnd64(g) & 0xfff) - 0x800;
    default: return rnd64(g);
    }
}

static unsigned rreg(Gen *g)
{
    return 1 + (unsigned)rnd(g, 12); /* r1-r12; r13 is the address register */
}

static unsigned rsrc(Gen *g)
{
    return (unsigned)rnd(g, 13); /* r0-r12 */
}

static uint64_t block_pc(unsigned i)
{
    return CODE_BASE + (uint64_t)i * 0x100;
}

static VireoIrInsn *emit(VireoIrBlock *b, VireoIrOp op, unsigned d, unsigned a, unsigned bb,
                         int64_t imm)
{
    VireoIrInsn *in;

    vireo_ir_begin_guest(b, b->n_guest * 4);
    in = vireo_ir_emit(b, op, d, a, bb, imm);
    vireo_ir_end_guest(b, b->n_guest * 4 + 4);
    return in;
}

/* A later block's pc (or STOP_PC for none). */
static uint64_t later(Gen *g, unsigned i)
{
    if (i + 1 >= g->n_blocks) {
        return STOP_PC;
    }
    return block_pc(i + 1 + (unsigned)rnd(g, g->n_blocks - i - 1));
}

static const VireoIrOp fp_ops[] = {
    VIREO_OP_FADD_D,   VIREO_OP_FMUL_D,   VIREO_OP_FDIV_D,   VIREO_OP_FSQRT_D,
    VIREO_OP_FMADD_D,  VIREO_OP_FMIN_D,   VIREO_OP_FLT_D,    VIREO_OP_FCLASS_D,
    VIREO_OP_FADD_S,   VIREO_OP_FMUL_S,   VIREO_OP_FSGNJN_S, VIREO_OP_FCVT_W_D,
    VIREO_OP_FCVT_D_L, VIREO_OP_FCVT_S_D, VIREO_OP_FADD_H,   VIREO_OP_FCVT_LU_S,
};

static void gen_op(Gen *g, VireoIrBlock *b, unsigned i)
{
    unsigned choice = (unsigned)rnd(g, g->no_helpers ? 92 : 100);

    if (choice < 55) {
        /* Arithmetic: any K, U, R or I op. */
        VireoIrOp op;
        VireoIrKind k;
        do {
            op = (VireoIrOp)rnd(g, VIREO_OP_COUNT);
            k = vireo_ir_op_kind(op);
        } while (k != VIREO_IR_KIND_K && k != VIREO_IR_KIND_U && k != VIREO_IR_KIND_R &&
                 k != VIREO_IR_KIND_I);
        unsigned d = rreg(g);
        emit(b, op, d, rsrc(g), rsrc(g), (int64_t)interesting(g));
        if (rnd(g, 3) == 0) {
            /* sext.w of the result, which the JIT leaves out when it
             * knows the value is sign-extended already */
            emit(b, VIREO_OP_ADDIW, rnd(g, 2) ? d : rreg(g), d, 0, 0);
        }
    } else if (choice < 80) {
        /* A load or a store near the data area (now and then across a
         * page, misaligned, in a hole, on the device or on code). */
        static const VireoIrOp mem[] = {
            VIREO_OP_LD8S,  VIREO_OP_LD8U,  VIREO_OP_LD16S, VIREO_OP_LD16U,
            VIREO_OP_LD32S, VIREO_OP_LD32U, VIREO_OP_LD64,  VIREO_OP_ST8,
            VIREO_OP_ST16,  VIREO_OP_ST32,  VIREO_OP_ST64,
        };
        VireoIrOp op = mem[rnd(g, G_N_ELEMENTS(mem))];
        uint64_t base;
        switch (rnd(g, 20)) {
        case 0: base = 0x20000000; break;                              /* a hole */
        case 1: base = MMIO_BASE + rnd(g, 0x100); break;               /* the device */
        case 2: base = block_pc((unsigned)rnd(g, g->n_blocks)); break; /* code */
        case 3: base = DATA_BASE + 0x1000 * rnd(g, 15) + 0xffc; break; /* a page's end */
        default: base = DATA_BASE + (rnd(g, DATA_SIZE - 64) & ~(uint64_t)(rnd(g, 2) ? 7 : 0));
        }
        emit(b, VIREO_OP_MOVI, 13, 0, 0, (int64_t)base);
        if (rnd(g, 5) == 0) {
            /* an atomic (LR, SC, CAS or an AMO) at the same place */
            VireoIrOp at;
            VireoIrInsn *in;
            static const VireoIrOp inline_at[] = { VIREO_OP_AMOADD32, VIREO_OP_AMOADD64,
                                                   VIREO_OP_AMOSWAP32, VIREO_OP_AMOSWAP64 };
            if (rnd(g, 2)) {
                at = inline_at[rnd(g, G_N_ELEMENTS(inline_at))]; /* the JIT's inline ones */
            } else {
                do {
                    at = (VireoIrOp)rnd(g, VIREO_OP_COUNT);
                } while (vireo_ir_op_kind(at) != VIREO_IR_KIND_AT);
            }
            in = emit(b, at, rreg(g), 13, rsrc(g), 0);
            in->c = (uint8_t)rsrc(g);
        } else if (vireo_ir_op_kind(op) == VIREO_IR_KIND_LD) {
            emit(b, op, rreg(g), 13, 0, (int64_t)rnd(g, 16) - 8);
        } else {
            emit(b, op, 0, 13, rsrc(g), (int64_t)rnd(g, 16) - 8);
        }
    } else if (choice < 86) {
        VireoIrInsn *in =
            emit(b, fp_ops[rnd(g, G_N_ELEMENTS(fp_ops))], rreg(g), rsrc(g), rsrc(g), 0x53);
        in->c = (uint8_t)rsrc(g);
        in->flags = (uint8_t)rnd(g, 8); /* 5 and 6 are invalid: illegal instruction */
    } else if (choice < 92) {
        static const VireoIrOp sx[] = { VIREO_OP_XEQ, VIREO_OP_XNE,  VIREO_OP_XLT,
                                        VIREO_OP_XGE, VIREO_OP_XLTU, VIREO_OP_XGEU };
        emit(b, sx[rnd(g, G_N_ELEMENTS(sx))], 0, rsrc(g), rsrc(g), (int64_t)later(g, i));
    } else if (choice < 98) {
        VireoIrInsn *in = emit(b, VIREO_OP_HELPER, rreg(g), rsrc(g), 0, (int64_t)rnd(g, 1000));
        in->helper = helper_go_on;
    } else if (choice < 99) {
        VireoIrInsn *in = emit(b, VIREO_OP_HELPER, rreg(g), 0, 0, (int64_t)later(g, i));
        in->helper = helper_leave;
    } else {
        VireoIrInsn *in = emit(b, VIREO_OP_HELPER, 0, 0, 0, 0);
        in->helper = helper_trap;
    }
}

static void gen_terminator(Gen *g, VireoIrBlock *b, unsigned i)
{
    unsigned choice = (unsigned)rnd(g, 12);
    VireoIrInsn *in;

    if (choice >= 10) {
        /* Back to the block itself, a few times in all: the loops count in
         * LOOP_REG, which only they write (from 0 at each run), up to a
         * limit in LOOP_REG + 1. The compiled block loops in its own code. */
        emit(b, VIREO_OP_ADDI, LOOP_REG, LOOP_REG, 0, 1);
        emit(b, VIREO_OP_MOVI, LOOP_REG + 1, 0, 0, 2 + (int64_t)rnd(g, 6));
        in = emit(b, VIREO_OP_BLTU, 0, LOOP_REG, LOOP_REG + 1, (int64_t)block_pc(i));
        in->imm2 = (int64_t)later(g, i);
    } else if (i + 1 == g->n_blocks || choice == 0) {
        in = emit(b, VIREO_OP_TRAP, 0, 0, 0, 3);
        in->imm2 = (int64_t)rnd(g, 1000);
    } else if (choice < 4) {
        static const VireoIrOp br[] = { VIREO_OP_BEQ, VIREO_OP_BNE,  VIREO_OP_BLT,
                                        VIREO_OP_BGE, VIREO_OP_BLTU, VIREO_OP_BGEU };
        in = emit(b, br[rnd(g, G_N_ELEMENTS(br))], 0, rsrc(g), rsrc(g), (int64_t)later(g, i));
        in->imm2 = (int64_t)later(g, i);
    } else if (choice < 6) {
        emit(b, VIREO_OP_MOVI, 13, 0, 0, (int64_t)later(g, i) - 4);
        in = emit(b, VIREO_OP_JMPR, 0, 13, 0, 5);
        in->flags = 1;
    } else if (choice < 8) {
        emit(b, VIREO_OP_JMP, 0, 0, 0, (int64_t)later(g, i));
    } else {
        emit(b, VIREO_OP_EXIT, 0, 0, 0, (int64_t)later(g, i));
    }
}

static void gen_program(Gen *g, GHashTable *blocks)
{
    g->n_blocks = 1 + (unsigned)rnd(g, MAX_BLOCKS);
    g->no_helpers = rnd(g, 3) == 0;
    for (unsigned i = 0; i < g->n_blocks; i++) {
        VireoIrBlock *b = g->blocks[i];
        unsigned n = (unsigned)rnd(g, 40);
        vireo_ir_block_init(b, block_pc(i));
        for (unsigned k = 0; k < n && b->n_guest + 8 < VIREO_IR_MAX_GUEST; k++) {
            gen_op(g, b, i); /* up to three instructions */
        }
        gen_terminator(g, b, i);
        g_assert_null(vireo_ir_block_check(b));
        g_hash_table_replace(blocks, GSIZE_TO_POINTER(block_pc(i)), b);
    }
}

/* Same start on both sides: registers, rounding mode, memory, device. */
static void side_reset(Side *s, uint32_t seed, bool chained, bool flush)
{
    GRand *r = g_rand_new_with_seed(seed);
    VireoCpu *cpu = &s->t->cpu;

    if (flush) {
        vireo_cpu_flush_code(cpu);
    }
    vireo_tlb_flush_all(cpu);
    for (unsigned i = 1; i < VIREO_IR_NREGS; i++) {
        cpu->regs[i] = ((uint64_t)g_rand_int(r) << 32) | g_rand_int(r);
    }
    cpu->regs[LOOP_REG] = 0; /* the loops' count (gen_terminator()) */
    cpu->fp_rm = (uint8_t)g_rand_int_range(r, 0, 5);
    cpu->fp_flags = 0;
    for (unsigned i = 0; i < DATA_SIZE; i++) {
        s->ram[0x100000 + i] = (guint8)g_rand_int(r);
    }
    memset(&s->dev, 0, sizeof s->dev);
    s->t->n_traps = 0;
    s->t->last_cause = s->t->last_tval = 0;
    s->t->stop_on_trap = chained;
    cpu->insns_at_reset = cpu->stats.insns;
    cpu->pc = block_pc(0);
    atomic_store(&cpu->exit_request, 0);
    g_rand_free(r);
}

static void side_run(Side *s, bool chained)
{
    VireoCpu *cpu = &s->t->cpu;

    if (chained) {
        /* Blocks run chained until the first exception (which asks the
         * loop to stop; the machine is not started, so it does). */
        vireo_cpu_run(cpu);
        return;
    }
    for (unsigned n = 0; n < 4 * MAX_BLOCKS && cpu->pc != STOP_PC; n++) {
        vireo_cpu_step(cpu);
    }
}

static void compare(Side *x, Side *y, uint32_t seed, GHashTable *blocks)
{
    VireoCpu *a = &x->t->cpu, *b = &y->t->cpu;
    bool same = true;

    for (unsigned i = 0; i < VIREO_IR_NREGS; i++) {
        if (a->regs[i] != b->regs[i]) {
            g_printerr("r%u: interp %#" G_GINT64_MODIFIER "x, jit %#" G_GINT64_MODIFIER "x\n", i,
                       a->regs[i], b->regs[i]);
            same = false;
        }
    }
    same = same && a->pc == b->pc && a->fp_flags == b->fp_flags && x->t->n_traps == y->t->n_traps &&
           x->t->last_cause == y->t->last_cause && x->t->last_tval == y->t->last_tval &&
           vireo_cpu_icount(a) == vireo_cpu_icount(b) && x->dev.log == y->dev.log &&
           x->dev.reads == y->dev.reads && x->dev.writes == y->dev.writes &&
           memcmp(x->ram, y->ram, 0x100000 + DATA_SIZE) == 0;
    if (!same) {
        g_printerr("seed %u: pc %#" G_GINT64_MODIFIER "x/%#" G_GINT64_MODIFIER
                   "x traps %d/%d cause %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT
                   " tval %#" G_GINT64_MODIFIER "x/%#" G_GINT64_MODIFIER
                   "x insns %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT " fflags %u/%u\n",
                   seed, a->pc, b->pc, x->t->n_traps, y->t->n_traps, x->t->last_cause,
                   y->t->last_cause, x->t->last_tval, y->t->last_tval, vireo_cpu_icount(a),
                   vireo_cpu_icount(b), a->fp_flags, b->fp_flags);
        for (unsigned i = 0; i < MAX_BLOCKS; i++) {
            const VireoIrBlock *blk = g_hash_table_lookup(blocks, GSIZE_TO_POINTER(block_pc(i)));
            if (blk != NULL) {
                g_autofree char *dump = vireo_ir_block_dump(blk);
                g_printerr("%s", dump);
            }
        }
    }
    g_assert_true(same);
}

static void differential(bool chained, unsigned programs)
{
    GHashTable *blocks = g_hash_table_new(NULL, NULL);
    Side interp, jit;
    Gen g;
    VireoVcpuStats st;
    uint32_t base = g_test_rand_int();

    side_init(&interp, VIREO_ENGINE_INTERP, blocks);
    side_init(&jit, VIREO_ENGINE_JIT, blocks);
    for (unsigned i = 0; i < MAX_BLOCKS; i++) {
        g.blocks[i] = g_new0(VireoIrBlock, 1);
    }
    for (unsigned p = 0; p < programs; p++) {
        uint32_t seed = base + p;
        g.rand = g_rand_new_with_seed(seed);
        g_hash_table_remove_all(blocks);
        gen_program(&g, blocks);
        g_rand_free(g.rand);
        /* Once, or until the blocks that run are compiled, with the
         * blocks kept from one round to the next. */
        for (unsigned round = 0; round < (jit_threshold == 1 ? 1 : jit_threshold + 1); round++) {
            side_reset(&interp, seed, chained, round == 0);
            side_reset(&jit, seed, chained, round == 0);
            side_run(&interp, chained);
            side_run(&jit, chained);
            compare(&interp, &jit, seed, blocks);
        }
    }
    /* The programs did run as compiled code. */
    vireo_cpu_read_stats(&jit.t->cpu, &st);
    g_assert_cmpuint(st.jit_blocks, >, programs);
    g_assert_cmpuint(st.jit_insns, >, programs);
    for (unsigned i = 0; i < MAX_BLOCKS; i++) {
        g_free(g.blocks[i]);
    }
    side_free(&interp);
    side_free(&jit);
    g_hash_table_destroy(blocks);
}

static void test_random_blocks(void)
{
    differential(false, g_test_slow() ? 20000 : 3000);
}

static void test_random_chained(void)
{
    differential(true, g_test_slow() ? 20000 : 3000);
}

/* Blocks start on the interpreter and are compiled at their third run, in
 * the middle of the programs: compiled code goes on to blocks not compiled
 * yet and back. */
static void test_random_tiered(void)
{
    jit_threshold = 3;
    differential(true, g_test_slow() ? 20000 : 3000);
    jit_threshold = 1;
}

/* ---- targeted tests ---- */

/* Runs the vCPU from `pc` until it stops (a trap that asks it to). */
static void run_at(VireoCpu *cpu, uint64_t pc)
{
    cpu->pc = pc;
    atomic_store(&cpu->exit_request, 0);
    vireo_cpu_run(cpu);
}

static VireoIrBlock *new_block(GHashTable *blocks, uint64_t pc)
{
    VireoIrBlock *b = g_new0(VireoIrBlock, 1);
    vireo_ir_block_init(b, pc);
    g_hash_table_replace(blocks, GSIZE_TO_POINTER(pc), b);
    return b;
}

/* A fault in the middle of a compiled block: the pc is the faulting
 * instruction's, the ops before it took effect and those after did not,
 * exactly the instructions before it retired, and the block was compiled. */
static void test_fault_in_block(void)
{
    GHashTable *blocks = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    Side s;
    VireoCpu *cpu;
    VireoIrBlock *b;
    VireoVcpuStats st;

    side_init(&s, VIREO_ENGINE_JIT, blocks);
    cpu = &s.t->cpu;
    b = new_block(blocks, CODE_BASE);
    emit(b, VIREO_OP_ADDI, 5, 5, 0, 1);
    emit(b, VIREO_OP_ST64, 0, 1, 2, 0); /* into the data area */
    emit(b, VIREO_OP_MOVI, 6, 0, 0, 42);
    emit(b, VIREO_OP_LD64, 7, 3, 0, 8); /* in a hole: faults */
    emit(b, VIREO_OP_ADDI, 5, 5, 0, 1);
    emit(b, VIREO_OP_ST64, 0, 1, 2, 8);
    emit(b, VIREO_OP_JMP, 0, 0, 0, STOP_PC);
    cpu->regs[1] = DATA_BASE;
    cpu->regs[2] = 0x1122334455667788ull;
    cpu->regs[3] = 0x20000000;
    cpu->regs[7] = 77;
    cpu->insns_at_reset = cpu->stats.insns;
    cpu->pc = CODE_BASE;
    vireo_cpu_step(cpu);
    g_assert_cmpint(s.t->n_traps, ==, 1);
    g_assert_cmpuint(s.t->last_cause, ==, 100 + 10 * VIREO_ACCESS_LOAD + VIREO_XLATE_ACCESS_FAULT);
    g_assert_cmphex(s.t->last_tval, ==, 0x20000008);
    g_assert_cmpuint(cpu->regs[5], ==, 1);
    g_assert_cmpuint(cpu->regs[6], ==, 42);
    g_assert_cmpuint(cpu->regs[7], ==, 77);
    g_assert_cmpuint(vireo_cpu_icount(cpu), ==, 3);
    g_assert_cmphex(*(uint64_t *)(void *)(s.ram + 0x100000), ==, 0x1122334455667788ull);
    g_assert_cmphex(*(uint64_t *)(void *)(s.ram + 0x100008), ==, 0);
    vireo_cpu_read_stats(cpu, &st);
    g_assert_cmpuint(st.jit_blocks, ==, 1);
    g_assert_cmpuint(st.jit_fallbacks, ==, 0);

    /* The pc the raise saw: the test class records it through its tval
     * only, so check it with a helper that traps at the fourth op. */
    b = new_block(blocks, CODE_BASE + 0x100);
    emit(b, VIREO_OP_ADDI, 5, 5, 0, 1);
    emit(b, VIREO_OP_ADDI, 5, 5, 0, 1);
    emit(b, VIREO_OP_ADDI, 5, 5, 0, 1);
    VireoIrInsn *in = emit(b, VIREO_OP_HELPER, 0, 0, 0, 0);
    in->helper = helper_trap;
    emit(b, VIREO_OP_JMP, 0, 0, 0, STOP_PC);
    cpu->insns_at_reset = cpu->stats.insns;
    cpu->pc = CODE_BASE + 0x100;
    vireo_cpu_step(cpu);
    g_assert_cmpuint(s.t->last_cause, ==, 50);
    g_assert_cmpuint(s.t->last_tval, ==, 3); /* instret at the helper */
    g_assert_cmpuint(vireo_cpu_icount(cpu), ==, 3);
    side_free(&s);
    g_hash_table_destroy(blocks);
}

/* Self-modifying code: a compiled block stores into the page of the block
 * it jumps to; that block must be decoded and compiled again, and the new
 * code run, chained or not. */
static void test_smc(void)
{
    GHashTable *blocks = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    Side s;
    VireoCpu *cpu;
    VireoIrBlock *b;
    uint64_t target = CODE_BASE + 0x1000;
    VireoVcpuStats st;

    side_init(&s, VIREO_ENGINE_JIT, blocks);
    cpu = &s.t->cpu;
    s.t->stop_on_trap = true;
    /* writer: r3 += 1; store r3 into the target's code; go to it */
    b = new_block(blocks, CODE_BASE);
    emit(b, VIREO_OP_ADDI, 3, 3, 0, 1);
    emit(b, VIREO_OP_ST32, 0, 1, 3, 0); /* a different word every time */
    emit(b, VIREO_OP_JMP, 0, 0, 0, (int64_t)target);
    /* target, first version: r4 += 10, then stop */
    b = new_block(blocks, target);
    emit(b, VIREO_OP_ADDI, 4, 4, 0, 10);
    emit(b, VIREO_OP_TRAP, 0, 0, 0, 3);

    cpu->regs[1] = target + 4; /* the target block's second op */
    for (int round = 0; round < 2; round++) {
        run_at(cpu, CODE_BASE);
    }
    g_assert_cmpuint(cpu->regs[4], ==, 20);
    /* New code for the target; the next store into its page invalidates
     * the compiled block, which the writer's link points to. */
    b = new_block(blocks, target);
    emit(b, VIREO_OP_ADDI, 4, 4, 0, 1000);
    emit(b, VIREO_OP_TRAP, 0, 0, 0, 3);
    run_at(cpu, CODE_BASE);
    g_assert_cmpuint(cpu->regs[4], ==, 1020);
    g_assert_cmpuint(cpu->regs[3], ==, 3);
    vireo_cpu_read_stats(cpu, &st);
    g_assert_cmpuint(st.jit_fallbacks, ==, 0);
    g_assert_cmpuint(st.jit_blocks, ==, 4); /* writer, target three times */
    g_assert_cmpuint(st.jit_insns, ==, st.insns);
    /* A store elsewhere in the target's page: its compiled block is
     * revived, not compiled again. */
    cpu->regs[1] = target + 0x80;
    run_at(cpu, CODE_BASE);
    g_assert_cmpuint(cpu->regs[4], ==, 2020);
    vireo_cpu_read_stats(cpu, &st);
    g_assert_cmpuint(st.jit_blocks, ==, 4);
    g_assert_cmpuint(st.decode_revived, ==, 1);
    side_free(&s);
    g_hash_table_destroy(blocks);
}

/* Self-modifying code within one page, on either engine: block A stores
 * into block B's code on their page, then goes on to B through a link made
 * in an earlier run (links within a page do not check that the next block
 * is current). B must be decoded again and its new code run. */
static void test_smc_same_page(gconstpointer data)
{
    GHashTable *blocks = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    Side s;
    VireoCpu *cpu;
    VireoIrBlock *b;
    uint64_t target = CODE_BASE + 0x100;

    side_init(&s, (VireoEngineKind)GPOINTER_TO_INT(data), blocks);
    cpu = &s.t->cpu;
    s.t->stop_on_trap = true;
    b = new_block(blocks, CODE_BASE);
    emit(b, VIREO_OP_ADDI, 3, 3, 0, 1);
    emit(b, VIREO_OP_ST32, 0, 1, 3, 0);
    emit(b, VIREO_OP_JMP, 0, 0, 0, (int64_t)target);
    b = new_block(blocks, target);
    emit(b, VIREO_OP_ADDI, 4, 4, 0, 10);
    emit(b, VIREO_OP_TRAP, 0, 0, 0, 3);
    /* Two runs storing to data: the second links A to B. */
    cpu->regs[1] = DATA_BASE;
    for (int round = 0; round < 2; round++) {
        run_at(cpu, CODE_BASE);
    }
    g_assert_cmpuint(cpu->regs[4], ==, 20);
    /* B's new code, and A's store goes into it. */
    b = new_block(blocks, target);
    emit(b, VIREO_OP_ADDI, 4, 4, 0, 1000);
    emit(b, VIREO_OP_TRAP, 0, 0, 0, 3);
    cpu->regs[1] = target + 4;
    run_at(cpu, CODE_BASE);
    g_assert_cmpuint(cpu->regs[4], ==, 1020);
    g_assert_cmpuint(cpu->regs[3], ==, 3);
    g_assert_cmpint(s.t->n_traps, ==, 3);
    side_free(&s);
    g_hash_table_destroy(blocks);
}

/* r[reg] += 1, and the block leaves for `exit` once it reaches `n`
 * (compared through r[limit]). */
static void emit_count_up(VireoIrBlock *b, unsigned reg, unsigned limit, int64_t n, uint64_t exit)
{
    emit(b, VIREO_OP_ADDI, reg, reg, 0, 1);
    emit(b, VIREO_OP_MOVI, limit, 0, 0, n);
    emit(b, VIREO_OP_XEQ, 0, reg, limit, (int64_t)exit);
}

/* Loops far longer than the budget of blocks between two returns to the
 * run loop (VIREO_RUN_CHECK_PERIOD): one over two linked blocks, one on a
 * block of its own. The compiled code leaves when the budget is spent (the
 * carry out of the counters' block field) and the counts stay exact. */
static void test_budget(void)
{
    GHashTable *blocks = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    enum { N = 3 * 4096 + 17 }; /* the budget: VIREO_RUN_CHECK_PERIOD (engine/tb.h) */
    Side s;
    VireoCpu *cpu;
    VireoIrBlock *b;
    VireoVcpuStats st;

    side_init(&s, VIREO_ENGINE_JIT, blocks);
    cpu = &s.t->cpu;
    s.t->stop_on_trap = true;
    /* A: r3++, leaves for C at N, else on to B; B: r5 += 2, back to A */
    b = new_block(blocks, CODE_BASE);
    emit_count_up(b, 3, 4, N, CODE_BASE + 0x200);
    emit(b, VIREO_OP_JMP, 0, 0, 0, (int64_t)(CODE_BASE + 0x100));
    b = new_block(blocks, CODE_BASE + 0x100);
    emit(b, VIREO_OP_ADDI, 5, 5, 0, 2);
    emit(b, VIREO_OP_JMP, 0, 0, 0, (int64_t)CODE_BASE);
    b = new_block(blocks, CODE_BASE + 0x200);
    emit(b, VIREO_OP_TRAP, 0, 0, 0, 3);
    /* D: r6++, leaves for C at N, else loops on itself */
    b = new_block(blocks, CODE_BASE + 0x300);
    emit_count_up(b, 6, 7, N, CODE_BASE + 0x200);
    emit(b, VIREO_OP_JMP, 0, 0, 0, (int64_t)(CODE_BASE + 0x300));

    cpu->insns_at_reset = cpu->stats.insns;
    cpu->pc = CODE_BASE;
    vireo_cpu_run(cpu);
    g_assert_cmpint(s.t->n_traps, ==, 1);
    g_assert_cmpuint(cpu->regs[3], ==, N);
    g_assert_cmpuint(cpu->regs[5], ==, 2 * (N - 1));
    g_assert_cmpuint(vireo_cpu_icount(cpu), ==, (uint64_t)(N - 1) * 4 + 3 + (uint64_t)(N - 1) * 2);
    vireo_cpu_read_stats(cpu, &st);
    g_assert_cmpuint(st.blocks, ==, 2 * (uint64_t)N); /* N A, N - 1 B, C */
    g_assert_cmpuint(st.jit_insns + VIREO_JIT_THRESHOLD * 6, >=, st.insns);

    cpu->insns_at_reset = cpu->stats.insns;
    cpu->pc = CODE_BASE + 0x300;
    vireo_cpu_run(cpu);
    g_assert_cmpint(s.t->n_traps, ==, 2);
    g_assert_cmpuint(cpu->regs[6], ==, N);
    g_assert_cmpuint(vireo_cpu_icount(cpu), ==, (uint64_t)(N - 1) * 4 + 3);
    vireo_cpu_read_stats(cpu, &st);
    g_assert_cmpuint(st.blocks, ==, 2 * (uint64_t)N + N + 1);
    side_free(&s);
    g_hash_table_destroy(blocks);
}

/* A code buffer too small for the program: it is emptied as it fills,
 * compiled code is dropped and made again, the results stay right, and
 * the JIT compiles only hotter blocks from then on. */
static void test_full_buffer(void)
{
    GHashTable *blocks = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    enum { N = 300 };
    Side s;
    VireoCpu *cpu;
    VireoVcpuStats st;

    side_init(&s, VIREO_ENGINE_JIT, blocks);
    cpu = &s.t->cpu;
    s.t->stop_on_trap = true;
    vireo_cpu_set_code_capacity(cpu, 64 * 1024);
    /* A chain of N blocks, 0x20 apart, each adding its number to r3 and
     * storing r3 in data; the last traps. */
    for (unsigned i = 0; i < N; i++) {
        VireoIrBlock *b = new_block(blocks, CODE_BASE + 0x20 * i);
        emit(b, VIREO_OP_ADDI, 3, 3, 0, (int64_t)i);
        emit(b, VIREO_OP_ST64, 0, 1, 3, 0);
        if (i + 1 < N) {
            emit(b, VIREO_OP_JMP, 0, 0, 0, (int64_t)(CODE_BASE + 0x20 * (i + 1)));
        } else {
            emit(b, VIREO_OP_TRAP, 0, 0, 0, 3);
        }
    }
    cpu->regs[1] = DATA_BASE;
    for (int round = 0; round < 3; round++) {
        run_at(cpu, CODE_BASE);
        g_assert_cmpuint(cpu->regs[3], ==, (uint64_t)(round + 1) * (N * (N - 1) / 2));
        g_assert_cmphex(*(uint64_t *)(void *)(s.ram + 0x100000), ==, cpu->regs[3]);
    }
    vireo_cpu_read_stats(cpu, &st);
    g_assert_cmpuint(st.jit_flushes, >, 0);
    g_assert_cmpuint(st.jit_blocks, >, 0);
    g_assert_cmpuint(cpu->jit_threshold, >, 1);
    g_assert_cmpint(s.t->n_traps, ==, 3);
    side_free(&s);
    g_hash_table_destroy(blocks);
}

/* A loop closed by a computed jump: after the first round the compiled
 * code finds the block in the jump cache itself. The count of retired
 * instructions stays exact. */
static void test_computed_jump_loop(void)
{
    GHashTable *blocks = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    Side s;
    VireoCpu *cpu;
    VireoIrBlock *b;
    VireoVcpuStats st;

    side_init(&s, VIREO_ENGINE_JIT, blocks);
    cpu = &s.t->cpu;
    s.t->stop_on_trap = true;
    b = new_block(blocks, CODE_BASE);
    emit_count_up(b, 3, 4, 50, CODE_BASE + 0x100);
    emit(b, VIREO_OP_MOVI, 13, 0, 0, (int64_t)CODE_BASE - 8);
    emit(b, VIREO_OP_JMPR, 0, 13, 0, 8);
    b = new_block(blocks, CODE_BASE + 0x100);
    emit(b, VIREO_OP_TRAP, 0, 0, 0, 3);
    cpu->insns_at_reset = cpu->stats.insns;
    cpu->pc = CODE_BASE;
    vireo_cpu_run(cpu);
    g_assert_cmpuint(cpu->regs[3], ==, 50);
    g_assert_cmpint(s.t->n_traps, ==, 1);
    g_assert_cmpuint(s.t->last_cause, ==, 3);
    g_assert_cmpuint(vireo_cpu_icount(cpu), ==, 49 * 5 + 3);
    vireo_cpu_read_stats(cpu, &st);
    g_assert_cmpuint(st.jit_insns, ==, st.insns);
    g_assert_cmpuint(st.blocks, ==, 51);
    side_free(&s);
    g_hash_table_destroy(blocks);
}

/* The end of a block at CODE_BASE that loops on itself: r1++, back to its
 * start while r1 != r3, else to a block at CODE_BASE + 0x200 that traps. */
static void end_loop(GHashTable *blocks, VireoIrBlock *b)
{
    VireoIrInsn *in;

    emit(b, VIREO_OP_ADDI, 1, 1, 0, 1);
    in = emit(b, VIREO_OP_BNE, 0, 1, 3, (int64_t)CODE_BASE);
    in->imm2 = (int64_t)(CODE_BASE + 0x200);
    b = new_block(blocks, CODE_BASE + 0x200);
    emit(b, VIREO_OP_TRAP, 0, 0, 0, 3);
}

/* A block does not load the registers it writes before it reads them. In
 * a block that loops on itself, the registers it writes count as written
 * from the start (they are newer than cpu->regs at every turn but the
 * first): an exit before the write, in the first turn, must leave them as
 * they were. */
static void test_written_first(void)
{
    GHashTable *blocks = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    Side s;
    VireoCpu *cpu;
    VireoIrBlock *b;

    side_init(&s, VIREO_ENGINE_JIT, blocks);
    cpu = &s.t->cpu;
    s.t->stop_on_trap = true;
    /* A: to C when r1 == r2; r5 = 7; r6 = r1 + 100; r1++; back to A
     * while r1 != r3, else to C */
    b = new_block(blocks, CODE_BASE);
    emit(b, VIREO_OP_XEQ, 0, 1, 2, (int64_t)(CODE_BASE + 0x200));
    emit(b, VIREO_OP_MOVI, 5, 0, 0, 7);
    emit(b, VIREO_OP_ADDI, 6, 1, 0, 100);
    end_loop(blocks, b);
    for (unsigned round = 0; round < 20; round++) {
        /* from 0 to 5 without leaving early, the odd rounds leaving at
         * once, the last in the fourth turn */
        bool early = round % 2 == 1;
        cpu->regs[1] = 0;
        cpu->regs[2] = early ? 0 : round == 18 ? 3 : 100;
        cpu->regs[3] = 5;
        cpu->regs[5] = 0x1234 + round;
        cpu->regs[6] = 0x5678 + round;
        run_at(cpu, CODE_BASE);
        if (early) {
            g_assert_cmpuint(cpu->regs[1], ==, 0);
            g_assert_cmphex(cpu->regs[5], ==, 0x1234 + round);
            g_assert_cmphex(cpu->regs[6], ==, 0x5678 + round);
        } else {
            g_assert_cmpuint(cpu->regs[1], ==, round == 18 ? 3 : 5);
            g_assert_cmpuint(cpu->regs[5], ==, 7);
            g_assert_cmpuint(cpu->regs[6], ==, round == 18 ? 102 : 104);
        }
    }
    g_assert_cmpint(s.t->n_traps, ==, 20);
    side_free(&s);
    g_hash_table_destroy(blocks);
}

/* A block that loops on itself in its compiled code, with an AMOADD or
 * AMOSWAP taken inline (its result computed in its cache register), read
 * in the next turn after a call and a device load that write the cached
 * registers back: the result must be among them. */
static void test_loop_atomic(gconstpointer data)
{
    const VireoIrOp amo = (VireoIrOp)GPOINTER_TO_INT(data);
    const bool w = amo == VIREO_OP_AMOADD32 || amo == VIREO_OP_AMOSWAP32;
    const bool add = amo == VIREO_OP_AMOADD32 || amo == VIREO_OP_AMOADD64;
    GHashTable *blocks = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    enum { TURNS = 7 };
    Side s;
    VireoCpu *cpu;
    VireoIrBlock *b;
    uint64_t mem = 0x0123456789abcdf0ull, r11 = 0x00000000fedcba98ull, r7 = 0;

    side_init(&s, VIREO_ENGINE_JIT, blocks);
    cpu = &s.t->cpu;
    s.t->stop_on_trap = true;
    /* A: r7 = ctz(r11) (a call); r9 = a device's word (the slow path);
     * r11 = amo([DATA], r11); r1++; back to A while r1 != r3, else to C */
    b = new_block(blocks, CODE_BASE);
    emit(b, VIREO_OP_CTZ, 7, 11, 0, 0);
    emit(b, VIREO_OP_MOVI, 13, 0, 0, (int64_t)MMIO_BASE);
    emit(b, VIREO_OP_LD64, 9, 13, 0, 0);
    emit(b, VIREO_OP_MOVI, 13, 0, 0, (int64_t)DATA_BASE);
    emit(b, amo, 11, 13, 11, 0);
    end_loop(blocks, b);
    vireo_store_le(s.ram + (DATA_BASE - RAM_BASE), 8, mem);
    s.dev.regs[0] = 0x55;
    cpu->regs[1] = 0;
    cpu->regs[3] = TURNS;
    cpu->regs[11] = r11;
    run_at(cpu, CODE_BASE);
    for (unsigned i = 0; i < TURNS; i++) {
        uint64_t old = w ? (uint64_t)(int64_t)(int32_t)mem : mem;
        uint64_t next = add ? mem + r11 : r11;
        r7 = r11 == 0 ? 64 : (uint64_t)__builtin_ctzll(r11);
        mem = w ? (mem & ~0xffffffffull) | (next & 0xffffffffull) : next;
        r11 = old;
    }
    g_assert_cmpint(s.t->n_traps, ==, 1);
    g_assert_cmpuint(cpu->regs[1], ==, TURNS);
    g_assert_cmphex(cpu->regs[7], ==, r7);
    g_assert_cmphex(cpu->regs[9], ==, 0x55); /* the device's word */
    g_assert_cmphex(cpu->regs[11], ==, r11);
    g_assert_cmphex(vireo_load_le(s.ram + (DATA_BASE - RAM_BASE), 8), ==, mem);
    side_free(&s);
    g_hash_table_destroy(blocks);
}

/* Time on the interpreter (jit_interp_ns): a loop that never gets hot
 * enough to compile runs on the interpreter only, and nearly all of its
 * time counts there. The clock read is the coarse one, exact in the sum
 * over many runs within a few of its ticks: the loop runs for 0.2 s or
 * more. */
static void test_interp_time(void)
{
    GHashTable *blocks = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    enum { N = 4000000 };
    Side s;
    VireoCpu *cpu;
    VireoIrBlock *b;
    VireoVcpuStats st;
    gint64 start, elapsed_ns;
    unsigned rounds = 0;

    side_init(&s, VIREO_ENGINE_JIT, blocks);
    cpu = &s.t->cpu;
    s.t->stop_on_trap = true;
    cpu->jit_threshold = 1u << 30;
    b = new_block(blocks, CODE_BASE);
    emit_count_up(b, 6, 7, N, CODE_BASE + 0x200);
    emit(b, VIREO_OP_JMP, 0, 0, 0, (int64_t)CODE_BASE);
    b = new_block(blocks, CODE_BASE + 0x200);
    emit(b, VIREO_OP_TRAP, 0, 0, 0, 3);
    start = g_get_monotonic_time();
    do {
        cpu->regs[6] = 0;
        run_at(cpu, CODE_BASE);
        g_assert_cmpuint(cpu->regs[6], ==, N);
        rounds++;
    } while (g_get_monotonic_time() - start < 200000);
    elapsed_ns = (g_get_monotonic_time() - start) * 1000;
    vireo_cpu_read_stats(cpu, &st);
    g_test_message("%u rounds, %.3f s, %.3f s on the interpreter", rounds, elapsed_ns / 1e9,
                   st.jit_interp_ns / 1e9);
    g_assert_cmpuint(st.jit_blocks, ==, 0);
    g_assert_cmpuint(st.jit_insns, ==, 0);
    /* within 20 ms (a few ticks of a 100 Hz clock) above, half below */
    g_assert_cmpuint(st.jit_interp_ns, <=, (guint64)elapsed_ns + 20000000u);
    g_assert_cmpuint(st.jit_interp_ns, >=, (guint64)elapsed_ns / 2);
    side_free(&s);
    g_hash_table_destroy(blocks);
}

int main(int argc, char *argv[])
{
    g_test_init(&argc, &argv, NULL);
    if (!vireo_engine_available(VIREO_ENGINE_JIT, NULL)) {
        g_test_skip("no JIT on this host");
        return g_test_run();
    }
    g_test_add_func("/jit/differential/blocks", test_random_blocks);
    g_test_add_func("/jit/differential/chained", test_random_chained);
    g_test_add_func("/jit/differential/tiered", test_random_tiered);
    g_test_add_func("/jit/fault-in-block", test_fault_in_block);
    g_test_add_func("/jit/smc", test_smc);
    g_test_add_func("/jit/full-buffer", test_full_buffer);
    g_test_add_func("/jit/budget", test_budget);
    g_test_add_data_func("/jit/smc-same-page", GINT_TO_POINTER(VIREO_ENGINE_JIT),
                         test_smc_same_page);
    g_test_add_data_func("/jit/smc-same-page/interp", GINT_TO_POINTER(VIREO_ENGINE_INTERP),
                         test_smc_same_page);
    g_test_add_func("/jit/computed-jump-loop", test_computed_jump_loop);
    g_test_add_func("/jit/written-first", test_written_first);
    g_test_add_data_func("/jit/loop-atomic/amoadd32", GINT_TO_POINTER(VIREO_OP_AMOADD32),
                         test_loop_atomic);
    g_test_add_data_func("/jit/loop-atomic/amoadd64", GINT_TO_POINTER(VIREO_OP_AMOADD64),
                         test_loop_atomic);
    g_test_add_data_func("/jit/loop-atomic/amoswap32", GINT_TO_POINTER(VIREO_OP_AMOSWAP32),
                         test_loop_atomic);
    g_test_add_data_func("/jit/loop-atomic/amoswap64", GINT_TO_POINTER(VIREO_OP_AMOSWAP64),
                         test_loop_atomic);
    g_test_add_func("/jit/interp-time", test_interp_time);
    return g_test_run();
}
