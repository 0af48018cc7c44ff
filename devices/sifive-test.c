/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "devices/sifive-test.h"
#include "engine/snap.h"

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

/*
 * Machine state (docs/SNAPSHOTS.md, "sifive-test"): only the layout
 * version. A command takes effect at once (the machine powers off or
 * resets), and the last command, kept for debugging, is not guest-visible.
 */

#define TEST_STATE_VERSION 1

static bool test_save(void *opaque, VireoSnapWriter *w, GError **error)
{
    vireo_snap_put_u32(w, TEST_STATE_VERSION);
    return true;
}

static bool test_load(void *opaque, VireoSnapReader *r, GError **error)
{
    uint32_t version = vireo_snap_get_u32(r);

    if (vireo_snap_reader_version(r) != 1 || version != TEST_STATE_VERSION) {
        vireo_snap_fail(r, "layout version %u/%u is not 1/%u", vireo_snap_reader_version(r),
                        version, TEST_STATE_VERSION);
    }
    return vireo_snap_reader_finish(r, error);
}

static const VireoDeviceOps sifive_test_ops = {
    .name = "sifive-test",
    .read = test_read,
    .write = test_write,
    .reset = test_reset,
    .save = test_save,
    .load = test_load,
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
