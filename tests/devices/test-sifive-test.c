/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "devices/sifive-test.h"
#include "device-state.h"
#include "fake-vcpu.h"

typedef struct {
    VireoMachine *machine;
    VireoSifiveTest *dev;
    FakeVcpu vcpu;
    GMutex lock;
    int board_resets;
} Fixture;

static void on_reset(VireoMachine *machine, void *user_data)
{
    Fixture *f = user_data;

    g_mutex_lock(&f->lock);
    f->board_resets++;
    g_mutex_unlock(&f->lock);
}

static void fixture_setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    g_mutex_init(&f->lock);
    f->machine = vireo_machine_new(vireo_bus_new(), vireo_clock_new(10000000));
    f->vcpu.machine = f->machine;
    vireo_machine_add_vcpu(f->machine, &fake_vcpu_ops, &f->vcpu);
    vireo_machine_set_reset_func(f->machine, on_reset, f);
    f->dev = vireo_sifive_test_new(f->machine);
    g_assert_true(vireo_bus_add_mmio(vireo_machine_bus(f->machine), "test", 0x100000,
                                     VIREO_SIFIVE_TEST_MMIO_SIZE, vireo_sifive_test_ops(), f->dev,
                                     &error));
    g_assert_no_error(error);
    g_assert_true(vireo_machine_start(f->machine, &error));
    g_assert_no_error(error);
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    vireo_machine_free(f->machine);
    vireo_sifive_test_free(f->dev);
    g_mutex_clear(&f->lock);
}

static void guest_write(Fixture *f, uint64_t off, unsigned size, uint64_t value)
{
    g_assert_true(vireo_bus_write(vireo_machine_bus(f->machine), 0x100000 + off, size, value));
}

static void test_pass(Fixture *f, gconstpointer data)
{
    int code = -1;

    guest_write(f, 0, 4, 0x5555);
    g_assert_cmpint(vireo_machine_wait(f->machine, &code, NULL), ==, VIREO_EXIT_POWEROFF);
    g_assert_cmpint(code, ==, 0);
}

static void test_fail(Fixture *f, gconstpointer data)
{
    int code = -1;

    guest_write(f, 0, 4, (42u << 16) | 0x3333);
    g_assert_cmpint(vireo_machine_wait(f->machine, &code, NULL), ==, VIREO_EXIT_POWEROFF);
    g_assert_cmpint(code, ==, 42);
}

static void test_fail_max(Fixture *f, gconstpointer data)
{
    int code = -1;

    guest_write(f, 0, 4, 0xffff3333u);
    g_assert_cmpint(vireo_machine_wait(f->machine, &code, NULL), ==, VIREO_EXIT_POWEROFF);
    g_assert_cmpint(code, ==, 0xffff);
}

/* OpenSBI powers off with a 16-bit store. */
static void test_halfword(Fixture *f, gconstpointer data)
{
    int code = -1;

    guest_write(f, 0, 2, 0x5555);
    g_assert_cmpint(vireo_machine_wait(f->machine, &code, NULL), ==, VIREO_EXIT_POWEROFF);
    g_assert_cmpint(code, ==, 0);
}

/* A failure without a code (a 16-bit store) still exits with a failure. */
static void test_halfword_fail(Fixture *f, gconstpointer data)
{
    int code = -1;

    guest_write(f, 0, 2, 0x3333);
    g_assert_cmpint(vireo_machine_wait(f->machine, &code, NULL), ==, VIREO_EXIT_POWEROFF);
    g_assert_cmpint(code, ==, 1);
}

static void test_reset(Fixture *f, gconstpointer data)
{
    gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    int resets = 0;

    guest_write(f, 0, 4, 0x7777);
    while (g_get_monotonic_time() < end) {
        g_mutex_lock(&f->lock);
        resets = f->board_resets;
        g_mutex_unlock(&f->lock);
        if (resets > 0) {
            break;
        }
        g_usleep(1000);
    }
    g_assert_cmpint(resets, ==, 1);
    /* The machine keeps running after a reset. */
    g_assert_cmpint(vireo_machine_exit_reason(f->machine, NULL, NULL), ==, VIREO_EXIT_NONE);
    guest_write(f, 0, 4, 0x5555);
    g_assert_cmpint(vireo_machine_wait(f->machine, NULL, NULL), ==, VIREO_EXIT_POWEROFF);
}

static void test_ignored(Fixture *f, gconstpointer data)
{
    const VireoDeviceOps *ops = vireo_sifive_test_ops();
    uint64_t v = 1;

    /* Unknown commands, byte writes and other offsets do nothing. */
    guest_write(f, 0, 4, 0x1234);
    guest_write(f, 0, 4, 0x5556);
    guest_write(f, 0, 1, 0x55);
    guest_write(f, 4, 4, 0x5555);
    guest_write(f, 0xffc, 4, 0x3333);
    g_assert_true(ops->read(f->dev, 0, 4, &v));
    g_assert_cmphex(v, ==, 0);
    g_assert_false(ops->write(f->dev, VIREO_SIFIVE_TEST_MMIO_SIZE, 4, 0x5555));
    g_assert_false(ops->read(f->dev, VIREO_SIFIVE_TEST_MMIO_SIZE, 4, &v));
    g_usleep(20000);
    g_assert_cmpint(vireo_machine_exit_reason(f->machine, NULL, NULL), ==, VIREO_EXIT_NONE);
    g_assert_cmpint(vireo_machine_state(f->machine), ==, VIREO_MACHINE_RUNNING);
    /* A 64-bit write acts on its low 32 bits. */
    guest_write(f, 0, 8, 0xffffffff00075555ull);
    g_assert_cmpint(vireo_machine_wait(f->machine, &(int){ 0 }, NULL), ==, VIREO_EXIT_POWEROFF);
}

/* The device has no state a guest can see, but it has a section, so that
 * a machine holding it can be saved; a machine saved with the device
 * running stays running after its state is loaded. */
static void test_state(Fixture *f, gconstpointer data)
{
    const VireoDeviceOps *ops = vireo_sifive_test_ops();
    g_autoptr(GError) error = NULL;
    g_autoptr(GByteArray) saved = device_state_save(ops, f->dev);
    g_autoptr(GByteArray) bad = g_byte_array_new();

    g_assert_cmpuint(saved->len, ==, 4);
    guest_write(f, 0, 4, 0x1234);
    g_assert_true(device_state_load(ops, f->dev, saved, &error));
    g_assert_no_error(error);
    g_byte_array_append(bad, saved->data, saved->len);
    device_state_put_u32(bad, 0, 7);
    device_state_assert_refused(ops, f->dev, bad->data, bad->len, "layout version");
    device_state_assert_cuts_refused(ops, f->dev, saved);
    g_usleep(20000);
    g_assert_cmpint(vireo_machine_exit_reason(f->machine, NULL, NULL), ==, VIREO_EXIT_NONE);
}

int main(int argc, char *argv[])
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name, func) g_test_add(name, Fixture, NULL, fixture_setup, func, fixture_teardown)
    ADD("/sifive-test/pass", test_pass);
    ADD("/sifive-test/fail", test_fail);
    ADD("/sifive-test/fail-max", test_fail_max);
    ADD("/sifive-test/halfword", test_halfword);
    ADD("/sifive-test/halfword-fail", test_halfword_fail);
    ADD("/sifive-test/reset", test_reset);
    ADD("/sifive-test/ignored", test_ignored);
    ADD("/sifive-test/state", test_state);
#undef ADD
    return g_test_run();
}
