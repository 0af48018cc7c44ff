/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "engine/backend.h"
#include "engine/gdbstub.h"
#include "engine/machine.h"

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

G_BEGIN_DECLS

/*
 * A RISC-V 64 hart of the software engine: RV64GC (I, M, A, F, D, C, Zicsr,
 * Zifencei) with M, S and U modes and Bare/SV39/SV48/SV57 translation, and
 * the extensions its model adds. Each hart is a vCPU of its machine and runs
 * on its own thread.
 */
typedef struct VireoRvCpu VireoRvCpu;

/*
 * What a hart implements (docs/ENGINE.md has the table). The model is fixed
 * when the hart is created; an extension the model lacks decodes as illegal
 * instructions and its CSRs and CSR fields do not exist.
 */
typedef enum {
    VIREO_RV_CPU_MAX = 0,    /* every extension Vireo implements (the default) */
    VIREO_RV_CPU_RVA22 = 1,  /* the RVA22U64 and RVA22S64 profiles */
    VIREO_RV_CPU_RV64GC = 2, /* RV64GC alone, as before the profiles */
} VireoRvCpuModel;
#define VIREO_RV_CPU_N_MODELS 3
#define VIREO_RV_CPU_DEFAULT  VIREO_RV_CPU_MAX

/* "max", "rva22", "rv64gc". */
const char *vireo_rv_cpu_model_name(VireoRvCpuModel model);
/* The model named `name`; false for a name that is none. */
bool vireo_rv_cpu_model_from_name(const char *name, VireoRvCpuModel *model);
/* The ISA string of the device tree's riscv,isa, in canonical order
 * ("rv64imafdc_zicsr_..."). Free with g_free(). */
char *vireo_rv_isa_string(VireoRvCpuModel model);
/* riscv,isa-extensions: every extension's name, single letters first, in
 * the same order. Free with g_strfreev(). */
char **vireo_rv_isa_extensions(VireoRvCpuModel model);
/* Whether the model implements the extension `name` (lower case). */
bool vireo_rv_isa_has(VireoRvCpuModel model, const char *name);

/* Interrupt-pending bits of mip that devices drive. */
#define VIREO_RV_MIP_SSIP (1ull << 1)
#define VIREO_RV_MIP_MSIP (1ull << 3)
#define VIREO_RV_MIP_STIP (1ull << 5)
#define VIREO_RV_MIP_MTIP (1ull << 7)
#define VIREO_RV_MIP_SEIP (1ull << 9)
#define VIREO_RV_MIP_MEIP (1ull << 11)

/* The cache-block size of Zicbom, Zicbop and Zicboz, in bytes. */
#define VIREO_RV_CACHE_BLOCK 64

/* The MMU as the device tree names it (every model). */
#define VIREO_RV_MMU_TYPE "riscv,sv57"

/* Creates hart `hartid` of `model` and adds it to `machine` as a vCPU.
 * After reset the hart is in M-mode at `reset_pc` with every other register
 * zero. */
VireoRvCpu *vireo_rv_cpu_new(VireoMachine *machine, unsigned hartid, uint64_t reset_pc,
                             VireoRvCpuModel model);

/* Runs the hart's blocks on the engine of `kind` (see vireo_cpu_set_engine()). */
bool vireo_rv_cpu_set_engine(VireoRvCpu *cpu, VireoEngineKind kind, GError **error);

/* Drive an interrupt line (one of the VIREO_RV_MIP_* bits); any thread. The
 * hart wakes from wfi when the interrupt becomes pending. */
void vireo_rv_cpu_set_irq(VireoRvCpu *cpu, uint64_t mip_bit, bool level);

/* Register access while the hart is stopped (tests, debugger, loaders).
 * Integer registers are 0-31, floating-point registers 32-63 (raw bits). */
uint64_t vireo_rv_cpu_get_reg(VireoRvCpu *cpu, unsigned index);
void vireo_rv_cpu_set_reg(VireoRvCpu *cpu, unsigned index, uint64_t value);
uint64_t vireo_rv_cpu_get_pc(VireoRvCpu *cpu);
void vireo_rv_cpu_set_pc(VireoRvCpu *cpu, uint64_t pc);
/* The current privilege mode: 0 = U, 1 = S, 3 = M. */
unsigned vireo_rv_cpu_get_priv(VireoRvCpu *cpu);
/* CSR access without side effects or privilege checks; false for a CSR the
 * hart does not have. */
bool vireo_rv_cpu_get_csr(VireoRvCpu *cpu, unsigned csr, uint64_t *value);

/* The RISC-V 64 registers and target description for the GDB stub. */
const VireoGdbArch *vireo_rv_gdb_arch(void);

G_END_DECLS
