/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "devices/sifive-test.h"

struct VireoSifiveTest {
    GMutex lock;
    VireoMachine *machine;
    guint32 last; /* the last command written, for debugging */
};

static bool test_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    *value = 0;
    return offset < VIREO_SIFIVE_TEST_MMIO_SIZE;
}

static bool test_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    VireoSifiveTest *t = opaque;
    guint32 command = (guint32)value;

    if (offset >= VIREO_SIFIVE_TEST_MMIO_SIZE) {
        return false;
    }
    /* The command register takes 16-bit writes (OpenSBI's driver powers
     * off with a halfword store) and 32-bit ones (which carry a failure
     * code in the upper half). */
    if (offset != 0 || size < 2) {
        return true;
    }
    g_mutex_lock(&t->lock);
    t->last = command;
    g_mutex_unlock(&t->lock);
    switch (command & 0xffff) {
    case VIREO_SIFIVE_TEST_PASS: vireo_machine_request_poweroff(t->machine, 0); break;
    case VIREO_SIFIVE_TEST_FAIL:
        /* A failure never reads as success, even without a code. */
        vireo_machine_request_poweroff(t->machine, (command >> 16) != 0 ? (int)(command >> 16) : 1);
        break;
    case VIREO_SIFIVE_TEST_RESET: vireo_machine_request_reset(t->machine); break;
    default: break;
    }
    return true;
}

static void test_reset(void *opaque)
{
    VireoSifiveTest *t = opaque;

    g_mutex_lock(&t->lock);
    t->last = 0;
    g_mutex_unlock(&t->lock);
}

static const VireoDeviceOps sifive_test_ops = {
    .name = "sifive-test",
    .read = test_read,
    .write = test_write,
    .reset = test_reset,
};

const VireoDeviceOps *vireo_sifive_test_ops(void)
{
    return &sifive_test_ops;
}

VireoSifiveTest *vireo_sifive_test_new(VireoMachine *machine)
{
    VireoSifiveTest *t = g_new0(VireoSifiveTest, 1);

    g_mutex_init(&t->lock);
    t->machine = machine;
    return t;
}

void vireo_sifive_test_free(VireoSifiveTest *test)
{
    if (test == NULL) {
        return;
    }
    g_mutex_clear(&test->lock);
    g_free(test);
}
