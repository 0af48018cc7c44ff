/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * Internal to engine/jit/: an x86-64 instruction encoder, just the forms the
 * code generator uses. Every write is bounds-checked: a buffer that runs out
 * sets `overflow` and takes no more bytes, and the caller gives up on the
 * block.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    uint8_t *start, *p, *end;
    bool overflow;
} X86Asm;

enum {
    X_RAX = 0,
    X_RCX = 1,
    X_RDX = 2,
    X_RBX = 3,
    X_RSP = 4,
    X_RBP = 5,
    X_RSI = 6,
    X_RDI = 7,
    X_R8 = 8,
    X_R9 = 9,
    X_R10 = 10,
    X_R11 = 11,
    X_R12 = 12,
    X_R13 = 13,
    X_R14 = 14,
    X_R15 = 15,
};

/* Condition codes (the low nibble of Jcc, SETcc, CMOVcc). */
enum {
    X_CC_B = 0x2,
    X_CC_AE = 0x3,
    X_CC_E = 0x4,
    X_CC_NE = 0x5,
    X_CC_BE = 0x6,
    X_CC_A = 0x7,
    X_CC_P = 0xa,
    X_CC_L = 0xc,
    X_CC_GE = 0xd,
    X_CC_G = 0xf,
};

/* Group-1 ALU operations: the /digit of 81/83 and the opcode (8 * digit + 3)
 * of "op r64, r/m64". */
enum {
    X_ADD = 0,
    X_OR = 1,
    X_ADC = 2,
    X_AND = 4,
    X_SUB = 5,
    X_XOR = 6,
    X_CMP = 7,
};

/* Group-2 shifts and rotates: the /digit of C1 and D3. */
enum {
    X_ROL = 0,
    X_ROR = 1,
    X_SHL = 4,
    X_SHR = 5,
    X_SAR = 7,
};

static inline void x_byte(X86Asm *a, uint8_t b)
{
    if (a->p < a->end) {
        *a->p++ = b;
    } else {
        a->overflow = true;
    }
}

static inline void x_u32(X86Asm *a, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        x_byte(a, (uint8_t)(v >> (8 * i)));
    }
}

static inline void x_u64(X86Asm *a, uint64_t v)
{
    x_u32(a, (uint32_t)v);
    x_u32(a, (uint32_t)(v >> 32));
}

static inline bool x_fits32(int64_t v)
{
    return v == (int64_t)(int32_t)v;
}

static inline bool x_fits8(int64_t v)
{
    return v == (int64_t)(int8_t)v;
}

/* A REX prefix when one is needed (byte registers past bl would need one
 * always; the generator uses al, cl and dl only). */
static inline void x_rex(X86Asm *a, bool w, int reg, int index, int base)
{
    uint8_t rex = (uint8_t)(0x40 | (w ? 8 : 0) | ((reg & 8) ? 4 : 0) | ((index & 8) ? 2 : 0) |
                            ((base & 8) ? 1 : 0));
    if (rex != 0x40) {
        x_byte(a, rex);
    }
}

/* ModRM (and SIB) for [base + disp]: always with a displacement, so rbp
 * and r13 need no special case; rsp and r12 need a SIB byte. */
static inline void x_modrm_mem(X86Asm *a, int reg, int base, int32_t disp)
{
    bool d8 = x_fits8(disp);
    x_byte(a, (uint8_t)((d8 ? 0x40 : 0x80) | ((reg & 7) << 3) | (base & 7)));
    if ((base & 7) == X_RSP) {
        x_byte(a, 0x24);
    }
    if (d8) {
        x_byte(a, (uint8_t)disp);
    } else {
        x_u32(a, (uint32_t)disp);
    }
}

/* opcode bytes (1-3) with a memory operand [base + disp]; `pfx66` for a
 * 16-bit operand. */
static inline void x_op_mem(X86Asm *a, bool w, bool pfx66, const uint8_t *opc, int n, int reg,
                            int base, int32_t disp)
{
    if (pfx66) {
        x_byte(a, 0x66);
    }
    x_rex(a, w, reg, 0, base);
    for (int i = 0; i < n; i++) {
        x_byte(a, opc[i]);
    }
    x_modrm_mem(a, reg, base, disp);
}

/* opcode bytes with a register operand (ModRM mod = 11). */
static inline void x_op_reg(X86Asm *a, bool w, const uint8_t *opc, int n, int reg, int rm)
{
    x_rex(a, w, reg, 0, rm);
    for (int i = 0; i < n; i++) {
        x_byte(a, opc[i]);
    }
    x_byte(a, (uint8_t)(0xc0 | ((reg & 7) << 3) | (rm & 7)));
}

#define X_OPC(...) ((const uint8_t[]){ __VA_ARGS__ }), (int)sizeof((const uint8_t[]){ __VA_ARGS__ })

/* mov r64, [base + disp] and mov [base + disp], r64 */
static inline void x_load64(X86Asm *a, int reg, int base, int32_t disp)
{
    x_op_mem(a, true, false, X_OPC(0x8b), reg, base, disp);
}

static inline void x_store64(X86Asm *a, int reg, int base, int32_t disp)
{
    x_op_mem(a, true, false, X_OPC(0x89), reg, base, disp);
}

/* mov r32, [base + disp] (zero-extends) */
static inline void x_load32(X86Asm *a, int reg, int base, int32_t disp)
{
    x_op_mem(a, false, false, X_OPC(0x8b), reg, base, disp);
}

/* mov r64, r64 */
static inline void x_mov_rr(X86Asm *a, int dst, int src)
{
    x_op_reg(a, true, X_OPC(0x89), src, dst);
}

/* mov r64, imm (the shortest form that gives the 64-bit value) */
static inline void x_mov_imm(X86Asm *a, int reg, uint64_t v)
{
    if (v <= 0xffffffffu) {
        x_rex(a, false, 0, 0, reg);
        x_byte(a, (uint8_t)(0xb8 + (reg & 7)));
        x_u32(a, (uint32_t)v);
    } else if (x_fits32((int64_t)v)) {
        x_rex(a, true, 0, 0, reg);
        x_byte(a, 0xc7);
        x_byte(a, (uint8_t)(0xc0 | (reg & 7)));
        x_u32(a, (uint32_t)v);
    } else {
        x_rex(a, true, 0, 0, reg);
        x_byte(a, (uint8_t)(0xb8 + (reg & 7)));
        x_u64(a, v);
    }
}

/* mov qword [base + disp], simm32 */
static inline void x_store_imm32(X86Asm *a, int base, int32_t disp, int32_t v)
{
    x_op_mem(a, true, false, X_OPC(0xc7), 0, base, disp);
    x_u32(a, (uint32_t)v);
}

/* op r64, [base + disp] (group 1: add, or, and, sub, xor, cmp) */
static inline void x_alu_mem(X86Asm *a, bool w, int op, int reg, int base, int32_t disp)
{
    x_op_mem(a, w, false, X_OPC((uint8_t)(op * 8 + 3)), reg, base, disp);
}

/* op r64, r64 */
static inline void x_alu_rr(X86Asm *a, bool w, int op, int dst, int src)
{
    x_op_reg(a, w, X_OPC((uint8_t)(op * 8 + 3)), dst, src);
}

/* op r, simm32 (imm8 form when it fits) */
static inline void x_alu_imm(X86Asm *a, bool w, int op, int reg, int32_t v)
{
    if (x_fits8(v)) {
        x_op_reg(a, w, X_OPC(0x83), op, reg);
        x_byte(a, (uint8_t)v);
    } else {
        x_op_reg(a, w, X_OPC(0x81), op, reg);
        x_u32(a, (uint32_t)v);
    }
}

/* cmp qword/byte [base + disp], imm8 */
static inline void x_cmp_mem_imm8(X86Asm *a, bool byte, int base, int32_t disp, int8_t v)
{
    x_op_mem(a, !byte, false, X_OPC(byte ? 0x80 : 0x83), X_CMP, base, disp);
    x_byte(a, (uint8_t)v);
}

/* shift or rotate r by cl, or by an immediate */
static inline void x_shift_cl(X86Asm *a, bool w, int op, int reg)
{
    x_op_reg(a, w, X_OPC(0xd3), op, reg);
}

static inline void x_shift_imm(X86Asm *a, bool w, int op, int reg, uint8_t n)
{
    x_op_reg(a, w, X_OPC(0xc1), op, reg);
    x_byte(a, n);
}

/* bt r, imm8: CF = bit `bit` of r */
static inline void x_bt_imm(X86Asm *a, bool w, int reg, uint8_t bit)
{
    x_op_reg(a, w, X_OPC(0x0f, 0xba), 4, reg);
    x_byte(a, bit);
}

/* movsxd r64, r32 */
static inline void x_movsxd_rr(X86Asm *a, int dst, int src)
{
    x_op_reg(a, true, X_OPC(0x63), dst, src);
}

/* setcc al; movzx eax, al */
static inline void x_setcc_rax(X86Asm *a, int cc)
{
    x_byte(a, 0x0f);
    x_byte(a, (uint8_t)(0x90 + cc));
    x_byte(a, 0xc0);
    x_byte(a, 0x0f);
    x_byte(a, 0xb6);
    x_byte(a, 0xc0);
}

/* cmovcc r64, r64 */
static inline void x_cmov_rr(X86Asm *a, int cc, int dst, int src)
{
    x_op_reg(a, true, X_OPC(0x0f, (uint8_t)(0x40 + cc)), dst, src);
}

/* jcc / jmp rel32; returns where the displacement goes, for x_patch(). */
static inline uint8_t *x_jcc(X86Asm *a, int cc)
{
    x_byte(a, 0x0f);
    x_byte(a, (uint8_t)(0x80 + cc));
    x_u32(a, 0);
    return a->p - 4;
}

static inline uint8_t *x_jmp(X86Asm *a)
{
    x_byte(a, 0xe9);
    x_u32(a, 0);
    return a->p - 4;
}

/* Points the rel32 at `at` to `target`. */
static inline void x_patch(X86Asm *a, uint8_t *at, const uint8_t *target)
{
    if (a->overflow) {
        return;
    }
    int32_t rel = (int32_t)(target - (at + 4));
    memcpy(at, &rel, 4);
}

/* SSE: a mandatory prefix (0x66, 0xf2, 0xf3, or 0 for none), REX, 0f and
 * `opc`, with a register operand (`rm`, an xmm or a general register as
 * the instruction says) or a memory one [base + disp]. `reg` is the ModRM
 * reg field: xmm0-xmm7 only (no REX.R), which is all the generator uses. */
static inline void x_sse_reg(X86Asm *a, uint8_t pfx, bool w, uint8_t opc, int reg, int rm)
{
    if (pfx != 0) {
        x_byte(a, pfx);
    }
    x_op_reg(a, w, X_OPC(0x0f, opc), reg, rm);
}

static inline void x_sse_mem(X86Asm *a, uint8_t pfx, bool w, uint8_t opc, int reg, int base,
                             int32_t disp)
{
    if (pfx != 0) {
        x_byte(a, pfx);
    }
    x_op_mem(a, w, false, X_OPC(0x0f, opc), reg, base, disp);
}

/* A VEX-encoded op of the 0f38 map with the 66 prefix, on xmm0-xmm7:
 * dst = op(dst, src1, src2) (the FMA3 forms); `w` selects binary64. */
static inline void x_vex_0f38_66(X86Asm *a, bool w, uint8_t opc, int dst, int src1, int src2)
{
    x_byte(a, 0xc4);
    x_byte(a, 0xe2); /* R, X and B clear (inverted), map 0f38 */
    x_byte(a, (uint8_t)((w ? 0x80 : 0) | ((~src1 & 15) << 3) | 0x01)); /* vvvv, L = 0, pp = 66 */
    x_byte(a, opc);
    x_byte(a, (uint8_t)(0xc0 | ((dst & 7) << 3) | (src2 & 7)));
}

/* test byte [base + disp], imm8 */
static inline void x_test_mem8(X86Asm *a, int base, int32_t disp, uint8_t v)
{
    x_op_mem(a, false, false, X_OPC(0xf6), 0, base, disp);
    x_byte(a, v);
}

/* lea dst, [src + src] (64 or 32 bits); src is neither rsp, rbp nor r13
 * (those would mean no index or no base in the SIB byte) */
static inline void x_lea_double(X86Asm *a, bool w, int dst, int src)
{
    x_rex(a, w, dst, src, src);
    x_byte(a, 0x8d);
    x_byte(a, (uint8_t)(0x04 | ((dst & 7) << 3)));
    x_byte(a, (uint8_t)(((src & 7) << 3) | (src & 7))); /* scale 1 */
}

static inline void x_push(X86Asm *a, int reg)
{
    x_rex(a, false, 0, 0, reg);
    x_byte(a, (uint8_t)(0x50 + (reg & 7)));
}

static inline void x_pop(X86Asm *a, int reg)
{
    x_rex(a, false, 0, 0, reg);
    x_byte(a, (uint8_t)(0x58 + (reg & 7)));
}
