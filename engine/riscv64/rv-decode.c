/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The RISC-V 64 frontend: decodes RV64GC instructions into IR blocks.
 * Compressed instructions are expanded to their 32-bit equivalents first, so
 * each operation is decoded in one place.
 */
#include "rv-cpu.h"

typedef struct {
    VireoIrBlock *b;
    uint64_t pc;  /* of the instruction being decoded */
    unsigned len; /* 2 or 4 */
    uint32_t raw; /* the instruction as fetched (16 or 32 bits), for tval */
    uint32_t ext; /* the hart's RV_EXT_* extensions */
    unsigned fs;  /* mstatus.FS when the block was decoded */
    bool fs_marked;
    bool end; /* the instruction ended the block */
    /* Forward branches are side exits (op_branch()), and decoding goes on
     * at the target of a forward jal in the same page (`follow`). */
    bool superblock;
    uint64_t follow; /* where the next instruction is, when not next_pc() */
    /* The register the previous instruction of the block set to a constant
     * (lui, auipc), 0 for none, and the constant: `auipc ra, hi; jalr ra,
     * lo(ra)` (a call further than jal reaches, in every kernel) becomes a
     * direct jump that blocks link to, instead of a computed one. */
    unsigned const_reg;
    uint64_t const_val;
} Dc;

static VireoIrInsn *emit(Dc *dc, VireoIrOp op, unsigned d, unsigned a, unsigned b, int64_t imm)
{
    return vireo_ir_emit(dc->b, op, d, a, b, imm);
}

static uint64_t next_pc(const Dc *dc)
{
    return dc->pc + dc->len;
}

static void illegal(Dc *dc)
{
    VireoIrInsn *in = emit(dc, VIREO_OP_TRAP, 0, 0, 0, EXC_ILLEGAL);
    in->imm2 = dc->raw;
    dc->end = true;
}

static void helper(Dc *dc, VireoIrHelper fn, unsigned d, unsigned a, unsigned b, int64_t imm,
                   uint8_t flags)
{
    VireoIrInsn *in = emit(dc, VIREO_OP_HELPER, d, a, b, imm);
    in->helper = fn;
    in->flags = flags;
}

static void exit_to(Dc *dc, uint64_t pc)
{
    emit(dc, VIREO_OP_EXIT, 0, 0, 0, (int64_t)pc);
    dc->end = true;
}

/* Whether the hart has one of the extensions in `mask`. */
static bool has(const Dc *dc, uint32_t mask)
{
    return (dc->ext & mask) != 0;
}

static unsigned dest(unsigned rd)
{
    return rd == 0 ? RV_DISCARD : rd;
}

static int64_t sext(uint64_t v, unsigned bits)
{
    return (int64_t)(v << (64 - bits)) >> (64 - bits);
}

/* ---- field extraction ---- */
#define RD(i)     (((i) >> 7) & 31)
#define RS1(i)    (((i) >> 15) & 31)
#define RS2(i)    (((i) >> 20) & 31)
#define RS3(i)    (((i) >> 27) & 31)
#define FUNCT3(i) (((i) >> 12) & 7)
#define FUNCT7(i) (((i) >> 25) & 127)

static int64_t imm_i(uint32_t i)
{
    return sext(i >> 20, 12);
}

static int64_t imm_s(uint32_t i)
{
    return sext(((i >> 25) << 5) | ((i >> 7) & 31), 12);
}

static int64_t imm_b(uint32_t i)
{
    uint32_t v = ((i >> 31) << 12) | (((i >> 7) & 1) << 11) | (((i >> 25) & 63) << 5) |
                 (((i >> 8) & 15) << 1);
    return sext(v, 13);
}

static int64_t imm_j(uint32_t i)
{
    uint32_t v = ((i >> 31) << 20) | (((i >> 12) & 255) << 12) | (((i >> 20) & 1) << 11) |
                 (((i >> 21) & 1023) << 1);
    return sext(v, 21);
}

/* ---- compressed expansion ---- */

static uint32_t enc_i(int32_t imm, unsigned rs1, unsigned f3, unsigned rd, unsigned opc)
{
    return ((uint32_t)(imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opc;
}

static uint32_t enc_s(int32_t imm, unsigned rs2, unsigned rs1, unsigned f3, unsigned opc)
{
    return ((uint32_t)((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) |
           ((uint32_t)(imm & 31) << 7) | opc;
}

static uint32_t enc_r(unsigned f7, unsigned rs2, unsigned rs1, unsigned f3, unsigned rd,
                      unsigned opc)
{
    return (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opc;
}

static uint32_t enc_b(int32_t imm, unsigned rs2, unsigned rs1, unsigned f3)
{
    uint32_t u = (uint32_t)imm;
    return (((u >> 12) & 1) << 31) | (((u >> 5) & 63) << 25) | (rs2 << 20) | (rs1 << 15) |
           (f3 << 12) | (((u >> 1) & 15) << 8) | (((u >> 11) & 1) << 7) | 0x63;
}

static uint32_t enc_j(int32_t imm, unsigned rd)
{
    uint32_t u = (uint32_t)imm;
    return (((u >> 20) & 1) << 31) | (((u >> 1) & 1023) << 21) | (((u >> 11) & 1) << 20) |
           (((u >> 12) & 255) << 12) | (rd << 7) | 0x6f;
}

#define CB(c, hi, lo) (((unsigned)(c) >> (lo)) & ((1u << ((hi) - (lo) + 1)) - 1))

uint32_t rv_expand_compressed(uint16_t c)
{
    unsigned f3 = CB(c, 15, 13);
    unsigned rdp = 8 + CB(c, 4, 2);  /* rd' / rs2' */
    unsigned rs1p = 8 + CB(c, 9, 7); /* rs1' / rd' */
    unsigned rd = CB(c, 11, 7);
    unsigned rs2 = CB(c, 6, 2);
    int32_t imm6 = (int32_t)sext((CB(c, 12, 12) << 5) | CB(c, 6, 2), 6);

    switch (c & 3) {
    case 0:
        switch (f3) {
        case 0: { /* c.addi4spn */
            unsigned nzuimm = (CB(c, 12, 11) << 4) | (CB(c, 10, 7) << 6) | (CB(c, 6, 6) << 2) |
                              (CB(c, 5, 5) << 3);
            return nzuimm == 0 ? 0 : enc_i((int32_t)nzuimm, 2, 0, rdp, 0x13);
        }
        case 1: /* c.fld */
            return enc_i((int32_t)((CB(c, 12, 10) << 3) | (CB(c, 6, 5) << 6)), rs1p, 3, rdp, 0x07);
        case 2: /* c.lw */
            return enc_i((int32_t)((CB(c, 12, 10) << 3) | (CB(c, 6, 6) << 2) | (CB(c, 5, 5) << 6)),
                         rs1p, 2, rdp, 0x03);
        case 3: /* c.ld */
            return enc_i((int32_t)((CB(c, 12, 10) << 3) | (CB(c, 6, 5) << 6)), rs1p, 3, rdp, 0x03);
        case 5: /* c.fsd */
            return enc_s((int32_t)((CB(c, 12, 10) << 3) | (CB(c, 6, 5) << 6)), rdp, rs1p, 3, 0x27);
        case 6: /* c.sw */
            return enc_s((int32_t)((CB(c, 12, 10) << 3) | (CB(c, 6, 6) << 2) | (CB(c, 5, 5) << 6)),
                         rdp, rs1p, 2, 0x23);
        case 7: /* c.sd */
            return enc_s((int32_t)((CB(c, 12, 10) << 3) | (CB(c, 6, 5) << 6)), rdp, rs1p, 3, 0x23);
        default: return 0;
        }
    case 1:
        switch (f3) {
        case 0: return enc_i(imm6, rd, 0, rd, 0x13);               /* c.addi, c.nop */
        case 1: return rd == 0 ? 0 : enc_i(imm6, rd, 0, rd, 0x1b); /* c.addiw */
        case 2: return enc_i(imm6, 0, 0, rd, 0x13);                /* c.li */
        case 3:
            if (rd == 2) { /* c.addi16sp */
                int32_t imm =
                    (int32_t)sext((CB(c, 12, 12) << 9) | (CB(c, 6, 6) << 4) | (CB(c, 5, 5) << 6) |
                                      (CB(c, 4, 3) << 7) | (CB(c, 2, 2) << 5),
                                  10);
                return imm == 0 ? 0 : enc_i(imm, 2, 0, 2, 0x13);
            } else { /* c.lui */
                if (imm6 == 0) {
                    return 0;
                }
                return ((uint32_t)(imm6 & 0xfffff) << 12) | (rd << 7) | 0x37;
            }
        case 4: {
            unsigned shamt = (CB(c, 12, 12) << 5) | CB(c, 6, 2);
            switch (CB(c, 11, 10)) {
            case 0: return enc_i((int32_t)shamt, rs1p, 5, rs1p, 0x13);           /* c.srli */
            case 1: return enc_i((int32_t)(shamt | 0x400), rs1p, 5, rs1p, 0x13); /* c.srai */
            case 2: return enc_i(imm6, rs1p, 7, rs1p, 0x13);                     /* c.andi */
            default:
                switch ((CB(c, 12, 12) << 2) | CB(c, 6, 5)) {
                case 0: return enc_r(0x20, rdp, rs1p, 0, rs1p, 0x33); /* c.sub */
                case 1: return enc_r(0, rdp, rs1p, 4, rs1p, 0x33);    /* c.xor */
                case 2: return enc_r(0, rdp, rs1p, 6, rs1p, 0x33);    /* c.or */
                case 3: return enc_r(0, rdp, rs1p, 7, rs1p, 0x33);    /* c.and */
                case 4: return enc_r(0x20, rdp, rs1p, 0, rs1p, 0x3b); /* c.subw */
                case 5: return enc_r(0, rdp, rs1p, 0, rs1p, 0x3b);    /* c.addw */
                default: return 0;
                }
            }
        }
        case 5: { /* c.j */
            int32_t imm =
                (int32_t)sext((CB(c, 12, 12) << 11) | (CB(c, 11, 11) << 4) | (CB(c, 10, 9) << 8) |
                                  (CB(c, 8, 8) << 10) | (CB(c, 7, 7) << 6) | (CB(c, 6, 6) << 7) |
                                  (CB(c, 5, 3) << 1) | (CB(c, 2, 2) << 5),
                              12);
            return enc_j(imm, 0);
        }
        default: { /* c.beqz, c.bnez */
            int32_t imm =
                (int32_t)sext((CB(c, 12, 12) << 8) | (CB(c, 11, 10) << 3) | (CB(c, 6, 5) << 6) |
                                  (CB(c, 4, 3) << 1) | (CB(c, 2, 2) << 5),
                              9);
            return enc_b(imm, 0, rs1p, f3 == 6 ? 0 : 1);
        }
        }
    case 2:
        switch (f3) {
        case 0: /* c.slli */
            return enc_i((int32_t)((CB(c, 12, 12) << 5) | CB(c, 6, 2)), rd, 1, rd, 0x13);
        case 1: /* c.fldsp */
            return enc_i((int32_t)((CB(c, 12, 12) << 5) | (CB(c, 6, 5) << 3) | (CB(c, 4, 2) << 6)),
                         2, 3, rd, 0x07);
        case 2: /* c.lwsp */
            if (rd == 0) {
                return 0;
            }
            return enc_i((int32_t)((CB(c, 12, 12) << 5) | (CB(c, 6, 4) << 2) | (CB(c, 3, 2) << 6)),
                         2, 2, rd, 0x03);
        case 3: /* c.ldsp */
            if (rd == 0) {
                return 0;
            }
            return enc_i((int32_t)((CB(c, 12, 12) << 5) | (CB(c, 6, 5) << 3) | (CB(c, 4, 2) << 6)),
                         2, 3, rd, 0x03);
        case 4:
            if (CB(c, 12, 12) == 0) {
                if (rs2 == 0) { /* c.jr */
                    return rd == 0 ? 0 : enc_i(0, rd, 0, 0, 0x67);
                }
                return enc_r(0, rs2, 0, 0, rd, 0x33); /* c.mv */
            }
            if (rs2 == 0) {
                if (rd == 0) {
                    return 0x00100073; /* c.ebreak */
                }
                return enc_i(0, rd, 0, 1, 0x67); /* c.jalr */
            }
            return enc_r(0, rs2, rd, 0, rd, 0x33); /* c.add */
        case 5:                                    /* c.fsdsp */
            return enc_s((int32_t)((CB(c, 12, 10) << 3) | (CB(c, 9, 7) << 6)), rs2, 2, 3, 0x27);
        case 6: /* c.swsp */
            return enc_s((int32_t)((CB(c, 12, 9) << 2) | (CB(c, 8, 7) << 6)), rs2, 2, 2, 0x23);
        default: /* c.sdsp */
            return enc_s((int32_t)((CB(c, 12, 10) << 3) | (CB(c, 9, 7) << 6)), rs2, 2, 3, 0x23);
        }
    default: return 0;
    }
}

/* ---- 32-bit decoding ---- */

/* OP-IMM with funct3 1 or 5 and a funct6 other than the shifts':
 * Zbb's counts, sign extensions, rori, orc.b and rev8, Zbs's single-bit
 * operations with an immediate index, Zbkb's brev8. Returns false for an
 * encoding the hart does not have. */
static bool op_imm_bitmanip(Dc *dc, uint32_t i)
{
    unsigned rd = RD(i), rs1 = RS1(i), d = dest(rd);
    unsigned shamt = (i >> 20) & 63, f6 = i >> 26;
    unsigned imm12 = i >> 20;
    bool left = FUNCT3(i) == 1;

    if (left && f6 == 0x18 && has(dc, RV_EXT_ZBB)) {
        static const VireoIrOp unary[6] = { VIREO_OP_CLZ,   VIREO_OP_CTZ,   VIREO_OP_CPOP,
                                            VIREO_OP_COUNT, VIREO_OP_SEXT8, VIREO_OP_SEXT16 };
        if (shamt >= 6 || unary[shamt] == VIREO_OP_COUNT) {
            return false;
        }
        emit(dc, unary[shamt], d, rs1, 0, 0);
    } else if (left && (f6 == 0x0a || f6 == 0x12 || f6 == 0x1a) && has(dc, RV_EXT_ZBS)) {
        /* bseti, bclri, binvi: one ALU op with the mask as immediate */
        uint64_t bit = 1ull << shamt;
        if (f6 == 0x0a) {
            emit(dc, VIREO_OP_ORI, d, rs1, 0, (int64_t)bit);
        } else if (f6 == 0x12) {
            emit(dc, VIREO_OP_ANDI, d, rs1, 0, (int64_t)~bit);
        } else {
            emit(dc, VIREO_OP_XORI, d, rs1, 0, (int64_t)bit);
        }
    } else if (!left && f6 == 0x18 && has(dc, RV_EXT_ZBB | RV_EXT_ZBKB)) {
        emit(dc, VIREO_OP_RORI, d, rs1, 0, shamt);
    } else if (!left && f6 == 0x12 && has(dc, RV_EXT_ZBS)) {
        /* bexti */
        emit(dc, VIREO_OP_SHRI, d, rs1, 0, shamt);
        emit(dc, VIREO_OP_ANDI, d, d, 0, 1);
    } else if (!left && imm12 == 0x287 && has(dc, RV_EXT_ZBB)) {
        emit(dc, VIREO_OP_ORCB, d, rs1, 0, 0);
    } else if (!left && imm12 == 0x6b8 && has(dc, RV_EXT_ZBB | RV_EXT_ZBKB)) {
        emit(dc, VIREO_OP_REV8, d, rs1, 0, 0);
    } else if (!left && imm12 == 0x687 && has(dc, RV_EXT_ZBKB)) {
        emit(dc, VIREO_OP_BREV8, d, rs1, 0, 0);
    } else {
        return false;
    }
    return true;
}

static void op_imm(Dc *dc, uint32_t i)
{
    unsigned rd = RD(i), rs1 = RS1(i);
    int64_t imm = imm_i(i);
    unsigned shamt = (i >> 20) & 63;
    VireoIrOp op;

    switch (FUNCT3(i)) {
    case 0: op = VIREO_OP_ADDI; break;
    case 2: op = VIREO_OP_SLTI; break;
    case 3: op = VIREO_OP_SLTIU; break;
    case 4: op = VIREO_OP_XORI; break;
    case 6: op = VIREO_OP_ORI; break; /* with rd = x0: Zicbop's prefetches, hints */
    case 7: op = VIREO_OP_ANDI; break;
    case 1:
        if ((i >> 26) != 0) {
            if (!op_imm_bitmanip(dc, i)) {
                illegal(dc);
            }
            return;
        }
        op = VIREO_OP_SHLI;
        imm = shamt;
        break;
    default: /* 5 */
        if ((i >> 26) == 0) {
            op = VIREO_OP_SHRI;
        } else if ((i >> 26) == 0x10) {
            op = VIREO_OP_SARI;
        } else {
            if (!op_imm_bitmanip(dc, i)) {
                illegal(dc);
            }
            return;
        }
        imm = shamt;
        break;
    }
    if (rd == 0) {
        return; /* no effect (hints) */
    }
    if (op == VIREO_OP_ADDI && rs1 == 0) {
        emit(dc, VIREO_OP_MOVI, rd, 0, 0, imm);
    } else if (op == VIREO_OP_ADDI && imm == 0) {
        emit(dc, VIREO_OP_MOV, rd, rs1, 0, 0);
    } else {
        emit(dc, op, rd, rs1, 0, imm);
    }
}

static void op_imm32(Dc *dc, uint32_t i)
{
    unsigned rd = RD(i), rs1 = RS1(i);
    unsigned shamt = (i >> 20) & 31;
    unsigned f7 = FUNCT7(i);
    VireoIrOp op;
    int64_t imm;

    switch (FUNCT3(i)) {
    case 0:
        op = VIREO_OP_ADDIW;
        imm = imm_i(i);
        break;
    case 1:
        if ((i >> 26) == 0x02 && has(dc, RV_EXT_ZBA)) {
            /* slli.uw: a 6-bit shift of the zero-extended word */
            unsigned d = dest(rd);
            emit(dc, VIREO_OP_ZEXT32, d, rs1, 0, 0);
            emit(dc, VIREO_OP_SHLI, d, d, 0, (i >> 20) & 63);
            return;
        }
        if (f7 == 0x30 && shamt <= 2 && has(dc, RV_EXT_ZBB)) {
            static const VireoIrOp counts[3] = { VIREO_OP_CLZW, VIREO_OP_CTZW, VIREO_OP_CPOPW };
            emit(dc, counts[shamt], dest(rd), rs1, 0, 0);
            return;
        }
        if (f7 != 0) {
            illegal(dc);
            return;
        }
        op = VIREO_OP_SHLIW;
        imm = shamt;
        break;
    case 5:
        if (f7 == 0) {
            op = VIREO_OP_SHRIW;
        } else if (f7 == 0x20) {
            op = VIREO_OP_SARIW;
        } else if (f7 == 0x30 && has(dc, RV_EXT_ZBB | RV_EXT_ZBKB)) {
            op = VIREO_OP_RORIW;
        } else {
            illegal(dc);
            return;
        }
        imm = shamt;
        break;
    default: illegal(dc); return;
    }
    if (rd != 0) {
        emit(dc, op, rd, rs1, 0, imm);
    }
}

/* OP and OP-32 encodings of Zba, Zbb, Zbc, Zbs, Zbkb and Zicond. Returns
 * false for an encoding the hart does not have. Sequences compute into
 * temporaries until the last op, so rd may be a source. */
static bool op_reg_ext(Dc *dc, uint32_t i, bool w)
{
    unsigned f3 = FUNCT3(i), f7 = FUNCT7(i);
    unsigned d = dest(RD(i)), a = RS1(i), b = RS2(i);
    const unsigned t0 = RV_TMP0, t1 = RV_TMP1;

    if (w) {
        if (f7 == 0x04 && f3 == 0 && has(dc, RV_EXT_ZBA)) { /* add.uw */
            emit(dc, VIREO_OP_ZEXT32, t0, a, 0, 0);
            emit(dc, VIREO_OP_ADD, d, t0, b, 0);
        } else if (f7 == 0x10 && (f3 == 2 || f3 == 4 || f3 == 6) && has(dc, RV_EXT_ZBA)) {
            /* sh1add.uw, sh2add.uw, sh3add.uw */
            emit(dc, VIREO_OP_ZEXT32, t0, a, 0, 0);
            emit(dc, VIREO_OP_SHLI, t0, t0, 0, f3 >> 1);
            emit(dc, VIREO_OP_ADD, d, t0, b, 0);
        } else if (f7 == 0x04 && f3 == 4 && has(dc, RV_EXT_ZBKB)) { /* packw */
            emit(dc, VIREO_OP_ZEXT16, t0, a, 0, 0);
            emit(dc, VIREO_OP_SHLIW, t1, b, 0, 16);
            emit(dc, VIREO_OP_OR, d, t0, t1, 0);
        } else if (f7 == 0x04 && f3 == 4 && b == 0 && has(dc, RV_EXT_ZBB)) { /* zext.h */
            emit(dc, VIREO_OP_ZEXT16, d, a, 0, 0);
        } else if (f7 == 0x30 && (f3 == 1 || f3 == 5) && has(dc, RV_EXT_ZBB | RV_EXT_ZBKB)) {
            emit(dc, f3 == 1 ? VIREO_OP_ROLW : VIREO_OP_RORW, d, a, b, 0);
        } else {
            return false;
        }
        return true;
    }
    switch (f7) {
    case 0x20: /* andn, orn, xnor */
        if (!has(dc, RV_EXT_ZBB | RV_EXT_ZBKB) || (f3 != 4 && f3 != 6 && f3 != 7)) {
            return false;
        }
        if (f3 == 4) {
            emit(dc, VIREO_OP_XOR, d, a, b, 0);
            emit(dc, VIREO_OP_XORI, d, d, 0, -1);
        } else {
            emit(dc, VIREO_OP_XORI, t0, b, 0, -1);
            emit(dc, f3 == 6 ? VIREO_OP_OR : VIREO_OP_AND, d, a, t0, 0);
        }
        return true;
    case 0x10: /* sh1add, sh2add, sh3add */
        if (!has(dc, RV_EXT_ZBA) || (f3 != 2 && f3 != 4 && f3 != 6)) {
            return false;
        }
        emit(dc, VIREO_OP_SHLI, t0, a, 0, f3 >> 1);
        emit(dc, VIREO_OP_ADD, d, t0, b, 0);
        return true;
    case 0x05: {
        static const VireoIrOp ops[8] = { VIREO_OP_COUNT,  VIREO_OP_CLMUL, VIREO_OP_CLMULR,
                                          VIREO_OP_CLMULH, VIREO_OP_MIN,   VIREO_OP_MINU,
                                          VIREO_OP_MAX,    VIREO_OP_MAXU };
        uint32_t need = f3 >= 4 ? RV_EXT_ZBB : RV_EXT_ZBC;
        if (ops[f3] == VIREO_OP_COUNT || !has(dc, need)) {
            return false;
        }
        emit(dc, ops[f3], d, a, b, 0);
        return true;
    }
    case 0x30: /* rol, ror */
        if (!has(dc, RV_EXT_ZBB | RV_EXT_ZBKB) || (f3 != 1 && f3 != 5)) {
            return false;
        }
        emit(dc, f3 == 1 ? VIREO_OP_ROL : VIREO_OP_ROR, d, a, b, 0);
        return true;
    case 0x14: /* bset */
    case 0x24: /* bclr (funct3 1), bext (funct3 5) */
    case 0x34: /* binv */
        if (!has(dc, RV_EXT_ZBS) || !(f3 == 1 || (f3 == 5 && f7 == 0x24))) {
            return false;
        }
        if (f3 == 5) {
            emit(dc, VIREO_OP_SHR, d, a, b, 0);
            emit(dc, VIREO_OP_ANDI, d, d, 0, 1);
            return true;
        }
        emit(dc, VIREO_OP_MOVI, t0, 0, 0, 1);
        emit(dc, VIREO_OP_SHL, t0, t0, b, 0);
        if (f7 == 0x14) {
            emit(dc, VIREO_OP_OR, d, a, t0, 0);
        } else if (f7 == 0x34) {
            emit(dc, VIREO_OP_XOR, d, a, t0, 0);
        } else {
            emit(dc, VIREO_OP_XORI, t0, t0, 0, -1);
            emit(dc, VIREO_OP_AND, d, a, t0, 0);
        }
        return true;
    case 0x04: /* pack, packh */
        if (!has(dc, RV_EXT_ZBKB) || (f3 != 4 && f3 != 7)) {
            return false;
        }
        if (f3 == 4) {
            emit(dc, VIREO_OP_ZEXT32, t0, a, 0, 0);
            emit(dc, VIREO_OP_SHLI, t1, b, 0, 32);
        } else {
            emit(dc, VIREO_OP_ZEXT8, t0, a, 0, 0);
            emit(dc, VIREO_OP_ZEXT8, t1, b, 0, 0);
            emit(dc, VIREO_OP_SHLI, t1, t1, 0, 8);
        }
        emit(dc, VIREO_OP_OR, d, t0, t1, 0);
        return true;
    case 0x07: /* czero.eqz, czero.nez */
        if (!has(dc, RV_EXT_ZICOND) || (f3 != 5 && f3 != 7)) {
            return false;
        }
        emit(dc, f3 == 5 ? VIREO_OP_CZEQZ : VIREO_OP_CZNEZ, d, a, b, 0);
        return true;
    default: return false;
    }
}

static void op_reg(Dc *dc, uint32_t i, bool w)
{
    static const VireoIrOp base64[8] = { VIREO_OP_ADD, VIREO_OP_SHL, VIREO_OP_SLT, VIREO_OP_SLTU,
                                         VIREO_OP_XOR, VIREO_OP_SHR, VIREO_OP_OR,  VIREO_OP_AND };
    static const VireoIrOp mul64[8] = { VIREO_OP_MUL,   VIREO_OP_MULH, VIREO_OP_MULHSU,
                                        VIREO_OP_MULHU, VIREO_OP_DIV,  VIREO_OP_DIVU,
                                        VIREO_OP_REM,   VIREO_OP_REMU };
    static const VireoIrOp mul32[8] = { VIREO_OP_MULW,  VIREO_OP_COUNT, VIREO_OP_COUNT,
                                        VIREO_OP_COUNT, VIREO_OP_DIVW,  VIREO_OP_DIVUW,
                                        VIREO_OP_REMW,  VIREO_OP_REMUW };
    unsigned f3 = FUNCT3(i), f7 = FUNCT7(i);
    VireoIrOp op = VIREO_OP_COUNT;

    if (f7 == 1) {
        op = w ? mul32[f3] : mul64[f3];
    } else if (f7 == 0) {
        if (!w) {
            op = base64[f3];
        } else if (f3 == 0) {
            op = VIREO_OP_ADDW;
        } else if (f3 == 1) {
            op = VIREO_OP_SHLW;
        } else if (f3 == 5) {
            op = VIREO_OP_SHRW;
        }
    } else if (f7 == 0x20) {
        if (f3 == 0) {
            op = w ? VIREO_OP_SUBW : VIREO_OP_SUB;
        } else if (f3 == 5) {
            op = w ? VIREO_OP_SARW : VIREO_OP_SAR;
        }
    }
    if (op == VIREO_OP_COUNT) {
        if (!op_reg_ext(dc, i, w)) {
            illegal(dc);
        }
        return;
    }
    if (RD(i) != 0) {
        emit(dc, op, RD(i), RS1(i), RS2(i), 0);
    }
}

static void op_load(Dc *dc, uint32_t i)
{
    static const VireoIrOp ops[8] = {
        VIREO_OP_LD8S, VIREO_OP_LD16S, VIREO_OP_LD32S, VIREO_OP_LD64,
        VIREO_OP_LD8U, VIREO_OP_LD16U, VIREO_OP_LD32U, VIREO_OP_COUNT
    };
    VireoIrOp op = ops[FUNCT3(i)];

    if (op == VIREO_OP_COUNT) {
        illegal(dc);
        return;
    }
    emit(dc, op, dest(RD(i)), RS1(i), 0, imm_i(i));
}

static void op_store(Dc *dc, uint32_t i)
{
    static const VireoIrOp ops[4] = { VIREO_OP_ST8, VIREO_OP_ST16, VIREO_OP_ST32, VIREO_OP_ST64 };

    if (FUNCT3(i) > 3) {
        illegal(dc);
        return;
    }
    emit(dc, ops[FUNCT3(i)], 0, RS1(i), RS2(i), imm_s(i));
}

static void op_branch(Dc *dc, uint32_t i)
{
    static const VireoIrOp ops[8] = { VIREO_OP_BEQ, VIREO_OP_BNE, VIREO_OP_COUNT, VIREO_OP_COUNT,
                                      VIREO_OP_BLT, VIREO_OP_BGE, VIREO_OP_BLTU,  VIREO_OP_BGEU };
    VireoIrOp op = ops[FUNCT3(i)];
    VireoIrInsn *in;

    if (op == VIREO_OP_COUNT) {
        illegal(dc);
        return;
    }
    uint64_t target = dc->pc + (uint64_t)imm_b(i);

    /* A forward branch becomes a side exit, and the block goes on along
     * its not-taken path: the code between a loop's head and its back
     * edge is one block, whatever `if`s it holds. A backward branch ends
     * the block (a loop back to the block's start runs as a loop on
     * itself in the JIT). */
    if (target > dc->pc && dc->superblock) {
        G_STATIC_ASSERT(VIREO_OP_BGEU - VIREO_OP_BEQ == 5 && VIREO_OP_XGEU - VIREO_OP_XEQ == 5);
        emit(dc, (VireoIrOp)(op - VIREO_OP_BEQ + VIREO_OP_XEQ), 0, RS1(i), RS2(i), (int64_t)target);
        return;
    }
    in = emit(dc, op, 0, RS1(i), RS2(i), (int64_t)target);
    in->imm2 = (int64_t)next_pc(dc);
    dc->end = true;
}

static void op_amo(Dc *dc, uint32_t i)
{
    unsigned f5 = i >> 27;
    bool d64 = FUNCT3(i) == 3;
    VireoIrOp op;
    VireoIrInsn *in;

    if (FUNCT3(i) != 2 && FUNCT3(i) != 3) {
        illegal(dc);
        return;
    }
    switch (f5) {
    case 0x02:
        if (RS2(i) != 0) {
            illegal(dc);
            return;
        }
        op = d64 ? VIREO_OP_LR64 : VIREO_OP_LR32;
        break;
    case 0x03: op = d64 ? VIREO_OP_SC64 : VIREO_OP_SC32; break;
    case 0x01: op = d64 ? VIREO_OP_AMOSWAP64 : VIREO_OP_AMOSWAP32; break;
    case 0x00: op = d64 ? VIREO_OP_AMOADD64 : VIREO_OP_AMOADD32; break;
    case 0x04: op = d64 ? VIREO_OP_AMOXOR64 : VIREO_OP_AMOXOR32; break;
    case 0x0c: op = d64 ? VIREO_OP_AMOAND64 : VIREO_OP_AMOAND32; break;
    case 0x08: op = d64 ? VIREO_OP_AMOOR64 : VIREO_OP_AMOOR32; break;
    case 0x10: op = d64 ? VIREO_OP_AMOMIN64 : VIREO_OP_AMOMIN32; break;
    case 0x14: op = d64 ? VIREO_OP_AMOMAX64 : VIREO_OP_AMOMAX32; break;
    case 0x18: op = d64 ? VIREO_OP_AMOMINU64 : VIREO_OP_AMOMINU32; break;
    case 0x1c: op = d64 ? VIREO_OP_AMOMAXU64 : VIREO_OP_AMOMAXU32; break;
    default: illegal(dc); return;
    }
    in = emit(dc, op, dest(RD(i)), RS1(i), RS2(i), 0);
    in->flags =
        (uint8_t)(((i >> 26) & 1 ? VIREO_IR_ACQUIRE : 0) | ((i >> 25) & 1 ? VIREO_IR_RELEASE : 0));
}

/* FP instructions need FS != Off; the first one in a block also marks the
 * FP state dirty (conservatively, as the privileged spec allows). */
static bool fp_enter(Dc *dc)
{
    if (dc->fs == FS_OFF) {
        illegal(dc);
        return false;
    }
    if (!dc->fs_marked) {
        helper(dc, rv_helper_set_fs_dirty, 0, 0, 0, 0, 0);
        dc->fs_marked = true;
    }
    return true;
}

static bool valid_rm(unsigned rm)
{
    return rm != 5 && rm != 6;
}

static void fp_emit(Dc *dc, VireoIrOp op, unsigned d, unsigned a, unsigned b, unsigned c,
                    unsigned rm)
{
    VireoIrInsn *in = emit(dc, op, d, a, b, dc->raw);
    in->c = (uint8_t)c;
    in->flags = (uint8_t)rm;
}

/* The fmt field of FP instructions: S, D, H (Zfh); Q is not implemented. */
enum { FMT_S = 0, FMT_D = 1, FMT_H = 2, FMT_Q = 3 };

/* Whether the hart computes in format `fmt` (half precision needs Zfh;
 * Zfhmin only moves and converts it). */
static bool fmt_arith(const Dc *dc, unsigned fmt)
{
    return fmt == FMT_S || fmt == FMT_D || (fmt == FMT_H && has(dc, RV_EXT_ZFH));
}

static void op_fp_load_store(Dc *dc, uint32_t i, bool store)
{
    unsigned f3 = FUNCT3(i);

    if (f3 != 2 && f3 != 3 && !(f3 == 1 && has(dc, RV_EXT_ZFHMIN))) {
        illegal(dc);
        return;
    }
    if (!fp_enter(dc)) {
        return;
    }
    if (store) {
        static const VireoIrOp ops[4] = { VIREO_OP_COUNT, VIREO_OP_ST16, VIREO_OP_ST32,
                                          VIREO_OP_ST64 };
        emit(dc, ops[f3], 0, RS1(i), RV_F(RS2(i)), imm_s(i));
    } else if (f3 == 1) { /* flh */
        emit(dc, VIREO_OP_LD16U, RV_F(RD(i)), RS1(i), 0, imm_i(i));
        emit(dc, VIREO_OP_FBOX_H, RV_F(RD(i)), RV_F(RD(i)), 0, 0);
    } else if (f3 == 2) {
        emit(dc, VIREO_OP_LD32U, RV_F(RD(i)), RS1(i), 0, imm_i(i));
        emit(dc, VIREO_OP_FBOX_S, RV_F(RD(i)), RV_F(RD(i)), 0, 0);
    } else {
        emit(dc, VIREO_OP_LD64, RV_F(RD(i)), RS1(i), 0, imm_i(i));
    }
}

static void op_fma(Dc *dc, uint32_t i, unsigned opc)
{
    static const VireoIrOp ops[3][4] = {
        { VIREO_OP_FMADD_S, VIREO_OP_FMSUB_S, VIREO_OP_FNMSUB_S, VIREO_OP_FNMADD_S },
        { VIREO_OP_FMADD_D, VIREO_OP_FMSUB_D, VIREO_OP_FNMSUB_D, VIREO_OP_FNMADD_D },
        { VIREO_OP_FMADD_H, VIREO_OP_FMSUB_H, VIREO_OP_FNMSUB_H, VIREO_OP_FNMADD_H },
    };
    unsigned fmt = (i >> 25) & 3;

    if (!fmt_arith(dc, fmt) || !valid_rm(FUNCT3(i))) {
        illegal(dc);
        return;
    }
    if (!fp_enter(dc)) {
        return;
    }
    fp_emit(dc, ops[fmt][(opc >> 2) & 3], RV_F(RD(i)), RV_F(RS1(i)), RV_F(RS2(i)), RV_F(RS3(i)),
            FUNCT3(i));
}

/* OP-FP, by operation (funct7 >> 2) and format (funct7 & 3). */
static void op_fp(Dc *dc, uint32_t i)
{
#define BY_FMT(name)                                                  \
    {                                                                 \
        VIREO_OP_##name##_S, VIREO_OP_##name##_D, VIREO_OP_##name##_H \
    }
    static const VireoIrOp arith[4][3] = { BY_FMT(FADD), BY_FMT(FSUB), BY_FMT(FMUL), BY_FMT(FDIV) };
    static const VireoIrOp sgnj[3][3] = { BY_FMT(FSGNJ), BY_FMT(FSGNJN), BY_FMT(FSGNJX) };
    static const VireoIrOp minmax[2][3] = { BY_FMT(FMIN), BY_FMT(FMAX) };
    static const VireoIrOp cmp[3][3] = { BY_FMT(FLE), BY_FMT(FLT), BY_FMT(FEQ) };
    static const VireoIrOp sqrt[3] = BY_FMT(FSQRT);
    static const VireoIrOp fclass[3] = BY_FMT(FCLASS);
#undef BY_FMT
    /* fcvt.fmt.fmt by destination and source format */
    static const VireoIrOp cvt[3][3] = {
        { VIREO_OP_COUNT, VIREO_OP_FCVT_S_D, VIREO_OP_FCVT_S_H },
        { VIREO_OP_FCVT_D_S, VIREO_OP_COUNT, VIREO_OP_FCVT_D_H },
        { VIREO_OP_FCVT_H_S, VIREO_OP_FCVT_H_D, VIREO_OP_COUNT },
    };
    /* fcvt.{w,wu,l,lu}.fmt and fcvt.fmt.{w,wu,l,lu} */
    static const VireoIrOp to_int[3][4] = {
        { VIREO_OP_FCVT_W_S, VIREO_OP_FCVT_WU_S, VIREO_OP_FCVT_L_S, VIREO_OP_FCVT_LU_S },
        { VIREO_OP_FCVT_W_D, VIREO_OP_FCVT_WU_D, VIREO_OP_FCVT_L_D, VIREO_OP_FCVT_LU_D },
        { VIREO_OP_FCVT_W_H, VIREO_OP_FCVT_WU_H, VIREO_OP_FCVT_L_H, VIREO_OP_FCVT_LU_H },
    };
    static const VireoIrOp from_int[3][4] = {
        { VIREO_OP_FCVT_S_W, VIREO_OP_FCVT_S_WU, VIREO_OP_FCVT_S_L, VIREO_OP_FCVT_S_LU },
        { VIREO_OP_FCVT_D_W, VIREO_OP_FCVT_D_WU, VIREO_OP_FCVT_D_L, VIREO_OP_FCVT_D_LU },
        { VIREO_OP_FCVT_H_W, VIREO_OP_FCVT_H_WU, VIREO_OP_FCVT_H_L, VIREO_OP_FCVT_H_LU },
    };
    unsigned f7 = FUNCT7(i), f3 = FUNCT3(i), rs2 = RS2(i), rd = RD(i), rs1 = RS1(i);
    unsigned fmt = f7 & 3;
    unsigned fd = RV_F(rd), fa = RV_F(rs1), fb = RV_F(rs2), xd = dest(rd);
    VireoIrOp op = VIREO_OP_COUNT;
    unsigned d = fd, a = fa, b = fb, rm = f3;
    bool uses_rm = true;
    /* Zfhmin's moves and conversions need only it; the rest of half
     * precision needs Zfh. */
    bool ok = fmt_arith(dc, fmt);

    if (fmt == FMT_Q) {
        illegal(dc);
        return;
    }
    switch (f7 >> 2) {
    case 0x00:
    case 0x01:
    case 0x02:
    case 0x03: op = arith[f7 >> 2][fmt]; break;
    case 0x0b:
        if (rs2 == 0) {
            op = sqrt[fmt];
        }
        break;
    case 0x04:
        uses_rm = false;
        if (f3 <= 2) {
            op = sgnj[f3][fmt];
        }
        break;
    case 0x05:
        uses_rm = false;
        if (f3 <= 1) {
            op = minmax[f3][fmt];
        }
        break;
    case 0x08: /* fcvt.fmt.fmt: rs2 is the source format */
        if (rs2 <= FMT_H) {
            op = cvt[fmt][rs2];
            ok = fmt != FMT_H && rs2 != FMT_H ? true : has(dc, RV_EXT_ZFHMIN);
        }
        break;
    case 0x14:
        uses_rm = false;
        d = xd;
        if (f3 <= 2) {
            op = cmp[f3][fmt];
        }
        break;
    case 0x18: /* fcvt.{w,wu,l,lu}.fmt */
        d = xd;
        if (rs2 <= 3) {
            op = to_int[fmt][rs2];
        }
        break;
    case 0x1a: /* fcvt.fmt.{w,wu,l,lu} */
        a = rs1;
        if (rs2 <= 3) {
            op = from_int[fmt][rs2];
        }
        break;
    case 0x1c: /* fmv.x.fmt, fclass.fmt */
        uses_rm = false;
        if (rs2 != 0) {
            break;
        }
        if (f3 == 0) {
            static const VireoIrOp mv[3] = { VIREO_OP_SEXT32, VIREO_OP_MOV, VIREO_OP_SEXT16 };
            if (fmt == FMT_H && !has(dc, RV_EXT_ZFHMIN)) {
                break;
            }
            if (!fp_enter(dc)) {
                return;
            }
            if (rd != 0) {
                emit(dc, mv[fmt], rd, fa, 0, 0);
            }
            return;
        }
        if (f3 == 1) {
            op = fclass[fmt];
            d = xd;
        }
        break;
    case 0x1e: /* fmv.fmt.x */
        if (rs2 == 0 && f3 == 0 && (fmt != FMT_H || has(dc, RV_EXT_ZFHMIN))) {
            static const VireoIrOp box[3] = { VIREO_OP_FBOX_S, VIREO_OP_MOV, VIREO_OP_FBOX_H };
            if (!fp_enter(dc)) {
                return;
            }
            emit(dc, box[fmt], fd, rs1, 0, 0);
            return;
        }
        break;
    default: break;
    }
    if (op == VIREO_OP_COUNT || !ok || (uses_rm && !valid_rm(rm))) {
        illegal(dc);
        return;
    }
    if (!fp_enter(dc)) {
        return;
    }
    fp_emit(dc, op, d, a, b, 0, uses_rm ? rm : 0);
}

static int rv_helper_ecall(VireoCpu *cpu, const VireoIrInsn *insn)
{
    static const uint64_t causes[4] = { EXC_ECALL_U, EXC_ECALL_S, EXC_ECALL_S, EXC_ECALL_M };

    cpu->pc = vireo_cpu_insn_pc(cpu, insn);
    rv_raise(cpu, causes[rv_cpu(cpu)->priv], 0);
    return VIREO_IR_TRAP;
}

static void op_system(Dc *dc, uint32_t i)
{
    unsigned f3 = FUNCT3(i);

    if (f3 == 0) {
        if (i == 0x00000073) { /* ecall */
            helper(dc, rv_helper_ecall, 0, 0, 0, 0, 0);
            exit_to(dc, next_pc(dc));
        } else if (i == 0x00100073) { /* ebreak */
            VireoIrInsn *in = emit(dc, VIREO_OP_TRAP, 0, 0, 0, EXC_BREAKPOINT);
            in->imm2 = (int64_t)dc->pc;
            dc->end = true;
        } else if (i == 0x30200073) { /* mret */
            helper(dc, rv_helper_mret, 0, 0, 0, dc->raw, 0);
            exit_to(dc, next_pc(dc));
        } else if (i == 0x10200073) { /* sret */
            helper(dc, rv_helper_sret, 0, 0, 0, dc->raw, 0);
            exit_to(dc, next_pc(dc));
        } else if (i == 0x10500073) { /* wfi */
            helper(dc, rv_helper_wfi_check, 0, 0, 0, dc->raw, 0);
            emit(dc, VIREO_OP_WFI, 0, 0, 0, (int64_t)next_pc(dc));
            dc->end = true;
        } else if ((FUNCT7(i) == 0x09 || (FUNCT7(i) == 0x0b && has(dc, RV_EXT_SVINVAL))) &&
                   RD(i) == 0) {
            /* sfence.vma; sinval.vma does the same at once */
            helper(dc, rv_helper_sfence_vma, 0, RS1(i), RS2(i), dc->raw, 0);
            exit_to(dc, next_pc(dc));
        } else if ((i == 0x18000073 || i == 0x18100073) && has(dc, RV_EXT_SVINVAL)) {
            /* sfence.w.inval, sfence.inval.ir */
            helper(dc, rv_helper_sfence_inval, 0, 0, 0, dc->raw, 0);
        } else {
            illegal(dc);
        }
        return;
    }
    if (f3 == 4) {
        illegal(dc);
        return;
    }
    /* CSR access: d = rd (0: none), a = rs1, b = uimm. fflags, frm and
     * fcsr with the FP unit on take a helper of their own, with FS made
     * dirty first where the instruction writes (csrrw always; csrrs and
     * csrrc unless rs1 or uimm is 0). */
    unsigned csr = i >> 20;
    bool fp_csr = (csr == 0x001 || csr == 0x002 || csr == 0x003) && dc->fs != FS_OFF;
    if (fp_csr && ((f3 & 3) == 1 || RS1(i) != 0) && !fp_enter(dc)) {
        return;
    }
    helper(dc, fp_csr ? rv_helper_fcsr : rv_helper_csr, RD(i), f3 >= 5 ? 0 : RS1(i),
           f3 >= 5 ? RS1(i) : 0, (int64_t)((i >> 20) | ((uint64_t)dc->raw << 32)), (uint8_t)f3);
}

static void decode32(Dc *dc, uint32_t i)
{
    unsigned opc = i & 0x7f;
    unsigned const_reg = dc->const_reg;

    dc->const_reg = 0;
    switch (opc) {
    case 0x37: /* lui */
        if (RD(i) != 0) {
            dc->const_reg = RD(i);
            dc->const_val = (uint64_t)sext(i & 0xfffff000u, 32);
            emit(dc, VIREO_OP_MOVI, RD(i), 0, 0, (int64_t)dc->const_val);
        }
        break;
    case 0x17: /* auipc */
        if (RD(i) != 0) {
            dc->const_reg = RD(i);
            dc->const_val = dc->pc + (uint64_t)sext(i & 0xfffff000u, 32);
            emit(dc, VIREO_OP_MOVI, RD(i), 0, 0, (int64_t)dc->const_val);
        }
        break;
    case 0x6f: { /* jal */
        uint64_t target = dc->pc + (uint64_t)imm_j(i);
        if (RD(i) != 0) {
            emit(dc, VIREO_OP_MOVI, RD(i), 0, 0, (int64_t)next_pc(dc));
        }
        if (dc->superblock && target > dc->pc &&
            ((target ^ dc->pc) & ~(uint64_t)(VIREO_PAGE_SIZE - 1)) == 0) {
            dc->follow = target; /* the block goes on there */
            break;
        }
        emit(dc, VIREO_OP_JMP, 0, 0, 0, (int64_t)target);
        dc->end = true;
        break;
    }
    case 0x67: { /* jalr */
        unsigned rd = RD(i), rs1 = RS1(i);
        VireoIrInsn *in;
        if (FUNCT3(i) != 0) {
            illegal(dc);
            break;
        }
        if (rs1 != 0 && rs1 == const_reg) {
            /* The target is known: a direct jump. */
            if (rd != 0) {
                emit(dc, VIREO_OP_MOVI, rd, 0, 0, (int64_t)next_pc(dc));
            }
            emit(dc, VIREO_OP_JMP, 0, 0, 0,
                 (int64_t)((dc->const_val + (uint64_t)imm_i(i)) & ~1ull));
            dc->end = true;
            break;
        }
        if (rd != 0 && rd == rs1) {
            emit(dc, VIREO_OP_MOV, RV_TMP0, rs1, 0, 0);
            rs1 = RV_TMP0;
        }
        if (rd != 0) {
            emit(dc, VIREO_OP_MOVI, rd, 0, 0, (int64_t)next_pc(dc));
        }
        in = emit(dc, VIREO_OP_JMPR, 0, rs1, 0, imm_i(i));
        in->flags = 1;
        dc->end = true;
        break;
    }
    case 0x63: op_branch(dc, i); break;
    case 0x03: op_load(dc, i); break;
    case 0x23: op_store(dc, i); break;
    case 0x13: op_imm(dc, i); break;
    case 0x1b: op_imm32(dc, i); break;
    case 0x33: op_reg(dc, i, false); break;
    case 0x3b: op_reg(dc, i, true); break;
    case 0x0f:
        if (FUNCT3(i) == 0) {
            /* fence pred, succ: only a store (or output) before ordered
             * with a load (or input) after needs more than TSO. fence.tso
             * (fm = 1000) orders everything but that. */
            unsigned pred = (i >> 24) & 0xf, succ = (i >> 20) & 0xf, fm = i >> 28;
            VireoIrInsn *in;
            if (i == 0x0100000f) {
                /* pause (Zihintpause: fence w, 0), the hint in spin loops */
                helper(dc, vireo_cpu_spin_hint, 0, 0, 0, 0, 0);
                break;
            }
            in = emit(dc, VIREO_OP_FENCE, 0, 0, 0, 0);
            bool tso = fm == 8 && pred == 3 && succ == 3;
            if (!tso && (pred & 0x5) && (succ & 0xa)) {
                in->flags = VIREO_IR_FENCE_STORE_LOAD;
            }
        } else if (FUNCT3(i) == 1) {
            helper(dc, rv_helper_fence_i, 0, 0, 0, 0, 0);
            exit_to(dc, next_pc(dc));
        } else if (FUNCT3(i) == 2 && RD(i) == 0 &&
                   (((i >> 20) <= 2 && has(dc, RV_EXT_ZICBOM)) ||
                    ((i >> 20) == 4 && has(dc, RV_EXT_ZICBOZ)))) {
            /* cbo.inval, cbo.clean, cbo.flush, cbo.zero */
            helper(dc, rv_helper_cbo, 0, RS1(i), 0,
                   (int64_t)((i >> 20) | ((uint64_t)dc->raw << 32)), 0);
        } else {
            illegal(dc);
        }
        break;
    case 0x73: op_system(dc, i); break;
    case 0x2f: op_amo(dc, i); break;
    case 0x07: op_fp_load_store(dc, i, false); break;
    case 0x27: op_fp_load_store(dc, i, true); break;
    case 0x43:
    case 0x47:
    case 0x4b:
    case 0x4f: op_fma(dc, i, opc); break;
    case 0x53: op_fp(dc, i); break;
    default: illegal(dc); break;
    }
}

bool rv_decode(VireoCpu *cpu, VireoIrBlock *b)
{
    RvCpu *rv = rv_cpu(cpu);
    Dc dc = { .b = b };
    uint64_t page_end = (b->pc | (VIREO_PAGE_SIZE - 1)) + 1;
    const VireoTlbEntry *e = &cpu->itlb[(b->pc >> VIREO_PAGE_SHIFT) & (VIREO_TLB_SIZE - 1)];
    /* Where permissions vary inside the page, every instruction is its own
     * block, so that a later fetch can never fault during decoding. */
    unsigned max_guest =
        (e->flags & VIREO_TLB_SLOW) || vireo_cpu_debug_single(cpu) ? 1 : VIREO_IR_MAX_GUEST;
    uint32_t off = 0;

    dc.ext = rv->ext;
    dc.fs = (unsigned)((rv->mstatus & MSTATUS_FS) >> 13);
    dc.fs_marked = dc.fs == FS_DIRTY;
    dc.superblock = max_guest > 1;
    for (;;) {
        uint64_t pc = b->pc + off;
        uint16_t lo, hi;
        uint32_t insn;

        if (vireo_cpu_debug_break(cpu, pc)) {
            /* A debugger's breakpoint: a block of its own that stops there. */
            if (off == 0) {
                vireo_ir_begin_guest(b, 0);
                emit(&dc, VIREO_OP_DEBUG, 0, 0, 0, (int64_t)pc);
                vireo_ir_end_guest(b, 2);
            } else {
                exit_to(&dc, pc);
            }
            break;
        }
        /* An aligned 32-bit instruction is read in one access (Ziccif):
         * code another hart rewrites is decoded old or new, never torn. */
        bool have_hi = (pc & 3) == 0;
        if (have_hi) {
            uint32_t word;
            if (!vireo_cpu_fetch32(cpu, pc, &word)) {
                return false; /* only possible for the first instruction */
            }
            lo = (uint16_t)word;
            hi = (uint16_t)(word >> 16);
        } else if (!vireo_cpu_fetch16(cpu, pc, &lo)) {
            return false;
        }
        dc.pc = pc;
        if ((lo & 3) != 3) {
            dc.len = 2;
            dc.raw = lo;
            insn = rv_expand_compressed(lo);
        } else {
            if (pc + 2 == page_end && off != 0) {
                /* Straddles into the next page: leave it to its own block. */
                exit_to(&dc, pc);
                break;
            }
            if (!have_hi && !vireo_cpu_fetch16(cpu, pc + 2, &hi)) {
                return false;
            }
            dc.len = 4;
            insn = lo | ((uint32_t)hi << 16);
            dc.raw = insn;
            if ((lo & 0x1f) == 0x1f) {
                insn = 0; /* 48-bit and longer encodings are not supported */
            }
        }
        vireo_ir_begin_guest(b, off);
        if (insn == 0) {
            illegal(&dc);
        } else {
            decode32(&dc, insn);
        }
        off += dc.len;
        vireo_ir_end_guest(b, off);
        if (dc.end) {
            break;
        }
        if (dc.follow != 0) {
            off = (uint32_t)(dc.follow - b->pc);
            dc.follow = 0;
        }
        /* A block covers at most VIREO_IR_MAX_GUEST instructions' worth
         * of bytes from its pc (VireoCpuClass.max_insn_bytes), a followed
         * jal included: what the core marks as code before decoding. */
        if (b->pc + off >= page_end || b->n_guest >= max_guest ||
            off + 4 > VIREO_IR_MAX_GUEST * 4 || b->n_ops + 8 >= VIREO_IR_MAX_OPS) {
            exit_to(&dc, b->pc + off);
            break;
        }
    }
    return true;
}
