/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

#include "accel/accel.h"
#include "devices/block.h"
#include "engine/arch.h"
#include "engine/backend.h"

G_BEGIN_DECLS

/*
 * The configuration of one virtual machine, as stored in its vm.conf
 * (docs/CONFIG.md describes the file). Loading checks the text and every
 * value and reports the first problem as VIREO_ERROR_CONFIG with
 * "[group] key (line N): why" ("line N: why" for a line outside any key,
 * no line for a key the file lacks or for a configuration not loaded).
 */

typedef enum {
    VIREO_NETWORK_NONE,
    VIREO_NETWORK_USER,
} VireoNetworkMode;

typedef enum {
    VIREO_DISPLAY_NONE,
    VIREO_DISPLAY_VIRTIO_GPU,
} VireoDisplayDevice;

#define VIREO_TYPE_NETWORK_MODE   (vireo_network_mode_get_type())
#define VIREO_TYPE_DISPLAY_DEVICE (vireo_display_device_get_type())
GType vireo_network_mode_get_type(void);
GType vireo_display_device_get_type(void);

#define VIREO_VM_CONFIG_MIN_MEMORY     (2ull << 20)
#define VIREO_VM_CONFIG_MAX_MEMORY     (1ull << 40)
#define VIREO_VM_CONFIG_MAX_CPUS       64
#define VIREO_VM_CONFIG_MAX_DISKS      6 /* the board's virtio-blk slots */
#define VIREO_VM_CONFIG_MAX_NAME       64
#define VIREO_VM_CONFIG_MAX_CMDLINE    4096
#define VIREO_VM_CONFIG_DEFAULT_MEMORY (256ull << 20)
#define VIREO_VM_CONFIG_MAX_FORWARDS   16 /* VIREO_NET_MAX_FWD */
/* A vm.conf is a few hundred bytes; a larger file is refused unread. */
#define VIREO_VM_CONFIG_MAX_FILE_SIZE (1u << 20)

#define VIREO_TYPE_VM_CONFIG (vireo_vm_config_get_type())

G_DECLARE_FINAL_TYPE(VireoVmConfig, vireo_vm_config, VIREO, VM_CONFIG, GObject)

/* A configuration with every default: riscv64, soft, 1 vCPU, 256 MiB, no
 * images, no network, no display. */
VireoVmConfig *vireo_vm_config_new(void);
VireoVmConfig *vireo_vm_config_copy(VireoVmConfig *self);
gboolean vireo_vm_config_equal(VireoVmConfig *a, VireoVmConfig *b);

/* Relative paths in the file (disk images the VM owns) are resolved
 * against `base_dir`, the VM's folder. */
VireoVmConfig *vireo_vm_config_load_from_data(const char *data, gsize length, const char *base_dir,
                                              GError **error);
/* Only a regular file of at most VIREO_VM_CONFIG_MAX_FILE_SIZE bytes is
 * read, without waiting on a named pipe or a device (vireo-file.h);
 * VIREO_ERROR_IO otherwise, naming the file and why. */
VireoVmConfig *vireo_vm_config_load_from_file(const char *path, GError **error);
char *vireo_vm_config_to_data(VireoVmConfig *self, const char *base_dir, gsize *length);
/* Atomic: the new file replaces the old one whole or not at all. */
gboolean vireo_vm_config_save_to_file(VireoVmConfig *self, const char *path, GError **error);

/* Every value valid (what loading checks, without touching files). */
gboolean vireo_vm_config_validate(VireoVmConfig *self, GError **error);
/* Every file the configuration names exists and is a readable regular file. */
gboolean vireo_vm_config_check_files(VireoVmConfig *self, GError **error);

/* Field checks shared by the loader and the editor. Their errors carry the
 * reason only; the loader prefixes "[group] key (line N): ". */
gboolean vireo_vm_config_parse_memory(const char *text, guint64 *bytes, GError **error);
char *vireo_vm_config_format_memory(guint64 bytes);
gboolean vireo_vm_config_check_name(const char *name, GError **error);
gboolean vireo_vm_config_check_cpus(gint64 cpus, GError **error);
/* [core] cpu: one of the CPU models of the board of `arch` (any name for an
 * architecture without a board yet). */
gboolean vireo_vm_config_check_cpu(VireoArch arch, const char *cpu, GError **error);
/* [core] engine: "jit" or "interp" (vireo_engine_from_name()). Whether this
 * host has the engine is checked when the VM starts, not here: a file
 * stays valid on another computer. */
gboolean vireo_vm_config_parse_engine(const char *text, VireoEngineKind *engine, GError **error);
gboolean vireo_vm_config_check_memory(guint64 bytes, GError **error);
gboolean vireo_vm_config_check_cmdline(const char *cmdline, GError **error);
gboolean vireo_vm_config_check_path(const char *path, GError **error);
/* The file at `path` exists and is a readable regular file. */
gboolean vireo_vm_config_check_file(const char *path, GError **error);
/* "tcp:8022:22" or "udp:5353:53": protocol, host port, guest port. */
gboolean vireo_vm_config_check_forward(const char *forward, GError **error);
gboolean vireo_vm_config_parse_forward(const char *forward, gboolean *udp, guint *host_port,
                                       guint *guest_port, GError **error);
/* [debug] gdb: the TCP port on 127.0.0.1 a debugger connects to, 1 to
 * 65535; 0 is off. */
gboolean vireo_vm_config_check_gdb_port(gint64 port, GError **error);
gboolean vireo_vm_config_parse_gdb_port(const char *text, guint *port, GError **error);
/* [debug] qmp: an absolute path of at most 107 bytes, or NULL (none). */
gboolean vireo_vm_config_check_qmp_socket(const char *path, GError **error);

/* Rules between fields, shared by the loader and the editor like the field
 * checks. Each error belongs to the first key named. */
/* [boot] firmware: a firmware or a kernel (or both) to boot. */
gboolean vireo_vm_config_check_boot(const char *firmware, const char *kernel, GError **error);
/* [boot] initrd: an initial RAM disk needs a kernel. */
gboolean vireo_vm_config_check_initrd(const char *initrd, const char *kernel, GError **error);
/* [network] forwards: every forward valid, at most VIREO_VM_CONFIG_MAX_FORWARDS,
 * each host port once, and only with the user network mode. */
gboolean vireo_vm_config_check_forwards(VireoNetworkMode mode, const char *const *forwards,
                                        GError **error);
/* [display] device, else [network] mode: the board of `arch` has room for
 * `n_disks` disks beside the display and the network card. */
gboolean vireo_vm_config_check_devices(VireoArch arch, VireoDisplayDevice display,
                                       VireoNetworkMode network, guint n_disks, GError **error);
/* How many disks the board of `arch` takes beside `display` and `network`. */
guint vireo_vm_config_max_disks(VireoArch arch, VireoDisplayDevice display,
                                VireoNetworkMode network);

const char *vireo_network_mode_to_string(VireoNetworkMode mode);
gboolean vireo_network_mode_from_string(const char *text, VireoNetworkMode *mode);
const char *vireo_display_device_to_string(VireoDisplayDevice device);
gboolean vireo_display_device_from_string(const char *text, VireoDisplayDevice *device);

const char *vireo_vm_config_get_name(VireoVmConfig *self);
void vireo_vm_config_set_name(VireoVmConfig *self, const char *name);
VireoArch vireo_vm_config_get_arch(VireoVmConfig *self);
void vireo_vm_config_set_arch(VireoVmConfig *self, VireoArch arch);
VireoAccelKind vireo_vm_config_get_accel(VireoVmConfig *self);
void vireo_vm_config_set_accel(VireoVmConfig *self, VireoAccelKind accel);
guint vireo_vm_config_get_cpus(VireoVmConfig *self);
void vireo_vm_config_set_cpus(VireoVmConfig *self, guint cpus);
/* The CPU model by name, NULL (or "" when set) for the board's default. */
const char *vireo_vm_config_get_cpu(VireoVmConfig *self);
void vireo_vm_config_set_cpu(VireoVmConfig *self, const char *cpu);
/* What runs guest code on the software accelerator; VIREO_ENGINE_DEFAULT
 * (no key in the file) for the process's default, the JIT where it is
 * built. */
VireoEngineKind vireo_vm_config_get_engine(VireoVmConfig *self);
void vireo_vm_config_set_engine(VireoVmConfig *self, VireoEngineKind engine);
guint64 vireo_vm_config_get_memory(VireoVmConfig *self);
void vireo_vm_config_set_memory(VireoVmConfig *self, guint64 bytes);

const char *vireo_vm_config_get_firmware(VireoVmConfig *self);
void vireo_vm_config_set_firmware(VireoVmConfig *self, const char *path);
const char *vireo_vm_config_get_kernel(VireoVmConfig *self);
void vireo_vm_config_set_kernel(VireoVmConfig *self, const char *path);
const char *vireo_vm_config_get_initrd(VireoVmConfig *self);
void vireo_vm_config_set_initrd(VireoVmConfig *self, const char *path);
const char *vireo_vm_config_get_cmdline(VireoVmConfig *self);
void vireo_vm_config_set_cmdline(VireoVmConfig *self, const char *cmdline);

guint vireo_vm_config_get_n_disks(VireoVmConfig *self);
const char *vireo_vm_config_get_disk_path(VireoVmConfig *self, guint index);
gboolean vireo_vm_config_get_disk_read_only(VireoVmConfig *self, guint index);
void vireo_vm_config_add_disk(VireoVmConfig *self, const char *path, gboolean read_only);
void vireo_vm_config_clear_disks(VireoVmConfig *self);
/* A disk's image format: raw, qcow2, or AUTO where the file does not say
 * ([disk.N] without `format`: raw, unless the image is a qcow2 image, which
 * is then refused rather than guessed; docs/CONFIG.md). Disks are added as
 * AUTO. */
VireoBlockFormat vireo_vm_config_get_disk_format(VireoVmConfig *self, guint index);
void vireo_vm_config_set_disk_format(VireoVmConfig *self, guint index, VireoBlockFormat format);
/* What an image file's first bytes make it: qcow2 or raw (also when it
 * cannot be read). */
VireoBlockFormat vireo_vm_config_detect_format(const char *path);

VireoNetworkMode vireo_vm_config_get_network(VireoVmConfig *self);
void vireo_vm_config_set_network(VireoVmConfig *self, VireoNetworkMode mode);
const char *const *vireo_vm_config_get_forwards(VireoVmConfig *self);
void vireo_vm_config_set_forwards(VireoVmConfig *self, const char *const *forwards);

VireoDisplayDevice vireo_vm_config_get_display(VireoVmConfig *self);
void vireo_vm_config_set_display(VireoVmConfig *self, VireoDisplayDevice device);

/* The port of the GDB stub on 127.0.0.1, 0 without one. */
guint vireo_vm_config_get_gdb_port(VireoVmConfig *self);
void vireo_vm_config_set_gdb_port(VireoVmConfig *self, guint port);

/* The Unix socket where the VM's QMP monitor listens while it runs
 * (docs/QMP.md), NULL without one; NULL or "" sets none. */
const char *vireo_vm_config_get_qmp_socket(VireoVmConfig *self);
void vireo_vm_config_set_qmp_socket(VireoVmConfig *self, const char *path);

G_END_DECLS
