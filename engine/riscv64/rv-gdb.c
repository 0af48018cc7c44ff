/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The RISC-V 64 side of the GDB stub: the target description and the
 * register numbers in it. x0-x31 are 0-31 and pc 32 (the `g` packet); f0-f31
 * are 33-64, fflags, frm and fcsr 66-68; the privilege mode (a virtual
 * register) is 69; CSR n is 70 + n. These are the numbers QEMU uses, so a
 * gdb session reads the same on both.
 */
#include "rv-cpu.h"

#include <string.h>

#define REG_PC       32
#define REG_F0       33
#define REG_FFLAGS   66
#define REG_FRM      67
#define REG_FCSR     68
#define REG_PRIV     69
#define REG_CSR_BASE 70
#define N_CSRS       4096

static const char *const x_names[32] = {
    "zero", "ra", "sp", "gp", "tp",  "t0",  "t1", "t2", "fp", "s1", "a0",
    "a1",   "a2", "a3", "a4", "a5",  "a6",  "a7", "s2", "s3", "s4", "s5",
    "s6",   "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
};

static const char *const f_names[32] = {
    "ft0", "ft1", "ft2", "ft3", "ft4",  "ft5",  "ft6", "ft7", "fs0",  "fs1",  "fa0",
    "fa1", "fa2", "fa3", "fa4", "fa5",  "fa6",  "fa7", "fs2", "fs3",  "fs4",  "fs5",
    "fs6", "fs7", "fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11",
};

typedef struct {
    unsigned num;
    const char *name;
} CsrName;

/* The CSRs the description lists (those the hart has; counters and PMP
 * registers by range below). */
static const CsrName csr_names[] = {
    { 0x001, "fflags" },        { 0x002, "frm" },        { 0x003, "fcsr" },
    { 0xc00, "cycle" },         { 0xc01, "time" },       { 0xc02, "instret" },
    { 0x100, "sstatus" },       { 0x104, "sie" },        { 0x105, "stvec" },
    { 0x106, "scounteren" },    { 0x10a, "senvcfg" },    { 0x140, "sscratch" },
    { 0x141, "sepc" },          { 0x142, "scause" },     { 0x143, "stval" },
    { 0x144, "sip" },           { 0x180, "satp" },       { 0xf11, "mvendorid" },
    { 0xf12, "marchid" },       { 0xf13, "mimpid" },     { 0xf14, "mhartid" },
    { 0xf15, "mconfigptr" },    { 0x300, "mstatus" },    { 0x301, "misa" },
    { 0x302, "medeleg" },       { 0x303, "mideleg" },    { 0x304, "mie" },
    { 0x305, "mtvec" },         { 0x306, "mcounteren" }, { 0x30a, "menvcfg" },
    { 0x320, "mcountinhibit" }, { 0x340, "mscratch" },   { 0x341, "mepc" },
    { 0x342, "mcause" },        { 0x343, "mtval" },      { 0x344, "mip" },
    { 0x7a0, "tselect" },       { 0x7a1, "tdata1" },     { 0x7a2, "tdata2" },
    { 0x7a3, "tdata3" },        { 0x7a4, "tinfo" },      { 0xb00, "mcycle" },
    { 0xb02, "minstret" },
};

/* The name of CSR `csr` when the description lists it, else NULL; `buf`
 * holds numbered names. */
static const char *csr_name(RvCpu *rv, unsigned csr, char *buf, size_t len)
{
    uint64_t v;

    if (!rv_csr_read(rv, csr, &v, NULL)) {
        return NULL;
    }
    for (unsigned i = 0; i < G_N_ELEMENTS(csr_names); i++) {
        if (csr_names[i].num == csr) {
            return csr_names[i].name;
        }
    }
    if (csr >= 0x3a0 && csr <= 0x3af) {
        g_snprintf(buf, len, "pmpcfg%u", csr - 0x3a0);
        return buf;
    }
    if (csr >= 0x3b0 && csr <= 0x3bf) {
        g_snprintf(buf, len, "pmpaddr%u", csr - 0x3b0);
        return buf;
    }
    return NULL;
}

static char *rv_target_xml(void *vcpu, const char *annex)
{
    RvCpu *rv = vcpu;
    GString *x;

    if (strcmp(annex, "target.xml") != 0) {
        return NULL;
    }
    x = g_string_new("<?xml version=\"1.0\"?>\n"
                     "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
                     "<target>\n<architecture>riscv:rv64</architecture>\n"
                     "<feature name=\"org.gnu.gdb.riscv.cpu\">\n");
    for (unsigned i = 0; i < 32; i++) {
        g_string_append_printf(x, "<reg name=\"%s\" bitsize=\"64\" type=\"%s\" regnum=\"%u\"/>\n",
                               x_names[i],
                               i == 1             ? "code_ptr"
                               : i == 2 || i == 8 ? "data_ptr"
                                                  : "int",
                               i);
    }
    g_string_append_printf(x, "<reg name=\"pc\" bitsize=\"64\" type=\"code_ptr\" regnum=\"%u\"/>\n",
                           REG_PC);
    g_string_append(x, "</feature>\n<feature name=\"org.gnu.gdb.riscv.fpu\">\n"
                       "<union id=\"riscv_double\"><field name=\"float\" type=\"ieee_single\"/>"
                       "<field name=\"double\" type=\"ieee_double\"/></union>\n");
    for (unsigned i = 0; i < 32; i++) {
        g_string_append_printf(x,
                               "<reg name=\"%s\" bitsize=\"64\" type=\"riscv_double\" "
                               "regnum=\"%u\"/>\n",
                               f_names[i], REG_F0 + i);
    }
    g_string_append_printf(x,
                           "<reg name=\"fflags\" bitsize=\"32\" type=\"int\" regnum=\"%u\"/>\n"
                           "<reg name=\"frm\" bitsize=\"32\" type=\"int\" regnum=\"%u\"/>\n"
                           "<reg name=\"fcsr\" bitsize=\"32\" type=\"int\" regnum=\"%u\"/>\n"
                           "</feature>\n<feature name=\"org.gnu.gdb.riscv.virtual\">\n"
                           "<reg name=\"priv\" bitsize=\"64\" regnum=\"%u\"/>\n"
                           "</feature>\n<feature name=\"org.gnu.gdb.riscv.csr\">\n",
                           REG_FFLAGS, REG_FRM, REG_FCSR, REG_PRIV);
    for (unsigned csr = 0; csr < N_CSRS; csr++) {
        char buf[16];
        const char *name;
        /* fflags, frm and fcsr are in the FPU feature. */
        if (csr <= 3 || (name = csr_name(rv, csr, buf, sizeof buf)) == NULL) {
            continue;
        }
        g_string_append_printf(x, "<reg name=\"%s\" bitsize=\"64\" regnum=\"%u\"/>\n", name,
                               REG_CSR_BASE + csr);
    }
    g_string_append(x, "</feature>\n</target>\n");
    return g_string_free(x, FALSE);
}

static unsigned put(guint8 *buf, uint64_t v, unsigned len)
{
    for (unsigned i = 0; i < len; i++) {
        buf[i] = (guint8)(v >> (8 * i));
    }
    return len;
}

static uint64_t get(const guint8 *buf, unsigned len)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < len; i++) {
        v |= (uint64_t)buf[i] << (8 * i);
    }
    return v;
}

static unsigned rv_read_reg(void *vcpu, unsigned regnum, guint8 *buf)
{
    RvCpu *rv = vcpu;
    uint64_t v;
    char name[16];

    if (regnum < 32) {
        return put(buf, rv->base.regs[RV_X(regnum)], 8);
    }
    if (regnum == REG_PC) {
        return put(buf, rv->base.pc, 8);
    }
    if (regnum >= REG_F0 && regnum < REG_F0 + 32) {
        return put(buf, rv->base.regs[RV_F(regnum - REG_F0)], 8);
    }
    if (regnum >= REG_FFLAGS && regnum <= REG_FCSR) {
        rv_csr_read(rv, regnum - REG_FFLAGS + 1, &v, NULL);
        return put(buf, v, 4);
    }
    if (regnum == REG_PRIV) {
        return put(buf, rv->priv, 8);
    }
    if (regnum >= REG_CSR_BASE && regnum < REG_CSR_BASE + N_CSRS &&
        csr_name(rv, regnum - REG_CSR_BASE, name, sizeof name) != NULL) {
        rv_csr_read(rv, regnum - REG_CSR_BASE, &v, NULL);
        return put(buf, v, 8);
    }
    return 0;
}

static bool rv_write_reg(void *vcpu, unsigned regnum, const guint8 *buf, unsigned len)
{
    RvCpu *rv = vcpu;
    uint64_t v;

    if (regnum < 32 || regnum == REG_PC || (regnum >= REG_F0 && regnum < REG_F0 + 32)) {
        if (len != 8) {
            return false;
        }
        v = get(buf, 8);
        if (regnum == REG_PC) {
            rv->base.pc = v;
        } else if (regnum < 32) {
            if (regnum != 0) {
                rv->base.regs[RV_X(regnum)] = v;
            }
        } else {
            rv->base.regs[RV_F(regnum - REG_F0)] = v;
        }
        return true;
    }
    if (regnum >= REG_FFLAGS && regnum <= REG_FCSR && len == 4) {
        v = get(buf, 4);
        if (regnum != REG_FRM) {
            rv->base.fp_flags = (uint8_t)(v & 0x1f);
        }
        if (regnum != REG_FFLAGS) {
            rv->base.fp_rm = (uint8_t)((regnum == REG_FRM ? v : v >> 5) & 7);
        }
        return true;
    }
    return false; /* other CSRs and the privilege mode are read-only here */
}

static bool rv_gdb_translate(void *vcpu, uint64_t va, uint64_t *pa)
{
    return rv_debug_translate(vcpu, va, pa);
}

static char *rv_info_registers(void *vcpu)
{
    static const unsigned shown[] = { 0x300, 0x301, 0x302, 0x303, 0x304, 0x344, 0x305,
                                      0x341, 0x342, 0x343, 0x340, 0x100, 0x105, 0x141,
                                      0x142, 0x143, 0x140, 0x180, 0x003 };
    RvCpu *rv = vcpu;
    GString *s = g_string_new(NULL);
    static const char *const priv_names[4] = { "U", "S", "?", "M" };

    g_string_append_printf(s, "hart %u  pc %016" G_GINT64_MODIFIER "x  priv %s%s\n", rv->hartid,
                           rv->base.pc, priv_names[rv->priv & 3],
                           rv->base.halted ? "  (waiting for an interrupt)" : "");
    for (unsigned i = 0; i < 32; i++) {
        g_string_append_printf(s, "%-4s %016" G_GINT64_MODIFIER "x%s", x_names[i],
                               rv->base.regs[RV_X(i)], i % 4 == 3 ? "\n" : "  ");
    }
    for (unsigned i = 0; i < G_N_ELEMENTS(shown); i++) {
        char buf[16];
        uint64_t v = 0;
        rv_csr_read(rv, shown[i], &v, NULL);
        g_string_append_printf(s, "%-8s %016" G_GINT64_MODIFIER "x%s",
                               csr_name(rv, shown[i], buf, sizeof buf), v,
                               i % 3 == 2 || i + 1 == G_N_ELEMENTS(shown) ? "\n" : "  ");
    }
    for (unsigned i = 0; i < 32; i++) {
        g_string_append_printf(s, "%-4s %016" G_GINT64_MODIFIER "x%s", f_names[i],
                               rv->base.regs[RV_F(i)], i % 4 == 3 ? "\n" : "  ");
    }
    return g_string_free(s, FALSE);
}

static const VireoGdbArch rv_gdb_arch = {
    .g_regs = 33,
    .target_xml = rv_target_xml,
    .read_reg = rv_read_reg,
    .write_reg = rv_write_reg,
    .translate = rv_gdb_translate,
    .info_registers = rv_info_registers,
};

const VireoGdbArch *vireo_rv_gdb_arch(void)
{
    return &rv_gdb_arch;
}
