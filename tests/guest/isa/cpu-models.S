/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The hart models below `max` refuse what they do not implement: built with
 * -DMODEL_RV64GC it runs on `vireo-run --cpu rv64gc`, where every
 * instruction of the extensions beyond RV64GC is an illegal instruction
 * (mtval holding its bits) and the CSR fields of the extensions read zero;
 * built with -DMODEL_RVA22 on `--cpu rva22`, which has Zba, Zbb, Zbs,
 * Zicbom, Zicboz, Svinval, Svpbmt and Zfhmin but not Zbc, Zbkb's own
 * instructions, Zicond, Sstc or Zfh.
 * Vireo-only (the models are Vireo's).
 */
#include "test-macros.inc"

#if defined(MODEL_RV64GC)
#define GC_ILLEGAL(insn...)  ILLEGAL insn
#define GC_LEGAL(insn...)
#elif defined(MODEL_RVA22)
#define GC_ILLEGAL(insn...)  insn
#define GC_LEGAL(insn...)    insn
#else
#error "build with -DMODEL_RV64GC or -DMODEL_RVA22"
#endif

TEST_MAIN
    li a1, 0x8000000000000001
    li a2, 3

    /* Zba, Zbb, Zbs: RVA22 has them, RV64GC does not */
    CASE 1
    GC_ILLEGAL(sh1add a0, a1, a2)
    GC_ILLEGAL(sh3add.uw a0, a1, a2)
    GC_ILLEGAL(add.uw a0, a1, a2)
    GC_ILLEGAL(zext.w a0, a1)
    GC_ILLEGAL(slli.uw a0, a1, 5)
    GC_LEGAL(add.uw a0, a1, a2)
    GC_LEGAL(CHECK_EQ a0, 4)
    CASE 2
    GC_ILLEGAL(andn a0, a1, a2)
    GC_ILLEGAL(orn a0, a1, a2)
    GC_ILLEGAL(xnor a0, a1, a2)
    GC_ILLEGAL(clz a0, a1)
    GC_ILLEGAL(ctz a0, a1)
    GC_ILLEGAL(cpop a0, a1)
    GC_ILLEGAL(clzw a0, a1)
    GC_ILLEGAL(ctzw a0, a1)
    GC_ILLEGAL(cpopw a0, a1)
    GC_ILLEGAL(min a0, a1, a2)
    GC_ILLEGAL(maxu a0, a1, a2)
    GC_ILLEGAL(sext.b a0, a1)
    GC_ILLEGAL(sext.h a0, a1)
    GC_ILLEGAL(zext.h a0, a1)
    GC_ILLEGAL(rol a0, a1, a2)
    GC_ILLEGAL(ror a0, a1, a2)
    GC_ILLEGAL(rolw a0, a1, a2)
    GC_ILLEGAL(rorw a0, a1, a2)
    GC_ILLEGAL(rori a0, a1, 7)
    GC_ILLEGAL(roriw a0, a1, 7)
    GC_ILLEGAL(orc.b a0, a1)
    GC_ILLEGAL(rev8 a0, a1)
    GC_LEGAL(cpop a0, a1)
    GC_LEGAL(CHECK_EQ a0, 2)
    CASE 3
    GC_ILLEGAL(bset a0, a1, a2)
    GC_ILLEGAL(bclr a0, a1, a2)
    GC_ILLEGAL(binv a0, a1, a2)
    GC_ILLEGAL(bext a0, a1, a2)
    GC_ILLEGAL(bseti a0, a1, 9)
    GC_ILLEGAL(bclri a0, a1, 9)
    GC_ILLEGAL(binvi a0, a1, 9)
    GC_ILLEGAL(bexti a0, a1, 9)
    GC_LEGAL(bexti a0, a1, 63)
    GC_LEGAL(CHECK_EQ a0, 1)

    /* Zbc, Zbkb's own instructions and Zicond: only `max` has them */
    CASE 4
    ILLEGAL clmul a0, a1, a2
    ILLEGAL clmulh a0, a1, a2
    ILLEGAL clmulr a0, a1, a2
    CASE 5
    ILLEGAL pack a0, a1, a2
    ILLEGAL packh a0, a1, a2
    ILLEGAL packw a0, a1, a2
    ILLEGAL brev8 a0, a1
    CASE 6
    ILLEGAL .insn r 0x33, 5, 7, a0, a1, a2 /* czero.eqz */
    ILLEGAL .insn r 0x33, 7, 7, a0, a1, a2 /* czero.nez */

    /* Hints stay no-ops everywhere: pause, ntl.*, prefetch.* */
    CASE 7
    li a0, 5
    .insn i 0x0f, 0, x0, x0, 0x010 /* pause */
    add x0, x0, x2 /* ntl.p1 */
    add x0, x0, x5 /* ntl.all */
    .insn cr 2, 9, x0, x3 /* c.ntl.s1 (c.add x0, x3) */
    ori x0, a1, 0  /* prefetch.i 0(a1) */
    ori x0, a1, 1  /* prefetch.r 0(a1) */
    ori x0, a1, 3  /* prefetch.w 0(a1) */
    CHECK_EQ a0, 5

    /* Zicbom and Zicboz, and their menvcfg/senvcfg fields */
    CASE 8
    la a3, cbo_block
    GC_ILLEGAL(.insn i 0x0f, 2, x0, a3, 4) /* cbo.zero */
    GC_ILLEGAL(.insn i 0x0f, 2, x0, a3, 1) /* cbo.clean */
    GC_ILLEGAL(.insn i 0x0f, 2, x0, a3, 2) /* cbo.flush */
    GC_ILLEGAL(.insn i 0x0f, 2, x0, a3, 0) /* cbo.inval */
    li t0, -1
    csrw 0x30a, t0 /* menvcfg */
    csrr a0, 0x30a
    andi a0, a0, 0xff
    csrw 0x10a, t0 /* senvcfg */
    csrr a1, 0x10a
#ifdef MODEL_RV64GC
    CHECK_EQ a0, 1 /* FIOM only */
    CHECK_EQ a1, 1
#else
    CHECK_EQ a0, 0xf1 /* FIOM, CBIE, CBCFE, CBZE */
    CHECK_EQ a1, 0xf1
#endif
    csrw 0x30a, zero
    csrw 0x10a, zero

    /* Sstc: only `max` has stimecmp and menvcfg.STCE */
    CASE 9
    ILLEGAL csrr a0, 0x14d
    ILLEGAL csrw 0x14d, zero
    li t0, -1
    csrw 0x30a, t0
    csrr a0, 0x30a
    bltz a0, fail

    /* Svinval; Svpbmt's menvcfg.PBMTE */
    CASE 10
    GC_ILLEGAL(.insn i 0x73, 0, x0, x0, 0x180) /* sfence.w.inval */
    GC_ILLEGAL(.insn r 0x73, 0, 0x0b, x0, x0, x0) /* sinval.vma */
    GC_ILLEGAL(.insn i 0x73, 0, x0, x0, 0x181) /* sfence.inval.ir */
    srli a0, a0, 62 /* menvcfg, all ones written: PBMTE */
#ifdef MODEL_RV64GC
    CHECK_EQ a0, 0
#else
    CHECK_EQ a0, 1
#endif
    csrw 0x30a, zero

    /* Zfhmin (RVA22) and Zfh (max only) */
    CASE 11
    FP_ENABLE
    la a3, cbo_block
    GC_ILLEGAL(flh f1, 0(a3))
    GC_ILLEGAL(fsh f1, 0(a3))
    GC_ILLEGAL(fmv.h.x f1, a1)
    GC_ILLEGAL(fmv.x.h a0, f1)
    GC_ILLEGAL(fcvt.s.h f2, f1)
    GC_ILLEGAL(fcvt.h.s f2, f1)
    GC_ILLEGAL(fcvt.d.h f2, f1)
    GC_ILLEGAL(fcvt.h.d f2, f1)
    GC_LEGAL(li t0, 0x3c00)
    GC_LEGAL(fmv.h.x f1, t0)
    GC_LEGAL(fcvt.s.h f2, f1)
    GC_LEGAL(fmv.x.w a0, f2)
    GC_LEGAL(CHECK_EQ a0, 0x3f800000)
    CASE 12
    ILLEGAL fadd.h f2, f1, f1
    ILLEGAL fmul.h f2, f1, f1
    ILLEGAL fsqrt.h f2, f1
    ILLEGAL fmadd.h f2, f1, f1, f1
    ILLEGAL fmin.h f2, f1, f1
    ILLEGAL fsgnj.h f2, f1, f1
    ILLEGAL feq.h a0, f1, f1
    ILLEGAL fclass.h a0, f1
    ILLEGAL fcvt.w.h a0, f1
    ILLEGAL fcvt.h.lu f1, a0
    /* the quad format does not exist on any hart */
    ILLEGAL .insn r 0x53, 0, 0x03, f2, f1, f1 /* fadd.q */
    PASS

    .data
    .balign 64
cbo_block:
    .fill 64, 1, 0
