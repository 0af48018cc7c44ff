/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The GDB stub's protocol through a session without a socket
 * (vireo_gdb_stub_new_session): framing, acknowledgements, queries,
 * registers and memory of a RISC-V hart that never runs, and the end of a
 * session. tests/gdb/ speaks to the real socket of vireo-run.
 */
#include "engine/gdbstub.h"
#include "engine/machine.h"
#include "engine/riscv.h"

#include <string.h>

#define RAM_BASE 0x80000000ull
#define RAM_SIZE 0x10000ull

typedef struct {
    VireoMachine *machine;
    VireoRvCpu *hart;
    guint8 *ram;
    VireoGdbStub *stub;
    GString *out;
    bool alive;
} Fixture;

static void setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    VireoBus *bus = vireo_bus_new();

    f->ram = vireo_bus_add_ram(bus, RAM_BASE, RAM_SIZE, &error);
    g_assert_no_error(error);
    f->machine = vireo_machine_new(bus, vireo_clock_new(10000000));
    f->hart = vireo_rv_cpu_new(f->machine, 0, RAM_BASE, VIREO_RV_CPU_DEFAULT);
    f->stub = vireo_gdb_stub_new_session(f->machine, vireo_rv_gdb_arch());
    f->out = g_string_new(NULL);
    f->alive = true;
}

static void teardown(Fixture *f, gconstpointer data)
{
    vireo_gdb_stub_free(f->stub);
    vireo_machine_free(f->machine);
    g_string_free(f->out, TRUE);
}

/* Hands `len` bytes to the stub; returns what it answered. */
static const char *send_raw(Fixture *f, const void *data, size_t len)
{
    g_string_truncate(f->out, 0);
    f->alive = vireo_gdb_stub_session_input(f->stub, data, len, f->out);
    return f->out->str;
}

/* `$payload#xx`; the payload may hold any byte but NUL. */
static char *framed(const char *payload)
{
    guint8 sum = 0;

    for (const char *p = payload; *p != '\0'; p++) {
        sum = (guint8)(sum + (guint8)*p);
    }
    return g_strdup_printf("$%s#%02x", payload, sum);
}

/* Sends `payload` as a packet; returns the answer. */
static const char *ask(Fixture *f, const char *payload)
{
    g_autofree char *p = framed(payload);
    return send_raw(f, p, strlen(p));
}

/* The answer to `payload` is the acknowledgement and the packet `want`. */
static void expect(Fixture *f, const char *payload, const char *want)
{
    g_autofree char *w = framed(want);
    g_autofree char *full = g_strconcat("+", w, NULL);

    g_assert_cmpstr(ask(f, payload), ==, full);
}

static void test_queries(Fixture *f, gconstpointer data)
{
    g_assert_nonnull(strstr(ask(f, "qSupported:swbreak+"), "PacketSize=4000;"));
    expect(f, "?", "T05thread:01;");
    expect(f, "qfThreadInfo", "m1");
    expect(f, "qsThreadInfo", "l");
    expect(f, "qC", "QC1");
    expect(f, "qAttached", "1");
    expect(f, "T1", "OK");
    expect(f, "T2", "E22");
    expect(f, "Hg1", "OK");
    expect(f, "Hx1", "E22");
    expect(f, "H", "E22");
    expect(f, "vCont?", "vCont;c;C;s;S");
    expect(f, "qNoSuchQuery", "");
    g_assert_true(g_str_has_prefix(ask(f, "qXfer:features:read:target.xml:0,40"), "+$m<?xml"));
    expect(f, "qXfer:features:read:target.xml:ffffffffffff,10", "l");
    expect(f, "qXfer:features:read:no.xml:0,10", "E00");
}

static void test_framing(Fixture *f, gconstpointer data)
{
    g_autofree char *q = framed("?");
    g_autofree char *reply = framed("T05thread:01;");
    g_autofree char *halves = NULL;
    g_autofree char *big = NULL;

    /* A bad checksum is refused; '-' sends the last reply again. */
    g_assert_cmpstr(send_raw(f, "$?#00", 5), ==, "-");
    expect(f, "?", "T05thread:01;");
    g_assert_cmpstr(send_raw(f, "-", 1), ==, reply);
    /* Noise, and a packet in two pieces. */
    g_assert_cmpstr(send_raw(f, "++garbage", 9), ==, "");
    g_assert_cmpstr(send_raw(f, q, 2), ==, "");
    halves = g_strconcat("+", reply, NULL);
    g_assert_cmpstr(send_raw(f, q + 2, strlen(q) - 2), ==, halves);
    /* An oversized packet is skipped to its end and refused. */
    big = g_strnfill(0x4100, '0');
    big[0] = '$';
    g_assert_cmpstr(send_raw(f, big, strlen(big)), ==, "");
    g_assert_true(g_str_has_prefix(send_raw(f, "#00", 3), "+$E01#"));
    expect(f, "qAttached", "1");
    /* An interrupt while nothing runs is ignored. */
    g_assert_cmpstr(send_raw(f, "\x03", 1), ==, "");
}

static void test_registers_memory(Fixture *f, gconstpointer data)
{
    g_autofree char *x = NULL;
    const char *g;

    g = ask(f, "g");
    g_assert_cmpuint(strlen(g), ==, 1 + 1 + 33 * 16 + 3);
    expect(f, "p20", "0000008000000000");
    expect(f, "Pa=2a00000000000000", "OK");
    expect(f, "pa", "2a00000000000000");
    g_assert_cmpuint(vireo_rv_cpu_get_reg(f->hart, 10), ==, 42);
    expect(f, "P0=0100000000000000", "OK"); /* x0 stays 0 */
    expect(f, "p0", "0000000000000000");
    expect(f, "p1000", "E14");

    f->ram[0] = 0x13;
    expect(f, "m80000000,4", "13000000");
    expect(f, "M80000010,4:11223344", "OK");
    g_assert_cmpmem(f->ram + 0x10, 4, "\x11\x22\x33\x44", 4);
    /* X: binary with escapes ('}' then the byte xor 0x20). */
    x = framed("X80000020,3:}\x03}\x04"
               "A");
    g_assert_true(g_str_has_prefix(send_raw(f, x, strlen(x)), "+$OK#"));
    g_assert_cmpmem(f->ram + 0x20, 3, "#$A", 3);
    expect(f, "m10,4", "E14");
    expect(f, "m8000fffe,4", "0000"); /* up to the end of RAM */
}

/* While the machine runs (as far as the debugger knows), packets other
 * than an interrupt, D and k are refused: nothing changes under running
 * vCPUs. */
static void test_running(Fixture *f, gconstpointer data)
{
    g_autofree char *stop = framed("T02thread:01;");

    g_assert_cmpstr(ask(f, "c"), ==, "+");
    expect(f, "g", "E16");
    expect(f, "Pa=2a00000000000000", "E16");
    expect(f, "M80000000,1:ff", "E16");
    expect(f, "Z0,80000000,2", "E16");
    expect(f, "c", "E16");
    expect(f, "vCont;s:1", "E16");
    g_assert_cmpuint(vireo_rv_cpu_get_reg(f->hart, 10), ==, 0);
    g_assert_cmpstr(send_raw(f, "\x03", 1), ==, stop);
    expect(f, "pa", "0000000000000000");
    g_assert_cmpstr(ask(f, "vCont;c"), ==, "+");
    expect(f, "D", "OK");
    g_assert_false(f->alive);
}

static void test_end(Fixture *f, gconstpointer data)
{
    expect(f, "Z0,80000100,2", "OK");
    expect(f, "D", "OK");
    g_assert_false(f->alive);
    /* Nothing is served after the end. */
    g_assert_cmpstr(ask(f, "?"), ==, "");
    g_assert_false(f->alive);
}

int main(int argc, char *argv[])
{
    g_test_init(&argc, &argv, NULL);
#define STUB_TEST(path, func) g_test_add("/gdbstub/" path, Fixture, NULL, setup, func, teardown)
    STUB_TEST("queries", test_queries);
    STUB_TEST("framing", test_framing);
    STUB_TEST("registers-memory", test_registers_memory);
    STUB_TEST("running", test_running);
    STUB_TEST("end", test_end);
    return g_test_run();
}
