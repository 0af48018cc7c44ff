/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Floating-point state: mstatus.FS (Off makes every FP instruction and fcsr
 * access illegal; writes set Dirty and SD), fcsr/frm/fflags (field views,
 * reserved bits, accumulation), dynamic rounding through frm in all five
 * modes, invalid rounding modes (static 5/6, dynamic with frm 5-7) being
 * illegal, NaN-boxing of single-precision values in the 64-bit registers,
 * FP loads/stores/moves (bit-exact, NaNs untouched, no flags), f0 as an
 * ordinary register and rd = rs aliasing.
 */
#include "test-macros.inc"
#include "fp-macros.inc"

/* OP-FP instruction word with explicit fields. */
#define FP_R(f7, rs2, rs1, rm, rd) \
    .4byte (((f7) << 25) | ((rs2) << 20) | ((rs1) << 15) | ((rm) << 12) | ((rd) << 7) | 0x53)
/* FMADD.fmt instruction word. */
#define FP_R4(rs3, fmt, rs2, rs1, rm, rd) \
    .4byte (((rs3) << 27) | ((fmt) << 25) | ((rs2) << 20) | ((rs1) << 15) | ((rm) << 12) | \
            ((rd) << 7) | 0x43)

/* mstatus.FS equals `fs` (0..3) and SD is set exactly when FS is Dirty. */
.macro CHECK_FS fs
    csrr t0, mstatus
    srli t1, t0, 13
    andi t1, t1, 3
    CHECK_EQ t1, \fs
    srli t1, t0, 63
    CHECK_EQ t1, (\fs) / 3
.endm

.macro SET_FS fs
    li t0, MSTATUS_FS
    csrc mstatus, t0
    li t0, (\fs) << 13
    csrs mstatus, t0
.endm

    .data
    .align 6
fdata:
    .dword 0x3ff0000000000000
    .dword 0x7ff0000000000001
    .word 0x7f800001
    .word 0xbf800000
    .dword 0
fstore:
    .fill 4, 8, 0
    .align 6
fbig_lo:
    .fill 256, 8, 0
fbig_mid:
    .fill 256, 8, 0

TEST_MAIN
    /* FS starts Off: every FP instruction and fcsr access is illegal. */
    CASE 1
    CHECK_FS 0
    CASE 2
    ILLEGAL fadd.s f1, f2, f3
    CASE 3
    ILLEGAL fadd.d f1, f2, f3, rne
    CASE 4
    la a1, fdata
    ILLEGAL flw f1, 0(a1)
    CASE 5
    ILLEGAL fld f1, 0(a1)
    CASE 6
    ILLEGAL fsw f1, 0(a1)
    CASE 7
    ILLEGAL fsd f1, 0(a1)
    CASE 8
    ILLEGAL fmv.x.w a0, f1
    CASE 9
    ILLEGAL fmv.d.x f1, a0
    CASE 10
    ILLEGAL fcvt.w.s a0, f1, rtz
    CASE 11
    ILLEGAL fmadd.d f1, f2, f3, f4
    CASE 12
    ILLEGAL fclass.s a0, f1
    CASE 13
    ILLEGAL feq.d a0, f1, f2
    CASE 14
    ILLEGAL fsgnj.d f1, f2, f3
    CASE 15
    ILLEGAL csrr a0, fflags
    CASE 16
    ILLEGAL csrr a0, frm
    CASE 17
    ILLEGAL csrr a0, fcsr
    CASE 18
    ILLEGAL csrw fcsr, zero
    CASE 19
    ILLEGAL csrwi fflags, 1
    CASE 20
    ILLEGAL c.fld f8, 0(a1)
    CASE 21
    ILLEGAL c.fsdsp f1, 0(sp)
    CASE 22
    ILLEGAL fmin.s f1, f2, f3
    CASE 23
    CHECK_FS 0

    /* Initial: an FP write makes the state Dirty and sets SD. */
    CASE 24
    SET_FS 1
    CHECK_FS 1
    li t0, 0x3f800000
    fmv.w.x f1, t0
    CHECK_FS 3
    CASE 25
    SET_FS 2
    CHECK_FS 2
    fadd.d f2, f1, f1
    CHECK_FS 3
    CASE 26
    SET_FS 2
    csrwi fflags, 1
    CHECK_FS 3
    CASE 27
    SET_FS 2
    la a1, fdata
    fld f5, 0(a1)
    CHECK_FS 3
    CASE 28
    /* a conversion into an FP register (a flag change alone is checked in
     * vireo-impl.S) */
    SET_FS 2
    li a2, 7
    fcvt.d.l f6, a2
    CHECK_FS 3
    CASE 29
    SET_FS 2
    csrwi frm, 1
    CHECK_FS 3
    CASE 30
    /* sstatus shows the same FS and SD */
    SET_FS 2
    csrr t0, sstatus
    srli t1, t0, 13
    andi t1, t1, 3
    CHECK_EQ t1, 2
    srli t1, t0, 63
    CHECK_EQ t1, 0
    SET_FS 3
    csrr t0, sstatus
    srli t1, t0, 63
    CHECK_EQ t1, 1
    CASE 31
    /* FS written through sstatus */
    li t0, MSTATUS_FS
    csrc sstatus, t0
    CHECK_FS 0
    li t0, MSTATUS_FS_INITIAL
    csrs sstatus, t0
    CHECK_FS 1

    /* fcsr, frm and fflags */
    CASE 32
    csrw fcsr, zero
    li t0, 0xff
    csrw fcsr, t0
    csrr a0, fcsr
    CHECK_EQ a0, 0xff
    csrr a0, frm
    CHECK_EQ a0, 7
    csrr a0, fflags
    CHECK_EQ a0, 0x1f
    CASE 33
    /* reserved bits 31:8 read zero */
    li t0, -1
    csrw fcsr, t0
    csrr a0, fcsr
    CHECK_EQ a0, 0xff
    CASE 34
    csrw fcsr, zero
    li t0, -1
    csrw fflags, t0
    csrr a0, fcsr
    CHECK_EQ a0, 0x1f
    csrr a0, fflags
    CHECK_EQ a0, 0x1f
    CASE 35
    csrw fcsr, zero
    li t0, -1
    csrw frm, t0
    csrr a0, fcsr
    CHECK_EQ a0, 0xe0
    csrr a0, frm
    CHECK_EQ a0, 7
    CASE 36
    li t0, 0x8b
    csrw fcsr, t0
    csrrwi a0, frm, 2
    CHECK_EQ a0, 4
    csrr a0, fcsr
    CHECK_EQ a0, 0x4b
    csrrwi a0, fflags, 0x10
    CHECK_EQ a0, 0x0b
    csrr a0, fcsr
    CHECK_EQ a0, 0x50
    CASE 37
    csrrsi a0, fflags, 1
    CHECK_EQ a0, 0x10
    csrrci a0, fflags, 0x10
    CHECK_EQ a0, 0x11
    csrr a0, fcsr
    CHECK_EQ a0, 0x41
    CASE 38
    /* flags accumulate over operations */
    csrw fcsr, zero
    FS_LOAD f1, 0x3f800000
    FS_LOAD f2, 0x40400000
    fdiv.s f3, f1, f2
    csrr a0, fflags
    CHECK_EQ a0, FFLAG_NX
    fmv.w.x f2, zero
    fdiv.s f3, f1, f2
    csrr a0, fflags
    CHECK_EQ a0, FFLAG_NX | FFLAG_DZ
    fadd.s f3, f1, f1
    csrr a0, fflags
    CHECK_EQ a0, FFLAG_NX | FFLAG_DZ
    CASE 39
    /* an exact operation leaves fflags alone */
    csrw fflags, zero
    fadd.s f3, f1, f1
    fsgnjn.s f3, f1, f1
    fmv.x.w a0, f3
    csrr a0, fflags
    CHECK_EQ a0, 0

    /* dynamic rounding: 1 + 2^-24 in single precision, a tie */
    CASE 40
    FS_LOAD f1, 0x3f800000
    FS_LOAD f2, 0x33800000
    FS_LOAD f4, 0xb3800000
    csrwi frm, 0
    fadd.s f3, f1, f2
    fmv.x.w a0, f3
    CHECK_EQ a0, 0x3f800000
    CASE 41
    csrwi frm, 1
    fadd.s f3, f1, f2, dyn
    fmv.x.w a0, f3
    CHECK_EQ a0, 0x3f800000
    CASE 42
    csrwi frm, 2
    fsub.s f3, f4, f1
    fmv.x.w a0, f3
    CHECK_EQ a0, 0xffffffffbf800001
    CASE 43
    csrwi frm, 3
    fadd.s f3, f1, f2
    fmv.x.w a0, f3
    CHECK_EQ a0, 0x3f800001
    CASE 44
    csrwi frm, 4
    fadd.s f3, f1, f2
    fmv.x.w a0, f3
    CHECK_EQ a0, 0x3f800001
    CASE 45
    fsub.s f3, f4, f1
    fmv.x.w a0, f3
    CHECK_EQ a0, 0xffffffffbf800001
    CASE 46
    /* a static mode overrides frm */
    csrwi frm, 3
    fadd.s f3, f1, f2, rne
    fmv.x.w a0, f3
    CHECK_EQ a0, 0x3f800000
    CASE 47
    csrwi frm, 0
    fadd.s f3, f1, f2, rup
    fmv.x.w a0, f3
    CHECK_EQ a0, 0x3f800001
    /* dynamic rounding of conversions: 2.5 and -2.5 */
    CASE 48
    FS_LOAD f1, 0x40200000
    FS_LOAD f2, 0xc0200000
    csrwi frm, 0
    fcvt.w.s a0, f1
    CHECK_EQ a0, 2
    fcvt.w.s a0, f2
    CHECK_EQ a0, -2
    CASE 49
    csrwi frm, 1
    fcvt.w.s a0, f1
    CHECK_EQ a0, 2
    fcvt.w.s a0, f2
    CHECK_EQ a0, -2
    CASE 50
    csrwi frm, 2
    fcvt.l.s a0, f1
    CHECK_EQ a0, 2
    fcvt.l.s a0, f2
    CHECK_EQ a0, -3
    CASE 51
    csrwi frm, 3
    fcvt.w.s a0, f1
    CHECK_EQ a0, 3
    fcvt.w.s a0, f2
    CHECK_EQ a0, -2
    CASE 52
    csrwi frm, 4
    fcvt.w.s a0, f1
    CHECK_EQ a0, 3
    fcvt.l.s a0, f2
    CHECK_EQ a0, -3
    csrr a0, fflags
    CHECK_NE a0, 0
    CASE 53
    /* double: 1 + 2^-53 with frm = RMM and RDN, and fused with RUP */
    FD_LOAD f1, 0x3ff0000000000000
    FD_LOAD f2, 0x3ca0000000000000
    csrwi frm, 4
    fadd.d f3, f1, f2
    fmv.x.d a0, f3
    CHECK_EQ a0, 0x3ff0000000000001
    csrwi frm, 2
    fadd.d f3, f1, f2
    fmv.x.d a0, f3
    CHECK_EQ a0, 0x3ff0000000000000
    csrwi frm, 3
    fmadd.d f3, f1, f1, f2
    fmv.x.d a0, f3
    CHECK_EQ a0, 0x3ff0000000000001
    CASE 54
    /* fcvt.s.d and fcvt.d.l under frm */
    csrwi frm, 1
    FD_LOAD f1, 0x3fefffffffffffff
    fcvt.s.d f3, f1
    fmv.x.w a0, f3
    CHECK_EQ a0, 0x3f7fffff
    csrwi frm, 0
    fcvt.s.d f3, f1
    fmv.x.w a0, f3
    CHECK_EQ a0, 0x3f800000
    li a2, 0x7fffffffffffffff
    csrwi frm, 1
    fcvt.d.l f3, a2
    fmv.x.d a0, f3
    CHECK_EQ a0, 0x43dfffffffffffff
    CASE 55
    /* fsqrt under frm: sqrt(2) rounds down to nearest, so RUP differs */
    FD_LOAD f1, 0x4000000000000000
    csrwi frm, 0
    fsqrt.d f3, f1
    fmv.x.d a0, f3
    CHECK_EQ a0, 0x3ff6a09e667f3bcd
    csrwi frm, 3
    fsqrt.d f3, f1
    fmv.x.d a0, f3
    CHECK_EQ a0, 0x3ff6a09e667f3bcd
    csrwi frm, 1
    fsqrt.d f3, f1
    fmv.x.d a0, f3
    CHECK_EQ a0, 0x3ff6a09e667f3bcc

    /* invalid rounding modes */
    CASE 56
    csrwi frm, 0
    ILLEGAL FP_R(0x00, 2, 1, 5, 3)  /* fadd.s f3, f1, f2, rm=5 */
    CASE 57
    ILLEGAL FP_R(0x01, 2, 1, 6, 3)  /* fadd.d, rm=6 */
    CASE 58
    ILLEGAL FP_R(0x09, 2, 1, 5, 3)  /* fmul.d, rm=5 */
    CASE 59
    ILLEGAL FP_R(0x2c, 0, 1, 6, 3)  /* fsqrt.s, rm=6 */
    CASE 60
    ILLEGAL FP_R(0x60, 0, 1, 5, 10) /* fcvt.w.s a0, rm=5 */
    CASE 61
    ILLEGAL FP_R(0x68, 0, 12, 6, 3) /* fcvt.s.w from a2, rm=6 */
    CASE 62
    ILLEGAL FP_R4(4, 0, 2, 1, 5, 3) /* fmadd.s, rm=5 */
    CASE 63
    ILLEGAL FP_R4(4, 1, 2, 1, 6, 3) /* fmadd.d, rm=6 */
    CASE 64
    ILLEGAL FP_R(0x20, 1, 1, 5, 3)  /* fcvt.s.d, rm=5 */
    CASE 65
    /* valid encodings of the same operations run */
    FP_R(0x00, 2, 1, 4, 3)          /* fadd.s, rm=4 (RMM) */
    FP_R(0x01, 2, 1, 7, 3)          /* fadd.d, rm=7 (dynamic, frm valid) */
    CASE 66
    /* frm 5, 6, 7: every dynamic-rounding instruction is illegal */
    csrwi frm, 5
    ILLEGAL fadd.s f3, f1, f2, dyn
    CASE 67
    csrwi frm, 6
    ILLEGAL fmul.d f3, f1, f2, dyn
    CASE 68
    csrwi frm, 7
    ILLEGAL fsqrt.d f3, f1, dyn
    CASE 69
    ILLEGAL fcvt.l.d a0, f1, dyn
    CASE 70
    ILLEGAL fmadd.s f3, f1, f2, f4, dyn
    CASE 71
    ILLEGAL fcvt.s.l f3, a2, dyn
    CASE 72
    csrwi frm, 5
    ILLEGAL fcvt.s.d f3, f1, dyn
    CASE 73
    /* static modes and operations without rounding still run */
    csrwi frm, 7
    fadd.d f3, f1, f1, rne
    fsgnj.d f3, f1, f1
    fmin.d f3, f1, f1
    feq.d a0, f1, f1
    CHECK_EQ a0, 1
    fclass.d a0, f1
    CHECK_EQ a0, 0x40
    fmv.x.d a0, f1
    CHECK_EQ a0, 0x4000000000000000
    csrwi frm, 0

    /* NaN-boxing: a single-precision operand that is not NaN-boxed reads as
     * the canonical NaN */
    CASE 74
    li t0, 0x000000003f800000
    fmv.d.x f1, t0
    FS_LOAD f2, 0x3f800000
    csrw fflags, zero
    fadd.s f3, f1, f2
    FS_RESULT 0x7fc00000, 0
    CASE 75
    li t0, 0xfffffffe3f800000
    fmv.d.x f1, t0
    fadd.s f3, f2, f1
    FS_RESULT 0x7fc00000, 0
    CASE 76
    li t0, 0xffffffff3f800000
    fmv.d.x f1, t0
    fadd.s f3, f1, f2
    FS_RESULT 0x40000000, 0
    CASE 78
    li t0, 0x7fffffff40400000
    fmv.d.x f1, t0
    fclass.s a0, f1
    CHECK_EQ a0, 0x200
    CASE 79
    /* sign injection reads the canonical NaN too: magnitude and sign */
    li t0, 0x00000000bf800000
    fmv.d.x f1, t0
    FS_LOAD f2, 0xbf800000
    fsgnj.s f3, f1, f2
    FS_RESULT 0xffc00000, 0
    CASE 80
    fsgnj.s f3, f2, f1
    FS_RESULT 0x3f800000, 0
    CASE 81
    fsgnjx.s f3, f2, f1
    FS_RESULT 0xbf800000, 0
    CASE 82
    feq.s a0, f1, f1
    csrr a1, fflags
    CHECK_EQ a0, 0
    CHECK_EQ a1, 0
    CASE 83
    flt.s a0, f2, f1
    csrr a1, fflags
    CHECK_EQ a0, 0
    CHECK_EQ a1, FFLAG_NV
    CASE 84
    csrw fflags, zero
    fcvt.d.s f3, f1
    FD_RESULT 0x7ff8000000000000, 0
    CASE 85
    fcvt.w.s a0, f1, rtz
    csrr a1, fflags
    CHECK_EQ a0, 0x7fffffff
    CHECK_EQ a1, FFLAG_NV
    CASE 86
    csrw fflags, zero
    FS_LOAD f2, 0x40000000
    fmin.s f3, f1, f2
    FS_RESULT 0x40000000, 0
    CASE 87
    fmadd.s f3, f2, f2, f1
    FS_RESULT 0x7fc00000, 0
    CASE 88
    fsqrt.s f3, f1
    FS_RESULT 0x7fc00000, 0
    CASE 89
    /* moves and stores do not check the boxing: low 32 bits */
    li t0, 0x123456789abcdef0
    fmv.d.x f1, t0
    fmv.x.w a0, f1
    CHECK_EQ a0, 0xffffffff9abcdef0
    CASE 90
    la a1, fstore
    li t0, -1
    sd t0, 0(a1)
    fsw f1, 0(a1)
    ld a0, 0(a1)
    CHECK_EQ a0, 0xffffffff9abcdef0
    CASE 91
    /* results of single-precision operations are NaN-boxed */
    li t0, 0x123456783f800000
    fmv.w.x f3, t0
    fmv.x.d a0, f3
    CHECK_EQ a0, 0xffffffff3f800000
    CASE 92
    li a2, 3
    fcvt.s.w f3, a2
    fmv.x.d a0, f3
    CHECK_EQ a0, 0xffffffff40400000
    CASE 93
    la a1, fdata
    flw f3, 16(a1)
    fmv.x.d a0, f3
    CHECK_EQ a0, 0xffffffff7f800001
    CASE 94
    /* a boxed single is a NaN to double operations */
    csrw fflags, zero
    fadd.d f3, f3, f3
    FD_RESULT 0x7ff8000000000000, 0

    /* loads, stores and moves: bit-exact, no flags, NaNs untouched */
    CASE 95
    csrw fflags, zero
    la a1, fdata
    fld f1, 8(a1)
    fmv.x.d a0, f1
    CHECK_EQ a0, 0x7ff0000000000001
    CASE 96
    flw f2, 16(a1)
    fmv.x.w a0, f2
    CHECK_EQ a0, 0x7f800001
    CASE 97
    flw f2, 20(a1)
    fmv.x.w a0, f2
    CHECK_EQ a0, 0xffffffffbf800000
    CASE 98
    la a2, fstore
    sd zero, 0(a2)
    sd zero, 8(a2)
    fsd f1, 8(a2)
    fsw f2, 4(a2)
    ld a0, 0(a2)
    CHECK_EQ a0, 0xbf80000000000000
    ld a0, 8(a2)
    CHECK_EQ a0, 0x7ff0000000000001
    CASE 99
    li t0, 0xff800001
    fmv.w.x f4, t0
    fsw f4, 0(a2)
    lwu a0, 0(a2)
    CHECK_EQ a0, 0xff800001
    csrr a1, fflags
    CHECK_EQ a1, 0
    CASE 100
    /* negative offsets and the ends of the offset range */
    addi a3, a2, 16
    fld f5, -8(a3)
    fmv.x.d a0, f5
    CHECK_EQ a0, 0x7ff0000000000001
    flw f5, -12(a3)
    fmv.x.w a0, f5
    CHECK_EQ a0, 0xffffffffbf800000
    CASE 101
    la a3, fbig_mid
    li t0, 0x0123456789abcdef
    fmv.d.x f6, t0
    fsd f6, 2040(a3)
    fsd f6, -2048(a3)
    fld f7, 2040(a3)
    fmv.x.d a0, f7
    CHECK_EQ a0, 0x0123456789abcdef
    la a4, fbig_mid - 2048
    ld a0, 0(a4)
    CHECK_EQ a0, 0x0123456789abcdef
    fsw f6, 2044(a3)
    flw f7, 2044(a3)
    fmv.x.w a0, f7
    CHECK_EQ a0, 0xffffffff89abcdef
    CASE 102
    li t0, 0xfff0000000000001
    fmv.d.x f8, t0
    fmv.x.d a0, f8
    CHECK_EQ a0, 0xfff0000000000001
    fsgnj.d f9, f8, f8
    fmv.x.d a0, f9
    CHECK_EQ a0, 0xfff0000000000001
    csrr a1, fflags
    CHECK_EQ a1, 0

    /* f0 is an ordinary register; every register holds its own value */
    CASE 103
    li t0, 0x4000000000000000
    fmv.d.x f0, t0
    fadd.d f0, f0, f0
    fmv.x.d a0, f0
    CHECK_EQ a0, 0x4010000000000000
    CASE 104
    .irp r, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    li t0, 0x4000000000000000 + (\r << 32)
    fmv.d.x f\r, t0
    .endr
    .irp r, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    fmv.x.d a0, f\r
    CHECK_EQ a0, 0x4000000000000000 + (\r << 32)
    .endr
    CASE 105
    /* rd = rs1 = rs2 and rd = rs3 */
    FD_LOAD f10, 0x4008000000000000
    fmul.d f10, f10, f10
    fmv.x.d a0, f10
    CHECK_EQ a0, 0x4022000000000000
    FD_LOAD f11, 0x3ff0000000000000
    fmadd.d f11, f10, f10, f11
    fmv.x.d a0, f11
    CHECK_EQ a0, 0x4054800000000000
    CASE 106
    FS_LOAD f31, 0x40400000
    fsub.s f31, f31, f31
    fmv.x.d a0, f31
    CHECK_EQ a0, 0xffffffff00000000
    CASE 107
    /* fmv.x.w sign-extends bit 31; fmv.w.x takes the low 32 bits */
    li t0, 0x80000000
    fmv.w.x f12, t0
    fmv.x.w a0, f12
    CHECK_EQ a0, 0xffffffff80000000
    li t0, 0x7fffffff
    fmv.w.x f12, t0
    fmv.x.w a0, f12
    CHECK_EQ a0, 0x7fffffff
    CASE 108
    /* integer destination x0 is not written */
    FD_LOAD f1, 0x3ff0000000000000
    fmv.x.d x0, f1
    feq.d x0, f1, f1
    fcvt.l.d x0, f1
    CHECK_EQ x0, 0

    CASE 111
    /* A loop long enough for its blocks to be compiled and linked: each
     * round makes FS Clean, then an FP write in the middle of a block makes
     * it Dirty and the block goes on to a side exit and the next block;
     * FS must read Dirty after every round (a block decoded while FS was
     * Dirty, run while it is Clean, would leave it Clean). */
    li s2, 300
1:  SET_FS 2
    li t2, 0
    fmv.d.x f5, t2
    addi t2, t2, 1
    bnez s2, 2f
    addi t2, t2, 2
2:  addi t2, t2, 4
    CHECK_FS 3
    CHECK_EQ t2, 5
    addi s2, s2, -1
    bnez s2, 1b

    CASE 109
    /* turning FP off again makes it illegal again */
    SET_FS 0
    ILLEGAL fmv.d.x f1, zero
    CASE 110
    ILLEGAL frcsr a0
    PASS
