/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The architecture-neutral engine core on its own: IR blocks run by the
 * threaded interpreter on a test architecture whose page table is a hash
 * table, so that the TLB, the slow paths, code invalidation and atomics are
 * tested without any guest decoder.
 */
#include "engine/cpu.h"
#include "engine/error.h"
#include "engine/machine.h"

#include <string.h>

#define RAM_BASE  0x80000000ull
#define RAM_SIZE  (64ull << 20)
#define MMIO_BASE 0x10000000ull

typedef struct {
    VireoCpu cpu;
    VireoTlb tlb;
    GHashTable *blocks; /* pc -> VireoIrBlock* */
    GHashTable *pages;  /* vpage -> (ppage | perms) mapping; identity when absent */
    bool identity;      /* unmapped pages are identity-mapped RWX */
    uint64_t last_cause, last_tval;
    int n_traps;
    int n_decodes;
} TestCpu;

#define ENC_PERMS(ppage, perms) ((ppage) | (perms))
#define ENC_ASID1               0x8 /* with ENC_PERMS: not global, ASID 1 */

static VireoXlateResult test_translate(VireoCpu *cpu, uint64_t va, unsigned size,
                                       VireoAccess access, VireoTlbEntry *e)
{
    TestCpu *t = (TestCpu *)(void *)cpu;
    static const uint8_t need[] = { VIREO_TLB_PERM_R, VIREO_TLB_PERM_W, VIREO_TLB_PERM_X };
    uint64_t vpage = va & ~0xfffull;
    gpointer v;

    if (g_hash_table_lookup_extended(t->pages, GSIZE_TO_POINTER(vpage), NULL, &v)) {
        uint64_t m = GPOINTER_TO_SIZE(v);
        e->ppage = m & ~0xfffull;
        e->perms = m & 7;
        if (m & ENC_ASID1) {
            e->global = 0;
            e->asid = 1;
            return (e->perms & need[access]) ? VIREO_XLATE_OK : VIREO_XLATE_PAGE_FAULT;
        }
    } else if (t->identity) {
        e->ppage = vpage;
        e->perms = 7;
    } else {
        return VIREO_XLATE_PAGE_FAULT;
    }
    if (!(e->perms & need[access])) {
        return VIREO_XLATE_PAGE_FAULT;
    }
    e->global = 1;
    return VIREO_XLATE_OK;
}

static void test_raise(VireoCpu *cpu, uint64_t cause, uint64_t tval)
{
    TestCpu *t = (TestCpu *)(void *)cpu;
    t->last_cause = cause;
    t->last_tval = tval;
    t->n_traps++;
    cpu->pc = 0xdead0000;
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
    /* Fetch like a real decoder, so that the page is marked as code. */
    g_assert_true(vireo_cpu_fetch16(cpu, block->pc, &dummy));
    memcpy(block, src, sizeof *block);
    t->n_decodes++;
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
    .max_insn_bytes = 4, /* an op is a 4-byte instruction (op()) */
    .decode_flags = test_flags,
    .check_interrupts = test_nothing,
    .wait_for_interrupt = test_nothing,
};

typedef struct {
    uint64_t regs[16];
    uint64_t last_addr, last_value;
    int reads, writes;
} FakeDev;

static bool dev_read(void *opaque, uint64_t off, unsigned size, uint64_t *value)
{
    FakeDev *d = opaque;
    d->reads++;
    d->last_addr = off;
    *value = d->regs[(off / 8) % 16];
    return true;
}

static bool dev_write(void *opaque, uint64_t off, unsigned size, uint64_t value)
{
    FakeDev *d = opaque;
    d->writes++;
    d->last_addr = off;
    d->last_value = value;
    d->regs[(off / 8) % 16] = value;
    return true;
}

static const VireoDeviceOps dev_ops = { .name = "fake", .read = dev_read, .write = dev_write };

typedef struct {
    VireoMachine *machine;
    guint8 *ram;
    FakeDev dev;
    TestCpu *cpus[4];
    unsigned n_cpus;
} Fixture;

static void vcpu_dummy(void *opaque)
{
}

static void stats_dummy(void *opaque, VireoVcpuStats *s)
{
    vireo_cpu_read_stats(&((TestCpu *)opaque)->cpu, s);
}

static const VireoVcpuOps dummy_ops = {
    .run = vcpu_dummy,
    .kick = vcpu_dummy,
    .reset = vcpu_dummy,
    .get_stats = stats_dummy,
};

static void fixture_setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    VireoBus *bus = vireo_bus_new();
    static const guint8 rom[16] = { 1, 2, 3, 4 };

    f->ram = vireo_bus_add_ram(bus, RAM_BASE, RAM_SIZE, &error);
    g_assert_no_error(error);
    g_assert_true(vireo_bus_add_mmio(bus, "fake", MMIO_BASE, 0x1000, &dev_ops, &f->dev, &error));
    g_assert_true(vireo_bus_add_rom(bus, "rom", 0x1000, 0x1000, rom, sizeof rom, &error));
    f->machine = vireo_machine_new(bus, vireo_clock_new(10000000));
    f->n_cpus = 4;
    for (unsigned i = 0; i < f->n_cpus; i++) {
        TestCpu *t = g_new0(TestCpu, 1);
        vireo_cpu_init(&t->cpu, &test_class, f->machine, &t->tlb);
        g_assert_true(vireo_cpu_set_engine(&t->cpu, (VireoEngineKind)GPOINTER_TO_INT(data)));
        t->blocks = g_hash_table_new_full(NULL, NULL, NULL, g_free);
        t->pages = g_hash_table_new(NULL, NULL);
        t->identity = true;
        vireo_machine_add_vcpu(f->machine, &dummy_ops, t);
        f->cpus[i] = t;
    }
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    for (unsigned i = 0; i < f->n_cpus; i++) {
        vireo_cpu_finalize(&f->cpus[i]->cpu);
        g_hash_table_destroy(f->cpus[i]->blocks);
        g_hash_table_destroy(f->cpus[i]->pages);
        g_free(f->cpus[i]);
    }
    vireo_machine_free(f->machine);
}

/* Block builder for the tests: instructions are 4 bytes of guest code each. */
static VireoIrBlock *block_new(TestCpu *t, uint64_t pc)
{
    VireoIrBlock *b = g_new(VireoIrBlock, 1);
    vireo_ir_block_init(b, pc);
    g_hash_table_replace(t->blocks, GSIZE_TO_POINTER(pc), b);
    return b;
}

static VireoIrInsn *op(VireoIrBlock *b, VireoIrOp o, unsigned d, unsigned a, unsigned bb,
                       int64_t imm)
{
    VireoIrInsn *in;
    vireo_ir_begin_guest(b, b->n_guest * 4);
    in = vireo_ir_emit(b, o, d, a, bb, imm);
    if (!vireo_ir_op_is_terminator(o)) {
        vireo_ir_end_guest(b, b->n_guest * 4 + 4);
    } else {
        b->n_guest++;
        b->pc_off[b->n_guest] = (uint16_t)(b->n_guest * 4);
        b->guest_len = b->n_guest * 4;
    }
    return in;
}

static void run_at(TestCpu *t, uint64_t pc)
{
    t->cpu.pc = pc;
    vireo_cpu_step(&t->cpu);
}

static void test_ir_check(void)
{
    VireoIrBlock *b = g_new(VireoIrBlock, 1);
    char *dump;

    vireo_ir_block_init(b, 0x1000);
    g_assert_cmpstr(vireo_ir_block_check(b), ==, "empty block");
    vireo_ir_emit(b, VIREO_OP_ADDI, 0, 1, 0, 5);
    g_assert_cmpstr(vireo_ir_block_check(b), ==, "write to register 0");
    vireo_ir_block_init(b, 0x1000);
    vireo_ir_emit(b, VIREO_OP_ADDI, 1, 1, 0, 5);
    g_assert_cmpstr(vireo_ir_block_check(b), ==, "terminator not at the end");
    vireo_ir_emit(b, VIREO_OP_JMP, 0, 0, 0, 0x2000);
    g_assert_null(vireo_ir_block_check(b));
    vireo_ir_emit(b, VIREO_OP_ADD, 2, 3, VIREO_IR_NREGS, 0);
    g_assert_nonnull(vireo_ir_block_check(b));
    dump = vireo_ir_block_dump(b);
    g_assert_nonnull(strstr(dump, "ADDI"));
    g_assert_nonnull(strstr(dump, "JMP"));
    g_free(dump);
    for (int i = 0; i < VIREO_OP_COUNT; i++) {
        g_assert_cmpstr(vireo_ir_op_name((VireoIrOp)i), !=, "?");
    }
    g_free(b);
}

typedef struct {
    VireoIrOp op;
    uint64_t a, b;
    uint64_t expect;
} AluCase;

static void test_interp_alu(Fixture *f, gconstpointer data)
{
    static const AluCase cases[] = {
        { VIREO_OP_ADD, 1, 2, 3 },
        { VIREO_OP_ADD, ~0ull, 1, 0 },
        { VIREO_OP_SUB, 0, 1, ~0ull },
        { VIREO_OP_SHL, 1, 63, 1ull << 63 },
        { VIREO_OP_SHL, 1, 64, 1 }, /* amount modulo 64 */
        { VIREO_OP_SHR, 1ull << 63, 63, 1 },
        { VIREO_OP_SAR, 1ull << 63, 63, ~0ull },
        { VIREO_OP_SLT, (uint64_t)-1, 0, 1 },
        { VIREO_OP_SLTU, (uint64_t)-1, 0, 0 },
        { VIREO_OP_SEQ, 5, 5, 1 },
        { VIREO_OP_SNE, 5, 5, 0 },
        { VIREO_OP_MUL, 0x100000000ull, 0x100000000ull, 0 },
        { VIREO_OP_MULHU, ~0ull, ~0ull, ~0ull - 1 },
        { VIREO_OP_MULH, (uint64_t)-1, (uint64_t)-1, 0 },
        { VIREO_OP_MULHSU, (uint64_t)-1, ~0ull, ~0ull },
        { VIREO_OP_DIV, 7, 0, ~0ull },
        { VIREO_OP_DIV, 1ull << 63, (uint64_t)-1, 1ull << 63 },
        { VIREO_OP_DIV, (uint64_t)-7, 2, (uint64_t)-3 },
        { VIREO_OP_REM, (uint64_t)-7, 2, (uint64_t)-1 },
        { VIREO_OP_REM, 7, 0, 7 },
        { VIREO_OP_REM, 1ull << 63, (uint64_t)-1, 0 },
        { VIREO_OP_DIVU, 7, 0, ~0ull },
        { VIREO_OP_REMU, 7, 0, 7 },
        { VIREO_OP_ADDW, 0x7fffffff, 1, 0xffffffff80000000ull },
        { VIREO_OP_SUBW, 0, 1, ~0ull },
        { VIREO_OP_SHLW, 1, 31, 0xffffffff80000000ull },
        { VIREO_OP_SHLW, 1, 32, 1 },
        { VIREO_OP_SHRW, 0x80000000ull, 31, 1 },
        { VIREO_OP_SARW, 0x80000000ull, 31, ~0ull },
        { VIREO_OP_MULW, 0x10000, 0x10000, 0 },
        { VIREO_OP_DIVW, 0x80000000ull, (uint64_t)-1, 0xffffffff80000000ull },
        { VIREO_OP_DIVW, 5, 0, ~0ull },
        { VIREO_OP_REMW, 0x80000000ull, (uint64_t)-1, 0 },
        { VIREO_OP_REMW, 0xfffffff9ull, 0, (uint64_t)-7 },
        { VIREO_OP_DIVUW, 0xffffffffull, 1, ~0ull },
        { VIREO_OP_REMUW, 0x80000005ull, 0, 0xffffffff80000005ull },
        { VIREO_OP_CLZ, 0, 0, 64 },
        { VIREO_OP_CLZ, 1, 0, 63 },
        { VIREO_OP_CTZ, 0, 0, 64 },
        { VIREO_OP_CTZ, 1ull << 63, 0, 63 },
        { VIREO_OP_CPOP, ~0ull, 0, 64 },
        { VIREO_OP_CLZW, 0xffffffff00000000ull, 0, 32 },
        { VIREO_OP_CTZW, 0xffffffff00000000ull, 0, 32 },
        { VIREO_OP_CPOPW, ~0ull, 0, 32 },
        { VIREO_OP_REV8, 0x0102030405060708ull, 0, 0x0807060504030201ull },
        { VIREO_OP_ORCB, 0x0001008000000010ull, 0, 0x00ff00ff000000ffull },
        { VIREO_OP_BREV8, 0x0180ull, 0, 0x8001ull },
        { VIREO_OP_ROL, 1ull << 63, 1, 1 },
        { VIREO_OP_ROR, 1, 65, 1ull << 63 }, /* amount modulo 64 */
        { VIREO_OP_ROLW, 0x80000000ull, 1, 1 },
        { VIREO_OP_RORW, 1, 1, 0xffffffff80000000ull },
        { VIREO_OP_MIN, 1ull << 63, 0, 1ull << 63 },
        { VIREO_OP_MINU, 1ull << 63, 0, 0 },
        { VIREO_OP_MAX, (uint64_t)-1, 0, 0 },
        { VIREO_OP_MAXU, (uint64_t)-1, 0, ~0ull },
        { VIREO_OP_CLMUL, 3, 3, 5 },
        { VIREO_OP_CLMULH, ~0ull, ~0ull, 0x5555555555555555ull },
        { VIREO_OP_CLMULR, 1ull << 63, 1ull << 63, 1ull << 63 },
        /* all three halves of two full products (worked out separately) */
        { VIREO_OP_CLMUL, 0x8123456789abcdefull, 0xfedcba9876543210ull, 0x40a0789828c810f0ull },
        { VIREO_OP_CLMULH, 0x8123456789abcdefull, 0xfedcba9876543210ull, 0x7f8e659453a249b8ull },
        { VIREO_OP_CLMULR, 0x8123456789abcdefull, 0xfedcba9876543210ull, 0xff1ccb28a7449370ull },
        { VIREO_OP_CLMUL, 0xdeadbeefcafef00dull, 0x82f63b78ull, 0xd5f13f6463758d58ull },
        { VIREO_OP_CLMULH, 0xdeadbeefcafef00dull, 0x82f63b78ull, 0x6ea790b5ull },
        { VIREO_OP_CLMULR, 0xdeadbeefcafef00dull, 0x82f63b78ull, 0xdd4f216bull },
        { VIREO_OP_CZEQZ, 7, 0, 0 },
        { VIREO_OP_CZEQZ, 7, 2, 7 },
        { VIREO_OP_CZNEZ, 7, 0, 7 },
        { VIREO_OP_CZNEZ, 7, 2, 0 },
    };
    TestCpu *t = f->cpus[0];

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        uint64_t pc = RAM_BASE + i * 0x40;
        VireoIrBlock *b = block_new(t, pc);
        op(b, cases[i].op, 3, 1, 2, 0);
        op(b, VIREO_OP_JMP, 0, 0, 0, (int64_t)(pc + 0x20));
        t->cpu.regs[1] = cases[i].a;
        t->cpu.regs[2] = cases[i].b;
        run_at(t, pc);
        g_assert_cmpuint(t->cpu.pc, ==, pc + 0x20);
        if (t->cpu.regs[3] != cases[i].expect) {
            g_error("%s(0x%" G_GINT64_MODIFIER "x, 0x%" G_GINT64_MODIFIER
                    "x) = 0x%" G_GINT64_MODIFIER "x, expected 0x%" G_GINT64_MODIFIER "x",
                    vireo_ir_op_name(cases[i].op), cases[i].a, cases[i].b, t->cpu.regs[3],
                    cases[i].expect);
        }
    }
    g_assert_cmpint(t->n_traps, ==, 0);
}

static void test_interp_branches(Fixture *f, gconstpointer data)
{
    TestCpu *t = f->cpus[0];
    static const VireoIrOp ops[] = { VIREO_OP_BEQ, VIREO_OP_BNE,  VIREO_OP_BLT,
                                     VIREO_OP_BGE, VIREO_OP_BLTU, VIREO_OP_BGEU };
    static const bool taken_for_m1_1[] = { false, true, true, false, false, true };

    for (guint i = 0; i < G_N_ELEMENTS(ops); i++) {
        uint64_t pc = RAM_BASE + 0x1000 + i * 0x40;
        VireoIrBlock *b = block_new(t, pc);
        VireoIrInsn *in = op(b, ops[i], 0, 1, 2, 0x1111);
        in->imm2 = 0x2222;
        t->cpu.regs[1] = (uint64_t)-1;
        t->cpu.regs[2] = 1;
        run_at(t, pc);
        g_assert_cmphex(t->cpu.pc, ==, taken_for_m1_1[i] ? 0x1111 : 0x2222);
    }
    /* Indirect jump clears the low bits given in flags. */
    VireoIrBlock *b = block_new(t, RAM_BASE + 0x2000);
    VireoIrInsn *in = op(b, VIREO_OP_JMPR, 0, 1, 0, 3);
    in->flags = 1;
    t->cpu.regs[1] = 0x4000;
    run_at(t, RAM_BASE + 0x2000);
    g_assert_cmphex(t->cpu.pc, ==, 0x4002);
}

static void test_interp_memory(Fixture *f, gconstpointer data)
{
    TestCpu *t = f->cpus[0];
    VireoCpu *cpu = &t->cpu;
    uint64_t pc = RAM_BASE, data_va = RAM_BASE + 0x10000;
    VireoIrBlock *b = block_new(t, pc);

    op(b, VIREO_OP_ST64, 0, 1, 2, 0);
    op(b, VIREO_OP_LD8S, 3, 1, 0, 0);
    op(b, VIREO_OP_LD8U, 4, 1, 0, 0);
    op(b, VIREO_OP_LD16S, 5, 1, 0, 0);
    op(b, VIREO_OP_LD32U, 6, 1, 0, 4);
    op(b, VIREO_OP_LD32S, 7, 1, 0, 4);
    op(b, VIREO_OP_LD64, 8, 1, 0, 1);     /* misaligned inside the page */
    op(b, VIREO_OP_ST32, 0, 1, 2, 0xffe); /* straddles two pages */
    op(b, VIREO_OP_LD64, 9, 1, 0, 0xffc);
    op(b, VIREO_OP_JMP, 0, 0, 0, 0x1234);
    cpu->regs[1] = data_va;
    cpu->regs[2] = 0x8899aabbccddeeffull;
    run_at(t, pc);
    g_assert_cmpint(t->n_traps, ==, 0);
    g_assert_cmphex(cpu->regs[3], ==, 0xffffffffffffffffull);
    g_assert_cmphex(cpu->regs[4], ==, 0xff);
    g_assert_cmphex(cpu->regs[5], ==, 0xffffffffffffeeffull);
    g_assert_cmphex(cpu->regs[6], ==, 0x8899aabb);
    g_assert_cmphex(cpu->regs[7], ==, 0xffffffff8899aabbull);
    g_assert_cmphex(cpu->regs[8], ==, 0x008899aabbccddeeull);
    g_assert_cmphex(cpu->regs[9], ==, 0x0000ccddeeff0000ull);
    g_assert_cmphex(f->ram[0x10000 + 0x1000], ==, 0xdd);
    g_assert_cmphex(cpu->pc, ==, 0x1234);
}

static void test_interp_faults(Fixture *f, gconstpointer data)
{
    TestCpu *t = f->cpus[0];
    VireoCpu *cpu = &t->cpu;
    uint64_t page2 = RAM_BASE + 0x21000;
    VireoIrBlock *b;

    /* A store that straddles into an unmapped page faults, writes nothing,
     * and the instructions before it have retired. */
    t->identity = false;
    g_hash_table_insert(t->pages, GSIZE_TO_POINTER(RAM_BASE),
                        GSIZE_TO_POINTER(ENC_PERMS(RAM_BASE, 7)));
    g_hash_table_insert(t->pages, GSIZE_TO_POINTER(RAM_BASE + 0x20000),
                        GSIZE_TO_POINTER(ENC_PERMS(RAM_BASE + 0x20000, 3)));
    b = block_new(t, RAM_BASE);
    op(b, VIREO_OP_ADDI, 5, 5, 0, 1);
    op(b, VIREO_OP_ST64, 0, 1, 2, 0);
    op(b, VIREO_OP_ADDI, 5, 5, 0, 1);
    op(b, VIREO_OP_JMP, 0, 0, 0, RAM_BASE);
    cpu->regs[1] = page2 - 4;
    cpu->regs[2] = ~0ull;
    cpu->insns_at_reset = cpu->stats.insns;
    run_at(t, RAM_BASE);
    g_assert_cmpint(t->n_traps, ==, 1);
    g_assert_cmpuint(t->last_cause, ==, 100 + 10 * VIREO_ACCESS_STORE + VIREO_XLATE_PAGE_FAULT);
    g_assert_cmphex(t->last_tval, ==, page2);
    g_assert_cmpuint(cpu->regs[5], ==, 1);
    g_assert_cmpuint(vireo_cpu_icount(cpu), ==, 1);
    for (int i = 0; i < 4; i++) {
        g_assert_cmpuint(f->ram[0x20000 + 0xffc + i], ==, 0);
    }

    /* A hole in the physical map: access fault with the virtual address. */
    t->identity = true;
    g_hash_table_remove_all(t->pages);
    b = block_new(t, RAM_BASE + 0x100);
    op(b, VIREO_OP_LD32U, 3, 1, 0, 0);
    op(b, VIREO_OP_JMP, 0, 0, 0, 0);
    cpu->regs[1] = 0x20000000;
    run_at(t, RAM_BASE + 0x100);
    g_assert_cmpuint(t->last_cause, ==, 100 + 10 * VIREO_ACCESS_LOAD + VIREO_XLATE_ACCESS_FAULT);
    g_assert_cmphex(t->last_tval, ==, 0x20000000);

    /* ROM reads work, writes fault; MMIO goes to the device. */
    b = block_new(t, RAM_BASE + 0x200);
    op(b, VIREO_OP_LD32U, 3, 1, 0, 0);
    op(b, VIREO_OP_ST64, 0, 4, 2, 8);
    op(b, VIREO_OP_LD64, 6, 4, 0, 8);
    op(b, VIREO_OP_ST8, 0, 1, 2, 0);
    op(b, VIREO_OP_JMP, 0, 0, 0, 0);
    cpu->regs[1] = 0x1000;
    cpu->regs[2] = 0x55;
    cpu->regs[4] = MMIO_BASE;
    run_at(t, RAM_BASE + 0x200);
    g_assert_cmphex(cpu->regs[3], ==, 0x04030201);
    g_assert_cmpint(f->dev.writes, ==, 1);
    g_assert_cmphex(f->dev.last_addr, ==, 8);
    g_assert_cmphex(cpu->regs[6], ==, 0x55);
    g_assert_cmpuint(t->last_cause, ==, 100 + 10 * VIREO_ACCESS_STORE + VIREO_XLATE_ACCESS_FAULT);
    g_assert_cmphex(t->last_tval, ==, 0x1000);

    /* Misaligned MMIO and atomics: access fault and misaligned. */
    b = block_new(t, RAM_BASE + 0x300);
    op(b, VIREO_OP_LD32U, 3, 4, 0, 2);
    op(b, VIREO_OP_JMP, 0, 0, 0, 0);
    run_at(t, RAM_BASE + 0x300);
    g_assert_cmpuint(t->last_cause, ==, 100 + 10 * VIREO_ACCESS_LOAD + VIREO_XLATE_ACCESS_FAULT);
    b = block_new(t, RAM_BASE + 0x400);
    op(b, VIREO_OP_AMOADD64, 3, 1, 2, 0);
    op(b, VIREO_OP_JMP, 0, 0, 0, 0);
    cpu->regs[1] = RAM_BASE + 0x30004;
    run_at(t, RAM_BASE + 0x400);
    g_assert_cmpuint(t->last_cause, ==, 100 + 10 * VIREO_ACCESS_STORE + VIREO_XLATE_MISALIGNED);
    g_assert_cmphex(t->last_tval, ==, RAM_BASE + 0x30004);
    /* Atomics on MMIO fail with an access fault. */
    cpu->regs[1] = MMIO_BASE;
    run_at(t, RAM_BASE + 0x400);
    g_assert_cmpuint(t->last_cause, ==, 100 + 10 * VIREO_ACCESS_STORE + VIREO_XLATE_ACCESS_FAULT);
}

/* Thousands of pages through a TLB of VIREO_TLB_SIZE entries: every value
 * is right, misses are counted, and a remapping is seen after a flush. */
static void test_tlb_thrash(Fixture *f, gconstpointer data)
{
    TestCpu *t = f->cpus[0];
    VireoCpu *cpu = &t->cpu;
    const unsigned pages = 8192;
    VireoVcpuStats st;
    VireoIrBlock *b;

    for (unsigned p = 0; p < pages; p++) {
        uint64_t v = 0x1000000000ull + p;
        memcpy(f->ram + 0x100000 + (uint64_t)p * 4096 + 8, &v, 8);
    }
    b = block_new(t, RAM_BASE);
    op(b, VIREO_OP_LD64, 3, 1, 0, 8);
    op(b, VIREO_OP_JMP, 0, 0, 0, RAM_BASE);
    for (int round = 0; round < 3; round++) {
        for (unsigned p = 0; p < pages; p++) {
            /* A stride that walks every TLB set many times. */
            unsigned q = (p * 2654435761u) % pages;
            cpu->regs[1] = RAM_BASE + 0x100000 + (uint64_t)q * 4096;
            run_at(t, RAM_BASE);
            g_assert_cmphex(cpu->regs[3], ==, 0x1000000000ull + q);
        }
    }
    vireo_cpu_read_stats(cpu, &st);
    g_assert_cmpuint(st.dtlb_misses, >=, pages);
    g_assert_cmpuint(st.dtlb_hits + st.dtlb_misses, ==, 3ull * pages);
    g_assert_cmpuint(st.decode_misses, ==, 1);
    g_assert_cmpuint(st.blocks, ==, 3ull * pages);

    /* Remap one virtual page elsewhere: after a flush of that address the
     * new mapping is used. */
    uint64_t va = RAM_BASE + 0x100000;
    cpu->regs[1] = va;
    run_at(t, RAM_BASE);
    g_assert_cmphex(cpu->regs[3], ==, 0x1000000000ull);
    g_hash_table_insert(t->pages, GSIZE_TO_POINTER(va),
                        GSIZE_TO_POINTER(ENC_PERMS(va + 5 * 4096, 7)));
    vireo_tlb_flush(cpu, va + 0x123, false, 0);
    run_at(t, RAM_BASE);
    g_assert_cmphex(cpu->regs[3], ==, 0x1000000005ull);
    /* A flush by ASID leaves global entries alone. */
    g_hash_table_remove_all(t->pages);
    vireo_tlb_flush(cpu, VIREO_TLB_INVALID, true, 1);
    run_at(t, RAM_BASE);
    g_assert_cmphex(cpu->regs[3], ==, 0x1000000005ull);
    vireo_tlb_flush_all(cpu);
    run_at(t, RAM_BASE);
    g_assert_cmphex(cpu->regs[3], ==, 0x1000000000ull);
}

/* Maps `n` pages from `va` (not global, ASID 1) onto the RAM pages from
 * `pa`, reads each, and checks that the value is that of its page. */
static void map_and_read(Fixture *f, TestCpu *t, uint64_t va, uint64_t pa, unsigned n)
{
    for (unsigned p = 0; p < n; p++) {
        uint64_t v = 0x2000000000ull + (pa - RAM_BASE) / 4096 + p;
        memcpy(f->ram + (pa - RAM_BASE) + (uint64_t)p * 4096 + 8, &v, 8);
        g_hash_table_insert(t->pages, GSIZE_TO_POINTER(va + (uint64_t)p * 4096),
                            GSIZE_TO_POINTER(ENC_PERMS(pa + (uint64_t)p * 4096, 7) | ENC_ASID1));
    }
    for (unsigned p = 0; p < n; p++) {
        t->cpu.regs[1] = va + (uint64_t)p * 4096;
        run_at(t, RAM_BASE);
        g_assert_cmphex(t->cpu.regs[3], ==, 0x2000000000ull + (pa - RAM_BASE) / 4096 + p);
    }
}

/* Flushes look only at the slots filled since the array was last empty,
 * while it holds few entries, and at the whole array beyond that: either
 * way, a flush by ASID or of everything reaches every entry it must,
 * including after flushes by address left the log with empty slots and
 * after the log filled up. */
static void test_tlb_flush_log(Fixture *f, gconstpointer data)
{
    TestCpu *t = f->cpus[0];
    VireoCpu *cpu = &t->cpu;
    const uint64_t va = 0x4000000000ull;
    const uint64_t pa1 = RAM_BASE + 0x100000, pa2 = RAM_BASE + 0x1000000;
    const unsigned counts[] = {
        10, VIREO_TLB_LOG - 1, VIREO_TLB_LOG, VIREO_TLB_LOG + 1, VIREO_TLB_SIZE / 2, VIREO_TLB_SIZE
    };
    VireoIrBlock *b;

    t->identity = true; /* the code at RAM_BASE */
    b = block_new(t, RAM_BASE);
    op(b, VIREO_OP_LD64, 3, 1, 0, 8);
    op(b, VIREO_OP_JMP, 0, 0, 0, RAM_BASE);
    for (unsigned i = 0; i < G_N_ELEMENTS(counts); i++) {
        unsigned n = counts[i];
        map_and_read(f, t, va, pa1, n);
        /* The same pages onto others: a flush by ASID 1 drops them all. */
        vireo_tlb_flush(cpu, VIREO_TLB_INVALID, true, 1);
        map_and_read(f, t, va, pa2, n);
        /* And back: a flush of everything drops them all. */
        vireo_tlb_flush_all(cpu);
        map_and_read(f, t, va, pa1, n);
        vireo_tlb_flush(cpu, VIREO_TLB_INVALID, true, 1);
    }

    /* Flushes by address empty slots that stay in the log; more pages
     * then fill it past its size, which drops those slots from it. */
    map_and_read(f, t, va, pa1, VIREO_TLB_LOG / 2);
    for (unsigned p = 0; p < VIREO_TLB_LOG / 2; p++) {
        vireo_tlb_flush(cpu, va + (uint64_t)p * 4096, false, 0);
    }
    map_and_read(f, t, va, pa2, VIREO_TLB_LOG / 2);
    map_and_read(f, t, va + (uint64_t)VIREO_TLB_LOG * 4096, pa1, VIREO_TLB_LOG / 2 + 10);
    vireo_tlb_flush(cpu, VIREO_TLB_INVALID, true, 1);
    map_and_read(f, t, va, pa1, VIREO_TLB_LOG / 2);
    map_and_read(f, t, va + (uint64_t)VIREO_TLB_LOG * 4096, pa2, VIREO_TLB_LOG / 2 + 10);

    /* A flush by ASID 2 leaves ASID 1's entries: the old mapping still
     * reads after the page table changed (as the TLB may). */
    g_hash_table_insert(t->pages, GSIZE_TO_POINTER(va),
                        GSIZE_TO_POINTER(ENC_PERMS(pa2, 7) | ENC_ASID1));
    vireo_tlb_flush(cpu, VIREO_TLB_INVALID, true, 2);
    cpu->regs[1] = va;
    run_at(t, RAM_BASE);
    g_assert_cmphex(cpu->regs[3], ==, 0x2000000000ull + (pa1 - RAM_BASE) / 4096);
    vireo_tlb_flush(cpu, VIREO_TLB_INVALID, true, 1);
    run_at(t, RAM_BASE);
    g_assert_cmphex(cpu->regs[3], ==, 0x2000000000ull + (pa2 - RAM_BASE) / 4096);
}

/* Two pages at one TLB index take turns through the victim entries,
 * without a page walk; a flush by address and a full flush reach an entry
 * while it is a victim. */
static void test_tlb_victims(Fixture *f, gconstpointer data)
{
    TestCpu *t = f->cpus[0];
    VireoCpu *cpu = &t->cpu;
    const uint64_t a = RAM_BASE + 0x100000;
    const uint64_t other = a + (uint64_t)VIREO_TLB_SIZE * 4096; /* the same index */
    const uint64_t moved = a + 5 * 4096;
    const uint64_t values[] = { 0x1111, 0x2222, 0x5555 };
    const uint64_t where[] = { a, other, moved };
    VireoVcpuStats st;
    VireoIrBlock *b;

    for (unsigned i = 0; i < G_N_ELEMENTS(values); i++) {
        memcpy(f->ram + (where[i] - RAM_BASE) + 8, &values[i], 8);
    }
    b = block_new(t, RAM_BASE);
    op(b, VIREO_OP_LD64, 3, 1, 0, 8);
    op(b, VIREO_OP_JMP, 0, 0, 0, RAM_BASE);
    for (unsigned i = 0; i < 10; i++) {
        cpu->regs[1] = where[i & 1];
        run_at(t, RAM_BASE);
        g_assert_cmphex(cpu->regs[3], ==, values[i & 1]);
    }
    vireo_cpu_read_stats(cpu, &st);
    g_assert_cmpuint(st.dtlb_misses, ==, 2); /* the first access to each */
    g_assert_cmpuint(st.tlb_victim_hits, ==, 8);

    /* `a` is a victim now (`other` ran last): remapped and flushed by
     * address, it reads the new page. */
    g_hash_table_insert(t->pages, GSIZE_TO_POINTER(a), GSIZE_TO_POINTER(ENC_PERMS(moved, 7)));
    vireo_tlb_flush(cpu, a + 0x10, false, 0);
    cpu->regs[1] = a;
    run_at(t, RAM_BASE);
    g_assert_cmphex(cpu->regs[3], ==, 0x5555);
    /* `other` is a victim now: remapped, it reads the new page after a
     * full flush. */
    g_hash_table_insert(t->pages, GSIZE_TO_POINTER(other), GSIZE_TO_POINTER(ENC_PERMS(moved, 7)));
    vireo_tlb_flush_all(cpu);
    cpu->regs[1] = other;
    run_at(t, RAM_BASE);
    g_assert_cmphex(cpu->regs[3], ==, 0x5555);
}

/* A store to a page holding decoded code drops the block: the next run
 * decodes again and sees the new code. */
static void test_code_invalidation(Fixture *f, gconstpointer data)
{
    TestCpu *t = f->cpus[0];
    VireoCpu *cpu = &t->cpu;
    uint64_t code = RAM_BASE + 0x5000;
    VireoIrBlock *b = block_new(t, code);
    VireoIrBlock *writer = block_new(t, RAM_BASE + 0x6000);
    VireoVcpuStats st;

    op(b, VIREO_OP_ADDI, 3, 3, 0, 1);
    op(b, VIREO_OP_JMP, 0, 0, 0, code);
    op(writer, VIREO_OP_ST32, 0, 1, 2, 0);
    op(writer, VIREO_OP_JMP, 0, 0, 0, code);

    run_at(t, code);
    run_at(t, code);
    g_assert_cmpint(t->n_decodes, ==, 1);
    g_assert_cmpuint(cpu->regs[3], ==, 2);

    /* "New code": the test architecture's decoder reads the block table,
     * so change it, then write to the page from the guest. */
    b = block_new(t, code);
    op(b, VIREO_OP_ADDI, 3, 3, 0, 100);
    op(b, VIREO_OP_JMP, 0, 0, 0, code);
    run_at(t, code); /* no write yet: the cached block still runs */
    g_assert_cmpuint(cpu->regs[3], ==, 3);
    /* A write to the page but not to the block's own bytes (the block is
     * the 8 bytes at `code`) leaves the block as it was decoded: it is
     * revived, not decoded again. */
    cpu->regs[1] = code + 0x80;
    cpu->regs[2] = 0x13;
    run_at(t, RAM_BASE + 0x6000);
    run_at(t, code);
    g_assert_cmpuint(cpu->regs[3], ==, 4);
    g_assert_cmpint(t->n_decodes, ==, 2);
    vireo_cpu_read_stats(cpu, &st);
    g_assert_cmpuint(st.decode_revived, ==, 1);
    /* Code is tracked in 64-byte chunks: the decode marked as many bytes
     * as a block may cover (64 instructions of 4 bytes), the revival only
     * the block's own 8. A second write at +0x80, and one at +0x40, touch
     * no chunk with code: the page's generation stays, and the block runs
     * as it is. */
    uint32_t gen = vireo_bus_code_generation(cpu->bus, code);
    cpu->regs[1] = code + 0x80;
    run_at(t, RAM_BASE + 0x6000);
    cpu->regs[1] = code + 0x40;
    run_at(t, RAM_BASE + 0x6000);
    g_assert_cmpuint(vireo_bus_code_generation(cpu->bus, code), ==, gen);
    run_at(t, code);
    g_assert_cmpuint(cpu->regs[3], ==, 5);
    g_assert_cmpint(t->n_decodes, ==, 2);
    vireo_cpu_read_stats(cpu, &st);
    g_assert_cmpuint(st.decode_revived, ==, 1);
    /* A write across the first chunk's end touches it: revived again. */
    cpu->regs[1] = code + 0x3e;
    run_at(t, RAM_BASE + 0x6000);
    g_assert_cmpuint(vireo_bus_code_generation(cpu->bus, code), ==, gen + 1);
    run_at(t, code);
    g_assert_cmpuint(cpu->regs[3], ==, 6);
    g_assert_cmpint(t->n_decodes, ==, 2);
    vireo_cpu_read_stats(cpu, &st);
    g_assert_cmpuint(st.decode_revived, ==, 2);
    /* A write to its bytes: decoded again, the new code runs. */
    cpu->regs[1] = code + 4;
    run_at(t, RAM_BASE + 0x6000);
    run_at(t, code);
    g_assert_cmpuint(cpu->regs[3], ==, 106);
    g_assert_cmpint(t->n_decodes, ==, 3);
    /* DMA writes reported to the bus invalidate as well. */
    b = block_new(t, code);
    op(b, VIREO_OP_ADDI, 3, 3, 0, 1000);
    op(b, VIREO_OP_JMP, 0, 0, 0, code);
    guint8 byte = 0x5a;
    g_assert_true(vireo_bus_dma_write(cpu->bus, code + 2, &byte, 1));
    run_at(t, code);
    g_assert_cmpuint(cpu->regs[3], ==, 1106);
    vireo_cpu_read_stats(cpu, &st);
    g_assert_cmpuint(st.decode_misses, ==, 4);
    g_assert_cmpuint(st.decode_revived, ==, 2);
}

/* Decoded blocks fill their buffer: it is emptied and decoding goes on,
 * every block still computes the right thing, and the blocks dropped are
 * decoded again when they run next. */
static void test_code_buffer_full(Fixture *f, gconstpointer data)
{
    TestCpu *t = f->cpus[0];
    VireoCpu *cpu = &t->cpu;
    const unsigned n_blocks = 40, ops = 24;
    VireoVcpuStats st;
    uint64_t expect = 0;

    /* Room for a handful of these blocks at a time. */
    vireo_cpu_set_code_capacity(cpu, 4 * ops * 64);
    for (unsigned i = 0; i < n_blocks; i++) {
        uint64_t pc = RAM_BASE + 0x10000 + (uint64_t)i * 0x100;
        VireoIrBlock *b = block_new(t, pc);
        for (unsigned k = 0; k < ops; k++) {
            op(b, VIREO_OP_ADDI, 3, 3, 0, (int64_t)(i * ops + k));
            expect += i * ops + k;
        }
        op(b, VIREO_OP_JMP, 0, 0, 0, (int64_t)(i + 1 < n_blocks ? pc + 0x100 : 0x7000));
    }
    for (unsigned round = 1; round <= 3; round++) {
        run_at(t, RAM_BASE + 0x10000);
        while (cpu->pc != 0x7000) {
            vireo_cpu_step(cpu);
        }
        g_assert_cmpuint(cpu->regs[3], ==, round * expect);
    }
    vireo_cpu_read_stats(cpu, &st);
    g_assert_cmpuint(st.decode_misses, ==, 3ull * n_blocks);
    g_assert_cmpuint(st.blocks, ==, 3ull * n_blocks);
    g_assert_cmpint(t->n_decodes, ==, 3 * (int)n_blocks);
    g_assert_cmpuint(cpu->code_used, <=, cpu->code_cap);

    /* With room for all of them, the second and third rounds decode
     * nothing. */
    vireo_cpu_set_code_capacity(cpu, 1u << 20);
    for (unsigned round = 4; round <= 6; round++) {
        run_at(t, RAM_BASE + 0x10000);
        while (cpu->pc != 0x7000) {
            vireo_cpu_step(cpu);
        }
        g_assert_cmpuint(cpu->regs[3], ==, round * expect);
    }
    g_assert_cmpint(t->n_decodes, ==, 4 * (int)n_blocks);
}

typedef struct {
    TestCpu *t;
    uint64_t start;
    unsigned iterations;
} Worker;

static gpointer worker_run(gpointer data)
{
    Worker *w = data;
    for (unsigned i = 0; i < w->iterations; i++) {
        /* The AMO block, then the LR/SC block until its SC succeeds. */
        run_at(w->t, w->start);
        while (w->t->cpu.pc != 0x7000) {
            vireo_cpu_step(&w->t->cpu);
        }
    }
    return NULL;
}

/* Four vCPUs on four threads increment shared counters: with AMOs, and with
 * an LR/SC retry loop. No update may be lost: of two harts racing between
 * their LR and SC on the same word, only one SC may succeed. */
static void test_atomics_concurrent(Fixture *f, gconstpointer data)
{
    const unsigned iterations = 50000;
    uint64_t counter = RAM_BASE + 0x40000;
    uint64_t counter2 = RAM_BASE + 0x40040;
    Worker w[4];
    GThread *threads[4];
    uint64_t v1, v2;

    for (unsigned i = 0; i < 4; i++) {
        TestCpu *t = f->cpus[i];
        uint64_t pc = RAM_BASE + 0x8000;
        /* block A: amoadd; then LR/SC loop in block B */
        VireoIrBlock *a = block_new(t, pc);
        op(a, VIREO_OP_AMOADD64, 3, 1, 2, 0);
        op(a, VIREO_OP_JMP, 0, 0, 0, pc + 0x100);
        VireoIrBlock *lr = block_new(t, pc + 0x100);
        op(lr, VIREO_OP_LR64, 4, 5, 0, 0);
        op(lr, VIREO_OP_ADDI, 4, 4, 0, 1);
        op(lr, VIREO_OP_SC64, 6, 5, 4, 0);
        VireoIrInsn *br = op(lr, VIREO_OP_BNE, 0, 6, 0, (int64_t)(pc + 0x100));
        br->imm2 = 0x7000;
        t->cpu.regs[1] = counter;
        t->cpu.regs[2] = 1;
        t->cpu.regs[5] = counter2;
        w[i] = (Worker){ t, pc, iterations };
    }
    for (unsigned i = 0; i < 4; i++) {
        threads[i] = g_thread_new("w", worker_run, &w[i]);
    }
    for (unsigned i = 0; i < 4; i++) {
        g_thread_join(threads[i]);
    }
    memcpy(&v1, f->ram + 0x40000, 8);
    memcpy(&v2, f->ram + 0x40040, 8);
    g_assert_cmpuint(v1, ==, 4ull * iterations);
    g_assert_cmpuint(v2, ==, 4ull * iterations);
    for (unsigned i = 0; i < 4; i++) {
        g_assert_cmpint(f->cpus[i]->n_traps, ==, 0);
    }
}

/* A wait for an interrupt that lasts until the test ends it. */
static struct {
    GMutex lock;
    GCond cond;
    bool waiting, release;
} sleeper;

static void sleepy_wait(VireoCpu *cpu)
{
    g_mutex_lock(&sleeper.lock);
    sleeper.waiting = true;
    g_cond_broadcast(&sleeper.cond);
    while (!sleeper.release) {
        g_cond_wait(&sleeper.cond, &sleeper.lock);
    }
    g_mutex_unlock(&sleeper.lock);
    /* Woken; the machine was never started, so the run loop then ends. */
    cpu->halted = false;
    atomic_store(&cpu->exit_request, 1);
}

static gpointer run_cpu(gpointer data)
{
    vireo_cpu_run(data);
    return NULL;
}

/* Halted time counts while the vCPU still waits (one asleep for good reads
 * as idle), never runs backwards, and stops growing when the wait ends. */
static void test_halted_time(Fixture *f, gconstpointer data)
{
    static VireoCpuClass sleepy_class;
    VireoCpu *cpu = &f->cpus[0]->cpu;
    VireoVcpuStats a, b, c, d;
    GThread *thread;

    sleepy_class = test_class;
    sleepy_class.wait_for_interrupt = sleepy_wait;
    cpu->cls = &sleepy_class;
    cpu->halted = true;
    sleeper.waiting = sleeper.release = false;
    thread = g_thread_new("vcpu", run_cpu, cpu);
    g_mutex_lock(&sleeper.lock);
    while (!sleeper.waiting) {
        g_cond_wait(&sleeper.cond, &sleeper.lock);
    }
    g_mutex_unlock(&sleeper.lock);

    g_usleep(20000);
    vireo_cpu_read_stats(cpu, &a);
    g_assert_cmpuint(a.halted_ns, >=, 20000000);
    g_usleep(50000);
    vireo_cpu_read_stats(cpu, &b);
    g_assert_cmpuint(b.halted_ns - a.halted_ns, >=, 50000000);
    for (int i = 0; i < 1000; i++) {
        vireo_cpu_read_stats(cpu, &c);
        g_assert_cmpuint(c.halted_ns, >=, b.halted_ns);
        b = c;
    }

    g_mutex_lock(&sleeper.lock);
    sleeper.release = true;
    g_cond_broadcast(&sleeper.cond);
    g_mutex_unlock(&sleeper.lock);
    g_thread_join(thread);
    vireo_cpu_read_stats(cpu, &c);
    g_assert_cmpuint(c.halted_ns, >=, b.halted_ns);
    g_usleep(20000);
    vireo_cpu_read_stats(cpu, &d);
    g_assert_cmpuint(d.halted_ns, ==, c.halted_ns);
    cpu->cls = &test_class;
}

int main(int argc, char *argv[])
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/ir/check", test_ir_check);
    /* Every test on the interpreter, and again on the JIT where there is
     * one (its paths start with /jit). */
#define ADD(path, fn)                                                                              \
    do {                                                                                           \
        g_test_add(path, Fixture, GINT_TO_POINTER(VIREO_ENGINE_INTERP), fixture_setup, fn,         \
                   fixture_teardown);                                                              \
        if (jit) {                                                                                 \
            g_test_add("/jit" path, Fixture, GINT_TO_POINTER(VIREO_ENGINE_JIT), fixture_setup, fn, \
                       fixture_teardown);                                                          \
        }                                                                                          \
    } while (0)
    bool jit = vireo_engine_available(VIREO_ENGINE_JIT, NULL);
    ADD("/engine/interp/alu", test_interp_alu);
    ADD("/engine/interp/branches", test_interp_branches);
    ADD("/engine/interp/memory", test_interp_memory);
    ADD("/engine/interp/faults", test_interp_faults);
    ADD("/engine/tlb/thrash", test_tlb_thrash);
    ADD("/engine/tlb/victims", test_tlb_victims);
    ADD("/engine/tlb/flush-log", test_tlb_flush_log);
    ADD("/engine/code/invalidation", test_code_invalidation);
    ADD("/engine/code/buffer-full", test_code_buffer_full);
    ADD("/engine/atomics/concurrent", test_atomics_concurrent);
    ADD("/engine/cpu/halted-time", test_halted_time);
    return g_test_run();
}
