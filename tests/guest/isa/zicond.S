/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Zicond: czero.eqz (rd = rs2 == 0 ? 0 : rs1) and czero.nez (rd = rs2 != 0 ?
 * 0 : rs1) with zero, all-ones and sign-bit conditions, x0 as condition (eqz
 * always zero, nez always rs1) and as value, register aliasing and x0 as
 * destination. QEMU 7.2 does not have Zicond (run-qemu.sh leaves it out);
 * the instructions are written with .insn, which any assembler takes.
 */
#include "test-macros.inc"

#define CZERO_EQZ(rd, rs1, rs2) .insn r 0x33, 5, 7, rd, rs1, rs2
#define CZERO_NEZ(rd, rs1, rs2) .insn r 0x33, 7, 7, rd, rs1, rs2

/* a0 = czero.{eqz,nez}(a, b) through a1 and a2; the sources are unchanged. */
.macro T_CZ n, which, res, a, b
    CASE \n
    li a1, \a
    li a2, \b
    .ifc \which, eqz
    CZERO_EQZ(a0, a1, a2)
    .else
    CZERO_NEZ(a0, a1, a2)
    .endif
    CHECK_EQ a0, \res
    CHECK_EQ a1, \a
    CHECK_EQ a2, \b
.endm

TEST_MAIN
    T_CZ 1, eqz, 0, 0x1234, 0
    T_CZ 2, eqz, 0x1234, 0x1234, 1
    T_CZ 3, eqz, -1, -1, -1
    T_CZ 4, eqz, 0x8000000000000000, 0x8000000000000000, 0x8000000000000000
    T_CZ 5, eqz, 0x7fffffffffffffff, 0x7fffffffffffffff, 0x100000000
    T_CZ 6, eqz, 0, -1, 0
    T_CZ 7, nez, 0x1234, 0x1234, 0
    T_CZ 8, nez, 0, 0x1234, 1
    T_CZ 9, nez, 0, -1, -1
    T_CZ 10, nez, 0, 0x8000000000000000, 0x8000000000000000
    T_CZ 11, nez, 0, 0x7fffffffffffffff, 0x100000000
    T_CZ 12, nez, -1, -1, 0

    /* x0 as the condition: eqz always gives zero, nez always rs1 */
    CASE 13
    li a1, 0x5555
    CZERO_EQZ(a0, a1, x0)
    CHECK_EQ a0, 0
    CASE 14
    li a1, 0x5555
    CZERO_NEZ(a0, a1, x0)
    CHECK_EQ a0, 0x5555
    /* x0 as the value: always zero */
    CASE 15
    li a0, 1
    li a2, 1
    CZERO_EQZ(a0, x0, a2)
    CHECK_EQ a0, 0
    li a0, 1
    CZERO_NEZ(a0, x0, x0)
    CHECK_EQ a0, 0

    /* rd = rs1, rd = rs2, rd = rs1 = rs2 */
    CASE 16
    li a1, 0x77
    li a2, 3
    CZERO_EQZ(a1, a1, a2)
    CHECK_EQ a1, 0x77
    CASE 17
    li a1, 0x77
    li a2, 3
    CZERO_NEZ(a2, a1, a2)
    CHECK_EQ a2, 0
    CASE 18
    li a1, 0x77
    CZERO_EQZ(a1, a1, a1)
    CHECK_EQ a1, 0x77
    CASE 19
    li a1, 0x77
    CZERO_NEZ(a1, a1, a1)
    CHECK_EQ a1, 0
    CASE 20
    li a1, 0
    CZERO_EQZ(a1, a1, a1)
    CHECK_EQ a1, 0

    /* x0 as the destination: no effect */
    CASE 21
    li a1, -1
    li a2, 0
    CZERO_EQZ(x0, a1, a2)
    CZERO_NEZ(x0, a1, a2)
    CHECK_EQ x0, 0
    CHECK_EQ a1, -1
    PASS
