/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Robustness: random RISC-V code on the virt board, on the interpreter and
 * on the JIT. Two harts run 64 KiB of
 * random instructions (fully random words, compressed pairs, and words with
 * valid opcodes and random fields), with registers pointing at the devices,
 * and write over their own and each other's code. Whatever the guest does,
 * the host must not crash, hang or trip a sanitizer, and the machine must
 * stop when asked.
 */
#include "devices/virt.h"
#include "engine/backend.h"
#include "engine/riscv.h"

#include <glib/gstdio.h>
#include <string.h>

#define CODE_SIZE (64 * 1024)

static uint32_t enc_lui(unsigned rd, uint32_t imm20)
{
    return (imm20 << 12) | (rd << 7) | 0x37;
}

static uint32_t random_insn(GRand *rand)
{
    static const uint32_t opcodes[] = { 0x03, 0x07, 0x0f, 0x13, 0x17, 0x1b, 0x23,
                                        0x27, 0x2f, 0x33, 0x37, 0x3b, 0x43, 0x47,
                                        0x4b, 0x4f, 0x53, 0x63, 0x67, 0x6f, 0x73 };
    uint32_t w = g_rand_int(rand);

    switch (g_rand_int_range(rand, 0, 4)) {
    case 0: return w;                                               /* anything */
    case 1: return (w & 0xffff0000u) | (g_rand_int(rand) & 0xffff); /* likely compressed */
    default:
        /* A real opcode with random fields; keep jumps short so that code
         * mostly stays in the region. */
        w = (w & ~0x7fu) | opcodes[g_rand_int_range(rand, 0, G_N_ELEMENTS(opcodes))];
        if ((w & 0x7f) == 0x6f || (w & 0x7f) == 0x63) {
            w &= 0x01ffffffu; /* small positive offsets */
        }
        return w;
    }
}

static void run_one(guint32 seed, uint64_t *insns, uint64_t *traps, int *stopped_by_guest)
{
    g_autoptr(GError) error = NULL;
    GRand *rand = g_rand_new_with_seed(seed);
    uint32_t *code = g_new(uint32_t, CODE_SIZE / 4);
    g_autofree char *path = NULL;
    int fd = g_file_open_tmp("vireo-fuzz-XXXXXX.bin", &path, &error);
    VireoRing *console = vireo_ring_new(4096);
    VireoMachine *m;
    VireoVcpuStats st;
    unsigned n = 0;

    g_assert_no_error(error);
    /* x5..x9 and x28..x31 point at the devices and RAM. */
    code[n++] = enc_lui(5, 0x10000); /* UART */
    code[n++] = enc_lui(6, 0x02000); /* CLINT */
    code[n++] = enc_lui(7, 0x0c000); /* PLIC */
    code[n++] = enc_lui(8, 0x00101); /* RTC */
    code[n++] = enc_lui(9, 0x80000); /* RAM, this code */
    code[n++] = enc_lui(28, 0x80010);
    code[n++] = enc_lui(29, 0x10001); /* virtio slots, or a hole */
    code[n++] = enc_lui(30, 0x0c200); /* PLIC contexts */
    code[n++] = enc_lui(31, 0x80000 + 0x800);
    /* mtvec = the handler in the last 16 bytes of the code, which skips
     * the trapping instruction. */
    g_assert_cmpuint(n, ==, 9);
    code[n++] = 0x00000097; /* auipc x1, 0         x1 = 0x80000024 */
    code[n++] = 0x00010137; /* lui   x2, 0x10      x2 = CODE_SIZE */
    code[n++] = 0x002080b3; /* add   x1, x1, x2 */
    code[n++] = 0xfcc08093; /* addi  x1, x1, -52   x1 = 0x80000000 + CODE_SIZE - 16 */
    code[n++] = 0x30509073; /* csrw  mtvec, x1 */
    while (n < CODE_SIZE / 4 - 4) {
        code[n++] = random_insn(rand);
    }
    /* the handler: csrr x1, mepc; addi x1, x1, 4; csrw mepc, x1; mret */
    code[n++] = 0x341020f3; /* csrr x1, mepc */
    code[n++] = 0x00408093; /* addi x1, x1, 4 */
    code[n++] = 0x34109073; /* csrw mepc, x1 */
    code[n++] = 0x30200073; /* mret */
    g_assert_true(g_file_set_contents(path, (const char *)code, CODE_SIZE, &error));
    close(fd);

    VireoVirtConfig cfg = {
        .ram_size = 32ull << 20,
        .n_harts = 2,
        .kernel = path,
        .console = console,
    };
    m = vireo_virt_new(&cfg, NULL, &error);
    g_assert_no_error(error);
    g_assert_true(vireo_machine_start(m, &error));
    g_usleep(20000);
    vireo_machine_stop(m);
    g_assert_cmpint(vireo_machine_state(m), ==, VIREO_MACHINE_STOPPED);
    if (vireo_machine_exit_reason(m, NULL, NULL) == VIREO_EXIT_POWEROFF) {
        (*stopped_by_guest)++;
    }
    vireo_machine_get_stats(m, -1, &st);
    *insns += st.insns;
    *traps += st.exceptions;
    vireo_machine_free(m);
    vireo_ring_free(console);
    g_unlink(path);
    g_free(code);
    g_rand_free(rand);
}

static void test_rv_fuzz(void)
{
    uint64_t insns = 0, traps = 0;
    int by_guest = 0;
    const int runs = 48;

    for (int i = 0; i < runs; i++) {
        run_one(0x5eed0000u + (guint32)i, &insns, &traps, &by_guest);
    }
    g_test_message("%d random programs ran %" G_GUINT64_FORMAT
                   " instructions and took %" G_GUINT64_FORMAT
                   " exceptions; %d powered the board off or reset it",
                   runs, insns, traps, by_guest);
    /* The programs really ran: traps, jumps and all. */
    g_assert_cmpuint(insns, >, (uint64_t)runs * 10000);
    g_assert_cmpuint(traps, >, (uint64_t)runs * 100);
}

/* The same on the JIT: two harts rewriting their own and each other's
 * compiled code while it runs. */
static void test_rv_fuzz_jit(void)
{
    vireo_engine_set_default(VIREO_ENGINE_JIT);
    test_rv_fuzz();
    vireo_engine_set_default(VIREO_ENGINE_INTERP);
}

int main(int argc, char *argv[])
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/riscv64/fuzz", test_rv_fuzz);
    if (vireo_engine_available(VIREO_ENGINE_JIT, NULL)) {
        g_test_add_func("/jit/riscv64/fuzz", test_rv_fuzz_jit);
    }
    return g_test_run();
}
