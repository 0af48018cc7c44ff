/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "devices/board.h"
#include "devices/uart.h"
#include "devices/virt.h"
#include "engine/error.h"

struct VireoBoard {
    const VireoBoardOps *ops;
    void *impl;
    VireoMachine *machine;
};

/* ---- riscv64: the virt board ------------------------------------------- */

static const VireoVirtGpu virt_gpus[] = {
    [VIREO_BOARD_DISPLAY_NONE] = VIREO_VIRT_GPU_NONE,
    [VIREO_BOARD_DISPLAY_2D] = VIREO_VIRT_GPU_2D,
    [VIREO_BOARD_DISPLAY_VIRGL] = VIREO_VIRT_GPU_VIRGL,
};

/* The virt board's configuration for `c`; `disks` holds the disks. */
static void virt_config(const VireoBoardConfig *c, VireoVirtConfig *vc,
                        VireoVirtDisk disks[VIREO_VIRT_MAX_DISKS])
{
    for (unsigned i = 0; i < MIN(c->n_disks, VIREO_VIRT_MAX_DISKS); i++) {
        disks[i].path = c->disks != NULL ? c->disks[i].path : NULL;
        disks[i].read_only = c->disks != NULL && c->disks[i].read_only;
        disks[i].format = c->disks != NULL ? c->disks[i].format : VIREO_BLOCK_FORMAT_AUTO;
    }
    *vc = (VireoVirtConfig){
        .ram_size = c->ram_size,
        .n_harts = c->n_cpus,
        .engine = c->engine,
        .firmware = c->firmware,
        .kernel = c->kernel,
        .initrd = c->initrd,
        .cmdline = c->cmdline,
        .console = c->console,
        .test_elf = c->test_elf,
        .disks = disks,
        /* More than the board takes: vireo_virt_new() says so. */
        .n_disks = c->n_disks,
        .hvc = c->hvc,
        .net = c->net,
        .input = c->input,
        .gpu = c->display < G_N_ELEMENTS(virt_gpus) ? virt_gpus[c->display] : VIREO_VIRT_GPU_NONE,
        .scanout = c->scanout,
        .display_width = c->display_width,
        .display_height = c->display_height,
        .gl = c->gl,
        .gl_error = c->gl_error,
        .state_follows = c->state_follows,
    };
}

static bool virt_fits(const VireoVirtConfig *vc)
{
    if (vc->n_disks > VIREO_VIRT_MAX_DISKS ||
        (vireo_virt_config_has_net(vc) && vc->n_disks > VIREO_VIRT_MAX_DISKS_WITH_NET)) {
        return false;
    }
    if (vc->gpu != VIREO_VIRT_GPU_NONE && !vireo_virt_config_gpu_slot(vc, NULL)) {
        return false;
    }
    return !vc->input || vireo_virt_config_input_slots(vc, NULL, NULL);
}

static unsigned virt_max_disks(bool net, VireoBoardDisplay display, bool input)
{
    const VireoNetConfig user = { .kind = VIREO_NET_USER };

    for (unsigned n = VIREO_VIRT_MAX_DISKS; n > 0; n--) {
        VireoVirtConfig vc = {
            .n_disks = n,
            .net = net ? &user : NULL,
            .gpu = display < G_N_ELEMENTS(virt_gpus) ? virt_gpus[display] : VIREO_VIRT_GPU_NONE,
            .input = input,
        };
        if (virt_fits(&vc)) {
            return n;
        }
    }
    return 0;
}

/* The models in VireoRvCpuModel's order: the default first. */
static const char *const virt_cpus[] = { "max", "rva22", "rv64gc", NULL };

static VireoMachine *virt_create(const VireoBoardConfig *config, void **impl, GError **error)
{
    VireoVirtDisk disks[VIREO_VIRT_MAX_DISKS] = { { 0 } };
    VireoVirtConfig vc;
    VireoVirt *virt = NULL;
    VireoMachine *machine;

    virt_config(config, &vc, disks);
    if (config->cpu != NULL && !vireo_rv_cpu_model_from_name(config->cpu, &vc.cpu)) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    "The virt board has no CPU model “%s” (it has max, rva22 and rv64gc)",
                    config->cpu);
        *impl = NULL;
        return NULL;
    }
    machine = vireo_virt_new(&vc, &virt, error);
    *impl = virt;
    return machine;
}

static gsize virt_console_receive(void *impl, const guint8 *data, gsize len)
{
    return vireo_uart_receive(vireo_virt_get_uart(impl), data, len);
}

static VireoVirtio *virt_get_virtio_console(void *impl)
{
    return vireo_virt_get_virtio_console(impl);
}

static VireoVirtio *virt_get_net(void *impl)
{
    return vireo_virt_get_virtio_net(impl);
}

static VireoVirtio *virt_get_gpu(void *impl)
{
    return vireo_virt_get_gpu(impl);
}

static VireoScanout *virt_get_scanout(void *impl)
{
    return vireo_virt_get_scanout(impl);
}

static const VireoVirtioInputPair *virt_get_input(void *impl)
{
    return vireo_virt_get_input(impl);
}

static VireoBlock *virt_get_disk(void *impl, unsigned index)
{
    return vireo_virt_get_disk(impl, index);
}

static GBytes *virt_get_fdt(void *impl)
{
    return vireo_virt_boot_get_fdt(vireo_virt_get_boot(impl));
}

static const VireoBoardOps virt_ops = {
    .name = "virt",
    .arch = VIREO_ARCH_RISCV64,
    .disk_firmware = VIREO_BOARD_VIRT_FIRMWARE,
    .disk_firmware_package = "opensbi",
    .disk_loader = VIREO_BOARD_VIRT_LOADER,
    .disk_loader_package = "u-boot-qemu",
    .cpus = virt_cpus,
    .max_disks = virt_max_disks,
    .create = virt_create,
    .console_receive = virt_console_receive,
    .get_virtio_console = virt_get_virtio_console,
    .get_net = virt_get_net,
    .get_gpu = virt_get_gpu,
    .get_scanout = virt_get_scanout,
    .get_input = virt_get_input,
    .get_fdt = virt_get_fdt,
    .get_disk = virt_get_disk,
};

/* ---- The registry ------------------------------------------------------- */

static const VireoBoardOps *const boards[] = {
    &virt_ops,
};

const VireoBoardOps *vireo_board_find(VireoArch arch)
{
    for (unsigned i = 0; i < G_N_ELEMENTS(boards); i++) {
        if (boards[i]->arch == arch) {
            return boards[i];
        }
    }
    return NULL;
}

VireoMachine *vireo_board_new(const VireoBoardOps *ops, const VireoBoardConfig *config,
                              VireoBoard **board, GError **error)
{
    VireoBoard *b;
    VireoMachine *machine;
    void *impl = NULL;

    g_return_val_if_fail(ops != NULL && config != NULL, NULL);

    machine = ops->create(config, &impl, error);
    if (machine == NULL) {
        return NULL;
    }
    b = g_new0(VireoBoard, 1);
    b->ops = ops;
    b->impl = impl;
    b->machine = machine;
    vireo_machine_add_cleanup(machine, g_free, b);
    if (board != NULL) {
        *board = b;
    }
    return machine;
}

const VireoBoardOps *vireo_board_get_ops(VireoBoard *board)
{
    return board->ops;
}

VireoMachine *vireo_board_get_machine(VireoBoard *board)
{
    return board->machine;
}

void *vireo_board_get_impl(VireoBoard *board)
{
    return board->impl;
}

gsize vireo_board_console_receive(VireoBoard *board, const guint8 *data, gsize len)
{
    return board->ops->console_receive(board->impl, data, len);
}

VireoVirtio *vireo_board_get_virtio_console(VireoBoard *board)
{
    return board->ops->get_virtio_console(board->impl);
}

VireoVirtio *vireo_board_get_net(VireoBoard *board)
{
    return board->ops->get_net(board->impl);
}

VireoVirtio *vireo_board_get_gpu(VireoBoard *board)
{
    return board->ops->get_gpu(board->impl);
}

VireoScanout *vireo_board_get_scanout(VireoBoard *board)
{
    return board->ops->get_scanout(board->impl);
}

const VireoVirtioInputPair *vireo_board_get_input(VireoBoard *board)
{
    return board->ops->get_input(board->impl);
}

GBytes *vireo_board_get_fdt(VireoBoard *board)
{
    return board->ops->get_fdt(board->impl);
}

VireoBlock *vireo_board_get_disk(VireoBoard *board, unsigned index)
{
    return board->ops->get_disk != NULL ? board->ops->get_disk(board->impl, index) : NULL;
}
