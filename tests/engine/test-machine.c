/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The machine's supervisor: vCPU thread ids and the reset notification. */
#include "engine/machine.h"

#include <unistd.h>

#include "../devices/fake-vcpu.h"

typedef struct {
    GMutex lock;
    GCond cond;
    int notified;
    int vcpu_resets_seen; /* the vCPU's resets when the notification came */
    FakeVcpu *vcpu;
} Notes;

static void on_reset_notify(VireoMachine *machine, void *user_data)
{
    Notes *n = user_data;

    g_mutex_lock(&n->lock);
    n->notified++;
    n->vcpu_resets_seen = n->vcpu->resets;
    g_cond_broadcast(&n->cond);
    g_mutex_unlock(&n->lock);
}

static bool wait_notified(Notes *n, int count)
{
    gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    bool ok = true;

    g_mutex_lock(&n->lock);
    while (n->notified < count && ok) {
        ok = g_cond_wait_until(&n->cond, &n->lock, end);
    }
    g_mutex_unlock(&n->lock);
    return n->notified >= count;
}

static void test_thread_ids(void)
{
    VireoMachine *m = vireo_machine_new(vireo_bus_new(), vireo_clock_new(10000000));
    FakeVcpu v[2] = { { m, 0 }, { m, 0 } };
    g_autoptr(GError) error = NULL;
    gint64 a, b;

    vireo_machine_add_vcpu(m, &fake_vcpu_ops, &v[0]);
    vireo_machine_add_vcpu(m, &fake_vcpu_ops, &v[1]);
    g_assert_cmpint(vireo_machine_vcpu_thread_id(m, 0), ==, -1);
    g_assert_cmpint(vireo_machine_vcpu_thread_id(m, 2), ==, -1);
    g_assert_true(vireo_machine_start(m, &error));
    /* Each thread records its id as it starts. */
    for (int i = 0; i < 1000 && (vireo_machine_vcpu_thread_id(m, 0) < 0 ||
                                 vireo_machine_vcpu_thread_id(m, 1) < 0);
         i++) {
        g_usleep(1000);
    }
    a = vireo_machine_vcpu_thread_id(m, 0);
    b = vireo_machine_vcpu_thread_id(m, 1);
#ifdef __linux__
    g_assert_cmpint(a, >, 0);
    g_assert_cmpint(b, >, 0);
    g_assert_cmpint(a, !=, b);
    g_assert_cmpint(a, !=, getpid());
#endif
    g_assert_cmpint(vireo_machine_vcpu_thread_id(m, 2), ==, -1);
    vireo_machine_free(m);
}

static void test_reset_notify(void)
{
    VireoMachine *m = vireo_machine_new(vireo_bus_new(), vireo_clock_new(10000000));
    FakeVcpu v = { m, 0 };
    Notes n = { .vcpu = &v };
    g_autoptr(GError) error = NULL;

    g_mutex_init(&n.lock);
    g_cond_init(&n.cond);
    vireo_machine_add_vcpu(m, &fake_vcpu_ops, &v);
    vireo_machine_set_reset_notify(m, on_reset_notify, &n);
    g_assert_true(vireo_machine_start(m, &error));

    /* Running: the notification follows the vCPU's reset. */
    vireo_machine_request_reset(m);
    g_assert_true(wait_notified(&n, 1));
    g_assert_cmpint(n.vcpu_resets_seen, ==, 1);
    g_assert_cmpint(vireo_machine_state(m), ==, VIREO_MACHINE_RUNNING);

    /* Paused: the same, and the machine stays paused. */
    vireo_machine_pause(m);
    vireo_machine_request_reset(m);
    g_assert_true(wait_notified(&n, 2));
    g_assert_cmpint(n.vcpu_resets_seen, ==, 2);
    g_assert_cmpint(vireo_machine_state(m), ==, VIREO_MACHINE_PAUSED);

    /* A reset of a paused machine made at once is not the supervisor's. */
    g_assert_true(vireo_machine_reset_paused(m));
    g_assert_cmpint(v.resets, ==, 3);
    g_usleep(20000);
    g_assert_cmpint(n.notified, ==, 2);

    vireo_machine_set_reset_notify(m, NULL, NULL);
    vireo_machine_resume(m);
    vireo_machine_request_reset(m);
    for (int i = 0; i < 1000 && v.resets < 4; i++) {
        g_usleep(1000);
    }
    g_assert_cmpint(v.resets, ==, 4);
    g_assert_cmpint(n.notified, ==, 2);
    vireo_machine_free(m);
    g_mutex_clear(&n.lock);
    g_cond_clear(&n.cond);
}

static gpointer stop_thread(gpointer data)
{
    vireo_machine_stop(data);
    g_assert_cmpint(vireo_machine_state(data), ==, VIREO_MACHINE_STOPPED);
    return NULL;
}

/* Several threads stop the machine at once, while the guest powers it off:
 * each returns once it has stopped, and every thread is joined once. */
static void test_concurrent_stop(void)
{
    for (int round = 0; round < 100; round++) {
        VireoMachine *m = vireo_machine_new(vireo_bus_new(), vireo_clock_new(10000000));
        FakeVcpu v[2] = { { m, 0 }, { m, 0 } };
        g_autoptr(GError) error = NULL;
        GThread *threads[4];
        VireoExitReason reason;

        vireo_machine_add_vcpu(m, &fake_vcpu_ops, &v[0]);
        vireo_machine_add_vcpu(m, &fake_vcpu_ops, &v[1]);
        g_assert_true(vireo_machine_start(m, &error));
        if (round % 2 == 0) {
            vireo_machine_request_poweroff(m, 3);
        }
        for (unsigned i = 0; i < G_N_ELEMENTS(threads); i++) {
            threads[i] = g_thread_new("stop", stop_thread, m);
        }
        for (unsigned i = 0; i < G_N_ELEMENTS(threads); i++) {
            g_thread_join(threads[i]);
        }
        reason = vireo_machine_wait(m, NULL, NULL);
        g_assert_true(reason == VIREO_EXIT_STOPPED || reason == VIREO_EXIT_POWEROFF);
        vireo_machine_free(m);
    }
}

int main(int argc, char *argv[])
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/machine/vcpu-thread-ids", test_thread_ids);
    g_test_add_func("/engine/machine/reset-notify", test_reset_notify);
    g_test_add_func("/engine/machine/concurrent-stop", test_concurrent_stop);
    return g_test_run();
}
