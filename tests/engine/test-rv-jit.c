/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The JIT against the interpreter on a RISC-V 64 hart: random instruction
 * sequences (integer, multiply and divide, bit manipulation, loads and
 * stores around a data area, atomics, floating point, compressed
 * instructions, short branches and jumps, and random words) decoded by the
 * real frontend run on two machines that start alike, one per engine. The
 * hart's trap handler skips the instruction that trapped, so exceptions
 * land in the middle of compiled blocks all along; a program ends in a
 * wait for an interrupt or after a fixed number of blocks, and then the
 * registers, the pc, the trap CSRs, mstatus, fcsr, minstret and memory must
 * be the same. The machines have no timer or devices, and the programs no
 * system instructions, so both runs are deterministic.
 */
#include "engine/backend.h"
#include "engine/cpu.h"
#include "engine/error.h"
#include "engine/machine.h"
#include "engine/riscv.h"

#include <string.h>

#define RAM_BASE   0x80000000ull
#define RAM_SIZE   (1ull << 20)
#define HANDLER    0x80001000ull /* skips the instruction that trapped */
#define CODE_START 0x80002000ull
#define DATA       0x80010000ull /* x10 points here; +-2 KiB around it */
#define MAX_BLOCKS 3000

typedef struct {
    VireoMachine *machine;
    guint8 *ram;
    VireoRvCpu *hart;
} Side;

static void side_init(Side *s, VireoEngineKind kind)
{
    g_autoptr(GError) error = NULL;
    VireoBus *bus = vireo_bus_new();

    s->ram = vireo_bus_add_ram(bus, RAM_BASE, RAM_SIZE, &error);
    g_assert_no_error(error);
    s->machine = vireo_machine_new(bus, vireo_clock_new(10000000));
    s->hart = vireo_rv_cpu_new(s->machine, 0, CODE_START, VIREO_RV_CPU_MAX);
    /* A software hart begins with VireoCpu (engine/cpu.h). */
    g_assert_true(vireo_cpu_set_engine((VireoCpu *)(void *)s->hart, kind));
}

static void side_free(Side *s)
{
    vireo_machine_free(s->machine);
}

static uint32_t enc_i(int32_t imm, unsigned rs1, unsigned f3, unsigned rd, unsigned opc)
{
    return ((uint32_t)(imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opc;
}

static uint32_t enc_s(int32_t imm, unsigned rs2, unsigned rs1, unsigned f3)
{
    return ((uint32_t)((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) |
           ((uint32_t)(imm & 31) << 7) | 0x23;
}

static uint32_t enc_r(unsigned f7, unsigned rs2, unsigned rs1, unsigned f3, unsigned rd,
                      unsigned opc)
{
    return (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opc;
}

/* A destination that is not x10 (the data pointer). */
static unsigned rd_of(GRand *r)
{
    unsigned rd = (unsigned)g_rand_int_range(r, 0, 32);
    return rd == 10 ? 11 : rd;
}

static unsigned rs_of(GRand *r)
{
    return (unsigned)g_rand_int_range(r, 0, 32);
}

/* One instruction (or a compressed pair) of the random program. */
static uint32_t random_insn(GRand *r)
{
    static const unsigned op_f7[] = { 0x00, 0x20, 0x01, 0x05, 0x04, 0x07, 0x30, 0x14, 0x24 };
    uint32_t w;

    switch (g_rand_int_range(r, 0, 20)) {
    case 0:
    case 1:
    case 2: /* register-register, 64 and 32 bits, M, Zb* */
        return enc_r(op_f7[g_rand_int_range(r, 0, G_N_ELEMENTS(op_f7))], rs_of(r), rs_of(r),
                     (unsigned)g_rand_int_range(r, 0, 8), rd_of(r),
                     g_rand_boolean(r) ? 0x33 : 0x3b);
    case 3:
        if (g_rand_boolean(r)) { /* sext.w, which the JIT leaves out where it can */
            return enc_i(0, rs_of(r), 0, rd_of(r), 0x1b);
        }
        G_GNUC_FALLTHROUGH;
    case 4:
    case 5: /* immediate forms, shifts and the Zbb unary ops among them */
        w = enc_i(g_rand_int_range(r, -2048, 2048), rs_of(r), (unsigned)g_rand_int_range(r, 0, 8),
                  rd_of(r), g_rand_boolean(r) ? 0x13 : 0x1b);
        return w;
    case 6: /* lui, auipc */
        return (g_rand_int(r) & 0xfffff000u) | (rd_of(r) << 7) | (g_rand_boolean(r) ? 0x37 : 0x17);
    case 7:
    case 8: /* loads from around x10 */
        return enc_i(g_rand_int_range(r, -2048, 2048), 10, (unsigned)g_rand_int_range(r, 0, 7),
                     rd_of(r), 0x03);
    case 9:
    case 10: /* stores around x10 */
        return enc_s(g_rand_int_range(r, -2048, 2048), rs_of(r), 10,
                     (unsigned)g_rand_int_range(r, 0, 4));
    case 11: /* branches, a few instructions forward or back */
    {
        int32_t off = 2 * g_rand_int_range(r, -6, 12);
        unsigned f3 = (unsigned)g_rand_int_range(r, 0, 8);
        return ((uint32_t)((off >> 12) & 1) << 31) | ((uint32_t)((off >> 5) & 0x3f) << 25) |
               (rs_of(r) << 20) | (rs_of(r) << 15) | (f3 << 12) |
               ((uint32_t)((off >> 1) & 0xf) << 8) | ((uint32_t)((off >> 11) & 1) << 7) | 0x63;
    }
    case 12: /* jal a few instructions forward */
    {
        int32_t off = 2 * g_rand_int_range(r, 1, 12);
        return ((uint32_t)((off >> 1) & 0x3ff) << 21) | (rd_of(r) << 7) | 0x6f;
    }
    case 13: /* atomics on the word x10 points to */
        return enc_r((uint32_t)g_rand_int_range(r, 0, 32) << 2, rs_of(r), 10,
                     g_rand_boolean(r) ? 2 : 3, rd_of(r), 0x2f);
    case 14:
    case 15: /* floating point: arithmetic, loads and stores, moves */
        switch (g_rand_int_range(r, 0, 3)) {
        case 0:
            return enc_r((uint32_t)g_rand_int_range(r, 0, 128), rs_of(r), rs_of(r),
                         (unsigned)g_rand_int_range(r, 0, 8), rd_of(r), 0x53);
        case 1:
            return enc_i(g_rand_int_range(r, -2048, 2048) & ~7, 10, g_rand_boolean(r) ? 2 : 3,
                         rs_of(r), 0x07);
        default:
            return enc_s(g_rand_int_range(r, -2048, 2048) & ~7, rs_of(r), 10,
                         g_rand_boolean(r) ? 2 : 3) |
                   0x04; /* 0x27 */
        }
    case 16:
    case 17: /* two compressed instructions */ return g_rand_int(r);
    default: /* anything but a system instruction (they read the clock) */
        w = g_rand_int(r);
        return (w & 0x7f) == 0x73 ? w ^ 0x40 : w;
    }
}

/* ---- floating point on the host's unit (the JIT's inline paths) ---- */

/* What the random programs hold: integer instructions (random_insn()), F
 * ones of every kind (random_fp_insn()), or only F ones whose answers turn
 * on a few values (minimum, maximum, comparisons, classification and
 * conversions, over zeros of both signs, infinities, NaNs and the
 * conversions' bounds, in few registers). */
typedef enum { MIX_INT, MIX_FP, MIX_FP_EDGES } Mix;

/* An integer register's value for the floating-point programs: at the
 * bounds of the conversions (the limits of 32 and 64-bit integers, signed
 * or not, and of binary32 and binary64 integers), small, or random. */
static uint64_t int_value(GRand *r)
{
    static const uint64_t v[] = {
        0,          1,          0x7fffffff,         0x80000000,         0xffffffff, 0x100000000,
        0x00ffffff, 0x01000001, 0x001fffffffffffff, 0x0020000000000001, 1ull << 62, 1ull << 63,
        ~0ull >> 1, ~0ull,
    };
    uint64_t rnd = ((uint64_t)g_rand_int(r) << 32) | g_rand_int(r);

    switch (g_rand_int_range(r, 0, 4)) {
    case 0: return v[g_rand_int_range(r, 0, G_N_ELEMENTS(v))] * (g_rand_boolean(r) ? 1 : ~0ull);
    case 1: return (uint64_t)g_rand_int_range(r, -1000, 1000);
    case 2: return (uint64_t)(int64_t)(int32_t)g_rand_int(r);
    default: return rnd;
    }
}

/* A value that bounds a case of the JIT's inline floating point: zeros,
 * subnormals, the smallest normals and the binade above them, ones, the
 * largest finite numbers, infinities, quiet and signalling NaNs, normals
 * near both ends of the range and in the middle, in binary64 or in
 * binary32, NaN-boxed or not. */
static uint64_t fp_value(GRand *r, Mix mix)
{
    static const uint64_t d[] = {
        0x0000000000000000ull, 0x0000000000000001ull, 0x000fffffffffffffull, 0x0010000000000000ull,
        0x0010000000000001ull, 0x001fffffffffffffull, 0x0020000000000000ull, 0x0020000000000001ull,
        0x3ff0000000000000ull, 0x3ff8000000000000ull, 0x4000000000000000ull, 0x7fefffffffffffffull,
        0x7fe0000000000000ull, 0x7ff0000000000000ull, 0x7ff8000000000000ull, 0x7ff4000000000000ull,
        0x5fe0000000000000ull, 0x2000000000000000ull, 0x1ff0000000000000ull, 0x3cb0000000000000ull,
    };
    static const uint32_t f[] = {
        0x00000000u, 0x00000001u, 0x007fffffu, 0x00800000u, 0x00800001u, 0x00ffffffu, 0x01000000u,
        0x01000001u, 0x3f800000u, 0x3fc00000u, 0x40000000u, 0x7f7fffffu, 0x7f000000u, 0x7f800000u,
        0x7fc00000u, 0x7fa00000u, 0x5f000000u, 0x20000000u, 0x1f800000u, 0x33800000u,
    };
    static const unsigned d_exp[][2] = { { 1, 40 }, { 0x3c0, 0x440 }, { 0x7d0, 0x7fe } };
    static const unsigned f_exp[][2] = { { 1, 20 }, { 0x60, 0xc0 }, { 0xe8, 0xfe } };
    uint64_t sign = g_rand_boolean(r) ? 1ull << 63 : 0;
    uint32_t sign32 = g_rand_boolean(r) ? 0x80000000u : 0;
    uint64_t box = 0xffffffff00000000ull;
    uint64_t mant = ((uint64_t)g_rand_int(r) << 32) | g_rand_int(r);
    unsigned k = (unsigned)g_rand_int_range(r, 0, 3);

    switch (mix == MIX_FP_EDGES ? 7 + g_rand_int_range(r, 0, 5) : g_rand_int_range(r, 0, 11)) {
    case 0: return d[g_rand_int_range(r, 0, G_N_ELEMENTS(d))] | sign;
    case 7:
    case 8: { /* an integer at the conversions' bounds, or half past it */
        uint64_t i = int_value(r), bits;
        double x = g_rand_boolean(r) ? (double)(int64_t)i : (double)i;
        x += g_rand_int_range(r, 0, 4) == 0 ? 0.5 : 0;
        if (g_rand_boolean(r)) {
            memcpy(&bits, &x, 8);
            return bits;
        }
        float y = (float)x;
        uint32_t bits32;
        memcpy(&bits32, &y, 4);
        return box | bits32;
    }
    case 9:
    case 10: return g_rand_boolean(r) ? sign : box | sign32; /* zeros */
    case 11: /* an infinity or a NaN, in either format */
        return g_rand_boolean(r) ? d[13 + g_rand_int_range(r, 0, 3)] | sign
                                 : box | f[13 + g_rand_int_range(r, 0, 3)] | sign32;
    case 1: return box | f[g_rand_int_range(r, 0, G_N_ELEMENTS(f))] | sign32;
    case 2:
    case 3:
        return sign | (uint64_t)g_rand_int_range(r, d_exp[k][0], d_exp[k][1] + 1) << 52 |
               (mant & 0x000fffffffffffffull);
    case 4:
        return box | sign32 | (uint32_t)g_rand_int_range(r, f_exp[k][0], f_exp[k][1] + 1) << 23 |
               ((uint32_t)mant & 0x007fffffu);
    case 5: /* a binary32 value that is not NaN-boxed */
        return (mant & ~box) | ((uint64_t)g_rand_int(r) << 32);
    default: return mant;
    }
}

static unsigned fp_reg(GRand *r, Mix mix)
{
    /* few, so that results feed operands */
    return (unsigned)g_rand_int_range(r, 0, mix == MIX_FP_EDGES ? 5 : 12);
}

/* CSR instruction csrrwi/csrrci x0, csr, uimm */
static uint32_t enc_csri(unsigned csr, unsigned f3, unsigned uimm)
{
    return (csr << 20) | (uimm << 15) | (f3 << 12) | 0x73;
}

/* Floating-point instructions in both formats: what the JIT computes on
 * the host's unit (arithmetic, fused multiply-adds, square roots,
 * comparisons, sign injection), mostly with the dynamic rounding mode or
 * RNE, sometimes another mode or an invalid one; among them other F
 * operations (minimum, conversions, classification) and writes of frm and
 * fflags, which change what the inline paths may do; reads of fflags and
 * stores of results, so that what a later instruction overwrites is
 * compared too. */
static uint32_t random_fp_insn(GRand *r, Mix mix)
{
    static const unsigned rms[] = { 7, 7, 7, 7, 0, 0, 0, 1, 2, 3, 4, 5 };
    static const uint32_t other_f7[] = {
        0x14, 0x15, 0x20, 0x21, 0x60, 0x61, 0x68, 0x69, 0x70, 0x71
    };
    unsigned rm = rms[g_rand_int_range(r, 0, G_N_ELEMENTS(rms))];
    unsigned fmt = (unsigned)g_rand_int_range(r, 0, 2); /* S or D */
    unsigned fd = fp_reg(r, mix), fa = fp_reg(r, mix), fb = fp_reg(r, mix), fc = fp_reg(r, mix);

    if (mix == MIX_FP_EDGES) {
        switch (g_rand_int_range(r, 0, 8)) {
        case 0: /* fsgnjn: -fa, so that operands come in pairs of opposite signs */
            return enc_r(0x10 | fmt, fa, fa, 1, fd, 0x53);
        case 1: /* fmin, fmax */
            return enc_r(0x14 | fmt, fb, fa, (unsigned)g_rand_int_range(r, 0, 2), fd, 0x53);
        case 2: /* fle, flt, feq */
            return enc_r(0x50 | fmt, fb, fa, (unsigned)g_rand_int_range(r, 0, 3), rd_of(r), 0x53);
        case 3: /* fclass */ return enc_r(0x70 | fmt, 0, fa, 1, rd_of(r), 0x53);
        case 4:
        case 5: /* fcvt.{w,wu,l,lu}.fmt */
            return enc_r(0x60 | fmt, (unsigned)g_rand_int_range(r, 0, 4), fa, rm, rd_of(r), 0x53);
        case 6: /* fcvt.fmt.{w,wu,l,lu} */
            return enc_r(0x68 | fmt, (unsigned)g_rand_int_range(r, 0, 4), rs_of(r), rm, fd, 0x53);
        default: /* store a result to the data area (compared at the end) */
            return enc_s(g_rand_int_range(r, -256, 256) * 8, fd, 10, fmt ? 3 : 2) | 0x04;
        }
    }
    switch (g_rand_int_range(r, 0, 31)) {
    case 0:
    case 1:
    case 2:
    case 3:
    case 4:
    case 5: /* fadd, fsub, fmul, fdiv */
        return enc_r(((uint32_t)g_rand_int_range(r, 0, 4) << 2) | fmt, fb, fa, rm, fd, 0x53);
    case 6: return enc_r(0x2c | fmt, 0, fa, rm, fd, 0x53); /* fsqrt */
    case 7:
    case 8:
    case 9:
    case 10: /* fmadd, fmsub, fnmsub, fnmadd */
        return (fc << 27) | (fmt << 25) | (fb << 20) | (fa << 15) | (rm << 12) | (fd << 7) |
               (0x43u + 4u * (uint32_t)g_rand_int_range(r, 0, 4));
    case 11:
    case 12: /* fle, flt, feq (and an invalid one) into an integer register */
        return enc_r(0x50 | fmt, fb, fa, (unsigned)g_rand_int_range(r, 0, 4), rd_of(r), 0x53);
    case 13:
    case 14: /* fsgnj, fsgnjn, fsgnjx (and an invalid one) */
        return enc_r(0x10 | fmt, fb, fa, (unsigned)g_rand_int_range(r, 0, 4), fd, 0x53);
    case 15:
    case 16:
    case 17:
    case 18:
    case 26:
    case 27:
    case 28: { /* conversions, minimum, maximum, moves and classification */
        uint32_t f7 = other_f7[g_rand_int_range(r, 0, G_N_ELEMENTS(other_f7))];
        bool to_x = f7 >= 0x70 || (f7 >= 0x60 && f7 < 0x68);
        if (f7 >= 0x70) {
            rm = (unsigned)g_rand_int_range(r, 0, 2); /* fmv.x, fclass */
        } else if (f7 <= 0x15) {
            rm = (unsigned)g_rand_int_range(r, 0, 3); /* fmin, fmax (and an invalid one) */
        }
        return enc_r(f7,
                     f7 == 0x20   ? 1
                     : f7 == 0x21 ? 0
                                  : (unsigned)g_rand_int_range(r, 0, 4),
                     fa, rm, to_x ? rd_of(r) : fd, 0x53);
    }
    case 19: /* frm = RNE, RTZ or an invalid mode */
        return enc_csri(0x002, 5, g_rand_boolean(r) ? 0 : g_rand_boolean(r) ? 1 : 5);
    case 20: return enc_csri(0x001, 7, 1); /* clear NX */
    case 21: return enc_csri(0x001, 6, 1); /* set NX */
    case 22: return enc_csri(0x001, 5, 0); /* clear them all */
    case 23:
    case 24: /* read them, into an integer register (compared at the end) */
        return (0x001u << 20) | (2u << 12) | (rd_of(r) << 7) | 0x73;
    default: /* store a result to the data area (compared at the end) */
        return enc_s(g_rand_int_range(r, -256, 256) * 8, fd, 10, fmt ? 3 : 2) | 0x04;
    }
}

static void put32(guint8 *ram, uint64_t addr, uint32_t v)
{
    memcpy(ram + (addr - RAM_BASE), &v, 4);
}

/* The program and data, the same on both sides; `fp`: floating point
 * (random_fp_insn()) with f registers from fp_value(), fcsr random. */
static void load_program(Side *s, guint32 seed, unsigned n_insns, Mix mix)
{
    bool fp = mix != MIX_INT;
    GRand *r = g_rand_new_with_seed(seed);
    uint64_t pc = CODE_START;
    VireoRvCpu *h = s->hart;

    static const uint32_t handler[] = {
        /* skip the instruction that trapped (2 or 4 bytes) and go on */
        0x34102ff3, /* csrr t6, mepc */
        0x000fdf03, /* lhu t5, 0(t6) */
        0x003f7f13, /* andi t5, t5, 3 */
        0x002f8f93, /* addi t6, t6, 2 */
        0x00300e93, /* li t4, 3 */
        0x01df1463, /* bne t5, t4, 1f */
        0x002f8f93, /* addi t6, t6, 2 */
        0x341f9073, /* 1: csrw mepc, t6 */
        0x30200073, /* mret */
    };

    memset(s->ram, 0, RAM_SIZE);
    for (unsigned i = 0; i < G_N_ELEMENTS(handler); i++) {
        put32(s->ram, HANDLER + 4 * i, handler[i]);
    }
    /* mtvec = HANDLER; mstatus.FS = dirty */
    put32(s->ram, pc, enc_i(0x40, 0, 0, 5, 0x13)); /* li t0, 0x40 */
    pc += 4;
    put32(s->ram, pc, enc_i(26, 5, 1, 5, 0x13)); /* slli t0, t0, 26: 0x100000000 */
    pc += 4;
    put32(s->ram, pc, enc_i(1, 5, 5, 5, 0x13)); /* srli t0, t0, 1: 0x80000000 */
    pc += 4;
    put32(s->ram, pc, 0x00001337u); /* lui t1, 1 */
    pc += 4;
    put32(s->ram, pc, enc_r(0, 6, 5, 6, 5, 0x33)); /* or t0, t0, t1 */
    pc += 4;
    put32(s->ram, pc, enc_i(0x305, 5, 1, 0, 0x73)); /* csrw mtvec, t0 */
    pc += 4;
    put32(s->ram, pc, 0x000062b7u); /* lui t0, 6 */
    pc += 4;
    put32(s->ram, pc, enc_i(0x300, 5, 2, 0, 0x73)); /* csrs mstatus, t0 */
    pc += 4;
    if (fp) {
        /* fflags (NX in three programs of four), then frm (RNE mostly) */
        put32(s->ram, pc,
              enc_csri(0x001, 5, (unsigned)g_rand_int_range(r, 0, 32) | g_rand_boolean(r)));
        pc += 4;
        put32(s->ram, pc,
              enc_csri(0x002, 5,
                       g_rand_int_range(r, 0, 4) != 0 ? 0 : (unsigned)g_rand_int_range(r, 0, 8)));
        pc += 4;
    }
    for (unsigned i = 0; i < n_insns; i++, pc += 4) {
        put32(s->ram, pc, fp ? random_fp_insn(r, mix) : random_insn(r));
    }
    put32(s->ram, pc, 0x10500073); /* wfi */
    put32(s->ram, pc + 4, 0xffdff06f);
    for (unsigned i = 0; i < 0x1000; i++) {
        s->ram[DATA - RAM_BASE - 0x800 + i] = (guint8)g_rand_int(r);
    }
    vireo_rv_cpu_set_pc(h, CODE_START);
    for (unsigned i = 1; i < 64; i++) {
        uint64_t v = !fp       ? ((uint64_t)g_rand_int(r) << 32) | g_rand_int(r)
                     : i >= 32 ? fp_value(r, mix)
                               : int_value(r);
        vireo_rv_cpu_set_reg(h, i, i == 10 ? DATA : v);
    }
    g_rand_free(r);
}

static void run(Side *s)
{
    VireoCpu *cpu = (VireoCpu *)(void *)s->hart;

    for (unsigned i = 0; i < MAX_BLOCKS && !cpu->halted; i++) {
        vireo_cpu_step(cpu);
    }
}

static void compare(Side *a, Side *b, guint32 seed)
{
    static const unsigned csrs[] = { 0x300, 0x341, 0x342, 0x343, 0x003, 0xb02 };
    bool same = true;

    for (unsigned i = 0; i < 64; i++) {
        uint64_t x = vireo_rv_cpu_get_reg(a->hart, i), y = vireo_rv_cpu_get_reg(b->hart, i);
        if (x != y) {
            g_printerr("seed %u: %c%u interp %#" G_GINT64_MODIFIER "x, jit %#" G_GINT64_MODIFIER
                       "x\n",
                       seed, i < 32 ? 'x' : 'f', i % 32, x, y);
            same = false;
        }
    }
    for (unsigned i = 0; i < G_N_ELEMENTS(csrs); i++) {
        uint64_t x = 0, y = 0;
        g_assert_true(vireo_rv_cpu_get_csr(a->hart, csrs[i], &x));
        g_assert_true(vireo_rv_cpu_get_csr(b->hart, csrs[i], &y));
        if (x != y) {
            g_printerr("seed %u: csr %#x interp %#" G_GINT64_MODIFIER "x, jit %#" G_GINT64_MODIFIER
                       "x\n",
                       seed, csrs[i], x, y);
            same = false;
        }
    }
    if (vireo_rv_cpu_get_pc(a->hart) != vireo_rv_cpu_get_pc(b->hart)) {
        g_printerr("seed %u: pc interp %#" G_GINT64_MODIFIER "x, jit %#" G_GINT64_MODIFIER "x\n",
                   seed, vireo_rv_cpu_get_pc(a->hart), vireo_rv_cpu_get_pc(b->hart));
        same = false;
    }
    if (memcmp(a->ram, b->ram, RAM_SIZE) != 0) {
        g_printerr("seed %u: memory differs\n", seed);
        same = false;
    }
    g_assert_true(same);
}

static void differential(Mix mix, unsigned programs)
{
    bool fp = mix != MIX_INT;
    guint32 base = g_test_rand_int();
    uint64_t retired = 0, compiled = 0;

    for (unsigned p = 0; p < programs; p++) {
        guint32 seed = base + p;
        Side interp, jit;
        VireoVcpuStats st;
        uint64_t n = 0;

        side_init(&interp, VIREO_ENGINE_INTERP);
        side_init(&jit, VIREO_ENGINE_JIT);
        /* Compiled at once, or after one to three runs on the interpreter
         * (the floating-point programs run once, but for the handler). */
        ((VireoCpu *)(void *)jit.hart)->jit_threshold = fp ? 1 : 1 + p % 4;
        load_program(&interp, seed, 64 + p % 512, mix);
        load_program(&jit, seed, 64 + p % 512, mix);
        run(&interp);
        run(&jit);
        compare(&interp, &jit, seed);
        g_assert_true(vireo_rv_cpu_get_csr(jit.hart, 0xb02, &n));
        retired += n;
        vireo_machine_get_stats(jit.machine, 0, &st);
        compiled += st.jit_insns;
        side_free(&interp);
        side_free(&jit);
    }
    /* The programs ran, mostly as compiled code. */
    g_test_message("%" G_GUINT64_FORMAT " instructions, %" G_GUINT64_FORMAT " compiled", retired,
                   compiled);
    g_assert_cmpuint(retired, >, programs * 20ull);
    g_assert_cmpuint(compiled, >, retired / 2);
}

static void test_random_rv(void)
{
    differential(MIX_INT, g_test_slow() ? 3000 : 300);
}

/* Floating point at the bounds of the JIT's inline paths (what the host's
 * unit computes, and where it must leave it to softfloat): the results,
 * fflags and traps must be the interpreter's. */
static void test_random_fp(void)
{
    differential(MIX_FP, g_test_slow() ? 3000 : 400);
}

/* The same, for the F ops whose answers turn on a few values: zeros of
 * both signs, the conversions' bounds. */
static void test_random_fp_edges(void)
{
    differential(MIX_FP_EDGES, g_test_slow() ? 1000 : 150);
}

int main(int argc, char *argv[])
{
    g_test_init(&argc, &argv, NULL);
    if (!vireo_engine_available(VIREO_ENGINE_JIT, NULL)) {
        g_test_skip("no JIT on this host");
        return g_test_run();
    }
    g_test_add_func("/jit/rv64/random", test_random_rv);
    g_test_add_func("/jit/rv64/fp", test_random_fp);
    g_test_add_func("/jit/rv64/fp-edges", test_random_fp_edges);
    return g_test_run();
}
