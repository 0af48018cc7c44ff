/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * From a VM's configuration to a machine (vireo-vm-machine.h), without
 * running it: the board the architecture picks, the network card and its
 * port forwards, the display, the disks the configuration allows, and the
 * errors of configurations that cannot run.
 */
#include "config.h"

#include "test-dirs.h"

#include <arpa/inet.h>
#include <gio/gio.h>
#include <libfdt.h>
#include <string.h>

#include "devices/virt.h"
#include "engine/error.h"
#include "vireo-vm-machine.h"

/* A file the board loads as a raw kernel: enough to build the machine. */
static char *make_file(const char *name, gsize size)
{
    g_autofree char *path = g_build_filename(g_get_user_data_dir(), name, NULL);
    g_autofree char *zeros = g_malloc0(size);

    g_assert_cmpint(g_mkdir_with_parents(g_get_user_data_dir(), 0700), ==, 0);
    g_assert_true(g_file_set_contents(path, zeros, (gssize)size, NULL));
    return g_steal_pointer(&path);
}

static VireoVmConfig *plain_config(void)
{
    g_autofree char *kernel = make_file("kernel.bin", 4096);
    VireoVmConfig *config = vireo_vm_config_new();

    vireo_vm_config_set_name(config, "Machine");
    vireo_vm_config_set_kernel(config, kernel);
    vireo_vm_config_set_cpus(config, 2);
    vireo_vm_config_set_memory(config, 64ull << 20);
    return config;
}

/* A TCP port nobody listens on now. */
static guint free_port(void)
{
    g_autoptr(GSocketListener) listener = g_socket_listener_new();
    g_autoptr(GError) error = NULL;
    guint16 port = g_socket_listener_add_any_inet_port(listener, NULL, &error);

    g_assert_no_error(error);
    return port;
}

static gboolean port_taken(guint port)
{
    g_autoptr(GSocket) socket =
        g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
    g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    g_autoptr(GSocketAddress) address = g_inet_socket_address_new(loopback, (guint16)port);

    return !g_socket_bind(socket, address, FALSE, NULL);
}

static int fdt_node(GBytes *fdt, const char *path)
{
    return fdt_path_offset(g_bytes_get_data(fdt, NULL), path);
}

typedef struct {
    VireoMachine *machine;
    VireoBoard *board;
    VireoRing *console;
} Built;

static void build(Built *b, VireoVmConfig *config)
{
    g_autoptr(GError) error = NULL;
    VireoVmMachineHost host = { 0 };

    b->console = vireo_ring_new(4096);
    host.console = b->console;
    b->machine = vireo_vm_machine_new(config, &host, &b->board, &error);
    g_assert_no_error(error);
    g_assert_nonnull(b->machine);
    g_assert_nonnull(b->board);
}

static void built_clear(Built *b)
{
    vireo_machine_free(b->machine);
    vireo_ring_free(b->console);
    memset(b, 0, sizeof *b);
}

/* A VM with user networking gets a network card in the network's slot, in
 * the device tree, with its forwards listening on the host's loopback. */
static void test_network(void)
{
    g_autoptr(VireoVmConfig) config = plain_config();
    g_autofree char *forward = NULL;
    guint port = free_port();
    VireoVirtio *net;
    GBytes *fdt;
    Built b;

    forward = g_strdup_printf("tcp:%u:22", port);
    vireo_vm_config_set_network(config, VIREO_NETWORK_USER);
    vireo_vm_config_set_forwards(config, (const char *const[]){ forward, NULL });
    build(&b, config);

    g_assert_true(vireo_board_get_ops(b.board) == vireo_board_find(VIREO_ARCH_RISCV64));
    g_assert_cmpstr(vireo_board_get_ops(b.board)->name, ==, "virt");
    net = vireo_board_get_net(b.board);
    g_assert_nonnull(net);
    g_assert_cmpuint(vireo_virtio_get_model_ops(net)->device_id, ==, VIREO_VIRTIO_ID_NET);
    g_assert_true(vireo_virt_get_virtio(vireo_board_get_impl(b.board), VIREO_VIRT_NET_SLOT) == net);
    fdt = vireo_board_get_fdt(b.board);
    g_assert_nonnull(fdt);
    g_assert_cmpint(fdt_node(fdt, "/soc/virtio_mmio@10003000"), >=, 0);
    g_assert_true(port_taken(port));
    built_clear(&b);
    /* The machine's end frees the port. */
    g_assert_false(port_taken(port));
}

/* [core] cpu: the harts' model, which the device tree describes; the
 * board's default without it. */
static void test_cpu_model(void)
{
    static const struct {
        const char *cpu;
        const char *isa_start;
        bool zicbom;
    } models[] = {
        { NULL, "rv64imafdc_zic64b_zicbom_", true },
        { "rva22", "rv64imafdc_zic64b_zicbom_", true },
        { "rv64gc", "rv64imafdc_zicsr_zifencei", false },
    };

    for (guint i = 0; i < G_N_ELEMENTS(models); i++) {
        g_autoptr(VireoVmConfig) config = plain_config();
        const void *fdt;
        const char *isa, *exts;
        int cpu, len;
        Built b;

        vireo_vm_config_set_cpu(config, models[i].cpu);
        build(&b, config);
        fdt = g_bytes_get_data(vireo_board_get_fdt(b.board), NULL);
        cpu = fdt_path_offset(fdt, "/cpus/cpu@1");
        g_assert_cmpint(cpu, >=, 0);
        isa = fdt_getprop(fdt, cpu, "riscv,isa", NULL);
        g_assert_true(g_str_has_prefix(isa, models[i].isa_start));
        g_assert_cmpint(strstr(isa, "sstc") != NULL, ==, models[i].cpu == NULL);
        exts = fdt_getprop(fdt, cpu, "riscv,isa-extensions", &len);
        g_assert_nonnull(exts);
        g_assert_cmpint(fdt_stringlist_contains(exts, len, "zicbom"), ==, models[i].zicbom);
        built_clear(&b);
    }
}

/* [core] engine: passed to the board as it is (the default as zero); the
 * JIT, where this build has none, is refused with a reason before the
 * board is built. */
static void test_engine(void)
{
    static const VireoEngineKind engines[] = { VIREO_ENGINE_DEFAULT, VIREO_ENGINE_INTERP,
                                               VIREO_ENGINE_JIT };

    g_assert_true(vireo_vm_machine_check_engine(VIREO_ENGINE_DEFAULT, NULL));
    g_assert_true(vireo_vm_machine_check_engine(VIREO_ENGINE_INTERP, NULL));
    for (guint i = 0; i < G_N_ELEMENTS(engines); i++) {
        g_autoptr(VireoVmConfig) config = plain_config();
        g_autoptr(GError) error = NULL;
        VireoVmMachineSpec spec;
        Built b;

        vireo_vm_config_set_engine(config, engines[i]);
        if (!vireo_engine_available(engines[i], NULL)) {
            VireoVmMachineHost host = { 0 };

            g_test_message("no %s engine in this build", vireo_engine_name(engines[i]));
            g_assert_false(vireo_vm_machine_check_engine(engines[i], &error));
            g_assert_error(error, VIREO_ERROR, VIREO_ERROR_ACCEL_UNAVAILABLE);
            g_assert_nonnull(strstr(error->message, "just-in-time compiler"));
            g_clear_error(&error);
            g_assert_null(vireo_vm_machine_new(config, &host, NULL, &error));
            g_assert_error(error, VIREO_ERROR, VIREO_ERROR_ACCEL_UNAVAILABLE);
            continue;
        }
        g_assert_true(vireo_vm_machine_spec_init(&spec, config, &error));
        g_assert_no_error(error);
        g_assert_cmpint(spec.config.engine, ==, engines[i]);
        vireo_vm_machine_spec_clear(&spec);
        build(&b, config);
        built_clear(&b);
    }
}

static void test_no_network(void)
{
    g_autoptr(VireoVmConfig) config = plain_config();
    GBytes *fdt;
    Built b;

    build(&b, config);
    g_assert_null(vireo_board_get_net(b.board));
    fdt = vireo_board_get_fdt(b.board);
    g_assert_cmpint(fdt_node(fdt, "/soc/virtio_mmio@10003000"), ==, -FDT_ERR_NOTFOUND);
    /* The console and the entropy device are always there. */
    g_assert_cmpint(fdt_node(fdt, "/soc/virtio_mmio@10001000"), >=, 0);
    g_assert_cmpint(fdt_node(fdt, "/soc/virtio_mmio@10002000"), >=, 0);
    g_assert_null(vireo_board_get_scanout(b.board));
    g_assert_null(vireo_board_get_input(b.board));
    built_clear(&b);
}

/* The network card's description: the same one vireo-run's --net gives. */
static void test_net_config(void)
{
    g_autoptr(VireoVmConfig) config = plain_config();
    g_autoptr(VireoNetConfig) net = NULL;
    g_autoptr(VireoNetConfig) expected = NULL;
    g_autoptr(GError) error = NULL;

    g_assert_null(vireo_vm_machine_net_config(config, &error));
    g_assert_no_error(error);

    vireo_vm_config_set_network(config, VIREO_NETWORK_USER);
    vireo_vm_config_set_forwards(config,
                                 (const char *const[]){ "tcp:8022:22", "udp:5353:53", NULL });
    net = vireo_vm_machine_net_config(config, &error);
    g_assert_no_error(error);
    g_assert_cmpint(net->kind, ==, VIREO_NET_USER);
    g_assert_cmpuint(net->n_hostfwd, ==, 2);
    g_assert_false(net->hostfwd[0].udp);
    g_assert_cmpuint(net->hostfwd[0].host_addr, ==, htonl(INADDR_LOOPBACK));
    g_assert_cmpuint(net->hostfwd[0].host_port, ==, 8022);
    g_assert_cmpuint(net->hostfwd[0].guest_addr, ==, 0);
    g_assert_cmpuint(net->hostfwd[0].guest_port, ==, 22);
    g_assert_true(net->hostfwd[1].udp);
    g_assert_cmpuint(net->hostfwd[1].host_port, ==, 5353);
    g_assert_cmpuint(net->hostfwd[1].guest_port, ==, 53);

    expected = vireo_net_config_parse("user,hostfwd=tcp:127.0.0.1:8022-:22,"
                                      "hostfwd=udp:127.0.0.1:5353-:53",
                                      &error);
    g_assert_no_error(error);
    g_assert_cmpmem(net->mac, sizeof net->mac, expected->mac, sizeof expected->mac);
    g_assert_cmpmem(net->hostfwd, sizeof net->hostfwd, expected->hostfwd, sizeof expected->hostfwd);
}

/* A display is virtio-gpu with a keyboard and a tablet. */
static void test_display(void)
{
    g_autoptr(VireoVmConfig) config = plain_config();
    VireoVmMachineSpec spec;
    g_autoptr(GError) error = NULL;
    Built b;

    vireo_vm_config_set_display(config, VIREO_DISPLAY_VIRTIO_GPU);
    g_assert_true(vireo_vm_machine_spec_init(&spec, config, &error));
    g_assert_no_error(error);
    g_assert_cmpint(spec.config.display, ==, VIREO_BOARD_DISPLAY_2D);
    g_assert_true(spec.config.input);
    g_assert_null(spec.net);
    vireo_vm_machine_spec_clear(&spec);

    build(&b, config);
    g_assert_nonnull(vireo_board_get_gpu(b.board));
    g_assert_nonnull(vireo_board_get_scanout(b.board));
    g_assert_nonnull(vireo_board_get_input(b.board));
    built_clear(&b);
}

/* Every number of disks the configuration allows beside a display and a
 * network card builds; disk.0 is the first virtio disk, vda. */
static void test_disks(void)
{
    static const struct {
        VireoDisplayDevice display;
        VireoNetworkMode network;
    } cases[] = {
        { VIREO_DISPLAY_NONE, VIREO_NETWORK_NONE },
        { VIREO_DISPLAY_NONE, VIREO_NETWORK_USER },
        { VIREO_DISPLAY_VIRTIO_GPU, VIREO_NETWORK_NONE },
        { VIREO_DISPLAY_VIRTIO_GPU, VIREO_NETWORK_USER },
    };
    g_autoptr(GPtrArray) images = g_ptr_array_new_with_free_func(g_free);

    /* One image per disk: an image is locked by the disk that opens it. */
    for (guint d = 0; d < VIREO_VM_CONFIG_MAX_DISKS; d++) {
        g_autofree char *name = g_strdup_printf("disk%u.img", d);
        g_ptr_array_add(images, make_file(name, 1 << 20));
    }
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(VireoVmConfig) config = plain_config();
        guint max =
            vireo_vm_config_max_disks(VIREO_ARCH_RISCV64, cases[i].display, cases[i].network);
        VireoVirtio *first;
        Built b;

        vireo_vm_config_set_display(config, cases[i].display);
        vireo_vm_config_set_network(config, cases[i].network);
        for (guint d = 0; d < max; d++) {
            vireo_vm_config_add_disk(config, g_ptr_array_index(images, d), d > 0);
        }
        build(&b, config);
        first = vireo_virt_get_virtio(vireo_board_get_impl(b.board), VIREO_VIRT_DISK_SLOT(0));
        g_assert_nonnull(first);
        g_assert_cmpuint(vireo_virtio_get_model_ops(first)->device_id, ==, VIREO_VIRTIO_ID_BLOCK);
        g_assert_true((vireo_board_get_net(b.board) != NULL) ==
                      (cases[i].network == VIREO_NETWORK_USER));
        built_clear(&b);
    }
}

static void expect_error(VireoVmConfig *config, int code, const char *fragment)
{
    g_autoptr(GError) error = NULL;
    VireoVmMachineHost host = { 0 };
    VireoBoard *board = NULL;

    g_assert_null(vireo_vm_machine_new(config, &host, &board, &error));
    g_assert_null(board);
    g_assert_error(error, VIREO_ERROR, code);
    g_test_message("error: %s", error->message);
    g_assert_nonnull(strstr(error->message, fragment));
}

static void test_errors(void)
{
    g_autoptr(VireoVmConfig) config = plain_config();
    g_autofree char *missing = g_build_filename(g_get_user_data_dir(), "missing.img", NULL);
    g_autofree char *forward = NULL;
    g_autofree char *port_text = NULL;
    g_autoptr(GSocketListener) listener = g_socket_listener_new();
    g_autoptr(GError) error = NULL;
    guint16 port;

    /* An architecture without a board (nor a frontend, today). */
    vireo_vm_config_set_arch(config, VIREO_ARCH_ARM64);
    expect_error(config, VIREO_ERROR_ACCEL_UNAVAILABLE, "arm64");
    vireo_vm_config_set_arch(config, VIREO_ARCH_RISCV64);

    /* A value the configuration refuses. */
    vireo_vm_config_set_cpus(config, 0);
    expect_error(config, VIREO_ERROR_CONFIG, "[core] cpus");
    vireo_vm_config_set_cpus(config, 1);

    /* A missing disk image. */
    vireo_vm_config_add_disk(config, missing, FALSE);
    expect_error(config, VIREO_ERROR_CONFIG, "[disk.0] path");
    vireo_vm_config_clear_disks(config);

    /* A forwarded port that another program holds: the board's back end
     * says which. */
    port = g_socket_listener_add_any_inet_port(listener, NULL, &error);
    g_assert_no_error(error);
    forward = g_strdup_printf("tcp:%u:22", port);
    port_text = g_strdup_printf("%u", port);
    vireo_vm_config_set_network(config, VIREO_NETWORK_USER);
    vireo_vm_config_set_forwards(config, (const char *const[]){ forward, NULL });
    expect_error(config, VIREO_ERROR_IO, port_text);
}

int main(int argc, char *argv[])
{
    test_fresh_dirs();
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/machine/network", test_network);
    g_test_add_func("/machine/no-network", test_no_network);
    g_test_add_func("/machine/cpu-model", test_cpu_model);
    g_test_add_func("/machine/engine", test_engine);
    g_test_add_func("/machine/net-config", test_net_config);
    g_test_add_func("/machine/display", test_display);
    g_test_add_func("/machine/disks", test_disks);
    g_test_add_func("/machine/errors", test_errors);
    return g_test_run();
}
