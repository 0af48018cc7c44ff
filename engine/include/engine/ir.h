/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/*
 * Vireo's intermediate representation. A frontend decodes a run of guest
 * instructions (a block) into IR instructions over a flat file of 64-bit
 * registers: guest integer registers, guest floating-point registers (raw
 * bits) and temporaries, laid out as the frontend chooses within
 * VIREO_IR_NREGS. Register 0 always reads as zero and is never written.
 * Every block ends with exactly one terminator (a jump, a conditional branch,
 * an indirect jump, an exit, a trap, a wait-for-interrupt or a debugger's
 * stop). Backends (engine/include/engine/backend.h: the threaded
 * interpreter, the JIT) run blocks; none knows the guest architecture: what
 * is architecture-specific is expressed in the op's defined semantics or
 * reached through the CPU's callbacks (VireoCpuClass) and helpers, so that
 * other frontends can use the same backends.
 *
 * The opcodes are defined once, in VIREO_IR_OPS:
 *   X(NAME, KIND)  where KIND tells which fields the op reads:
 *     R   d = a op b              I   d = a op imm
 *     U   d = op a                K   d = imm
 *     LD  d = mem[a + imm]        ST  mem[a + imm] = b
 *     AT  atomics: d = old mem[a], b = operand, c = expected (CAS)
 *     F   floating point: d = op(a, b, c), rm in `flags`
 *     BR  if (a cmp b) goto imm else goto imm2 (a terminator)
 *     SX  side exit: if (a cmp b) leave the block for imm (the instructions
 *         before it and this one retired), else go on with the next op
 *     T   terminators and system operations
 *
 * Side exits let a block run on along a branch's not-taken path: the
 * RISC-V frontend makes every forward conditional branch one, and ends a
 * block with a BR op at a backward branch (a loop's back edge).
 *
 * Defined results where hardware differs: shift amounts are taken modulo the
 * operand width; DIV/DIVU by zero give all ones and REM/REMU by zero give the
 * dividend; DIV of the most negative value by -1 gives the dividend and REM
 * gives 0. Rotate amounts are taken modulo the width too (ROLW/RORW/RORIW
 * rotate the low 32 bits and sign-extend); CLZ/CTZ of zero give the operand
 * width (64, or 32 for the W forms, which look at the low 32 bits only).
 * CLMUL/CLMULH/CLMULR are the low, high and bit-reversed middle 64 bits of
 * the carry-less product; MIN/MAX compare signed, MINU/MAXU unsigned.
 * Rotates, REV8, ORCB, BREV8, CLMUL/CLMULH/CLMULR and CZEQZ/CZNEZ take the
 * same time whatever their operands (RISC-V's Zkt relies on it).
 * Single-precision values live NaN-boxed in the low half of a 64-bit
 * register (the upper half all ones), half-precision ones in the low 16
 * bits: an operand that is not boxed reads as the canonical NaN.
 * F ops keep the raw guest instruction in `imm` (for the illegal-instruction
 * exception of an invalid dynamic rounding mode).
 */
#define VIREO_IR_NREGS 80

/* clang-format off */
#define VIREO_IR_OPS(X)                                                                            \
    /* constants and moves */                                                                      \
    X(MOVI, K) X(MOV, U)                                                                           \
    /* 64-bit integer arithmetic */                                                                \
    X(ADD, R) X(SUB, R) X(AND, R) X(OR, R) X(XOR, R)                                               \
    X(SHL, R) X(SHR, R) X(SAR, R) X(SLT, R) X(SLTU, R) X(SEQ, R) X(SNE, R)                          \
    X(MUL, R) X(MULH, R) X(MULHU, R) X(MULHSU, R)                                                  \
    X(DIV, R) X(DIVU, R) X(REM, R) X(REMU, R)                                                      \
    X(ADDI, I) X(ANDI, I) X(ORI, I) X(XORI, I) X(SHLI, I) X(SHRI, I) X(SARI, I)                     \
    X(SLTI, I) X(SLTIU, I)                                                                         \
    /* 32-bit arithmetic, result sign-extended to 64 bits */                                       \
    X(ADDW, R) X(SUBW, R) X(SHLW, R) X(SHRW, R) X(SARW, R) X(MULW, R)                               \
    X(DIVW, R) X(DIVUW, R) X(REMW, R) X(REMUW, R)                                                  \
    X(ADDIW, I) X(SHLIW, I) X(SHRIW, I) X(SARIW, I)                                                \
    /* extensions */                                                                               \
    X(SEXT8, U) X(SEXT16, U) X(SEXT32, U) X(ZEXT8, U) X(ZEXT16, U) X(ZEXT32, U)                     \
    /* bit manipulation: counts (W forms on the low 32 bits), byte and bit order, rotates */       \
    X(CLZ, U) X(CTZ, U) X(CPOP, U) X(CLZW, U) X(CTZW, U) X(CPOPW, U)                                \
    X(REV8, U) X(ORCB, U) X(BREV8, U)                                                              \
    X(ROL, R) X(ROR, R) X(ROLW, R) X(RORW, R) X(RORI, I) X(RORIW, I)                                \
    X(MIN, R) X(MAX, R) X(MINU, R) X(MAXU, R)                                                      \
    X(CLMUL, R) X(CLMULH, R) X(CLMULR, R)                                                          \
    X(CZEQZ, R) /* d = b == 0 ? 0 : a */ X(CZNEZ, R) /* d = b != 0 ? 0 : a */                       \
    /* memory: loads sign- or zero-extend, stores truncate */                                      \
    X(LD8S, LD) X(LD8U, LD) X(LD16S, LD) X(LD16U, LD) X(LD32S, LD) X(LD32U, LD) X(LD64, LD)        \
    X(ST8, ST) X(ST16, ST) X(ST32, ST) X(ST64, ST)                                                 \
    /* atomics on naturally aligned words; 32-bit results are sign-extended */                     \
    X(AMOSWAP32, AT) X(AMOADD32, AT) X(AMOAND32, AT) X(AMOOR32, AT) X(AMOXOR32, AT)                 \
    X(AMOMIN32, AT) X(AMOMAX32, AT) X(AMOMINU32, AT) X(AMOMAXU32, AT)                               \
    X(AMOSWAP64, AT) X(AMOADD64, AT) X(AMOAND64, AT) X(AMOOR64, AT) X(AMOXOR64, AT)                 \
    X(AMOMIN64, AT) X(AMOMAX64, AT) X(AMOMINU64, AT) X(AMOMAXU64, AT)                               \
    X(LR32, AT) X(LR64, AT) X(SC32, AT) X(SC64, AT) X(CAS32, AT) X(CAS64, AT)                       \
    X(FENCE, T)                                                                                    \
    /* IEEE binary32 (NaN-boxed in 64 bits) and binary64 arithmetic */                             \
    X(FADD_S, F) X(FSUB_S, F) X(FMUL_S, F) X(FDIV_S, F) X(FSQRT_S, F)                              \
    X(FMADD_S, F) X(FMSUB_S, F) X(FNMSUB_S, F) X(FNMADD_S, F)                                      \
    X(FMIN_S, F) X(FMAX_S, F) X(FEQ_S, F) X(FLT_S, F) X(FLE_S, F) X(FCLASS_S, F)                    \
    X(FSGNJ_S, F) X(FSGNJN_S, F) X(FSGNJX_S, F)                                                    \
    X(FADD_D, F) X(FSUB_D, F) X(FMUL_D, F) X(FDIV_D, F) X(FSQRT_D, F)                              \
    X(FMADD_D, F) X(FMSUB_D, F) X(FNMSUB_D, F) X(FNMADD_D, F)                                      \
    X(FMIN_D, F) X(FMAX_D, F) X(FEQ_D, F) X(FLT_D, F) X(FLE_D, F) X(FCLASS_D, F)                    \
    X(FSGNJ_D, F) X(FSGNJN_D, F) X(FSGNJX_D, F)                                                    \
    X(FCVT_S_D, F) X(FCVT_D_S, F)                                                                  \
    X(FCVT_W_S, F) X(FCVT_WU_S, F) X(FCVT_L_S, F) X(FCVT_LU_S, F)                                  \
    X(FCVT_W_D, F) X(FCVT_WU_D, F) X(FCVT_L_D, F) X(FCVT_LU_D, F)                                  \
    X(FCVT_S_W, F) X(FCVT_S_WU, F) X(FCVT_S_L, F) X(FCVT_S_LU, F)                                  \
    X(FCVT_D_W, F) X(FCVT_D_WU, F) X(FCVT_D_L, F) X(FCVT_D_LU, F)                                  \
    X(FBOX_S, U) /* d = a with its upper 32 bits set (NaN-boxing) */                               \
    /* IEEE binary16, NaN-boxed in 64 bits */                                                      \
    X(FADD_H, F) X(FSUB_H, F) X(FMUL_H, F) X(FDIV_H, F) X(FSQRT_H, F)                              \
    X(FMADD_H, F) X(FMSUB_H, F) X(FNMSUB_H, F) X(FNMADD_H, F)                                      \
    X(FMIN_H, F) X(FMAX_H, F) X(FEQ_H, F) X(FLT_H, F) X(FLE_H, F) X(FCLASS_H, F)                    \
    X(FSGNJ_H, F) X(FSGNJN_H, F) X(FSGNJX_H, F)                                                    \
    X(FCVT_S_H, F) X(FCVT_H_S, F) X(FCVT_D_H, F) X(FCVT_H_D, F)                                    \
    X(FCVT_W_H, F) X(FCVT_WU_H, F) X(FCVT_L_H, F) X(FCVT_LU_H, F)                                  \
    X(FCVT_H_W, F) X(FCVT_H_WU, F) X(FCVT_H_L, F) X(FCVT_H_LU, F)                                  \
    X(FBOX_H, U) /* d = a with its upper 48 bits set (NaN-boxing) */                               \
    /* side exits: conditional branches in the middle of a block */                              \
    X(XEQ, SX) X(XNE, SX) X(XLT, SX) X(XGE, SX) X(XLTU, SX) X(XGEU, SX)                                   \
    /* calls into the CPU (system instructions, CSRs): may trap or end the block */                \
    X(HELPER, T)                                                                                   \
    /* block terminators */                                                                        \
    X(BEQ, BR) X(BNE, BR) X(BLT, BR) X(BGE, BR) X(BLTU, BR) X(BGEU, BR)                             \
    X(JMP, T)  /* pc = imm: a transfer of control */                                                \
    X(JMPR, T) /* pc = (a + imm) & ~(uint64_t)flags: a computed one */                              \
    X(EXIT, T) /* pc = imm: the block ends where the code does not jump (size limit, page end, */    \
               /* after a system instruction); run exactly as JMP, linked like it */                \
    X(TRAP, T) /* raise the guest exception imm with value imm2 at this instruction */              \
    X(WFI, T)  /* pc = imm; wait for an interrupt */                                                \
    X(DEBUG, T) /* pc = imm; a debugger's breakpoint: stop before this instruction */
/* clang-format on */

typedef enum {
#define VIREO_IR_ENUM(name, kind) VIREO_OP_##name,
    VIREO_IR_OPS(VIREO_IR_ENUM)
#undef VIREO_IR_ENUM
        VIREO_OP_COUNT
} VireoIrOp;

/* Rounding mode value in `flags` of F ops meaning "the CPU's dynamic mode". */
#define VIREO_IR_RM_DYN 7
/* Memory-ordering bits in `flags` of AT and FENCE ops. */
#define VIREO_IR_ACQUIRE 0x1
#define VIREO_IR_RELEASE 0x2
/* FENCE only: stores before it must be visible before loads after it. A
 * fence without this bit orders loads before later accesses and stores
 * before later stores, which a host with total store order gives for free. */
#define VIREO_IR_FENCE_STORE_LOAD 0x4

struct VireoCpu;
struct VireoIrInsn;
/* A call from IR into the CPU (HELPER). It returns one of:
 *   VIREO_IR_CONTINUE  go on with the block's next op;
 *   VIREO_IR_EXIT      the instruction retired and set the CPU's pc (a control
 *                      transfer, or state that decoding depends on changed):
 *                      the block ends there and execution goes on at the pc,
 *                      after a look at exit_request (set it for what the
 *                      dispatcher must see, such as a pending interrupt).
 *                      A helper that changes the decode flags or the
 *                      instruction TLB's context must end the block, unless
 *                      the change is the same at every run of the block
 *                      (marking the FP state dirty): the JIT's links rely on
 *                      it (jit-x86-64.c, emit_link());
 *   VIREO_IR_TRAP      an exception was taken (pc set by it): the instruction
 *                      did not retire.
 * Interrupts are checked at block boundaries only, never inside a helper. */
typedef int (*VireoIrHelper)(struct VireoCpu *cpu, const struct VireoIrInsn *insn);
#define VIREO_IR_CONTINUE 0
#define VIREO_IR_EXIT     1
#define VIREO_IR_TRAP     2

typedef struct VireoIrInsn {
    uint16_t op;
    uint8_t d, a, b, c; /* register numbers */
    uint8_t flags;      /* rm for F ops, ordering for atomics, low-bit mask for JMPR */
    uint8_t gidx;       /* index of the guest instruction this op belongs to */
    int64_t imm;
    union {
        int64_t imm2;         /* BR: the not-taken pc; TRAP: the exception's value */
        VireoIrHelper helper; /* HELPER */
    };
} VireoIrInsn;

/* A decoded block: the IR, and where each guest instruction starts. */
#define VIREO_IR_MAX_GUEST 64
#define VIREO_IR_MAX_OPS   (VIREO_IR_MAX_GUEST * 4 + 8)

typedef struct VireoIrBlock {
    uint64_t pc; /* guest virtual address of the first instruction */
    uint32_t n_ops;
    uint32_t n_guest;                        /* guest instructions in the block */
    uint32_t n_mem;                          /* loads and stores, for TLB statistics */
    uint32_t guest_len;                      /* bytes of guest code covered */
    uint16_t pc_off[VIREO_IR_MAX_GUEST + 1]; /* offset of guest instruction i from pc */
    VireoIrInsn ops[VIREO_IR_MAX_OPS];
} VireoIrBlock;

typedef enum {
    VIREO_IR_KIND_K,
    VIREO_IR_KIND_U,
    VIREO_IR_KIND_R,
    VIREO_IR_KIND_I,
    VIREO_IR_KIND_LD,
    VIREO_IR_KIND_ST,
    VIREO_IR_KIND_AT,
    VIREO_IR_KIND_F,
    VIREO_IR_KIND_BR,
    VIREO_IR_KIND_SX,
    VIREO_IR_KIND_T,
} VireoIrKind;

const char *vireo_ir_op_name(VireoIrOp op);
VireoIrKind vireo_ir_op_kind(VireoIrOp op);
bool vireo_ir_op_is_terminator(VireoIrOp op);

/* Builder used by frontends. */
void vireo_ir_block_init(VireoIrBlock *block, uint64_t pc);
/* Starts guest instruction number block->n_guest at byte offset `off`. */
void vireo_ir_begin_guest(VireoIrBlock *block, uint32_t off);
VireoIrInsn *vireo_ir_emit(VireoIrBlock *block, VireoIrOp op, unsigned d, unsigned a, unsigned b,
                           int64_t imm);
/* Ends the last guest instruction (guest_len is the block's total length). */
void vireo_ir_end_guest(VireoIrBlock *block, uint32_t end_off);

/* Checks the structural rules (registers in range, one terminator at the
 * end, no write to register 0). Returns NULL or a static description. */
const char *vireo_ir_block_check(const VireoIrBlock *block);
/* Human-readable listing, for debugging and tests. Free with g_free(). */
char *vireo_ir_block_dump(const VireoIrBlock *block);
