/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The GDB stub (engine/gdbstub.c, engine/riscv64/rv-gdb.c) from a hostile
 * debugger: the input is what the debugger sends, packets with good and bad
 * checksums, acknowledgements, interrupts (0x03), escapes and noise, handed
 * to a session of the stub (vireo_gdb_stub_new_session) in pieces of
 * varying size. The session serves a real machine: RAM, ROM, a device
 * region and one RISC-V hart, which is never started, so that `c`, `s` and
 * `vCont` change the stub's state but run nothing; memory accesses go
 * through the hart's translation, in the privilege mode and with the page
 * tables (built in RAM by the input's own `M` and `X` packets) the input
 * chooses.
 *
 * Checks: what the stub sends is a stream of acknowledgements and packets
 * with good checksums and nothing unescaped in them; it never touches the
 * device region (reading or writing device registers has side effects);
 * the read-only state of the hart (x0, the privilege mode, mstatus, satp)
 * is unchanged; an interrupt after the input stops whatever runs; freeing
 * the session leaves the hart without a debugger.
 *
 * Input: byte 0 is the hart's context (bits 0-1: U, S or M mode; bits 2-3:
 * Bare, Sv39, Sv48 or Sv57 with the root table at RAM + 0x1000 and RAM
 * mapped at its own address; bit 4 MPRV; bits 5-6 MPP); byte 1 the size
 * of the pieces the rest is handed over in (bits 0-6, 0: all at once) and,
 * in bit 7, whether a packet longer than the stub takes goes first (so
 * that inputs stay small); the rest goes to the stub.
 */
#include "config.h"

#include "engine/cpu.h"
#include "engine/gdbstub.h"
#include "engine/machine.h"
#include "engine/riscv.h"
/* The hart's privilege mode and translation registers, which no public call
 * sets, for the contexts the stub translates in. */
#include "engine/riscv64/rv-cpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RAM_BASE  0x80000000ull
#define RAM_SIZE  0x10000ull
#define ROM_BASE  0x1000ull
#define ROM_SIZE  0x1000ull
#define MMIO_BASE 0x10000000ull
#define MMIO_SIZE 0x1000ull
#define ROOT_PAGE (RAM_BASE + 0x1000)
#define OVERSIZED 0x4100 /* bytes of a packet past the announced PacketSize */

static VireoMachine *machine;
static VireoRvCpu *hart;
static guint8 *ram;

static void fail(const char *fmt, ...) G_GNUC_PRINTF(1, 2) G_GNUC_NORETURN;

static void fail(const char *fmt, ...)
{
    va_list ap;

    fputs("fuzz-gdb: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

/* A device region the stub must never reach. */
static bool device_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    fail("the stub read device registers at +%#" G_GINT64_MODIFIER "x", offset);
}

static bool device_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    fail("the stub wrote device registers at +%#" G_GINT64_MODIFIER "x", offset);
}

static const VireoDeviceOps device_ops = {
    .name = "untouchable",
    .read = device_read,
    .write = device_write,
};

static const guint8 rom[16] = { 0x73, 0x25, 0x40, 0xf1 }; /* csrr a0, mhartid */

static void machine_new(void)
{
    g_autoptr(GError) error = NULL;
    VireoBus *bus = vireo_bus_new();

    ram = vireo_bus_add_ram(bus, RAM_BASE, RAM_SIZE, &error);
    if (ram == NULL ||
        !vireo_bus_add_rom(bus, "rom", ROM_BASE, ROM_SIZE, rom, sizeof rom, &error) ||
        !vireo_bus_add_mmio(bus, "device", MMIO_BASE, MMIO_SIZE, &device_ops, NULL, &error)) {
        fail("%s", error->message);
    }
    machine = vireo_machine_new(bus, vireo_clock_new(10000000));
    hart = vireo_rv_cpu_new(machine, 0, RAM_BASE, VIREO_RV_CPU_DEFAULT);
}

/* Page table entries: a leaf for every access, and a pointer. */
static uint64_t pte(uint64_t pa, bool leaf)
{
    return (pa >> 12) << 10 | (leaf ? 0xcf : 0x01); /* V R W X A D, or V */
}

static void put_pte(uint64_t table, unsigned index, uint64_t value)
{
    for (unsigned i = 0; i < 8; i++) {
        ram[table - RAM_BASE + 8 * index + i] = (guint8)(value >> (8 * i));
    }
}

/* The hart back in its reset state, then in the context of `ctx`. RAM is
 * mapped where it is (a 1 GiB page) in every translation mode, so that the
 * input can change the page tables with M and X. */
static void hart_reset(uint8_t ctx)
{
    static const unsigned privs[4] = { PRV_U, PRV_S, PRV_M, PRV_M };
    static const uint64_t modes[4] = { 0, 8, 9, 10 }; /* Bare, Sv39, Sv48, Sv57 */
    RvCpu *rv = hart;

    for (unsigned i = 1; i < 64; i++) {
        vireo_rv_cpu_set_reg(hart, i, 0);
    }
    vireo_rv_cpu_set_pc(hart, RAM_BASE);
    rv->base.fp_rm = 0;
    rv->base.fp_flags = 0;
    rv->priv = privs[ctx & 3];
    rv->mstatus = (2ull << 32) | (2ull << 34); /* UXL = SXL = 64 */
    if (ctx & 0x10) {
        rv->mstatus |= MSTATUS_MPRV;
    }
    rv->mstatus |= (uint64_t)((ctx >> 5) & 3) << 11;
    rv->satp = modes[(ctx >> 2) & 3] << 60 | (ROOT_PAGE >> 12);
    switch ((ctx >> 2) & 3) {
    case 1: put_pte(ROOT_PAGE, 2, pte(RAM_BASE, true)); break;
    case 2:
        put_pte(ROOT_PAGE, 0, pte(ROOT_PAGE + 0x1000, false));
        put_pte(ROOT_PAGE + 0x1000, 2, pte(RAM_BASE, true));
        break;
    case 3:
        put_pte(ROOT_PAGE, 0, pte(ROOT_PAGE + 0x1000, false));
        put_pte(ROOT_PAGE + 0x1000, 0, pte(ROOT_PAGE + 0x2000, false));
        put_pte(ROOT_PAGE + 0x2000, 2, pte(RAM_BASE, true));
        break;
    default: break;
    }
}

/* What the stub sent: '+', '-' and packets `$payload#xx` with the right
 * checksum, whose payload has no '$' or '#' and escapes with '}' only the
 * characters that need it (and so never holds a bare '*'). */
static void check_output(const GString *out)
{
    for (gsize i = 0; i < out->len;) {
        char c = out->str[i];
        guint8 sum = 0;
        gsize start;

        if (c == '+' || c == '-') {
            i++;
            continue;
        }
        if (c != '$') {
            fail("the stub sent %#x between packets (offset %zu)", (guint8)c, (size_t)i);
        }
        start = ++i;
        while (i < out->len && out->str[i] != '#') {
            c = out->str[i];
            if (c == '$' || c == '*') {
                fail("a bare '%c' in a packet (offset %zu)", c, (size_t)i);
            }
            if (c == '}') {
                char e;
                if (i + 1 >= out->len) {
                    fail("an escape at the end of the output");
                }
                e = (char)(out->str[i + 1] ^ 0x20);
                if (e != '$' && e != '#' && e != '}' && e != '*') {
                    fail("'%c' escaped for nothing (offset %zu)", e, (size_t)i);
                }
                sum = (guint8)(sum + (guint8)c);
                i++;
                c = out->str[i];
            }
            sum = (guint8)(sum + (guint8)c);
            i++;
        }
        if (i + 3 > out->len) {
            fail("a packet without its end (from offset %zu)", (size_t)start);
        }
        if (g_ascii_xdigit_value(out->str[i + 1]) < 0 ||
            g_ascii_xdigit_value(out->str[i + 2]) < 0 ||
            (guint8)(g_ascii_xdigit_value(out->str[i + 1]) << 4 |
                     g_ascii_xdigit_value(out->str[i + 2])) != sum) {
            fail("a packet with a bad checksum (from offset %zu)", (size_t)start);
        }
        i += 3;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GString) out = g_string_new(NULL);
    VireoGdbStub *stub;
    RvCpu *rv;
    uint64_t mstatus, satp;
    unsigned priv;
    size_t piece;

    if (size < 2) {
        return 0;
    }
    if (machine == NULL) {
        machine_new();
    }
    rv = hart;
    /* A debugger may write ROM too (vireo_bus_write_block). */
    memset(ram, 0, RAM_SIZE);
    if (!vireo_bus_write_block(vireo_machine_bus(machine), ROM_BASE, rom, sizeof rom, NULL)) {
        abort();
    }
    hart_reset(data[0]);
    priv = rv->priv;
    mstatus = rv->mstatus;
    satp = rv->satp;
    piece = (data[1] & 0x7f) == 0 ? size : (data[1] & 0x7f);
    stub = vireo_gdb_stub_new_session(machine, vireo_rv_gdb_arch());
    if (data[1] & 0x80) {
        g_autofree char *big = g_strnfill(OVERSIZED, 'A');
        big[0] = '$';
        vireo_gdb_stub_session_input(stub, big, OVERSIZED, out);
        vireo_gdb_stub_session_input(stub, "#00", 3, out);
    }
    data += 2;
    size -= 2;
    for (size_t done = 0; done < size;) {
        size_t n = MIN(piece, size - done);
        if (!vireo_gdb_stub_session_input(stub, data + done, n, out)) {
            break;
        }
        done += n;
    }
    /* Whatever runs stops at an interrupt. */
    vireo_gdb_stub_session_input(stub, "\x03", 1, out);
    check_output(out);
    if (vireo_rv_cpu_get_reg(hart, 0) != 0 || rv->priv != priv || rv->mstatus != mstatus ||
        rv->satp != satp) {
        fail("read-only state changed: x0 %#" G_GINT64_MODIFIER
             "x, priv %u, mstatus %#" G_GINT64_MODIFIER "x, satp %#" G_GINT64_MODIFIER "x",
             vireo_rv_cpu_get_reg(hart, 0), rv->priv, rv->mstatus, rv->satp);
    }
    vireo_gdb_stub_free(stub);
    if (rv->base.debug != NULL) {
        fail("the hart keeps a debugger after the session");
    }
    return 0;
}
