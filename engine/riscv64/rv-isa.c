/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The hart models and their extensions: one table, in the ISA string's
 * canonical order (single letters, then Z extensions by category IMAFDQLCBKJTVPH
 * and alphabetically within one, then Ss and Sv extensions alphabetically),
 * from which the device tree's strings and the hart's RV_EXT_* bits come.
 */
#include "rv-cpu.h"

#include <string.h>

#define GC  (1u << VIREO_RV_CPU_RV64GC)
#define A22 (1u << VIREO_RV_CPU_RVA22)
#define MX  (1u << VIREO_RV_CPU_MAX)
#define ALL (GC | A22 | MX)

typedef struct {
    const char *name;
    uint8_t models; /* the models that have it */
    uint32_t ext;   /* RV_EXT_* bits it sets, 0 for what needs none */
} RvIsaExt;

static const RvIsaExt rv_isa_exts[] = {
    { "i", ALL, 0 },
    { "m", ALL, 0 },
    { "a", ALL, 0 },
    { "f", ALL, 0 },
    { "d", ALL, 0 },
    { "c", ALL, 0 },
    /* Cache blocks are 64 bytes (the device tree says so too); memory is
     * coherent, so the management operations only check their access. */
    { "zic64b", A22 | MX, 0 },
    { "zicbom", A22 | MX, RV_EXT_ZICBOM },
    /* Prefetches are `ori x0, rs1, imm`: no-ops on every hart. */
    { "zicbop", A22 | MX, 0 },
    { "zicboz", A22 | MX, RV_EXT_ZICBOZ },
    /* Main memory: AMOs of every kind (Ziccamoa), fetches, 32-bit aligned
     * ones in one access (Ziccif), misaligned loads and stores of every
     * size (Zicclsm), LR/SC that eventually succeed (Ziccrse). */
    { "ziccamoa", A22 | MX, 0 },
    { "ziccif", A22 | MX, 0 },
    { "zicclsm", A22 | MX, 0 },
    { "ziccrse", A22 | MX, 0 },
    /* cycle, time, instret; hpmcounter3-31 read zero (no events) */
    { "zicntr", A22 | MX, 0 },
    { "zicond", MX, RV_EXT_ZICOND },
    { "zicsr", ALL, 0 },
    { "zifencei", ALL, 0 },
    /* ntl.* are `add x0, x0, x2..x5` and pause is `fence w, 0`: hints that
     * every hart runs as no-ops (pause also yields in long spin loops). */
    { "zihintntl", MX, 0 },
    { "zihintpause", A22 | MX, 0 },
    { "zihpm", A22 | MX, 0 },
    /* A reservation is the one address LR loaded: within 64 bytes. */
    { "za64rs", A22 | MX, 0 },
    /* Half precision: Zfh computes, Zfhmin (which it includes) moves and
     * converts. */
    { "zfh", MX, RV_EXT_ZFH | RV_EXT_ZFHMIN },
    { "zfhmin", A22 | MX, RV_EXT_ZFHMIN },
    { "zba", A22 | MX, RV_EXT_ZBA },
    { "zbb", A22 | MX, RV_EXT_ZBB },
    { "zbc", MX, RV_EXT_ZBC },
    { "zbkb", MX, RV_EXT_ZBKB },
    { "zbs", A22 | MX, RV_EXT_ZBS },
    /* The data-independent timing of the Zkt list: no branch or table
     * lookup in the interpreter depends on the operands of those ops. */
    { "zkt", A22 | MX, 0 },
    /* Page tables are read from RAM (Ssccptr); every counter's scounteren
     * bit is writable (Sscounterenw). */
    { "ssccptr", A22 | MX, 0 },
    { "sscounterenw", A22 | MX, 0 },
    /* stimecmp, a timer of the hart's own on the machine's clock */
    { "sstc", MX, RV_EXT_SSTC },
    /* stval gets the address of every faulting access and the bits of an
     * illegal instruction (Sstvala); stvec's BASE takes any 4-byte aligned
     * address in direct mode (Sstvecd); UXL is 64 (Ssu64xl). */
    { "sstvala", A22 | MX, 0 },
    { "sstvecd", A22 | MX, 0 },
    { "ssu64xl", A22 | MX, 0 },
    /* RVA22S64 wants A and D left to software (a page fault where one is
     * clear); max sets them in hardware, as the harts always did. */
    { "svade", A22, RV_EXT_SVADE },
    { "svbare", A22 | MX, 0 },
    { "svinval", A22 | MX, RV_EXT_SVINVAL },
    { "svnapot", MX, RV_EXT_SVNAPOT },
    { "svpbmt", A22 | MX, RV_EXT_SVPBMT },
};

static const char *const model_names[VIREO_RV_CPU_N_MODELS] = {
    [VIREO_RV_CPU_MAX] = "max",
    [VIREO_RV_CPU_RVA22] = "rva22",
    [VIREO_RV_CPU_RV64GC] = "rv64gc",
};

static bool in_model(const RvIsaExt *e, VireoRvCpuModel model)
{
    return (unsigned)model < VIREO_RV_CPU_N_MODELS && (e->models & (1u << model)) != 0;
}

const char *vireo_rv_cpu_model_name(VireoRvCpuModel model)
{
    return (unsigned)model < VIREO_RV_CPU_N_MODELS ? model_names[model] : "?";
}

bool vireo_rv_cpu_model_from_name(const char *name, VireoRvCpuModel *model)
{
    for (unsigned i = 0; name != NULL && i < VIREO_RV_CPU_N_MODELS; i++) {
        if (strcmp(name, model_names[i]) == 0) {
            *model = (VireoRvCpuModel)i;
            return true;
        }
    }
    return false;
}

char *vireo_rv_isa_string(VireoRvCpuModel model)
{
    GString *s = g_string_new("rv64");

    for (unsigned i = 0; i < G_N_ELEMENTS(rv_isa_exts); i++) {
        const RvIsaExt *e = &rv_isa_exts[i];
        if (!in_model(e, model)) {
            continue;
        }
        if (e->name[1] != '\0') {
            g_string_append_c(s, '_');
        }
        g_string_append(s, e->name);
    }
    return g_string_free(s, FALSE);
}

char **vireo_rv_isa_extensions(VireoRvCpuModel model)
{
    GPtrArray *a = g_ptr_array_new();

    for (unsigned i = 0; i < G_N_ELEMENTS(rv_isa_exts); i++) {
        if (in_model(&rv_isa_exts[i], model)) {
            g_ptr_array_add(a, g_strdup(rv_isa_exts[i].name));
        }
    }
    g_ptr_array_add(a, NULL);
    return (char **)g_ptr_array_free(a, FALSE);
}

bool vireo_rv_isa_has(VireoRvCpuModel model, const char *name)
{
    for (unsigned i = 0; i < G_N_ELEMENTS(rv_isa_exts); i++) {
        if (strcmp(rv_isa_exts[i].name, name) == 0) {
            return in_model(&rv_isa_exts[i], model);
        }
    }
    return false;
}

uint32_t rv_isa_ext_bits(VireoRvCpuModel model)
{
    uint32_t bits = 0;

    for (unsigned i = 0; i < G_N_ELEMENTS(rv_isa_exts); i++) {
        if (in_model(&rv_isa_exts[i], model)) {
            bits |= rv_isa_exts[i].ext;
        }
    }
    return bits;
}
