/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Zbb: andn/orn/xnor, clz/ctz/cpop and their W forms (zero gives the
 * width, all ones gives 64 or 32), min/max/minu/maxu at the signed and
 * unsigned boundaries, sext.b/sext.h/zext.h, rol/ror/rolw/rorw/rori/roriw by
 * 0, 1 and width - 1 and amounts taken modulo the width, orc.b and rev8,
 * register aliasing and x0 as destination.
 * Expected values follow the operations' definitions in the unprivileged
 * specification's bit-manipulation chapter.
 */
#include "test-macros.inc"

TEST_MAIN
    /* Zbb: logic with a negated operand */
    T_RR 1, andn, 0xffffffffffffffff, 0xffffffffffffffff, 0x0
    T_RR 2, andn, 0x0, 0xffffffffffffffff, 0xffffffffffffffff
    T_RR 3, andn, 0x123456789abcdef, 0x8123456789abcdef, 0xfedcba9876543210
    T_RR_DD 4, andn, 0x0, 0x8123456789abcdef
    T_RR_D2 5, andn, 0xf000, 0xff00, 0xff0
    T_RR 6, orn, 0xffffffffffffffff, 0x0, 0x0
    T_RR 7, orn, 0x0, 0x0, 0xffffffffffffffff
    T_RR 8, orn, 0x8123456789abcdef, 0x8123456789abcdef, 0xfedcba9876543210
    T_RR_DD 9, orn, 0xffffffffffffffff, 0x8123456789abcdef
    T_RR_D1 10, orn, 0xffffffffffffff0f, 0xff00, 0xff0
    T_RR 11, xnor, 0xffffffffffffffff, 0x0, 0x0
    T_RR 12, xnor, 0x0, 0xffffffffffffffff, 0x0
    T_RR 13, xnor, 0x8000000000000000, 0x8123456789abcdef, 0xfedcba9876543210
    T_RR_DD 14, xnor, 0xffffffffffffffff, 0x8123456789abcdef

    /* Zbb: counts (clz/ctz of zero give the width; the W forms look at the low word) */
    T_R1 15, clz, 0x40, 0x0
    T_R1 16, clz, 0x3f, 0x1
    T_R1 17, clz, 0x0, 0xffffffffffffffff
    T_R1 18, clz, 0x0, 0x8000000000000000
    T_R1 19, clz, 0x8, 0xff000000000000
    T_R1 20, clz, 0x1f, 0x100000000
    T_R1 21, clz, 0x0, 0x8123456789abcdef
    T_R1 22, ctz, 0x40, 0x0
    T_R1 23, ctz, 0x0, 0x1
    T_R1 24, ctz, 0x0, 0xffffffffffffffff
    T_R1 25, ctz, 0x3f, 0x8000000000000000
    T_R1 26, ctz, 0x20, 0x100000000
    T_R1 27, ctz, 0x10, 0x10000
    T_R1 28, ctz, 0x4, 0xfedcba9876543210
    T_R1 29, cpop, 0x0, 0x0
    T_R1 30, cpop, 0x40, 0xffffffffffffffff
    T_R1 31, cpop, 0x1, 0x1
    T_R1 32, cpop, 0x2, 0x8000000000000001
    T_R1 33, cpop, 0x21, 0x8123456789abcdef
    T_R1 34, clzw, 0x20, 0x0
    T_R1 35, clzw, 0x20, 0xffffffff00000000
    T_R1 36, clzw, 0x0, 0x80000000
    T_R1 37, clzw, 0x1f, 0x1
    T_R1 38, clzw, 0x10, 0xffff
    T_R1 39, clzw, 0xf, 0xffffffff00010000
    T_R1 40, ctzw, 0x20, 0x0
    T_R1 41, ctzw, 0x20, 0xffffffff00000000
    T_R1 42, ctzw, 0x1f, 0x80000000
    T_R1 43, ctzw, 0x0, 0x1
    T_R1 44, ctzw, 0x12, 0x12340000
    T_R1 45, ctzw, 0x8, 0xffffffff00000100
    T_R1 46, cpopw, 0x0, 0x0
    T_R1 47, cpopw, 0x20, 0xffffffffffffffff
    T_R1 48, cpopw, 0x0, 0xffffffff00000000
    T_R1 49, cpopw, 0x2, 0x80000001
    T_R1 50, cpopw, 0x14, 0x8123456789abcdef
    T_R1_D 51, clz, 0x3b, 0x10
    T_R1_D 52, ctz, 0x4, 0x10
    T_R1_D 53, cpop, 0x8, 0xff

    /* Zbb: signed and unsigned minimum and maximum */
    T_RR 54, min, 0xffffffffffffffff, 0x0, 0xffffffffffffffff
    T_RR 55, min, 0xffffffffffffffff, 0xffffffffffffffff, 0x0
    T_RR 56, min, 0x8000000000000000, 0x7fffffffffffffff, 0x8000000000000000
    T_RR 57, min, 0x8000000000000000, 0x8000000000000000, 0x7fffffffffffffff
    T_RR 58, min, 0x5, 0x5, 0x5
    T_RR 59, min, 0xfffffffffffffffd, 0x3, 0xfffffffffffffffd
    T_RR_D1 60, min, 0xfffffffffffffff9, 0x7, 0xfffffffffffffff9
    T_RR_D2 61, min, 0xfffffffffffffff9, 0x7, 0xfffffffffffffff9
    T_RR 62, max, 0x0, 0x0, 0xffffffffffffffff
    T_RR 63, max, 0x0, 0xffffffffffffffff, 0x0
    T_RR 64, max, 0x7fffffffffffffff, 0x7fffffffffffffff, 0x8000000000000000
    T_RR 65, max, 0x7fffffffffffffff, 0x8000000000000000, 0x7fffffffffffffff
    T_RR 66, max, 0x5, 0x5, 0x5
    T_RR 67, max, 0x3, 0x3, 0xfffffffffffffffd
    T_RR_D1 68, max, 0x7, 0x7, 0xfffffffffffffff9
    T_RR_D2 69, max, 0x7, 0x7, 0xfffffffffffffff9
    T_RR 70, minu, 0x0, 0x0, 0xffffffffffffffff
    T_RR 71, minu, 0x0, 0xffffffffffffffff, 0x0
    T_RR 72, minu, 0x7fffffffffffffff, 0x7fffffffffffffff, 0x8000000000000000
    T_RR 73, minu, 0x7fffffffffffffff, 0x8000000000000000, 0x7fffffffffffffff
    T_RR 74, minu, 0x5, 0x5, 0x5
    T_RR 75, minu, 0x3, 0x3, 0xfffffffffffffffd
    T_RR_D1 76, minu, 0x7, 0x7, 0xfffffffffffffff9
    T_RR_D2 78, minu, 0x7, 0x7, 0xfffffffffffffff9
    T_RR 79, maxu, 0xffffffffffffffff, 0x0, 0xffffffffffffffff
    T_RR 80, maxu, 0xffffffffffffffff, 0xffffffffffffffff, 0x0
    T_RR 81, maxu, 0x8000000000000000, 0x7fffffffffffffff, 0x8000000000000000
    T_RR 82, maxu, 0x8000000000000000, 0x8000000000000000, 0x7fffffffffffffff
    T_RR 83, maxu, 0x5, 0x5, 0x5
    T_RR 84, maxu, 0xfffffffffffffffd, 0x3, 0xfffffffffffffffd
    T_RR_D1 85, maxu, 0xfffffffffffffff9, 0x7, 0xfffffffffffffff9
    T_RR_D2 86, maxu, 0xfffffffffffffff9, 0x7, 0xfffffffffffffff9

    /* Zbb: sign and zero extension */
    T_R1 87, sext.b, 0x0, 0x0
    T_R1 88, sext.b, 0x7f, 0x7f
    T_R1 89, sext.b, 0xffffffffffffff80, 0x80
    T_R1 90, sext.b, 0xffffffffffffffff, 0xff
    T_R1 91, sext.b, 0xffffffffffffff80, 0x1234567890abcd80
    T_R1 92, sext.b, 0xffffffffffffffff, 0xffffffffffffffff
    T_R1 93, sext.h, 0x0, 0x0
    T_R1 94, sext.h, 0x7fff, 0x7fff
    T_R1 95, sext.h, 0xffffffffffff8000, 0x8000
    T_R1 96, sext.h, 0xffffffffffffffff, 0xffff
    T_R1 97, sext.h, 0xffffffffffff8001, 0x1234567890ab8001
    T_R1 98, zext.h, 0x0, 0x0
    T_R1 99, zext.h, 0xffff, 0xffff
    T_R1 100, zext.h, 0x8000, 0x8000
    T_R1 101, zext.h, 0xffff, 0xffffffffffffffff
    T_R1 102, zext.h, 0xdef0, 0x123456789abcdef0

    /* Zbb: rotates by 0, 1, width - 1 and amounts taken modulo the width */
    T_RR 103, rol, 0x8123456789abcdef, 0x8123456789abcdef, 0x0
    T_RR 104, rol, 0x2468acf13579bdf, 0x8123456789abcdef, 0x1
    T_RR 105, rol, 0x123456789abcdef8, 0x8123456789abcdef, 0x4
    T_RR 106, rol, 0xc091a2b3c4d5e6f7, 0x8123456789abcdef, 0x3f
    T_RR 107, rol, 0x8123456789abcdef, 0x8123456789abcdef, 0x40
    T_RR 108, rol, 0x2468acf13579bdf, 0x8123456789abcdef, 0x41
    T_RR 109, rol, 0xc091a2b3c4d5e6f7, 0x8123456789abcdef, 0xffffffffffffffff
    T_RR 110, ror, 0x8123456789abcdef, 0x8123456789abcdef, 0x0
    T_RR 111, ror, 0xc091a2b3c4d5e6f7, 0x8123456789abcdef, 0x1
    T_RR 112, ror, 0xf8123456789abcde, 0x8123456789abcdef, 0x4
    T_RR 113, ror, 0x2468acf13579bdf, 0x8123456789abcdef, 0x3f
    T_RR 114, ror, 0x8123456789abcdef, 0x8123456789abcdef, 0x40
    T_RR 115, ror, 0xc091a2b3c4d5e6f7, 0x8123456789abcdef, 0x41
    T_RR 116, ror, 0x2468acf13579bdf, 0x8123456789abcdef, 0xffffffffffffffff
    T_RR_DD 117, rol, 0xe6f7c091a2b3c4d5, 0x8123456789abcdef
    T_RR_DD 118, ror, 0x8acf13579bdf0246, 0x8123456789abcdef
    T_RR 119, rolw, 0x40000001, 0xffffffff40000001, 0x0
    T_RR 120, rolw, 0xffffffff80000002, 0xffffffff40000001, 0x1
    T_RR 121, rolw, 0xffffffffa0000000, 0xffffffff40000001, 0x1f
    T_RR 122, rolw, 0x40000001, 0xffffffff40000001, 0x20
    T_RR 123, rolw, 0xffffffff80000002, 0xffffffff40000001, 0x21
    T_RR 124, rorw, 0xffffffff80000002, 0x80000002, 0x0
    T_RR 125, rorw, 0x40000001, 0x80000002, 0x1
    T_RR 126, rorw, 0x5, 0x80000002, 0x1f
    T_RR 127, rorw, 0xffffffff80000002, 0x80000002, 0x20
    T_RR 128, rorw, 0x40000001, 0x80000002, 0x21
    T_RI 129, rori, 0x8123456789abcdef, 0x8123456789abcdef, 0
    T_RI 130, rori, 0xc091a2b3c4d5e6f7, 0x8123456789abcdef, 1
    T_RI 131, rori, 0x89abcdef81234567, 0x8123456789abcdef, 32
    T_RI 132, rori, 0x2468acf13579bdf, 0x8123456789abcdef, 63
    T_RI_D 133, rori, 0xef8123456789abcd, 0x8123456789abcdef, 8
    T_RI 134, roriw, 0xfffffffffffe0001, 0x12345678fffe0001, 0
    T_RI 135, roriw, 0xffffffffffff0000, 0x12345678fffe0001, 1
    T_RI 136, roriw, 0x1fffe, 0x12345678fffe0001, 16
    T_RI 137, roriw, 0xfffffffffffc0003, 0x12345678fffe0001, 31

    /* Zbb: orc.b and rev8 */
    T_R1 138, orc.b, 0x0, 0x0
    T_R1 139, orc.b, 0xffffffffffffffff, 0xffffffffffffffff
    T_R1 140, orc.b, 0xff000000000000ff, 0x100000000000080
    T_R1 141, orc.b, 0xff0000ff0000ff, 0xff00000f000001
    T_R1 142, orc.b, 0xffffffffffffffff, 0x8123456789abcdef
    T_R1 143, orc.b, 0xff00000000000000, 0x8000000000000000
    T_R1 144, rev8, 0x0, 0x0
    T_R1 145, rev8, 0xffffffffffffffff, 0xffffffffffffffff
    T_R1 146, rev8, 0xefcdab8967452301, 0x123456789abcdef
    T_R1 147, rev8, 0x100000000000080, 0x8000000000000001
    T_R1 148, rev8, 0xff00000000000000, 0xff
    T_R1_D 149, orc.b, 0xff00000000ff00, 0x1000000000100
    T_R1_D 150, rev8, 0xefcdab8967452301, 0x123456789abcdef

    /* x0 as the destination: no effect */
    CASE 151
    li a1, -1
    li a2, 7
    clz zero, a1
    rol zero, a1, a2
    max zero, a1, a2
    rev8 zero, a1
    orc.b zero, a1
    CHECK_EQ x0, 0
    CHECK_EQ a1, -1
    CHECK_EQ a2, 7
    PASS
