/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The threaded interpreter. A decoded block is turned into an array of
 * (handler, instruction) pairs; running it jumps from one handler to the next
 * through the addresses stored in the array (computed goto), so there is no
 * central switch to mispredict. Loads and stores try the TLB fast path inline
 * and call out only on a miss.
 */
#include "engine/softfloat.h"
#include "ir-eval.h"
#include "tb.h"

#include <string.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "The interpreter reads guest memory in host order and needs a little-endian host."
#endif

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

static const void *const *handler_table;

/* Floating point. Returns false after raising illegal instruction for an
 * invalid dynamic rounding mode. */
bool vireo_interp_fp(VireoCpu *cpu, const VireoIrInsn *in)
{
    uint64_t *R = cpu->regs;
    uint64_t a = R[in->a], b = R[in->b], c = R[in->c];
    VireoFloatStatus st = { in->flags, cpu->fp_flags }; /* NX accrued: see softfloat.c */
    uint64_t r;

    if (st.rm == VIREO_IR_RM_DYN) {
        st.rm = cpu->fp_rm;
    }
    if (st.rm > VIREO_RM_RMM) {
        cpu->pc = vireo_cpu_insn_pc(cpu, in);
        cpu->cls->raise_illegal(cpu, (uint64_t)in->imm);
        return false;
    }
    switch ((VireoIrOp)in->op) {
    case VIREO_OP_FADD_S: r = box32(vireo_f32_add(unbox32(a), unbox32(b), &st)); break;
    case VIREO_OP_FSUB_S: r = box32(vireo_f32_sub(unbox32(a), unbox32(b), &st)); break;
    case VIREO_OP_FMUL_S: r = box32(vireo_f32_mul(unbox32(a), unbox32(b), &st)); break;
    case VIREO_OP_FDIV_S: r = box32(vireo_f32_div(unbox32(a), unbox32(b), &st)); break;
    case VIREO_OP_FSQRT_S: r = box32(vireo_f32_sqrt(unbox32(a), &st)); break;
    case VIREO_OP_FMADD_S:
        r = box32(vireo_f32_muladd(unbox32(a), unbox32(b), unbox32(c), false, false, &st));
        break;
    case VIREO_OP_FMSUB_S:
        r = box32(vireo_f32_muladd(unbox32(a), unbox32(b), unbox32(c), false, true, &st));
        break;
    case VIREO_OP_FNMSUB_S:
        r = box32(vireo_f32_muladd(unbox32(a), unbox32(b), unbox32(c), true, false, &st));
        break;
    case VIREO_OP_FNMADD_S:
        r = box32(vireo_f32_muladd(unbox32(a), unbox32(b), unbox32(c), true, true, &st));
        break;
    case VIREO_OP_FMIN_S: r = box32(vireo_f32_min(unbox32(a), unbox32(b), &st)); break;
    case VIREO_OP_FMAX_S: r = box32(vireo_f32_max(unbox32(a), unbox32(b), &st)); break;
    case VIREO_OP_FEQ_S: r = vireo_f32_eq(unbox32(a), unbox32(b), &st); break;
    case VIREO_OP_FLT_S: r = vireo_f32_lt(unbox32(a), unbox32(b), &st); break;
    case VIREO_OP_FLE_S: r = vireo_f32_le(unbox32(a), unbox32(b), &st); break;
    case VIREO_OP_FCLASS_S: r = vireo_f32_classify(unbox32(a)); break;
    case VIREO_OP_FSGNJ_S:
        r = box32((unbox32(a) & 0x7fffffffu) | (unbox32(b) & 0x80000000u));
        break;
    case VIREO_OP_FSGNJN_S:
        r = box32((unbox32(a) & 0x7fffffffu) | (~unbox32(b) & 0x80000000u));
        break;
    case VIREO_OP_FSGNJX_S: r = box32(unbox32(a) ^ (unbox32(b) & 0x80000000u)); break;
    case VIREO_OP_FADD_D: r = vireo_f64_add(a, b, &st); break;
    case VIREO_OP_FSUB_D: r = vireo_f64_sub(a, b, &st); break;
    case VIREO_OP_FMUL_D: r = vireo_f64_mul(a, b, &st); break;
    case VIREO_OP_FDIV_D: r = vireo_f64_div(a, b, &st); break;
    case VIREO_OP_FSQRT_D: r = vireo_f64_sqrt(a, &st); break;
    case VIREO_OP_FMADD_D: r = vireo_f64_muladd(a, b, c, false, false, &st); break;
    case VIREO_OP_FMSUB_D: r = vireo_f64_muladd(a, b, c, false, true, &st); break;
    case VIREO_OP_FNMSUB_D: r = vireo_f64_muladd(a, b, c, true, false, &st); break;
    case VIREO_OP_FNMADD_D: r = vireo_f64_muladd(a, b, c, true, true, &st); break;
    case VIREO_OP_FMIN_D: r = vireo_f64_min(a, b, &st); break;
    case VIREO_OP_FMAX_D: r = vireo_f64_max(a, b, &st); break;
    case VIREO_OP_FEQ_D: r = vireo_f64_eq(a, b, &st); break;
    case VIREO_OP_FLT_D: r = vireo_f64_lt(a, b, &st); break;
    case VIREO_OP_FLE_D: r = vireo_f64_le(a, b, &st); break;
    case VIREO_OP_FCLASS_D: r = vireo_f64_classify(a); break;
    case VIREO_OP_FSGNJ_D: r = (a & ~(1ull << 63)) | (b & (1ull << 63)); break;
    case VIREO_OP_FSGNJN_D: r = (a & ~(1ull << 63)) | (~b & (1ull << 63)); break;
    case VIREO_OP_FSGNJX_D: r = a ^ (b & (1ull << 63)); break;
    case VIREO_OP_FCVT_S_D: r = box32(vireo_f64_to_f32(a, &st)); break;
    case VIREO_OP_FCVT_D_S: r = vireo_f32_to_f64(unbox32(a), &st); break;
    case VIREO_OP_FCVT_W_S: r = (uint64_t)vireo_f32_to_i32(unbox32(a), &st); break;
    case VIREO_OP_FCVT_WU_S: r = (uint64_t)vireo_f32_to_u32(unbox32(a), &st); break;
    case VIREO_OP_FCVT_L_S: r = (uint64_t)vireo_f32_to_i64(unbox32(a), &st); break;
    case VIREO_OP_FCVT_LU_S: r = vireo_f32_to_u64(unbox32(a), &st); break;
    case VIREO_OP_FCVT_W_D: r = (uint64_t)vireo_f64_to_i32(a, &st); break;
    case VIREO_OP_FCVT_WU_D: r = (uint64_t)vireo_f64_to_u32(a, &st); break;
    case VIREO_OP_FCVT_L_D: r = (uint64_t)vireo_f64_to_i64(a, &st); break;
    case VIREO_OP_FCVT_LU_D: r = vireo_f64_to_u64(a, &st); break;
    case VIREO_OP_FCVT_S_W: r = box32(vireo_i32_to_f32((int32_t)a, &st)); break;
    case VIREO_OP_FCVT_S_WU: r = box32(vireo_u32_to_f32((uint32_t)a, &st)); break;
    case VIREO_OP_FCVT_S_L: r = box32(vireo_i64_to_f32((int64_t)a, &st)); break;
    case VIREO_OP_FCVT_S_LU: r = box32(vireo_u64_to_f32(a, &st)); break;
    case VIREO_OP_FCVT_D_W: r = vireo_i32_to_f64((int32_t)a, &st); break;
    case VIREO_OP_FCVT_D_WU: r = vireo_u32_to_f64((uint32_t)a, &st); break;
    case VIREO_OP_FCVT_D_L: r = vireo_i64_to_f64((int64_t)a, &st); break;
    case VIREO_OP_FCVT_D_LU: r = vireo_u64_to_f64(a, &st); break;
    case VIREO_OP_FADD_H: r = box16(vireo_f16_add(unbox16(a), unbox16(b), &st)); break;
    case VIREO_OP_FSUB_H: r = box16(vireo_f16_sub(unbox16(a), unbox16(b), &st)); break;
    case VIREO_OP_FMUL_H: r = box16(vireo_f16_mul(unbox16(a), unbox16(b), &st)); break;
    case VIREO_OP_FDIV_H: r = box16(vireo_f16_div(unbox16(a), unbox16(b), &st)); break;
    case VIREO_OP_FSQRT_H: r = box16(vireo_f16_sqrt(unbox16(a), &st)); break;
    case VIREO_OP_FMADD_H:
        r = box16(vireo_f16_muladd(unbox16(a), unbox16(b), unbox16(c), false, false, &st));
        break;
    case VIREO_OP_FMSUB_H:
        r = box16(vireo_f16_muladd(unbox16(a), unbox16(b), unbox16(c), false, true, &st));
        break;
    case VIREO_OP_FNMSUB_H:
        r = box16(vireo_f16_muladd(unbox16(a), unbox16(b), unbox16(c), true, false, &st));
        break;
    case VIREO_OP_FNMADD_H:
        r = box16(vireo_f16_muladd(unbox16(a), unbox16(b), unbox16(c), true, true, &st));
        break;
    case VIREO_OP_FMIN_H: r = box16(vireo_f16_min(unbox16(a), unbox16(b), &st)); break;
    case VIREO_OP_FMAX_H: r = box16(vireo_f16_max(unbox16(a), unbox16(b), &st)); break;
    case VIREO_OP_FEQ_H: r = vireo_f16_eq(unbox16(a), unbox16(b), &st); break;
    case VIREO_OP_FLT_H: r = vireo_f16_lt(unbox16(a), unbox16(b), &st); break;
    case VIREO_OP_FLE_H: r = vireo_f16_le(unbox16(a), unbox16(b), &st); break;
    case VIREO_OP_FCLASS_H: r = vireo_f16_classify(unbox16(a)); break;
    case VIREO_OP_FSGNJ_H: r = box16((unbox16(a) & 0x7fffu) | (unbox16(b) & 0x8000u)); break;
    case VIREO_OP_FSGNJN_H: r = box16((unbox16(a) & 0x7fffu) | (~unbox16(b) & 0x8000u)); break;
    case VIREO_OP_FSGNJX_H: r = box16(unbox16(a) ^ (unbox16(b) & 0x8000u)); break;
    case VIREO_OP_FCVT_S_H: r = box32(vireo_f16_to_f32(unbox16(a), &st)); break;
    case VIREO_OP_FCVT_H_S: r = box16(vireo_f32_to_f16(unbox32(a), &st)); break;
    case VIREO_OP_FCVT_D_H: r = vireo_f16_to_f64(unbox16(a), &st); break;
    case VIREO_OP_FCVT_H_D: r = box16(vireo_f64_to_f16(a, &st)); break;
    case VIREO_OP_FCVT_W_H: r = (uint64_t)vireo_f16_to_i32(unbox16(a), &st); break;
    case VIREO_OP_FCVT_WU_H: r = (uint64_t)vireo_f16_to_u32(unbox16(a), &st); break;
    case VIREO_OP_FCVT_L_H: r = (uint64_t)vireo_f16_to_i64(unbox16(a), &st); break;
    case VIREO_OP_FCVT_LU_H: r = vireo_f16_to_u64(unbox16(a), &st); break;
    case VIREO_OP_FCVT_H_W: r = box16(vireo_i32_to_f16((int32_t)a, &st)); break;
    case VIREO_OP_FCVT_H_WU: r = box16(vireo_u32_to_f16((uint32_t)a, &st)); break;
    case VIREO_OP_FCVT_H_L: r = box16(vireo_i64_to_f16((int64_t)a, &st)); break;
    case VIREO_OP_FCVT_H_LU: r = box16(vireo_u64_to_f16(a, &st)); break;
    default: g_assert_not_reached();
    }
    R[in->d] = r;
    cpu->fp_flags |= st.flags;
    return true;
}

#define CHECK_PERIOD VIREO_RUN_CHECK_PERIOD
#define PACK_INSNS   VIREO_PACK_INSNS
#define publish      vireo_run_publish

/* Whether the interpreter runs `tb` now (and so may go on to it without the
 * run loop): a block without code, unless the JIT wants to compile it at
 * this run (the JIT runs blocks on the interpreter until they are hot). */
static inline bool interp_runs(const VireoCpu *cpu, const VireoTb *tb)
{
    return tb->native == NULL && (cpu->backend == &vireo_interp_backend || tb->no_native ||
                                  tb->heat + 1 < cpu->jit_threshold);
}

void vireo_interp_exec(VireoCpu *cpu, VireoTb *tb, bool chain)
{
    /* clang-format off */
    static const void *const labels[VIREO_OP_COUNT] = {
#define VIREO_IR_LABEL(name, kind) [VIREO_OP_##name] = &&op_##name,
        VIREO_IR_OPS(VIREO_IR_LABEL)
#undef VIREO_IR_LABEL
    };
    /* clang-format on */
    const VireoExecInsn *ip;
    unsigned slot;
    uint64_t target;
    uint64_t packed = 0;
    unsigned budget = CHECK_PERIOD;
    uint64_t key; /* exec_key for following links; 1 (matches nothing) for one block */
    uint64_t *R;
    VireoTlbEntry *dtlb;

    if (cpu == NULL) {
        handler_table = labels;
        return;
    }
    R = cpu->regs;
    dtlb = cpu->dtlb;
    key = vireo_run_key(cpu, chain);
enter:
    cpu->cur_tb = tb;
    tb->heat++; /* for the JIT, which compiles hot blocks */
    ip = tb->code;

#define IN (ip->in)
#define NEXT()              \
    do {                    \
        ip++;               \
        goto * ip->handler; \
    } while (0)
#define DISPATCH() goto * ip->handler
#define ALU_R(name)                                     \
    op_##name:                                          \
    {                                                   \
        uint64_t a = R[IN.a], b = R[IN.b];              \
        R[IN.d] = vireo_ir_eval(VIREO_OP_##name, a, b); \
        NEXT();                                         \
    }
#define ALU_I(name)                                     \
    op_##name:                                          \
    {                                                   \
        uint64_t a = R[IN.a], b = (uint64_t)IN.imm;     \
        R[IN.d] = vireo_ir_eval(VIREO_OP_##name, a, b); \
        NEXT();                                         \
    }
#define ALU_U(name)                                     \
    op_##name:                                          \
    {                                                   \
        uint64_t a = R[IN.a];                           \
        R[IN.d] = vireo_ir_eval(VIREO_OP_##name, a, 0); \
        NEXT();                                         \
    }
#define TLB_INDEX(va) (((va) >> VIREO_PAGE_SHIFT) & (VIREO_TLB_SIZE - 1))
#define LOAD(name, type, size, ext)                                                       \
    op_##name:                                                                            \
    {                                                                                     \
        uint64_t va = R[IN.a] + (uint64_t)IN.imm;                                         \
        const VireoTlbEntry *e = &dtlb[TLB_INDEX(va)];                                    \
        if (likely(e->tag_r == (va & (~(uint64_t)(VIREO_PAGE_SIZE - 1) | (size - 1))))) { \
            type v;                                                                       \
            memcpy(&v, (const void *)(uintptr_t)(va + e->addend), sizeof v);              \
            R[IN.d] = ext(v);                                                             \
        } else {                                                                          \
            uint64_t v;                                                                   \
            if (!vireo_cpu_load_slow(cpu, &IN, va, size, &v)) {                           \
                goto trapped;                                                             \
            }                                                                             \
            R[IN.d] = ext((type)v);                                                       \
            dtlb = cpu->dtlb;                                                             \
        }                                                                                 \
        NEXT();                                                                           \
    }
#define STORE(name, type, size)                                                          \
    op_##name:                                                                           \
    {                                                                                    \
        uint64_t va = R[IN.a] + (uint64_t)IN.imm;                                        \
        const VireoTlbEntry *e = &dtlb[TLB_INDEX(va)];                                   \
        if (likely(e->tag_w == (va & (~(uint64_t)(VIREO_PAGE_SIZE - 1) | (size - 1))) && \
                   *e->page_flags == 0)) {                                               \
            type v = (type)R[IN.b];                                                      \
            memcpy((void *)(uintptr_t)(va + e->addend), &v, sizeof v);                   \
        } else {                                                                         \
            if (!vireo_cpu_store_slow(cpu, &IN, va, size, R[IN.b])) {                    \
                goto trapped;                                                            \
            }                                                                            \
            dtlb = cpu->dtlb;                                                            \
        }                                                                                \
        NEXT();                                                                          \
    }
#define BRANCH(name, cond)                 \
    op_##name:                             \
    {                                      \
        uint64_t a = R[IN.a], b = R[IN.b]; \
        if (cond) {                        \
            target = (uint64_t)IN.imm;     \
            slot = IN.c;                   \
        } else {                           \
            target = (uint64_t)IN.imm2;    \
            slot = IN.c + 1u;              \
        }                                  \
        goto linked;                       \
    }
#define SIDE_EXIT(name, cond)                                        \
    op_##name:                                                       \
    {                                                                \
        uint64_t a = R[IN.a], b = R[IN.b];                           \
        if (cond) {                                                  \
            target = (uint64_t)IN.imm;                               \
            slot = IN.c;                                             \
            packed += (IN.gidx + 1u) | (tb->acc_full & ~PACK_INSNS); \
            goto counted;                                            \
        }                                                            \
        NEXT();                                                      \
    }
/* The host address of an aligned atomic access: through the TLB when the
 * page is writable RAM that holds no code (so LR, SC and AMOs take the same
 * fast path as stores), else the slow path, which takes the exception and
 * returns NULL. */
#define ATOMIC_ADDR(va, size, is_lr)                                             \
    ({                                                                           \
        const VireoTlbEntry *e_ = &dtlb[TLB_INDEX(va)];                          \
        e_->tag_w == ((va) & (~(uint64_t)(VIREO_PAGE_SIZE - 1) | ((size)-1))) && \
                *e_->page_flags == 0                                             \
            ? (void *)(uintptr_t)((va) + e_->addend)                             \
            : vireo_cpu_atomic_addr(cpu, &IN, (va), (size), (is_lr));            \
    })
#define AMO(name, width)                                                \
    op_##name:                                                          \
    {                                                                   \
        void *p = ATOMIC_ADDR(R[IN.a], width / 8, false);               \
        if (p == NULL) {                                                \
            goto trapped;                                               \
        }                                                               \
        R[IN.d] = vireo_ir_atomic(cpu, VIREO_OP_##name, p, R[IN.b], 0); \
        NEXT();                                                         \
    }
#define IDENT(x) (x)
#define FP(name)                          \
    op_##name:                            \
    {                                     \
        if (!vireo_interp_fp(cpu, &IN)) { \
            goto trapped;                 \
        }                                 \
        NEXT();                           \
    }

    DISPATCH();

op_MOVI:
    R[IN.d] = (uint64_t)IN.imm;
    NEXT();
op_MOV:
    R[IN.d] = R[IN.a];
    NEXT();
    ALU_R(ADD)
    ALU_R(SUB)
    ALU_R(AND)
    ALU_R(OR)
    ALU_R(XOR)
    ALU_R(SHL)
    ALU_R(SHR)
    ALU_R(SAR)
    ALU_R(SLT)
    ALU_R(SLTU)
    ALU_R(SEQ)
    ALU_R(SNE)
    ALU_R(MUL)
    ALU_R(MULH)
    ALU_R(MULHU)
    ALU_R(MULHSU)
    ALU_R(DIV)
    ALU_R(DIVU)
    ALU_R(REM)
    ALU_R(REMU)
    ALU_I(ADDI)
    ALU_I(ANDI)
    ALU_I(ORI)
    ALU_I(XORI)
    ALU_I(SHLI)
    ALU_I(SHRI)
    ALU_I(SARI)
    ALU_I(SLTI)
    ALU_I(SLTIU)
    ALU_R(ADDW)
    ALU_R(SUBW)
    ALU_R(SHLW)
    ALU_R(SHRW)
    ALU_R(SARW)
    ALU_R(MULW)
    ALU_R(DIVW)
    ALU_R(DIVUW)
    ALU_R(REMW)
    ALU_R(REMUW)
    ALU_I(ADDIW)
    ALU_I(SHLIW)
    ALU_I(SHRIW)
    ALU_I(SARIW)
    ALU_U(SEXT8)
    ALU_U(SEXT16)
    ALU_U(SEXT32)
    ALU_U(ZEXT8)
    ALU_U(ZEXT16)
    ALU_U(ZEXT32)
    ALU_U(FBOX_S)
    ALU_U(FBOX_H)
    ALU_U(CLZ)
    ALU_U(CTZ)
    ALU_U(CPOP)
    ALU_U(CLZW)
    ALU_U(CTZW)
    ALU_U(CPOPW)
    ALU_U(REV8)
    ALU_U(ORCB)
    ALU_U(BREV8)
    ALU_R(ROL)
    ALU_R(ROR)
    ALU_R(ROLW)
    ALU_R(RORW)
    ALU_I(RORI)
    ALU_I(RORIW)
    ALU_R(MIN)
    ALU_R(MAX)
    ALU_R(MINU)
    ALU_R(MAXU)
    ALU_R(CLMUL)
    ALU_R(CLMULH)
    ALU_R(CLMULR)
    ALU_R(CZEQZ)
    ALU_R(CZNEZ)
    LOAD(LD8S, int8_t, 1, (uint64_t)(int64_t))
    LOAD(LD8U, uint8_t, 1, (uint64_t))
    LOAD(LD16S, int16_t, 2, (uint64_t)(int64_t))
    LOAD(LD16U, uint16_t, 2, (uint64_t))
    LOAD(LD32S, int32_t, 4, (uint64_t)(int64_t))
    LOAD(LD32U, uint32_t, 4, (uint64_t))
    LOAD(LD64, uint64_t, 8, IDENT)
    STORE(ST8, uint8_t, 1)
    STORE(ST16, uint16_t, 2)
    STORE(ST32, uint32_t, 4)
    STORE(ST64, uint64_t, 8)
    AMO(AMOSWAP32, 32)
    AMO(AMOADD32, 32)
    AMO(AMOAND32, 32)
    AMO(AMOOR32, 32)
    AMO(AMOXOR32, 32)
    AMO(AMOMIN32, 32)
    AMO(AMOMAX32, 32)
    AMO(AMOMINU32, 32)
    AMO(AMOMAXU32, 32)
    AMO(AMOSWAP64, 64)
    AMO(AMOADD64, 64)
    AMO(AMOAND64, 64)
    AMO(AMOOR64, 64)
    AMO(AMOXOR64, 64)
    AMO(AMOMIN64, 64)
    AMO(AMOMAX64, 64)
    AMO(AMOMINU64, 64)
    AMO(AMOMAXU64, 64)
op_LR32:
op_LR64 : {
    void *p = ATOMIC_ADDR(R[IN.a], IN.op == VIREO_OP_LR32 ? 4 : 8, true);
    if (p == NULL) {
        goto trapped;
    }
    R[IN.d] = vireo_ir_atomic(cpu, (VireoIrOp)IN.op, p, 0, 0);
    NEXT();
}
op_SC32:
op_SC64:
op_CAS32:
op_CAS64 : {
    void *p = ATOMIC_ADDR(R[IN.a], vireo_ir_atomic_size((VireoIrOp)IN.op), false);
    if (p == NULL) {
        goto trapped;
    }
    R[IN.d] = vireo_ir_atomic(cpu, (VireoIrOp)IN.op, p, R[IN.b], R[IN.c]);
    NEXT();
}
op_FENCE:
    if (IN.flags & VIREO_IR_FENCE_STORE_LOAD) {
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
    } else {
        __atomic_thread_fence(__ATOMIC_ACQ_REL);
    }
    NEXT();
    FP(FADD_S)
    FP(FSUB_S)
    FP(FMUL_S)
    FP(FDIV_S)
    FP(FSQRT_S)
    FP(FMADD_S)
    FP(FMSUB_S)
    FP(FNMSUB_S)
    FP(FNMADD_S)
    FP(FMIN_S)
    FP(FMAX_S)
    FP(FEQ_S)
    FP(FLT_S)
    FP(FLE_S)
    FP(FCLASS_S)
    FP(FSGNJ_S)
    FP(FSGNJN_S)
    FP(FSGNJX_S)
    FP(FADD_D)
    FP(FSUB_D)
    FP(FMUL_D)
    FP(FDIV_D)
    FP(FSQRT_D)
    FP(FMADD_D)
    FP(FMSUB_D)
    FP(FNMSUB_D)
    FP(FNMADD_D)
    FP(FMIN_D)
    FP(FMAX_D)
    FP(FEQ_D)
    FP(FLT_D)
    FP(FLE_D)
    FP(FCLASS_D)
    FP(FSGNJ_D)
    FP(FSGNJN_D)
    FP(FSGNJX_D)
    FP(FCVT_S_D)
    FP(FCVT_D_S)
    FP(FCVT_W_S)
    FP(FCVT_WU_S)
    FP(FCVT_L_S)
    FP(FCVT_LU_S)
    FP(FCVT_W_D)
    FP(FCVT_WU_D)
    FP(FCVT_L_D)
    FP(FCVT_LU_D)
    FP(FCVT_S_W)
    FP(FCVT_S_WU)
    FP(FCVT_S_L)
    FP(FCVT_S_LU)
    FP(FCVT_D_W)
    FP(FCVT_D_WU)
    FP(FCVT_D_L)
    FP(FCVT_D_LU)
    FP(FADD_H)
    FP(FSUB_H)
    FP(FMUL_H)
    FP(FDIV_H)
    FP(FSQRT_H)
    FP(FMADD_H)
    FP(FMSUB_H)
    FP(FNMSUB_H)
    FP(FNMADD_H)
    FP(FMIN_H)
    FP(FMAX_H)
    FP(FEQ_H)
    FP(FLT_H)
    FP(FLE_H)
    FP(FCLASS_H)
    FP(FSGNJ_H)
    FP(FSGNJN_H)
    FP(FSGNJX_H)
    FP(FCVT_S_H)
    FP(FCVT_H_S)
    FP(FCVT_D_H)
    FP(FCVT_H_D)
    FP(FCVT_W_H)
    FP(FCVT_WU_H)
    FP(FCVT_L_H)
    FP(FCVT_LU_H)
    FP(FCVT_H_W)
    FP(FCVT_H_WU)
    FP(FCVT_H_L)
    FP(FCVT_H_LU)
op_HELPER : {
    int r;
    publish(cpu, &packed, &budget); /* instret must be exact for the helper */
    r = IN.helper(cpu, &IN);
    if (likely(r == 0)) {
        dtlb = cpu->dtlb;
        key = vireo_run_key(cpu, chain);
        NEXT();
    }
    if (r == VIREO_IR_TRAP) {
        goto trapped;
    }
    /* The instruction retired and set the pc. Helpers that change state the
     * dispatcher must see also raise exit_request. */
    packed += (IN.gidx + 1u) | (tb->acc_full & ~PACK_INSNS);
    /* The helper may have changed privilege (sret, mret): the next block
     * runs in the context it left. */
    dtlb = cpu->dtlb;
    key = vireo_run_key(cpu, chain);
    goto lookup;
}
    BRANCH(BEQ, a == b)
    BRANCH(BNE, a != b)
    BRANCH(BLT, (int64_t)a < (int64_t)b)
    BRANCH(BGE, (int64_t)a >= (int64_t)b)
    BRANCH(BLTU, a < b)
    BRANCH(BGEU, a >= b)
    SIDE_EXIT(XEQ, a == b)
    SIDE_EXIT(XNE, a != b)
    SIDE_EXIT(XLT, (int64_t)a < (int64_t)b)
    SIDE_EXIT(XGE, (int64_t)a >= (int64_t)b)
    SIDE_EXIT(XLTU, a < b)
    SIDE_EXIT(XGEU, a >= b)
op_JMP:
op_EXIT:
    target = (uint64_t)IN.imm;
    slot = IN.c;
    goto linked;
op_JMPR:
    cpu->pc = (R[IN.a] + (uint64_t)IN.imm) & ~(uint64_t)IN.flags;
    packed += tb->acc_full;
    goto lookup;
op_WFI:
    cpu->pc = (uint64_t)IN.imm;
    cpu->halted = true;
    packed += tb->acc_full;
    budget--;
    goto out;
op_DEBUG:
    /* Only decoded while a debugger has a breakpoint here: the instruction
     * does not run, and the run loop stops the machine. */
    cpu->pc = (uint64_t)IN.imm;
    cpu->debug->event = VIREO_DEBUG_BREAKPOINT;
    vireo_cpu_request_exit(cpu);
    goto trapped;
op_TRAP:
    cpu->pc = vireo_cpu_insn_pc(cpu, &IN);
    cpu->cls->raise(cpu, (uint64_t)IN.imm, (uint64_t)IN.imm2);
    goto trapped;

linked:
    /* The whole block ran; it leaves for `target` through link `slot`. */
    packed += tb->acc_full;
counted:
    tb = vireo_run_follow(cpu, tb, slot, target, key, &packed, &budget, interp_runs);
    if (likely(tb != NULL)) {
        goto enter;
    }
    goto out;

lookup:
    /* A computed target: through the jump cache. */
    tb = vireo_run_lookup(cpu, key, &packed, &budget, interp_runs);
    if (likely(tb != NULL)) {
        goto enter;
    }
    goto out;

trapped:
    /* The exception has been taken; the instructions before this one
     * retired, this one did not. */
    packed += IN.gidx | (tb->acc_full & ~PACK_INSNS);
    budget--;
out:
    publish(cpu, &packed, &budget);
    cpu->cur_tb = NULL;
    return;

#undef IN
#undef NEXT
#undef DISPATCH
}

static uint32_t count_links(const VireoIrBlock *block)
{
    uint32_t n_links = 0;

    for (uint32_t i = 0; i < block->n_ops; i++) {
        VireoIrKind k = vireo_ir_op_kind(block->ops[i].op);
        VireoIrOp op = block->ops[i].op;
        if (k == VIREO_IR_KIND_SX || op == VIREO_OP_JMP || op == VIREO_OP_EXIT) {
            n_links += 1;
        } else if (k == VIREO_IR_KIND_BR) {
            n_links += 2;
        }
    }
    return n_links;
}

size_t vireo_interp_tb_bytes(const VireoIrBlock *block)
{
    return sizeof(VireoTb) + sizeof(VireoExecInsn) * block->n_ops +
           sizeof(VireoTbLink) * count_links(block) + sizeof(uint16_t) * (block->n_guest + 1);
}

VireoTb *vireo_interp_compile(const VireoIrBlock *block, void *mem)
{
    size_t code_bytes = sizeof(VireoExecInsn) * block->n_ops;
    uint32_t n_links = count_links(block);
    size_t link_bytes;
    VireoTb *tb = mem;

    if (handler_table == NULL) {
        vireo_interp_exec(NULL, NULL, false);
    }
    link_bytes = sizeof(VireoTbLink) * n_links;
    tb->next = NULL;
    tb->vpc = block->pc;
    tb->ppc = 0;
    tb->gen = 0;
    tb->flags = 0;
    tb->n_ops = block->n_ops;
    tb->n_guest = block->n_guest;
    tb->n_mem = block->n_mem;
    tb->n_links = n_links;
    tb->acc_full = vireo_tb_pack(block);
    tb->native = NULL;
    tb->native_checked = NULL;
    tb->native_entry = NULL;
    tb->native_links = NULL;
    tb->guest_code = NULL;
    tb->guest_len = block->guest_len;
    tb->no_native = false;
    tb->heat = 0;
    tb->links = (VireoTbLink *)(void *)((char *)tb->code + code_bytes);
    memset(tb->links, 0, link_bytes);
    n_links = 0;
    for (uint32_t i = 0; i < block->n_ops; i++) {
        VireoIrInsn in = block->ops[i];
        VireoIrKind k = vireo_ir_op_kind(in.op);
        if (k == VIREO_IR_KIND_SX || in.op == VIREO_OP_JMP || in.op == VIREO_OP_EXIT) {
            in.c = (uint8_t)n_links++;
        } else if (k == VIREO_IR_KIND_BR) {
            in.c = (uint8_t)n_links;
            n_links += 2;
        }
        tb->code[i].handler = handler_table[in.op];
        tb->code[i].in = in;
    }
    tb->pc_off = (uint16_t *)(void *)((char *)tb->links + link_bytes);
    memcpy(tb->pc_off, block->pc_off, sizeof(uint16_t) * (block->n_guest + 1));
    return tb;
}

static size_t interp_size(VireoCpu *cpu, const VireoIrBlock *block)
{
    (void)cpu;
    return vireo_interp_tb_bytes(block);
}

static VireoTb *interp_compile(VireoCpu *cpu, const VireoIrBlock *block, void *mem, size_t *used)
{
    (void)cpu;
    *used = vireo_interp_tb_bytes(block);
    return vireo_interp_compile(block, mem);
}

/* Blocks live in the core's code buffer and hold nothing else: dropping
 * them needs no work (invalidate and free are NULL). */
const VireoBackendOps vireo_interp_backend = {
    .name = "interp",
    .executable = false,
    .size = interp_size,
    .compile = interp_compile,
    .execute = vireo_interp_exec,
};
