/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "engine/ir.h"

#include <glib.h>
#include <string.h>

static const char *const op_names[VIREO_OP_COUNT] = {
#define VIREO_IR_NAME(name, kind) [VIREO_OP_##name] = #name,
    VIREO_IR_OPS(VIREO_IR_NAME)
#undef VIREO_IR_NAME
};

static const VireoIrKind op_kinds[VIREO_OP_COUNT] = {
#define VIREO_IR_KIND(name, kind) [VIREO_OP_##name] = VIREO_IR_KIND_##kind,
    VIREO_IR_OPS(VIREO_IR_KIND)
#undef VIREO_IR_KIND
};

const char *vireo_ir_op_name(VireoIrOp op)
{
    return op < VIREO_OP_COUNT ? op_names[op] : "?";
}

VireoIrKind vireo_ir_op_kind(VireoIrOp op)
{
    return op < VIREO_OP_COUNT ? op_kinds[op] : VIREO_IR_KIND_T;
}

bool vireo_ir_op_is_terminator(VireoIrOp op)
{
    switch (op) {
    case VIREO_OP_BEQ:
    case VIREO_OP_BNE:
    case VIREO_OP_BLT:
    case VIREO_OP_BGE:
    case VIREO_OP_BLTU:
    case VIREO_OP_BGEU:
    case VIREO_OP_JMP:
    case VIREO_OP_JMPR:
    case VIREO_OP_EXIT:
    case VIREO_OP_TRAP:
    case VIREO_OP_WFI:
    case VIREO_OP_DEBUG: return true;
    default: return false;
    }
}

void vireo_ir_block_init(VireoIrBlock *block, uint64_t pc)
{
    block->pc = pc;
    block->n_ops = 0;
    block->n_guest = 0;
    block->n_mem = 0;
    block->guest_len = 0;
}

void vireo_ir_begin_guest(VireoIrBlock *block, uint32_t off)
{
    g_assert(block->n_guest < VIREO_IR_MAX_GUEST);
    block->pc_off[block->n_guest] = (uint16_t)off;
}

void vireo_ir_end_guest(VireoIrBlock *block, uint32_t end_off)
{
    block->n_guest++;
    block->pc_off[block->n_guest] = (uint16_t)end_off;
    block->guest_len = end_off;
}

VireoIrInsn *vireo_ir_emit(VireoIrBlock *block, VireoIrOp op, unsigned d, unsigned a, unsigned b,
                           int64_t imm)
{
    VireoIrInsn *in;

    g_assert(block->n_ops < VIREO_IR_MAX_OPS);
    in = &block->ops[block->n_ops++];
    memset(in, 0, sizeof *in);
    in->op = (uint16_t)op;
    in->d = (uint8_t)d;
    in->a = (uint8_t)a;
    in->b = (uint8_t)b;
    in->gidx = (uint8_t)block->n_guest;
    in->imm = imm;
    if (op_kinds[op] == VIREO_IR_KIND_LD || op_kinds[op] == VIREO_IR_KIND_ST ||
        op_kinds[op] == VIREO_IR_KIND_AT) {
        block->n_mem++;
    }
    return in;
}

static bool writes_d(const VireoIrInsn *in)
{
    switch (op_kinds[in->op]) {
    case VIREO_IR_KIND_K:
    case VIREO_IR_KIND_U:
    case VIREO_IR_KIND_R:
    case VIREO_IR_KIND_I:
    case VIREO_IR_KIND_LD:
    case VIREO_IR_KIND_AT:
    case VIREO_IR_KIND_F: return true;
    default: return false;
    }
}

const char *vireo_ir_block_check(const VireoIrBlock *block)
{
    if (block->n_ops == 0) {
        return "empty block";
    }
    for (uint32_t i = 0; i < block->n_ops; i++) {
        const VireoIrInsn *in = &block->ops[i];
        if (in->op >= VIREO_OP_COUNT) {
            return "unknown opcode";
        }
        if (in->d >= VIREO_IR_NREGS || in->a >= VIREO_IR_NREGS || in->b >= VIREO_IR_NREGS ||
            in->c >= VIREO_IR_NREGS) {
            return "register out of range";
        }
        if (writes_d(in) && in->d == 0) {
            return "write to register 0";
        }
        if (vireo_ir_op_is_terminator(in->op) != (i == block->n_ops - 1)) {
            return "terminator not at the end";
        }
        if (in->gidx > block->n_guest) {
            return "guest index out of range";
        }
    }
    return NULL;
}

char *vireo_ir_block_dump(const VireoIrBlock *block)
{
    GString *s = g_string_new(NULL);

    g_string_append_printf(s, "block 0x%" G_GINT64_MODIFIER "x: %u guest, %u ops\n", block->pc,
                           block->n_guest, block->n_ops);
    for (uint32_t i = 0; i < block->n_ops; i++) {
        const VireoIrInsn *in = &block->ops[i];
        g_string_append_printf(s, "  [%u] %-9s d=r%u a=r%u b=r%u c=r%u f=%u imm=%" G_GINT64_FORMAT,
                               in->gidx, vireo_ir_op_name(in->op), in->d, in->a, in->b, in->c,
                               in->flags, in->imm);
        if (op_kinds[in->op] == VIREO_IR_KIND_BR) {
            g_string_append_printf(s, " else=%" G_GINT64_FORMAT, in->imm2);
        } else if (in->op == VIREO_OP_TRAP) {
            g_string_append_printf(s, " value=%" G_GINT64_FORMAT, in->imm2);
        }
        g_string_append_c(s, '\n');
    }
    return g_string_free(s, FALSE);
}
