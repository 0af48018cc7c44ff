/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "vireo-vm-config"

#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vireo-vm-config.h"

#include "vireo-file.h"

#include "devices/board.h"
#include "engine/error.h"

typedef struct {
    char *path;
    gboolean read_only;
    VireoBlockFormat format;
} Disk;

struct _VireoVmConfig {
    GObject parent_instance;

    char *name;
    VireoArch arch;
    VireoAccelKind accel;
    guint cpus;
    char *cpu;              /* the CPU model, NULL for the board's default */
    VireoEngineKind engine; /* VIREO_ENGINE_DEFAULT: the process's default */
    guint64 memory;

    char *firmware;
    char *kernel;
    char *initrd;
    char *cmdline;

    GArray *disks; /* Disk */

    VireoNetworkMode network;
    GStrv forwards;

    VireoDisplayDevice display;

    guint gdb_port;   /* 0: no debugger */
    char *qmp_socket; /* NULL: no monitor */
};

G_DEFINE_FINAL_TYPE(VireoVmConfig, vireo_vm_config, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE(VireoNetworkMode, vireo_network_mode,
                   G_DEFINE_ENUM_VALUE(VIREO_NETWORK_NONE, "none"),
                   G_DEFINE_ENUM_VALUE(VIREO_NETWORK_USER, "user"))

G_DEFINE_ENUM_TYPE(VireoDisplayDevice, vireo_display_device,
                   G_DEFINE_ENUM_VALUE(VIREO_DISPLAY_NONE, "none"),
                   G_DEFINE_ENUM_VALUE(VIREO_DISPLAY_VIRTIO_GPU, "virtio-gpu"))

/* Every group and key the file may hold; anything else is an error, so that a
 * misspelt key does not pass silently. Disks are groups "disk.N". */
static const char *const core_keys[] = { "name", "architecture", "accelerator", "cpus",
                                         "cpu",  "engine",       "memory",      NULL };
static const char *const boot_keys[] = { "firmware", "kernel", "initrd", "cmdline", NULL };
static const char *const disk_keys[] = { "path", "read-only", "format", NULL };
static const char *const network_keys[] = { "mode", "forwards", NULL };
static const char *const display_keys[] = { "device", NULL };
static const char *const debug_keys[] = { "gdb", "qmp", NULL };

/* Packages that ship firmware found at these places, for a hint when a file
 * is missing. */
static const struct {
    const char *prefix;
    const char *package;
} known_packages[] = {
    { "/usr/lib/riscv64-linux-gnu/opensbi/", "opensbi" },
    { "/usr/lib/u-boot/", "u-boot-qemu" },
};

static void disk_clear(gpointer data)
{
    Disk *disk = data;
    g_free(disk->path);
}

static void vireo_vm_config_finalize(GObject *object)
{
    VireoVmConfig *self = VIREO_VM_CONFIG(object);

    g_free(self->name);
    g_free(self->cpu);
    g_free(self->firmware);
    g_free(self->kernel);
    g_free(self->initrd);
    g_free(self->cmdline);
    g_free(self->qmp_socket);
    g_array_unref(self->disks);
    g_strfreev(self->forwards);
    G_OBJECT_CLASS(vireo_vm_config_parent_class)->finalize(object);
}

static void vireo_vm_config_class_init(VireoVmConfigClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);

    object_class->finalize = vireo_vm_config_finalize;
}

static void vireo_vm_config_init(VireoVmConfig *self)
{
    self->name = g_strdup("");
    self->arch = VIREO_ARCH_RISCV64;
    self->accel = VIREO_ACCEL_SOFT;
    self->cpus = 1;
    self->memory = VIREO_VM_CONFIG_DEFAULT_MEMORY;
    self->disks = g_array_new(FALSE, TRUE, sizeof(Disk));
    g_array_set_clear_func(self->disks, disk_clear);
    self->forwards = g_new0(char *, 1);
    self->network = VIREO_NETWORK_NONE;
    self->display = VIREO_DISPLAY_NONE;
}

/* ---- Field checks ------------------------------------------------------- */

static gboolean config_error(GError **error, const char *format, ...) G_GNUC_PRINTF(2, 3);

static gboolean config_error(GError **error, const char *format, ...)
{
    va_list ap;

    if (error != NULL) {
        va_start(ap, format);
        *error = g_error_new_valist(VIREO_ERROR, VIREO_ERROR_CONFIG, format, ap);
        va_end(ap);
    }
    return FALSE;
}

/* "256M", "2G", "1048576K", "512MiB", "4096B"; a number without a unit
 * counts MiB, as vireo-run's --memory does. */
gboolean vireo_vm_config_parse_memory(const char *text, guint64 *bytes, GError **error)
{
    const char *p = text;
    char *end;
    guint64 value;
    guint shift = 20;

    g_return_val_if_fail(text != NULL, FALSE);

    while (g_ascii_isspace(*p)) {
        p++;
    }
    if (!g_ascii_isdigit(*p)) {
        return config_error(error, _("“%s” is not a size (try 256M or 2G)"), text);
    }
    errno = 0;
    value = g_ascii_strtoull(p, &end, 10);
    if (errno != 0) {
        return config_error(error, _("“%s” is not a size (try 256M or 2G)"), text);
    }
    switch (g_ascii_toupper(*end)) {
    case '\0': break;
    case 'B': shift = 0; break;
    case 'K': shift = 10; break;
    case 'M': shift = 20; break;
    case 'G': shift = 30; break;
    case 'T': shift = 40; break;
    default: return config_error(error, _("“%s” is not a size (try 256M or 2G)"), text);
    }
    if (*end != '\0') {
        end++;
        if (shift != 0 &&
            (g_ascii_strcasecmp(end, "iB") == 0 || g_ascii_strcasecmp(end, "B") == 0)) {
            end += strlen(end);
        }
        while (g_ascii_isspace(*end)) {
            end++;
        }
        if (*end != '\0') {
            return config_error(error, _("“%s” is not a size (try 256M or 2G)"), text);
        }
    } else if (value > VIREO_VM_CONFIG_MAX_MEMORY >> 20) {
        /* Most likely a number of bytes: say how to write it. */
        g_autofree char *as_bytes = vireo_vm_config_format_memory(value);
        char number[32];

        g_snprintf(number, sizeof number, "%" G_GUINT64_FORMAT, value);
        return config_error(error,
                            _("%s MiB is more than 1T (a number without a unit counts MiB; for %s "
                              "bytes, write %s)"),
                            number, number, as_bytes);
    }
    if (value > (G_MAXUINT64 >> shift)) {
        return config_error(error, _("“%s” is too large"), text);
    }
    if (bytes != NULL) {
        *bytes = value << shift;
    }
    return TRUE;
}

char *vireo_vm_config_format_memory(guint64 bytes)
{
    static const char units[] = "KMGT";

    for (int i = 3; i >= 0; i--) {
        guint shift = 10 * (guint)(i + 1);
        if (bytes != 0 && bytes % (G_GUINT64_CONSTANT(1) << shift) == 0) {
            return g_strdup_printf("%" G_GUINT64_FORMAT "%c", bytes >> shift, units[i]);
        }
    }
    /* A number alone would be read as MiB. */
    return g_strdup_printf("%" G_GUINT64_FORMAT "B", bytes);
}

/* The characters that change the direction of the text around them
 * (Unicode's Bidi_Control): in a name they would make the list show it
 * reordered, or reorder what follows it. */
static gboolean is_bidi_control(gunichar c)
{
    return c == 0x061c ||                  /* ARABIC LETTER MARK */
           c == 0x200e || c == 0x200f ||   /* LEFT-TO-RIGHT and RIGHT-TO-LEFT MARK */
           (c >= 0x202a && c <= 0x202e) || /* embeddings, overrides and their end */
           (c >= 0x2066 && c <= 0x2069);   /* isolates and their end */
}

gboolean vireo_vm_config_check_name(const char *name, GError **error)
{
    gboolean blank = TRUE;

    for (const char *p = name; p != NULL && *p != '\0'; p++) {
        blank = blank && g_ascii_isspace(*p);
    }
    if (blank) {
        return config_error(error, _("a name is required"));
    }
    if (!g_utf8_validate(name, -1, NULL)) {
        return config_error(error, _("the name is not valid UTF-8"));
    }
    if (g_utf8_strlen(name, -1) > VIREO_VM_CONFIG_MAX_NAME) {
        return config_error(error, _("the name is longer than %d characters"),
                            VIREO_VM_CONFIG_MAX_NAME);
    }
    for (const char *p = name; *p != '\0'; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        if (is_bidi_control(c)) {
            return config_error(
                error, _("the name contains a bidirectional control character (U+%04X)"), c);
        }
        if (g_unichar_iscntrl(c) || g_unichar_type(c) == G_UNICODE_LINE_SEPARATOR ||
            g_unichar_type(c) == G_UNICODE_PARAGRAPH_SEPARATOR) {
            return config_error(error, _("the name contains a control character (U+%04X)"), c);
        }
    }
    return TRUE;
}

gboolean vireo_vm_config_check_cpus(gint64 cpus, GError **error)
{
    if (cpus < 1 || cpus > VIREO_VM_CONFIG_MAX_CPUS) {
        char number[32];
        g_snprintf(number, sizeof number, "%" G_GINT64_FORMAT, cpus);
        return config_error(error, _("%s is out of range (1 to %d)"), number,
                            VIREO_VM_CONFIG_MAX_CPUS);
    }
    return TRUE;
}

gboolean vireo_vm_config_check_cpu(VireoArch arch, const char *cpu, GError **error)
{
    const VireoBoardOps *board = vireo_board_find(arch);
    g_autofree char *list = NULL;

    /* Without a board (an architecture that does not run yet), starting
     * says what is wrong. */
    if (board == NULL || board->cpus == NULL) {
        return TRUE;
    }
    for (guint i = 0; board->cpus[i] != NULL; i++) {
        if (strcmp(board->cpus[i], cpu) == 0) {
            return TRUE;
        }
    }
    list = g_strjoinv(", ", (char **)board->cpus);
    return config_error(error, _("unknown CPU model (%s)"), list);
}

gboolean vireo_vm_config_parse_engine(const char *text, VireoEngineKind *engine, GError **error)
{
    if (text == NULL || !vireo_engine_from_name(text, engine)) {
        /* Translators: "jit" and "interp" are the values the file takes;
         * keep them as they are. */
        return config_error(error, _("unknown execution engine (jit or interp)"));
    }
    return TRUE;
}

gboolean vireo_vm_config_check_memory(guint64 bytes, GError **error)
{
    if (bytes < VIREO_VM_CONFIG_MIN_MEMORY || bytes > VIREO_VM_CONFIG_MAX_MEMORY) {
        g_autofree char *text = vireo_vm_config_format_memory(bytes);
        return config_error(error, _("%s is out of range (2M to 1T)"), text);
    }
    if (bytes % 4096 != 0) {
        g_autofree char *text = vireo_vm_config_format_memory(bytes);
        return config_error(error, _("%s is not a whole number of 4 KiB pages"), text);
    }
    return TRUE;
}

gboolean vireo_vm_config_check_cmdline(const char *cmdline, GError **error)
{
    if (cmdline == NULL) {
        return TRUE;
    }
    if (strlen(cmdline) > VIREO_VM_CONFIG_MAX_CMDLINE) {
        return config_error(error, _("the command line is longer than %d bytes"),
                            VIREO_VM_CONFIG_MAX_CMDLINE);
    }
    if (strpbrk(cmdline, "\n\r") != NULL) {
        return config_error(error, _("the command line must be a single line"));
    }
    return TRUE;
}

gboolean vireo_vm_config_check_path(const char *path, GError **error)
{
    if (path == NULL || *path == '\0') {
        return config_error(error, _("a file is required"));
    }
    if (!g_path_is_absolute(path)) {
        return config_error(error, _("“%s” is not an absolute path"), path);
    }
    return TRUE;
}

gboolean vireo_vm_config_check_file(const char *path, GError **error)
{
    GStatBuf st;

    if (!vireo_vm_config_check_path(path, error)) {
        return FALSE;
    }
    if (g_stat(path, &st) != 0) {
        int err = errno;
        for (guint i = 0; i < G_N_ELEMENTS(known_packages); i++) {
            if (err == ENOENT && g_str_has_prefix(path, known_packages[i].prefix)) {
                return config_error(error,
                                    _("“%s” is missing; install the Debian package “%s” "
                                      "(sudo apt install %s)"),
                                    path, known_packages[i].package, known_packages[i].package);
            }
        }
        return config_error(error, _("cannot read “%s”: %s"), path, g_strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
        return config_error(error, _("“%s” is not a regular file"), path);
    }
    if (g_access(path, R_OK) != 0) {
        int err = errno;
        return config_error(error, _("cannot read “%s”: %s"), path, g_strerror(err));
    }
    return TRUE;
}

static gboolean parse_port(const char *text, guint *port)
{
    guint64 value;

    if (!g_ascii_string_to_unsigned(text, 10, 1, 65535, &value, NULL)) {
        return FALSE;
    }
    *port = (guint)value;
    return TRUE;
}

gboolean vireo_vm_config_parse_forward(const char *forward, gboolean *udp, guint *host_port,
                                       guint *guest_port, GError **error)
{
    g_auto(GStrv) parts = NULL;
    guint host, guest;

    g_return_val_if_fail(forward != NULL, FALSE);

    parts = g_strsplit(forward, ":", -1);
    if (g_strv_length(parts) != 3) {
        return config_error(error, _("“%s” is not a port forward (try tcp:8022:22)"), forward);
    }
    if (strcmp(parts[0], "tcp") != 0 && strcmp(parts[0], "udp") != 0) {
        return config_error(error, _("“%s”: the protocol must be tcp or udp"), forward);
    }
    if (!parse_port(parts[1], &host) || !parse_port(parts[2], &guest)) {
        return config_error(error, _("“%s”: ports are numbers from 1 to 65535"), forward);
    }
    if (udp != NULL) {
        *udp = strcmp(parts[0], "udp") == 0;
    }
    if (host_port != NULL) {
        *host_port = host;
    }
    if (guest_port != NULL) {
        *guest_port = guest;
    }
    return TRUE;
}

gboolean vireo_vm_config_check_forward(const char *forward, GError **error)
{
    return vireo_vm_config_parse_forward(forward, NULL, NULL, NULL, error);
}

gboolean vireo_vm_config_check_gdb_port(gint64 port, GError **error)
{
    if (port < 0 || port > 65535) {
        char number[32];
        g_snprintf(number, sizeof number, "%" G_GINT64_FORMAT, port);
        return config_error(error, _("%s is not a port (1 to 65535, or 0 for off)"), number);
    }
    return TRUE;
}

gboolean vireo_vm_config_check_qmp_socket(const char *path, GError **error)
{
    if (path == NULL) {
        return TRUE;
    }
    if (!g_path_is_absolute(path)) {
        return config_error(error, _("“%s” is not an absolute path"), path);
    }
    /* What a Unix socket's address holds, less its terminating zero. */
    if (strlen(path) > 107) {
        return config_error(error, _("A socket path has at most 107 bytes"));
    }
    return TRUE;
}

gboolean vireo_vm_config_parse_gdb_port(const char *text, guint *port, GError **error)
{
    gint64 value;

    g_return_val_if_fail(text != NULL, FALSE);

    if (!g_ascii_string_to_signed(text, 10, G_MININT64, G_MAXINT64, &value, NULL)) {
        return config_error(error, _("“%s” is not a port (1 to 65535, or 0 for off)"), text);
    }
    if (!vireo_vm_config_check_gdb_port(value, error)) {
        return FALSE;
    }
    if (port != NULL) {
        *port = (guint)value;
    }
    return TRUE;
}

gboolean vireo_vm_config_check_boot(const char *firmware, const char *kernel, GError **error)
{
    if ((firmware == NULL || *firmware == '\0') && (kernel == NULL || *kernel == '\0')) {
        return config_error(error, _("a firmware or a kernel is required to boot"));
    }
    return TRUE;
}

gboolean vireo_vm_config_check_initrd(const char *initrd, const char *kernel, GError **error)
{
    if (initrd != NULL && *initrd != '\0' && (kernel == NULL || *kernel == '\0')) {
        return config_error(error, _("an initial RAM disk needs a kernel"));
    }
    return TRUE;
}

gboolean vireo_vm_config_check_forwards(VireoNetworkMode mode, const char *const *forwards,
                                        GError **error)
{
    guint n = forwards != NULL ? g_strv_length((char **)forwards) : 0;

    for (guint i = 0; i < n; i++) {
        gboolean udp;
        guint port;

        if (!vireo_vm_config_parse_forward(forwards[i], &udp, &port, NULL, error)) {
            return FALSE;
        }
        /* Each host port is bound once per protocol. */
        for (guint j = 0; j < i; j++) {
            gboolean other_udp;
            guint other_port;
            if (vireo_vm_config_parse_forward(forwards[j], &other_udp, &other_port, NULL, NULL) &&
                other_udp == udp && other_port == port) {
                return config_error(error, _("host port %s %u is forwarded twice"),
                                    udp ? "udp" : "tcp", port);
            }
        }
    }
    if (n > VIREO_VM_CONFIG_MAX_FORWARDS) {
        return config_error(error, _("too many port forwards (at most %d)"),
                            VIREO_VM_CONFIG_MAX_FORWARDS);
    }
    if (n > 0 && mode != VIREO_NETWORK_USER) {
        return config_error(error, _("port forwards need the user network mode"));
    }
    return TRUE;
}

guint vireo_vm_config_max_disks(VireoArch arch, VireoDisplayDevice display,
                                VireoNetworkMode network)
{
    const VireoBoardOps *board = vireo_board_find(arch);
    gboolean has_display = display != VIREO_DISPLAY_NONE;

    /* An architecture without a board cannot start: only the file's own
     * limit applies. */
    if (board == NULL) {
        return VIREO_VM_CONFIG_MAX_DISKS;
    }
    /* A display is virtio-gpu in 2D with a keyboard and a tablet. */
    return MIN(VIREO_VM_CONFIG_MAX_DISKS,
               board->max_disks(network == VIREO_NETWORK_USER,
                                has_display ? VIREO_BOARD_DISPLAY_2D : VIREO_BOARD_DISPLAY_NONE,
                                has_display));
}

gboolean vireo_vm_config_check_devices(VireoArch arch, VireoDisplayDevice display,
                                       VireoNetworkMode network, guint n_disks, GError **error)
{
    guint max = vireo_vm_config_max_disks(arch, display, network);
    gboolean has_display = display != VIREO_DISPLAY_NONE;
    gboolean has_network = network != VIREO_NETWORK_NONE;

    if (n_disks <= max) {
        return TRUE;
    }
    if (has_display && has_network) {
        return config_error(error,
                            ngettext("the board has room for at most %u disk beside a display "
                                     "and a network card",
                                     "the board has room for at most %u disks beside a display "
                                     "and a network card",
                                     max),
                            max);
    }
    if (has_display) {
        return config_error(error,
                            ngettext("the board has room for at most %u disk beside a display",
                                     "the board has room for at most %u disks beside a display",
                                     max),
                            max);
    }
    if (has_network) {
        return config_error(
            error,
            ngettext("the board has room for at most %u disk beside a network card",
                     "the board has room for at most %u disks beside a network card", max),
            max);
    }
    return config_error(error, _("too many disks (at most %d)"), (int)max);
}

const char *vireo_network_mode_to_string(VireoNetworkMode mode)
{
    return mode == VIREO_NETWORK_USER ? "user" : "none";
}

gboolean vireo_network_mode_from_string(const char *text, VireoNetworkMode *mode)
{
    if (g_strcmp0(text, "none") == 0) {
        *mode = VIREO_NETWORK_NONE;
    } else if (g_strcmp0(text, "user") == 0) {
        *mode = VIREO_NETWORK_USER;
    } else {
        return FALSE;
    }
    return TRUE;
}

const char *vireo_display_device_to_string(VireoDisplayDevice device)
{
    return device == VIREO_DISPLAY_VIRTIO_GPU ? "virtio-gpu" : "none";
}

gboolean vireo_display_device_from_string(const char *text, VireoDisplayDevice *device)
{
    if (g_strcmp0(text, "none") == 0) {
        *device = VIREO_DISPLAY_NONE;
    } else if (g_strcmp0(text, "virtio-gpu") == 0) {
        *device = VIREO_DISPLAY_VIRTIO_GPU;
    } else {
        return FALSE;
    }
    return TRUE;
}

/* ---- Where an error is -------------------------------------------------- */

/* While a file is loaded, `lines` maps each of its groups ("core") and keys
 * ("core\nname") to the line it is on, so that errors say where; NULL for a
 * configuration that does not come from a file. */

static char *line_key(const char *group, const char *key)
{
    return key != NULL ? g_strconcat(group, "\n", key, NULL) : g_strdup(group);
}

static guint find_line(GHashTable *lines, const char *group, const char *key)
{
    g_autofree char *name = NULL;

    if (lines == NULL) {
        return 0;
    }
    name = line_key(group, key);
    return GPOINTER_TO_UINT(g_hash_table_lookup(lines, name));
}

/* "[group] key (line N): reason", "[group] (line N): reason" or "line N:
 * reason" (no group yet); without "(line N)" when `line` is 0. */
static gboolean where_error(GError **error, const char *group, const char *key, guint line,
                            const char *reason)
{
    if (group == NULL) {
        /* Translators: a line of the configuration file, and what is wrong
         * with it. */
        return config_error(error, _("line %u: %s"), line, reason);
    }
    if (line == 0) {
        return key != NULL ? config_error(error, "[%s] %s: %s", group, key, reason)
                           : config_error(error, "[%s]: %s", group, reason);
    }
    return key != NULL
               /* Translators: a group and a key of the configuration file,
                * the line they are on, and what is wrong. */
               ? config_error(error, _("[%s] %s (line %u): %s"), group, key, line, reason)
               /* Translators: a group of the configuration file, the line
                * it starts on, and what is wrong. */
               : config_error(error, _("[%s] (line %u): %s"), group, line, reason);
}

/* An error about `key` of `group` (or about the group when `key` is NULL),
 * with its line when the file has it. */
static gboolean place_error(GError **error, GHashTable *lines, const char *group, const char *key,
                            const char *reason)
{
    return where_error(error, group, key, find_line(lines, group, key), reason);
}

static gboolean key_error(GError **error, GHashTable *lines, const char *group, const char *key,
                          GError *cause)
{
    place_error(error, lines, group, key, cause->message);
    g_error_free(cause);
    return FALSE;
}

/* ---- Whole-configuration checks ---------------------------------------- */

static gboolean validate_at(VireoVmConfig *self, GHashTable *lines, GError **error)
{
    GError *cause = NULL;

    if (!vireo_vm_config_check_name(self->name, &cause)) {
        return key_error(error, lines, "core", "name", cause);
    }
    if (!vireo_vm_config_check_cpus(self->cpus, &cause)) {
        return key_error(error, lines, "core", "cpus", cause);
    }
    if (self->cpu != NULL && !vireo_vm_config_check_cpu(self->arch, self->cpu, &cause)) {
        return key_error(error, lines, "core", "cpu", cause);
    }
    if (!vireo_vm_config_check_memory(self->memory, &cause)) {
        return key_error(error, lines, "core", "memory", cause);
    }
    if (self->firmware != NULL && !vireo_vm_config_check_path(self->firmware, &cause)) {
        return key_error(error, lines, "boot", "firmware", cause);
    }
    if (self->kernel != NULL && !vireo_vm_config_check_path(self->kernel, &cause)) {
        return key_error(error, lines, "boot", "kernel", cause);
    }
    if (self->initrd != NULL && !vireo_vm_config_check_path(self->initrd, &cause)) {
        return key_error(error, lines, "boot", "initrd", cause);
    }
    if (!vireo_vm_config_check_initrd(self->initrd, self->kernel, &cause)) {
        return key_error(error, lines, "boot", "initrd", cause);
    }
    if (!vireo_vm_config_check_boot(self->firmware, self->kernel, &cause)) {
        return key_error(error, lines, "boot", "firmware", cause);
    }
    if (!vireo_vm_config_check_cmdline(self->cmdline, &cause)) {
        return key_error(error, lines, "boot", "cmdline", cause);
    }
    if (self->disks->len > VIREO_VM_CONFIG_MAX_DISKS) {
        g_autofree char *group = g_strdup_printf("disk.%d", VIREO_VM_CONFIG_MAX_DISKS);
        g_autofree char *msg =
            g_strdup_printf(_("too many disks (at most %d)"), VIREO_VM_CONFIG_MAX_DISKS);
        return place_error(error, lines, group, "path", msg);
    }
    for (guint i = 0; i < self->disks->len; i++) {
        Disk *disk = &g_array_index(self->disks, Disk, i);
        if (!vireo_vm_config_check_path(disk->path, &cause)) {
            g_autofree char *group = g_strdup_printf("disk.%u", i);
            return key_error(error, lines, group, "path", cause);
        }
    }
    if (!vireo_vm_config_check_devices(self->arch, self->display, self->network, self->disks->len,
                                       &cause)) {
        return key_error(error, lines, self->display != VIREO_DISPLAY_NONE ? "display" : "network",
                         self->display != VIREO_DISPLAY_NONE ? "device" : "mode", cause);
    }
    if (!vireo_vm_config_check_forwards(self->network, (const char *const *)self->forwards,
                                        &cause)) {
        return key_error(error, lines, "network", "forwards", cause);
    }
    if (!vireo_vm_config_check_gdb_port(self->gdb_port, &cause)) {
        return key_error(error, lines, "debug", "gdb", cause);
    }
    if (!vireo_vm_config_check_qmp_socket(self->qmp_socket, &cause)) {
        return key_error(error, lines, "debug", "qmp", cause);
    }
    return TRUE;
}

gboolean vireo_vm_config_validate(VireoVmConfig *self, GError **error)
{
    g_return_val_if_fail(VIREO_IS_VM_CONFIG(self), FALSE);
    return validate_at(self, NULL, error);
}

gboolean vireo_vm_config_check_files(VireoVmConfig *self, GError **error)
{
    GError *cause = NULL;
    const struct {
        const char *key;
        const char *path;
    } boot[] = {
        { "firmware", self->firmware },
        { "kernel", self->kernel },
        { "initrd", self->initrd },
    };

    g_return_val_if_fail(VIREO_IS_VM_CONFIG(self), FALSE);

    for (guint i = 0; i < G_N_ELEMENTS(boot); i++) {
        if (boot[i].path != NULL && !vireo_vm_config_check_file(boot[i].path, &cause)) {
            return key_error(error, NULL, "boot", boot[i].key, cause);
        }
    }
    for (guint i = 0; i < self->disks->len; i++) {
        Disk *disk = &g_array_index(self->disks, Disk, i);
        g_autofree char *group = g_strdup_printf("disk.%u", i);

        if (!vireo_vm_config_check_file(disk->path, &cause)) {
            return key_error(error, NULL, group, "path", cause);
        }
        /* A raw image the guest writes could be made to look like qcow2
         * (with a backing file anywhere on the host): only the file says
         * that a disk is qcow2. */
        if (disk->format == VIREO_BLOCK_FORMAT_AUTO &&
            vireo_vm_config_detect_format(disk->path) == VIREO_BLOCK_FORMAT_QCOW2) {
            g_autofree char *why = g_strdup_printf(
                _("“%s” holds a qcow2 image: write format = qcow2 to use it as one, or "
                  "format = raw to give the guest its bytes"),
                disk->path);
            return place_error(error, NULL, group, "format", why);
        }
    }
    return TRUE;
}

/* ---- The file's text ---------------------------------------------------- */

/* One line of the text (without its line break): see scan_text(). `group`
 * is the group the line is in, updated by a group's line. */
static gboolean scan_line(const char *line, gsize length, guint number, char **group,
                          GHashTable *lines, GError **error)
{
    const char *start = line, *stop = line + length;
    const char *equals;
    g_autofree char *key = NULL;

    while (start < stop && g_ascii_isspace(*start)) {
        start++;
    }
    /* The key of a key=value line, when it can be named. */
    equals = memchr(start, '=', (gsize)(stop - start));
    if (equals != NULL && equals > start && *start != '[' && *start != '#') {
        const char *key_end = equals;
        while (key_end > start && g_ascii_isspace(key_end[-1])) {
            key_end--;
        }
        if (memchr(start, '\0', (gsize)(key_end - start)) == NULL &&
            g_utf8_validate_len(start, (gsize)(key_end - start), NULL)) {
            key = g_strndup(start, (gsize)(key_end - start));
        }
    }

    if (memchr(line, '\0', length) != NULL) {
        return key != NULL && *group != NULL
                   ? where_error(error, *group, key, number, _("the value contains a NUL byte"))
                   : where_error(error, NULL, NULL, number, _("the line contains a NUL byte"));
    }
    if (!g_utf8_validate_len(line, length, NULL)) {
        return key != NULL && *group != NULL
                   ? where_error(error, *group, key, number, _("the value is not valid UTF-8"))
                   : where_error(error, NULL, NULL, number, _("the line is not valid UTF-8"));
    }
    if (start == stop || *start == '#') {
        return TRUE;
    }
    if (*start == '[') {
        const char *close = memchr(start, ']', (gsize)(stop - start));
        const char *after = NULL;

        /* Spaces may follow the group's name, nothing else. */
        if (close != NULL) {
            after = close + 1;
            while (after < stop && (*after == ' ' || *after == '\t')) {
                after++;
            }
        }
        if (close != NULL && after == stop) {
            g_autofree char *name = g_strndup(start + 1, (gsize)(close - start - 1));
            guint first = GPOINTER_TO_UINT(g_hash_table_lookup(lines, name));
            if (first != 0) {
                g_autofree char *reason =
                    g_strdup_printf(_("the group appears a second time (first on line %u)"), first);
                return where_error(error, name, NULL, number, reason);
            }
            g_hash_table_insert(lines, g_strdup(name), GUINT_TO_POINTER(number));
            g_free(*group);
            *group = g_steal_pointer(&name);
            return TRUE;
        }
    }
    if (key != NULL) {
        g_autofree char *name = NULL;
        guint first;

        if (*group == NULL) {
            return where_error(error, NULL, NULL, number,
                               _("a key=value line before the first [group]"));
        }
        name = line_key(*group, key);
        first = GPOINTER_TO_UINT(g_hash_table_lookup(lines, name));
        if (first != 0) {
            g_autofree char *reason =
                g_strdup_printf(_("the key appears a second time (first on line %u)"), first);
            return where_error(error, *group, key, number, reason);
        }
        g_hash_table_insert(lines, g_steal_pointer(&name), GUINT_TO_POINTER(number));
        return TRUE;
    }
    return where_error(error, NULL, NULL, number,
                       _("not a [group], a key=value line or a # comment"));
}

/* Reads the text line by line before GKeyFile does, for what GKeyFile takes
 * silently or reports without a line: a NUL byte (GKeyFile ends the value
 * there), bytes that are not UTF-8 (a value GKeyFile then does not return),
 * a group or a key given twice (GKeyFile merges the groups and keeps the
 * last value), and a line that is neither a group, a key nor a comment.
 * Fills `lines` with the line of each group and key. */
static gboolean scan_text(const char *data, gsize length, GHashTable *lines, GError **error)
{
    g_autofree char *group = NULL;
    const char *p = data, *end = data + length;
    guint number = 0;

    while (p < end) {
        const char *newline = memchr(p, '\n', (gsize)(end - p));
        gsize line_length = (gsize)((newline != NULL ? newline : end) - p);

        /* GKeyFile takes "\r\n" as a line break too. */
        if (line_length > 0 && p[line_length - 1] == '\r') {
            line_length--;
        }
        number++;
        if (!scan_line(p, line_length, number, &group, lines, error)) {
            return FALSE;
        }
        p = newline != NULL ? newline + 1 : end;
    }
    return TRUE;
}

/* ---- Loading ------------------------------------------------------------ */

/* The file being loaded: its key file and where each group and key is. */
typedef struct {
    GKeyFile *kf;
    GHashTable *lines;
} Loader;

static gboolean check_keys(Loader *ld, const char *group, const char *const *allowed,
                           GError **error)
{
    g_auto(GStrv) keys = g_key_file_get_keys(ld->kf, group, NULL, NULL);

    for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
        if (!g_strv_contains(allowed, keys[i])) {
            return place_error(error, ld->lines, group, keys[i], _("unknown key"));
        }
    }
    return TRUE;
}

static gboolean value_error(Loader *ld, const char *group, const char *key, GError *cause,
                            GError **error)
{
    /* The text was checked line by line before: what is left is an
     * escape sequence GKeyFile does not know. */
    if (g_error_matches(cause, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE)) {
        place_error(error, ld->lines, group, key,
                    _("the value has an escape sequence other than \\s, \\n, \\t, \\r or \\\\"));
    } else {
        place_error(error, ld->lines, group, key, cause->message);
    }
    g_error_free(cause);
    return FALSE;
}

/* The value of `key` in `*value`: NULL when the key is absent or empty. */
static gboolean get_string(Loader *ld, const char *group, const char *key, char **value,
                           GError **error)
{
    GError *cause = NULL;

    *value = NULL;
    if (!g_key_file_has_key(ld->kf, group, key, NULL)) {
        return TRUE;
    }
    /* GKeyFile may return a value and an error both. */
    *value = g_key_file_get_string(ld->kf, group, key, &cause);
    if (cause != NULL) {
        g_clear_pointer(value, g_free);
        return value_error(ld, group, key, cause, error);
    }
    if (**value == '\0') {
        g_clear_pointer(value, g_free);
    }
    return TRUE;
}

static char *resolve_path(const char *base_dir, char *path)
{
    char *abs;

    if (path == NULL || base_dir == NULL || g_path_is_absolute(path)) {
        return path;
    }
    abs = g_build_filename(base_dir, path, NULL);
    g_free(path);
    return abs;
}

static gboolean parse_disk_index(const char *group, guint *index)
{
    guint64 value;

    if (!g_str_has_prefix(group, "disk.")) {
        return FALSE;
    }
    if (!g_ascii_string_to_unsigned(group + 5, 10, 0, G_MAXUINT, &value, NULL)) {
        return FALSE;
    }
    *index = (guint)value;
    return TRUE;
}

static gboolean load_core(VireoVmConfig *self, Loader *ld, GError **error)
{
    g_autofree char *name = NULL, *arch = NULL, *accel = NULL, *cpus = NULL, *cpu = NULL,
                    *engine = NULL, *memory = NULL;
    GError *cause = NULL;

    if (!g_key_file_has_group(ld->kf, "core")) {
        return place_error(error, ld->lines, "core", NULL, _("the group is missing"));
    }
    if (!check_keys(ld, "core", core_keys, error) ||
        !get_string(ld, "core", "name", &name, error) ||
        !get_string(ld, "core", "architecture", &arch, error) ||
        !get_string(ld, "core", "accelerator", &accel, error) ||
        !get_string(ld, "core", "cpus", &cpus, error) ||
        !get_string(ld, "core", "cpu", &cpu, error) ||
        !get_string(ld, "core", "engine", &engine, error) ||
        !get_string(ld, "core", "memory", &memory, error)) {
        return FALSE;
    }
    if (!vireo_vm_config_check_name(name, &cause)) {
        return key_error(error, ld->lines, "core", "name", cause);
    }
    g_free(self->name);
    self->name = g_steal_pointer(&name);

    if (arch != NULL && !vireo_arch_from_name(arch, &self->arch)) {
        return place_error(error, ld->lines, "core", "architecture",
                           _("unknown architecture (riscv64, arm64 or x86_64)"));
    }
    if (accel != NULL && !vireo_accel_from_name(accel, &self->accel)) {
        return place_error(error, ld->lines, "core", "accelerator",
                           _("unknown accelerator (soft, kvm, hvf or whpx)"));
    }
    if (cpus != NULL) {
        gint64 n;
        if (!g_ascii_string_to_signed(cpus, 10, G_MININT64, G_MAXINT64, &n, NULL)) {
            g_autofree char *msg = g_strdup_printf(_("“%s” is not a number"), cpus);
            return place_error(error, ld->lines, "core", "cpus", msg);
        }
        if (!vireo_vm_config_check_cpus(n, &cause)) {
            return key_error(error, ld->lines, "core", "cpus", cause);
        }
        self->cpus = (guint)n;
    }
    if (cpu != NULL) {
        if (!vireo_vm_config_check_cpu(self->arch, cpu, &cause)) {
            return key_error(error, ld->lines, "core", "cpu", cause);
        }
        g_free(self->cpu);
        self->cpu = g_steal_pointer(&cpu);
    }
    if (engine != NULL && !vireo_vm_config_parse_engine(engine, &self->engine, &cause)) {
        return key_error(error, ld->lines, "core", "engine", cause);
    }
    if (memory != NULL) {
        if (!vireo_vm_config_parse_memory(memory, &self->memory, &cause) ||
            !vireo_vm_config_check_memory(self->memory, &cause)) {
            return key_error(error, ld->lines, "core", "memory", cause);
        }
    }
    return TRUE;
}

static gboolean load_boot(VireoVmConfig *self, Loader *ld, GError **error)
{
    char **fields[] = { &self->firmware, &self->kernel, &self->initrd, &self->cmdline };
    GError *cause = NULL;

    if (!g_key_file_has_group(ld->kf, "boot")) {
        return TRUE;
    }
    if (!check_keys(ld, "boot", boot_keys, error)) {
        return FALSE;
    }
    for (guint i = 0; i < G_N_ELEMENTS(fields); i++) {
        g_clear_pointer(fields[i], g_free);
        if (!get_string(ld, "boot", boot_keys[i], fields[i], error)) {
            return FALSE;
        }
    }
    /* All but the command line are files. */
    for (guint i = 0; i + 1 < G_N_ELEMENTS(fields); i++) {
        if (*fields[i] != NULL && !vireo_vm_config_check_path(*fields[i], &cause)) {
            return key_error(error, ld->lines, "boot", boot_keys[i], cause);
        }
    }
    if (!vireo_vm_config_check_cmdline(self->cmdline, &cause)) {
        return key_error(error, ld->lines, "boot", "cmdline", cause);
    }
    return TRUE;
}

static gboolean load_disks(VireoVmConfig *self, Loader *ld, const char *base_dir, GError **error)
{
    g_auto(GStrv) groups = g_key_file_get_groups(ld->kf, NULL);
    guint n = 0;

    /* Disks are numbered from 0 without gaps. */
    for (guint i = 0; groups[i] != NULL; i++) {
        guint index;
        if (parse_disk_index(groups[i], &index)) {
            n = MAX(n, index + 1);
        }
    }
    if (n > VIREO_VM_CONFIG_MAX_DISKS) {
        g_autofree char *group = g_strdup_printf("disk.%u", n - 1);
        g_autofree char *msg =
            g_strdup_printf(_("too many disks (at most %d)"), VIREO_VM_CONFIG_MAX_DISKS);
        return place_error(error, ld->lines, group, NULL, msg);
    }
    for (guint i = 0; i < n; i++) {
        g_autofree char *group = g_strdup_printf("disk.%u", i);
        g_autofree char *path = NULL;
        GError *cause = NULL;
        gboolean read_only = FALSE;
        VireoBlockFormat format = VIREO_BLOCK_FORMAT_AUTO;

        if (!g_key_file_has_group(ld->kf, group)) {
            return place_error(error, ld->lines, group, NULL,
                               _("the group is missing (disks are numbered from 0)"));
        }
        if (!check_keys(ld, group, disk_keys, error) ||
            !get_string(ld, group, "path", &path, error)) {
            return FALSE;
        }
        if (path == NULL) {
            return place_error(error, ld->lines, group, "path", _("a file is required"));
        }
        path = resolve_path(base_dir, g_steal_pointer(&path));
        if (!vireo_vm_config_check_path(path, &cause)) {
            return key_error(error, ld->lines, group, "path", cause);
        }
        if (g_key_file_has_key(ld->kf, group, "read-only", NULL)) {
            read_only = g_key_file_get_boolean(ld->kf, group, "read-only", &cause);
            if (cause != NULL) {
                g_error_free(cause);
                return place_error(error, ld->lines, group, "read-only",
                                   _("the value must be true or false"));
            }
        }
        if (g_key_file_has_key(ld->kf, group, "format", NULL)) {
            g_autofree char *name = NULL;

            if (!get_string(ld, group, "format", &name, error)) {
                return FALSE;
            }
            if (!vireo_block_format_from_name(name, &format)) {
                return place_error(error, ld->lines, group, "format",
                                   _("the value must be raw or qcow2"));
            }
        }
        vireo_vm_config_add_disk(self, path, read_only);
        vireo_vm_config_set_disk_format(self, i, format);
    }
    return TRUE;
}

static gboolean load_network(VireoVmConfig *self, Loader *ld, GError **error)
{
    g_autofree char *mode = NULL;
    g_auto(GStrv) forwards = NULL;
    g_autoptr(GPtrArray) kept = NULL;
    GError *cause = NULL;

    if (!g_key_file_has_group(ld->kf, "network")) {
        return TRUE;
    }
    if (!check_keys(ld, "network", network_keys, error) ||
        !get_string(ld, "network", "mode", &mode, error)) {
        return FALSE;
    }
    if (mode != NULL && !vireo_network_mode_from_string(mode, &self->network)) {
        return place_error(error, ld->lines, "network", "mode", _("unknown mode (none or user)"));
    }
    if (!g_key_file_has_key(ld->kf, "network", "forwards", NULL)) {
        return TRUE;
    }
    forwards = g_key_file_get_string_list(ld->kf, "network", "forwards", NULL, &cause);
    if (cause != NULL) {
        return value_error(ld, "network", "forwards", cause, error);
    }
    kept = g_ptr_array_new();
    for (guint i = 0; forwards != NULL && forwards[i] != NULL; i++) {
        char *f = g_strstrip(forwards[i]);
        if (*f == '\0') {
            continue;
        }
        if (!vireo_vm_config_check_forward(f, &cause)) {
            return key_error(error, ld->lines, "network", "forwards", cause);
        }
        g_ptr_array_add(kept, f);
    }
    g_ptr_array_add(kept, NULL);
    vireo_vm_config_set_forwards(self, (const char *const *)kept->pdata);
    if (!vireo_vm_config_check_forwards(self->network, (const char *const *)self->forwards,
                                        &cause)) {
        return key_error(error, ld->lines, "network", "forwards", cause);
    }
    return TRUE;
}

static gboolean load_display(VireoVmConfig *self, Loader *ld, GError **error)
{
    g_autofree char *device = NULL;

    if (!g_key_file_has_group(ld->kf, "display")) {
        return TRUE;
    }
    if (!check_keys(ld, "display", display_keys, error) ||
        !get_string(ld, "display", "device", &device, error)) {
        return FALSE;
    }
    if (device != NULL && !vireo_display_device_from_string(device, &self->display)) {
        return place_error(error, ld->lines, "display", "device",
                           _("unknown device (none or virtio-gpu)"));
    }
    return TRUE;
}

static gboolean load_debug(VireoVmConfig *self, Loader *ld, GError **error)
{
    g_autofree char *gdb = NULL;
    g_autofree char *qmp = NULL;
    GError *cause = NULL;

    if (!g_key_file_has_group(ld->kf, "debug")) {
        return TRUE;
    }
    if (!check_keys(ld, "debug", debug_keys, error) ||
        !get_string(ld, "debug", "gdb", &gdb, error) ||
        !get_string(ld, "debug", "qmp", &qmp, error)) {
        return FALSE;
    }
    if (gdb != NULL && !vireo_vm_config_parse_gdb_port(g_strstrip(gdb), &self->gdb_port, &cause)) {
        return key_error(error, ld->lines, "debug", "gdb", cause);
    }
    if (qmp != NULL && g_strstrip(qmp)[0] != '\0') {
        if (!vireo_vm_config_check_qmp_socket(qmp, &cause)) {
            return key_error(error, ld->lines, "debug", "qmp", cause);
        }
        self->qmp_socket = g_steal_pointer(&qmp);
    }
    return TRUE;
}

VireoVmConfig *vireo_vm_config_load_from_data(const char *data, gsize length, const char *base_dir,
                                              GError **error)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GHashTable) lines = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(VireoVmConfig) self = vireo_vm_config_new();
    g_autoptr(GError) parse_error = NULL;
    g_auto(GStrv) groups = NULL;
    Loader ld = { kf, lines };

    g_return_val_if_fail(data != NULL, NULL);

    if (length == (gsize)-1) {
        length = strlen(data);
    }
    if (!scan_text(data, length, lines, error)) {
        return NULL;
    }
    if (!g_key_file_load_from_data(kf, data, length, G_KEY_FILE_NONE, &parse_error)) {
        config_error(error, _("not a configuration file: %s"), parse_error->message);
        return NULL;
    }
    groups = g_key_file_get_groups(kf, NULL);
    for (guint i = 0; groups[i] != NULL; i++) {
        static const char *const known[] = { "core", "boot", "network", "display", "debug", NULL };
        guint index;
        if (!g_strv_contains(known, groups[i]) && !parse_disk_index(groups[i], &index)) {
            place_error(error, lines, groups[i], NULL, _("unknown group"));
            return NULL;
        }
    }
    if (!load_core(self, &ld, error) || !load_boot(self, &ld, error) ||
        !load_disks(self, &ld, base_dir, error) || !load_network(self, &ld, error) ||
        !load_display(self, &ld, error) || !load_debug(self, &ld, error) ||
        !validate_at(self, lines, error)) {
        return NULL;
    }
    return g_steal_pointer(&self);
}

VireoVmConfig *vireo_vm_config_load_from_file(const char *path, GError **error)
{
    g_autofree char *data = NULL;
    g_autofree char *dir = NULL;
    gsize length;

    g_return_val_if_fail(path != NULL, NULL);

    if (!vireo_file_read_regular(path, VIREO_VM_CONFIG_MAX_FILE_SIZE, &data, &length, error)) {
        return NULL;
    }
    dir = g_path_get_dirname(path);
    return vireo_vm_config_load_from_data(data, length, dir, error);
}

/* ---- Saving ------------------------------------------------------------- */

static void set_optional(GKeyFile *kf, const char *group, const char *key, const char *value)
{
    if (value != NULL) {
        g_key_file_set_string(kf, group, key, value);
    }
}

char *vireo_vm_config_to_data(VireoVmConfig *self, const char *base_dir, gsize *length)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autofree char *memory = NULL;

    g_return_val_if_fail(VIREO_IS_VM_CONFIG(self), NULL);

    memory = vireo_vm_config_format_memory(self->memory);
    g_key_file_set_string(kf, "core", "name", self->name);
    g_key_file_set_string(kf, "core", "architecture", vireo_arch_name(self->arch));
    g_key_file_set_string(kf, "core", "accelerator", vireo_accel_name(self->accel));
    g_key_file_set_integer(kf, "core", "cpus", (int)self->cpus);
    set_optional(kf, "core", "cpu", self->cpu);
    if (self->engine != VIREO_ENGINE_DEFAULT) {
        g_key_file_set_string(kf, "core", "engine", vireo_engine_name(self->engine));
    }
    g_key_file_set_string(kf, "core", "memory", memory);

    set_optional(kf, "boot", "firmware", self->firmware);
    set_optional(kf, "boot", "kernel", self->kernel);
    set_optional(kf, "boot", "initrd", self->initrd);
    set_optional(kf, "boot", "cmdline", self->cmdline);

    for (guint i = 0; i < self->disks->len; i++) {
        Disk *disk = &g_array_index(self->disks, Disk, i);
        g_autofree char *group = g_strdup_printf("disk.%u", i);
        const char *path = disk->path;
        /* Images inside the VM's folder are stored relative to it, so that
         * they move with the folder. */
        if (base_dir != NULL && g_str_has_prefix(path, base_dir) &&
            path[strlen(base_dir)] == G_DIR_SEPARATOR) {
            path += strlen(base_dir) + 1;
        }
        g_key_file_set_string(kf, group, "path", path);
        g_key_file_set_boolean(kf, group, "read-only", disk->read_only);
        if (disk->format != VIREO_BLOCK_FORMAT_AUTO) {
            g_key_file_set_string(kf, group, "format", vireo_block_format_name(disk->format));
        }
    }

    g_key_file_set_string(kf, "network", "mode", vireo_network_mode_to_string(self->network));
    if (self->forwards[0] != NULL) {
        g_key_file_set_string_list(kf, "network", "forwards", (const char *const *)self->forwards,
                                   g_strv_length(self->forwards));
    }
    g_key_file_set_string(kf, "display", "device", vireo_display_device_to_string(self->display));
    /* Off is the default: a file without a debugger has no [debug]. */
    if (self->gdb_port != 0) {
        g_key_file_set_integer(kf, "debug", "gdb", (int)self->gdb_port);
    }
    if (self->qmp_socket != NULL) {
        g_key_file_set_string(kf, "debug", "qmp", self->qmp_socket);
    }
    return g_key_file_to_data(kf, length, NULL);
}

gboolean vireo_vm_config_save_to_file(VireoVmConfig *self, const char *path, GError **error)
{
    g_autofree char *data = NULL;
    g_autofree char *dir = NULL;
    g_autoptr(GError) io_error = NULL;
    gsize length;

    g_return_val_if_fail(VIREO_IS_VM_CONFIG(self), FALSE);
    g_return_val_if_fail(path != NULL, FALSE);

    if (!vireo_vm_config_validate(self, error)) {
        return FALSE;
    }
    dir = g_path_get_dirname(path);
    data = vireo_vm_config_to_data(self, dir, &length);
    /* g_file_set_contents writes a temporary file and renames it over. */
    if (!g_file_set_contents_full(path, data, (gssize)length,
                                  G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                  0644, &io_error)) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, "%s", io_error->message);
        return FALSE;
    }
    return TRUE;
}

/* ---- Public API --------------------------------------------------------- */

VireoVmConfig *vireo_vm_config_new(void)
{
    return g_object_new(VIREO_TYPE_VM_CONFIG, NULL);
}

VireoVmConfig *vireo_vm_config_copy(VireoVmConfig *self)
{
    VireoVmConfig *copy;

    g_return_val_if_fail(VIREO_IS_VM_CONFIG(self), NULL);

    copy = vireo_vm_config_new();
    vireo_vm_config_set_name(copy, self->name);
    copy->arch = self->arch;
    copy->accel = self->accel;
    copy->cpus = self->cpus;
    vireo_vm_config_set_cpu(copy, self->cpu);
    copy->engine = self->engine;
    copy->memory = self->memory;
    vireo_vm_config_set_firmware(copy, self->firmware);
    vireo_vm_config_set_kernel(copy, self->kernel);
    vireo_vm_config_set_initrd(copy, self->initrd);
    vireo_vm_config_set_cmdline(copy, self->cmdline);
    for (guint i = 0; i < self->disks->len; i++) {
        Disk *disk = &g_array_index(self->disks, Disk, i);
        vireo_vm_config_add_disk(copy, disk->path, disk->read_only);
        vireo_vm_config_set_disk_format(copy, i, disk->format);
    }
    copy->network = self->network;
    vireo_vm_config_set_forwards(copy, (const char *const *)self->forwards);
    copy->display = self->display;
    copy->gdb_port = self->gdb_port;
    copy->qmp_socket = g_strdup(self->qmp_socket);
    return copy;
}

gboolean vireo_vm_config_equal(VireoVmConfig *a, VireoVmConfig *b)
{
    g_autofree char *da = NULL, *db = NULL;

    g_return_val_if_fail(VIREO_IS_VM_CONFIG(a), FALSE);
    g_return_val_if_fail(VIREO_IS_VM_CONFIG(b), FALSE);

    da = vireo_vm_config_to_data(a, NULL, NULL);
    db = vireo_vm_config_to_data(b, NULL, NULL);
    return g_strcmp0(da, db) == 0;
}

/* Stores NULL for an empty string: absent and empty mean the same. */
static void set_path(char **field, const char *value)
{
    char *copy = value != NULL && *value != '\0' ? g_strdup(value) : NULL;
    g_free(*field);
    *field = copy;
}

const char *vireo_vm_config_get_name(VireoVmConfig *self)
{
    g_return_val_if_fail(VIREO_IS_VM_CONFIG(self), NULL);
    return self->name;
}

void vireo_vm_config_set_name(VireoVmConfig *self, const char *name)
{
    g_return_if_fail(VIREO_IS_VM_CONFIG(self));
    g_free(self->name);
    self->name = g_strdup(name != NULL ? name : "");
}

VireoArch vireo_vm_config_get_arch(VireoVmConfig *self)
{
    g_return_val_if_fail(VIREO_IS_VM_CONFIG(self), VIREO_ARCH_RISCV64);
    return self->arch;
}

void vireo_vm_config_set_arch(VireoVmConfig *self, VireoArch arch)
{
    g_return_if_fail(VIREO_IS_VM_CONFIG(self));
    g_return_if_fail(arch < VIREO_ARCH_COUNT);
    self->arch = arch;
}

VireoAccelKind vireo_vm_config_get_accel(VireoVmConfig *self)
{
    g_return_val_if_fail(VIREO_IS_VM_CONFIG(self), VIREO_ACCEL_SOFT);
    return self->accel;
}

void vireo_vm_config_set_accel(VireoVmConfig *self, VireoAccelKind accel)
{
    g_return_if_fail(VIREO_IS_VM_CONFIG(self));
    g_return_if_fail(accel < VIREO_ACCEL_COUNT);
    self->accel = accel;
}

guint vireo_vm_config_get_cpus(VireoVmConfig *self)
{
    g_return_val_if_fail(VIREO_IS_VM_CONFIG(self), 1);
    return self->cpus;
}

void vireo_vm_config_set_cpus(VireoVmConfig *self, guint cpus)
{
    g_return_if_fail(VIREO_IS_VM_CONFIG(self));
    self->cpus = cpus;
}

const char *vireo_vm_config_get_cpu(VireoVmConfig *self)
{
    g_return_val_if_fail(VIREO_IS_VM_CONFIG(self), NULL);
    return self->cpu;
}

void vireo_vm_config_set_cpu(VireoVmConfig *self, const char *cpu)
{
    g_return_if_fail(VIREO_IS_VM_CONFIG(self));
    g_free(self->cpu);
    self->cpu = cpu != NULL && cpu[0] != '\0' ? g_strdup(cpu) : NULL;
}

VireoEngineKind vireo_vm_config_get_engine(VireoVmConfig *self)
{
    g_return_val_if_fail(VIREO_IS_VM_CONFIG(self), VIREO_ENGINE_DEFAULT);
    return self->engine;
}

void vireo_vm_config_set_engine(VireoVmConfig *self, VireoEngineKind engine)
{
    g_return_if_fail(VIREO_IS_VM_CONFIG(self));
    g_return_if_fail(engine == VIREO_ENGINE_DEFAULT || engine == VIREO_ENGINE_INTERP ||
                     engine == VIREO_ENGINE_JIT);
    self->engine = engine;
}

guint64 vireo_vm_config_get_memory(VireoVmConfig *self)
{
    g_return_val_if_fail(VIREO_IS_VM_CONFIG(self), 0);
    return self->memory;
}

void vireo_vm_config_set_memory(VireoVmConfig *self, guint64 bytes)
{
    g_return_if_fail(VIREO_IS_VM_CONFIG(self));
    self->memory = bytes;
}

const char *vireo_vm_config_get_firmware(VireoVmConfig *self)
{
    g_return_val_if_fail(VIREO_IS_VM_CONFIG(self), NULL);
    return self->firmware;
}

void vireo_vm_config_set_firmware(VireoVmConfig *self, const char *path)
{
    g_return_if_fail(VIREO_IS_VM_CONFIG(self));
    set_path(&self->firmware, path);
}

const char *vireo_vm_config_get_kernel(VireoVmConfig *self)
{
    g_return_val_if_fail(VIREO_IS_VM_CONFIG(self), NULL);
    return self->kernel;
}

void vireo_vm_config_set_kernel(VireoVmConfig *self, const char *path)
{
    g_return_if_fail(VIREO_IS_VM_CONFIG(self));
    set_path(&self->kernel, path);
}

const char *vireo_vm_config_get_initrd(VireoVmConfig *self)
{
    g_return_val_if_fail(VIREO_IS_VM_CONFIG(self), NULL);
    return self->initrd;
}

void vireo_vm_config_set_initrd(VireoVmConfig *self, const char *path)
{
    g_return_if_fail(VIREO_IS_VM_CONFIG(self));
    set_path(&self->initrd, path);
}

const char *vireo_vm_config_get_cmdline(VireoVmConfig *self)
{
    g_return_val_if_fail(VIREO_IS_VM_CONFIG(self), NULL);
    return self->cmdline;
}

void vireo_vm_config_set_cmdline(VireoVmConfig *self, const char *cmdline)
{
    g_return_if_fail(VIREO_IS_VM_CONFIG(self));
    set_path(&self->cmdline, cmdline);
}

guint vireo_vm_config_get_n_disks(VireoVmConfig *self)
{
    g_return_val_if_fail(VIREO_IS_VM_CONFIG(self), 0);
    return self->disks->len;
}

const char *vireo_vm_config_get_disk_path(VireoVmConfig *self, guint index)
{
    g_return_val_if_fail(VIREO_IS_VM_CONFIG(self), NULL);
    g_return_val_if_fail(index < self->disks->len, NULL);
    return g_array_index(self->disks, Disk, index).path;
}

gboolean vireo_vm_config_get_disk_read_only(VireoVmConfig *self, guint index)
{
    g_return_val_if_fail(VIREO_IS_VM_CONFIG(self), FALSE);
    g_return_val_if_fail(index < self->disks->len, FALSE);
    return g_array_index(self->disks, Disk, index).read_only;
}

void vireo_vm_config_add_disk(VireoVmConfig *self, const char *path, gboolean read_only)
{
    Disk disk;

    g_return_if_fail(VIREO_IS_VM_CONFIG(self));
    g_return_if_fail(path != NULL);
    disk.path = g_strdup(path);
    disk.read_only = read_only;
    disk.format = VIREO_BLOCK_FORMAT_AUTO;
    g_array_append_val(self->disks, disk);
}

VireoBlockFormat vireo_vm_config_get_disk_format(VireoVmConfig *self, guint index)
{
    g_return_val_if_fail(VIREO_IS_VM_CONFIG(self), VIREO_BLOCK_FORMAT_AUTO);
    g_return_val_if_fail(index < self->disks->len, VIREO_BLOCK_FORMAT_AUTO);
    return g_array_index(self->disks, Disk, index).format;
}

void vireo_vm_config_set_disk_format(VireoVmConfig *self, guint index, VireoBlockFormat format)
{
    g_return_if_fail(VIREO_IS_VM_CONFIG(self));
    g_return_if_fail(index < self->disks->len);
    g_array_index(self->disks, Disk, index).format = format;
}

VireoBlockFormat vireo_vm_config_detect_format(const char *path)
{
    char magic[4] = { 0 };
    FILE *f;

    g_return_val_if_fail(path != NULL, VIREO_BLOCK_FORMAT_RAW);
    f = g_fopen(path, "rbe");
    if (f == NULL) {
        return VIREO_BLOCK_FORMAT_RAW;
    }
    if (fread(magic, 1, sizeof magic, f) != sizeof magic) {
        memset(magic, 0, sizeof magic);
    }
    fclose(f);
    return memcmp(magic, "QFI\xfb", 4) == 0 ? VIREO_BLOCK_FORMAT_QCOW2 : VIREO_BLOCK_FORMAT_RAW;
}

void vireo_vm_config_clear_disks(VireoVmConfig *self)
{
    g_return_if_fail(VIREO_IS_VM_CONFIG(self));
    g_array_set_size(self->disks, 0);
}

VireoNetworkMode vireo_vm_config_get_network(VireoVmConfig *self)
{
    g_return_val_if_fail(VIREO_IS_VM_CONFIG(self), VIREO_NETWORK_NONE);
    return self->network;
}

void vireo_vm_config_set_network(VireoVmConfig *self, VireoNetworkMode mode)
{
    g_return_if_fail(VIREO_IS_VM_CONFIG(self));
    self->network = mode;
}

const char *const *vireo_vm_config_get_forwards(VireoVmConfig *self)
{
    g_return_val_if_fail(VIREO_IS_VM_CONFIG(self), NULL);
    return (const char *const *)self->forwards;
}

void vireo_vm_config_set_forwards(VireoVmConfig *self, const char *const *forwards)
{
    g_return_if_fail(VIREO_IS_VM_CONFIG(self));
    g_strfreev(self->forwards);
    self->forwards = forwards != NULL ? g_strdupv((char **)forwards) : g_new0(char *, 1);
}

VireoDisplayDevice vireo_vm_config_get_display(VireoVmConfig *self)
{
    g_return_val_if_fail(VIREO_IS_VM_CONFIG(self), VIREO_DISPLAY_NONE);
    return self->display;
}

void vireo_vm_config_set_display(VireoVmConfig *self, VireoDisplayDevice device)
{
    g_return_if_fail(VIREO_IS_VM_CONFIG(self));
    self->display = device;
}

guint vireo_vm_config_get_gdb_port(VireoVmConfig *self)
{
    g_return_val_if_fail(VIREO_IS_VM_CONFIG(self), 0);
    return self->gdb_port;
}

void vireo_vm_config_set_gdb_port(VireoVmConfig *self, guint port)
{
    g_return_if_fail(VIREO_IS_VM_CONFIG(self));
    self->gdb_port = port;
}

const char *vireo_vm_config_get_qmp_socket(VireoVmConfig *self)
{
    g_return_val_if_fail(VIREO_IS_VM_CONFIG(self), NULL);
    return self->qmp_socket;
}

void vireo_vm_config_set_qmp_socket(VireoVmConfig *self, const char *path)
{
    g_return_if_fail(VIREO_IS_VM_CONFIG(self));
    g_free(self->qmp_socket);
    self->qmp_socket = path != NULL && path[0] != '\0' ? g_strdup(path) : NULL;
}
