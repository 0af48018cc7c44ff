/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "devices/board.h"
#include "devices/snapshot.h"
#include "devices/virt.h"
#include "devices/virtio-console.h"
#include "devices/virtio-gpu.h"
#include "display/egl-context.h"
#include "display/placeholder.h"
#include "display/scanout-file.h"
#include "display/sdl-window.h"
#include "engine/arch.h"
#include "engine/backend.h"
#include "engine/bus.h"
#include "engine/error.h"
#include "engine/gdbstub.h"
#include "engine/listen.h"
#include "engine/riscv.h"
#include "engine/snap.h"
#include "vireo-migrate.h"
#include "vireo-qmp-machine.h"
#include "vireo-qmp-server.h"

/* Exit statuses besides the guest's own. */
#define EXIT_FAULT     1
#define EXIT_BAD_ARGS  2
#define EXIT_TIMEOUT   124
#define CONSOLE_RING   (64 * 1024)
#define MAX_PENDING_IN (1024 * 1024)
#define ESCAPE_CHAR    0x01 /* Ctrl-A */

typedef struct {
    char *firmware, *kernel, *initrd, *append, *memory, *dtb_out, *test;
    char **disk_args;
    VireoBoardDisk disks[VIREO_VIRT_MAX_DISKS];
    unsigned n_disks;
    char *net;
    VireoNetConfig *net_config; /* NULL: no network */
    char *gdb;                  /* --gdb: where the debugger connects */
    char *gdb_wait;             /* --gdb-wait: yes (default) or no */
    char *qmp;                  /* --qmp: where QMP clients connect */
    char *loadvm;               /* --loadvm: the snapshot to start from */
    char *incoming;             /* --incoming: where a migrating machine arrives */
    bool gdb_wait_flag;
    int cpus;
    char *cpu; /* --cpu: the harts' model, NULL for the default */
    VireoRvCpuModel cpu_model;
    int timeout;
    gboolean stats;
    char *engine;      /* --engine: interp or jit, NULL for the default */
    int jit_threshold; /* --jit-threshold, 0 for the default */
    gboolean perf_map;
    gboolean version;
} Options;

/* ---- The terminal ---------------------------------------------------- */

static struct termios saved_termios;
static volatile sig_atomic_t termios_saved;

/* Async-signal-safe: called from signal handlers too. */
static void restore_terminal(void)
{
    if (termios_saved) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
        termios_saved = 0;
    }
}

static void on_fatal_signal(int sig)
{
    restore_terminal();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Raw input, so that every key goes to the guest (Ctrl-C included); output
 * processing stays on, as the guest's console expects a terminal. */
static void enter_raw_mode(void)
{
    static const int signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
    struct termios raw;

    if (tcgetattr(STDIN_FILENO, &saved_termios) != 0) {
        return;
    }
    raw = saved_termios;
    raw.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    raw.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    raw.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
    raw.c_cflag |= CS8;
    raw.c_oflag |= OPOST;
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    termios_saved = 1;
    atexit(restore_terminal);
    for (unsigned i = 0; i < G_N_ELEMENTS(signals); i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_fatal_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(signals[i], &sa, NULL);
    }
    tcsetattr(STDIN_FILENO, TCSANOW, &raw);
}

/* ---- Console output: the UART's and the virtio console's rings to stdout,
 * on their own thread ---------------------------------------------------- */

#define N_OUTPUTS 2
/* How long a console's unfinished line keeps the other console's output
 * waiting (a prompt never finishes its line). */
#define LINE_HOLD_US 50000

typedef struct {
    VireoRing *rings[N_OUTPUTS];
    int wake[2]; /* a byte here tells the thread to drain and finish */
    atomic_bool quit;
    GThread *thread;
} Output;

static void write_all(int fd, const guint8 *buf, gsize len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return; /* stdout is gone: drop the output, keep running */
        }
        buf += n;
        len -= (gsize)n;
    }
}

/*
 * Both consoles share stdout, line by line. The console whose last output
 * did not end its line owns stdout while more of that line waits in its
 * ring or it printed within LINE_HOLD_US: the other's bytes wait in
 * theirs meanwhile. A read may take half a line (the guest sends it byte
 * by byte), and by the time this thread looks at the other ring (it may
 * have waited for the CPU meanwhile), that may hold what the guest wrote
 * after the rest of the line. There is one owner at a time, so both
 * consoles in the middle of a line (two prompts) never wait for each other:
 * the one that printed last goes on.
 */
static gpointer output_thread(gpointer data)
{
    Output *o = data;
    guint8 buf[4096];
    int owner = -1;
    gint64 last = 0; /* when the owner last printed */

    for (;;) {
        struct pollfd fds[N_OUTPUTS + 1];
        bool held[N_OUTPUTS], wrote = false, busy = false, quit = atomic_load(&o->quit);
        gint64 now = g_get_monotonic_time(), hold = -1;
        bool owner_busy = false;

        if (owner >= 0 && !quit) {
            owner_busy = vireo_ring_available(o->rings[owner]) > 0;
            if (!owner_busy && now - last < LINE_HOLD_US) {
                hold = LINE_HOLD_US - (now - last);
            } else if (!owner_busy) {
                owner = -1; /* its line stays unfinished */
            }
        }
        for (unsigned i = 0; i < N_OUTPUTS && !wrote; i++) {
            held[i] = owner >= 0 && (unsigned)owner != i && (owner_busy || hold >= 0);
            if (held[i]) {
                continue;
            }
            gsize n = vireo_ring_read(o->rings[i], buf, sizeof buf);
            if (n > 0) {
                write_all(STDOUT_FILENO, buf, n);
                if (buf[n - 1] != '\n') {
                    owner = (int)i;
                    last = now;
                } else if (owner == (int)i) {
                    owner = -1;
                }
                wrote = true; /* and from the first console again */
            }
        }
        if (wrote) {
            continue;
        }
        if (quit) {
            break;
        }
        for (unsigned i = 0; i < N_OUTPUTS; i++) {
            /* a held console's data waits for the owner's line, or the
             * end of the hold (the poll's timeout) */
            fds[i] = (struct pollfd){ .fd = held[i] ? -1 : vireo_ring_get_fd(o->rings[i]),
                                      .events = POLLIN };
            busy = (!held[i] && vireo_ring_arm(o->rings[i])) || busy;
        }
        if (busy) {
            continue;
        }
        fds[N_OUTPUTS] = (struct pollfd){ .fd = o->wake[0], .events = POLLIN };
        if (poll(fds, N_OUTPUTS + 1, hold < 0 ? -1 : (int)((hold + 999) / 1000)) < 0 &&
            errno != EINTR) {
            break;
        }
    }
    return NULL;
}

/* ---- Arguments ---------------------------------------------------------- */

/* "256M", "2G", "1048576K", "512MiB"; a plain number counts MiB. */
static bool parse_size(const char *text, uint64_t *bytes)
{
    const char *p = text;
    char *end;
    guint64 value;
    guint shift = 20;

    while (g_ascii_isspace(*p)) {
        p++;
    }
    if (!g_ascii_isdigit(*p)) {
        return false;
    }
    errno = 0;
    value = g_ascii_strtoull(p, &end, 10);
    if (errno != 0) {
        return false;
    }
    switch (g_ascii_toupper(*end)) {
    case '\0': break;
    case 'B': shift = 0; break;
    case 'K': shift = 10; break;
    case 'M': shift = 20; break;
    case 'G': shift = 30; break;
    case 'T': shift = 40; break;
    default: return false;
    }
    if (*end != '\0') {
        end++;
        if (shift != 0 &&
            (g_ascii_strcasecmp(end, "iB") == 0 || g_ascii_strcasecmp(end, "B") == 0)) {
            end += strlen(end);
        }
        if (*end != '\0') {
            return false;
        }
    }
    if (value > (G_MAXUINT64 >> shift)) {
        return false;
    }
    *bytes = value << shift;
    return true;
}

/* An image must be a regular file that can be read. It is opened without
 * blocking (a FIFO has no writer to wait for) and not read here: the board
 * reads only what it loads, after checking its size against RAM. */
static bool check_file(const char *option, const char *path)
{
    struct stat st;
    int fd, err;

    if (path == NULL) {
        return true;
    }
    fd = g_open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0);
    if (fd < 0 || fstat(fd, &st) != 0) {
        err = errno;
        g_printerr(_("vireo-run: %s: cannot read “%s”: %s\n"), option, path, g_strerror(err));
        if (fd >= 0) {
            close(fd);
        }
        return false;
    }
    close(fd);
    if (!S_ISREG(st.st_mode)) {
        g_printerr(_("vireo-run: %s: “%s” is not a regular file\n"), option, path);
        return false;
    }
    return true;
}

/* --disk FILE[,OPTION...]: the image, its format and whether the guest may
 * write it. As in QEMU's option syntax, the first lone comma ends the file
 * name and ",," stands for a comma in it. The options are "ro", "rw" (the
 * default) and "format=raw" or "format=qcow2" (without one the format is
 * detected). Returns NULL, or what is wrong. */
static char *parse_disk(const char *arg, VireoBoardDisk *disk)
{
    g_autoptr(GString) path = g_string_new(NULL);
    g_auto(GStrv) options = NULL;
    const char *p = arg;
    const char *mode = NULL;

    while (*p != '\0' && !(p[0] == ',' && p[1] != ',')) {
        g_string_append_c(path, *p);
        p += p[0] == ',' ? 2 : 1;
    }
    if (path->len == 0) {
        return g_strdup_printf(_("--disk: “%s” names no file"), arg);
    }
    options = g_strsplit(*p == ',' ? p + 1 : p, ",", -1);
    disk->read_only = false;
    disk->format = VIREO_BLOCK_FORMAT_AUTO;
    for (unsigned i = 0; options[i] != NULL; i++) {
        const char *o = options[i];

        if (strcmp(o, "ro") == 0 || strcmp(o, "rw") == 0) {
            if (mode != NULL && strcmp(mode, o) != 0) {
                return g_strdup_printf(_("--disk: “%s” says both “ro” and “rw”"), arg);
            }
            mode = o;
            disk->read_only = strcmp(o, "ro") == 0;
        } else if (g_str_has_prefix(o, "format=")) {
            if (!vireo_block_format_from_name(o + strlen("format="), &disk->format)) {
                return g_strdup_printf(
                    _("--disk: the format “%s” is not supported; disk images are raw or qcow2"),
                    o + strlen("format="));
            }
        } else {
            return g_strdup_printf(_("--disk: unknown option “%s” in “%s” (ro, rw, format=raw "
                                     "or format=qcow2; write a comma in a file name as “,,”)"),
                                   o, arg);
        }
    }
    disk->path = g_string_free(g_steal_pointer(&path), FALSE);
    return NULL;
}

/* The image must exist, be a regular file or a block device, and open as
 * the guest will use it: read-only, or for reading and writing. */
static bool check_disk(const VireoBoardDisk *disk)
{
    struct stat st;
    int fd, err;

    fd = g_open(disk->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0);
    if (fd < 0 || fstat(fd, &st) != 0) {
        err = errno;
        g_printerr(_("vireo-run: %s: cannot read “%s”: %s\n"), "--disk", disk->path,
                   g_strerror(err));
        if (fd >= 0) {
            close(fd);
        }
        return false;
    }
    close(fd);
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
        g_printerr(_("vireo-run: --disk: “%s” is not a regular file or a block device\n"),
                   disk->path);
        return false;
    }
    if (!disk->read_only) {
        fd = g_open(disk->path, O_RDWR | O_NONBLOCK | O_CLOEXEC, 0);
        if (fd < 0) {
            err = errno;
            g_printerr(_("vireo-run: --disk: cannot open “%s” for writing: %s (add “,ro” for a "
                         "read-only disk)\n"),
                       disk->path, g_strerror(err));
            return false;
        }
        close(fd);
    }
    return true;
}

/* ---- Statistics --------------------------------------------------------- */

/* `part` as a percentage of `whole` seconds (0 when there is no whole). */
static double share_of(double part, double whole)
{
    return whole > 0 ? MIN(100.0, 100.0 * part / whole) : 0.0;
}

/* `s` is the counters of `n_vcpus` vCPUs over `seconds`. */
static void print_stats_block(const char *title, const VireoVcpuStats *s, double seconds,
                              unsigned n_vcpus)
{
    typedef unsigned long long ull;
    uint64_t lookups = s->decode_hits + s->decode_misses;
    double mips = seconds > 0 ? (double)s->insns / seconds / 1e6 : 0.0;
    double hit_rate = lookups > 0 ? 100.0 * (double)s->decode_hits / (double)lookups : 0.0;

    g_printerr("%s\n", title);
    g_printerr(_("  instructions:  %llu (%.2f MIPS)\n"), (ull)s->insns, mips);
    g_printerr(_("  blocks:        %llu\n"), (ull)s->blocks);
    g_printerr(_("  decode cache:  %.2f%% hits (%llu hits, %llu misses)\n"), hit_rate,
               (ull)s->decode_hits, (ull)s->decode_misses);
    g_printerr(_("  I-TLB:         %llu hits, %llu misses, %llu flushes\n"), (ull)s->itlb_hits,
               (ull)s->itlb_misses, (ull)s->itlb_flushes);
    g_printerr(_("  D-TLB:         %llu hits, %llu misses, %llu flushes\n"), (ull)s->dtlb_hits,
               (ull)s->dtlb_misses, (ull)s->dtlb_flushes);
    g_printerr(_("  TLB victims:   %llu misses served by an evicted entry, without a page walk\n"),
               (ull)s->tlb_victim_hits);
    g_printerr(_("  exceptions:    %llu\n"), (ull)s->exceptions);
    g_printerr(_("  interrupts:    %llu\n"), (ull)s->interrupts);
    g_printerr(_("  waiting:       %.2f s for an interrupt (wfi)\n"), (double)s->halted_ns / 1e9);
    if (s->jit_blocks > 0 || s->jit_fallbacks > 0) {
        g_printerr(_("  JIT:           %llu blocks compiled (%llu bytes), %llu left to the "
                     "interpreter, %llu instructions run compiled\n"),
                   (ull)s->jit_blocks, (ull)s->jit_code_bytes, (ull)s->jit_fallbacks,
                   (ull)s->jit_insns);
        g_printerr(_("  JIT work:      %.1f ms compiling, %llu entries from the run loop, %llu "
                     "blocks invalidated, %llu code cache flushes\n"),
                   (double)s->jit_compile_ns / 1e6, (ull)s->jit_entries, (ull)s->jit_invalidated,
                   (ull)s->jit_flushes);
        /* the time the vCPUs ran, not waiting for interrupts */
        double busy = seconds * n_vcpus - (double)s->halted_ns / 1e9;
        double interp = (double)s->jit_interp_ns / 1e9;
        g_printerr(_("  JIT time:      %.2f s on the interpreter (blocks not hot yet), %.1f%% of "
                     "the %.2f s not waiting; %.1f%% compiling\n"),
                   interp, share_of(interp, busy), MAX(busy, 0.0),
                   share_of((double)s->jit_compile_ns / 1e9, busy));
    }
}

static void print_stats(VireoMachine *machine, double seconds)
{
    unsigned n = vireo_machine_n_vcpus(machine);
    VireoVcpuStats s;

    g_printerr(_("Engine statistics over %.3f s:\n"), seconds);
    for (unsigned i = 0; i < n; i++) {
        g_autofree char *title = g_strdup_printf(_("vCPU %u:"), i);
        vireo_machine_get_stats(machine, (int)i, &s);
        print_stats_block(title, &s, seconds, 1);
    }
    vireo_machine_get_stats(machine, -1, &s);
    print_stats_block(_("Total:"), &s, seconds, n);
}

/* ---- Running the machine ------------------------------------------------ */

typedef struct {
    int done[2]; /* written once the machine has stopped */
    VireoGdbStub *gdb;
    VireoQmpMachine *qmp_machine; /* --qmp: the monitor on the machine */
    VireoQmpServer *qmp;          /* and on its socket */
    VireoMigration *migration;    /* --qmp: the monitor's migrate */
} RunState;

/* The --display window, on the main thread; the console then runs on a
 * thread of its own. */
typedef struct {
    char *spec; /* the option's value */
    VireoScanout *scanout;
    VireoNoDisplay *picture;
    VireoSdlWindow *window;
    atomic_bool stopped; /* by the machine or the console, not by the user */
    /* The board's keyboard and tablet while the machine lives, the window's
     * input; both NULL otherwise, which the pair's calls ignore. */
    VireoVirtioInputPair input;
    /* --gpu: the display device, its first mode, and for virgl the OpenGL
     * contexts (or why there are none). */
    char *gpu_spec;
    VireoBoardDisplay gpu;
    int width, height;
    VireoGlProvider *gl;
    char *gl_error;
    /* --scanout-dump: where the last picture goes. A presenter of its own
     * (which needs pixels, so 3D frames are read back) keeps a copy of the
     * last picture the output showed, updated with each frame's damage, so
     * that a guest switching the output off as it powers off (Linux does)
     * still leaves its picture. */
    char *dump_path;
    int dump_presenter;
    GMutex dump_lock;
    guint8 *dump_pixels;
    int dump_width, dump_height;
    VireoPixelFormat dump_format;
} Display;

static Display display = { .dump_presenter = -1 };

static void stop_window(void)
{
    if (display.window != NULL) {
        atomic_store(&display.stopped, true);
        vireo_sdl_window_stop(display.window);
    }
}

static void on_machine_event(VireoMachine *machine, VireoMachineState state, void *user_data)
{
    RunState *rs = user_data;

    /* The monitor's events first: once `done` is written, the main thread
     * may free the monitor. */
    if (rs->qmp_machine != NULL) {
        vireo_qmp_machine_state_changed(rs->qmp_machine, state);
    }
    if (state == VIREO_MACHINE_STOPPED) {
        guint8 b = 1;
        if (rs->gdb != NULL) {
            int code = 0;
            vireo_machine_exit_reason(machine, &code, NULL);
            vireo_gdb_stub_machine_stopped(rs->gdb, code);
        }
        G_GNUC_UNUSED ssize_t n = write(rs->done[1], &b, 1);
        stop_window();
    }
}

static void print_escape_help(void)
{
    g_printerr(_("\nC-a h    print this help\n"
                 "C-a x    exit vireo-run\n"
                 "C-a C-a  send C-a to the guest\n"));
    g_printerr(_("C-a c    switch the input between the serial and the virtio console\n"));
}

/* Where console input goes: the serial console, or the virtio console
 * (hvc0). */
typedef struct {
    VireoBoard *board;
    VireoVirtio *hvc;
    bool to_hvc;
} Input;

/* Moves queued input into the chosen console as far as it has room. */
static void feed_guest(Input *in, GByteArray *pending)
{
    if (pending->len > 0) {
        gsize n = in->to_hvc ? vireo_virtio_console_receive(in->hvc, pending->data, pending->len)
                             : vireo_board_console_receive(in->board, pending->data, pending->len);
        g_byte_array_remove_range(pending, 0, (guint)n);
    }
}

/* Linux's /dev/console is the last console= of its command line; input
 * starts on the virtio console when that is hvc0. */
static bool cmdline_console_is_hvc(const char *cmdline)
{
    g_auto(GStrv) words = NULL;
    bool hvc = false;

    if (cmdline == NULL) {
        return false;
    }
    words = g_strsplit_set(cmdline, " \t", -1);
    for (unsigned i = 0; words[i] != NULL; i++) {
        if (g_str_has_prefix(words[i], "console=")) {
            hvc = g_str_has_prefix(words[i] + strlen("console="), "hvc");
        }
    }
    return hvc;
}

typedef enum {
    LOOP_STOPPED, /* the machine stopped by itself */
    LOOP_QUIT,    /* the user typed C-a x */
    LOOP_TIMEOUT, /* the test ran out of time */
} LoopResult;

static LoopResult console_loop(Input *in, RunState *rs, bool tty, gint64 deadline)
{
    g_autoptr(GByteArray) pending = g_byte_array_new();
    bool stdin_open = true;
    bool escape = false;

    for (;;) {
        struct pollfd fds[2] = {
            { .fd = rs->done[0], .events = POLLIN },
            { .fd = STDIN_FILENO, .events = POLLIN },
        };
        nfds_t nfds = stdin_open && pending->len < MAX_PENDING_IN ? 2 : 1;
        int timeout = -1;

        if (pending->len > 0) {
            timeout = 5; /* retry what the UART had no room for */
        }
        if (deadline > 0) {
            gint64 left = (deadline - g_get_monotonic_time() + 999) / 1000;
            if (left <= 0) {
                return LOOP_TIMEOUT;
            }
            timeout =
                timeout < 0 ? (int)MIN(left, G_MAXINT) : MIN(timeout, (int)MIN(left, G_MAXINT));
        }
        if (poll(fds, nfds, timeout) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return LOOP_STOPPED;
        }
        if (fds[0].revents != 0) {
            return LOOP_STOPPED;
        }
        if (nfds > 1 && fds[1].revents != 0) {
            guint8 buf[1024];
            ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
                continue;
            }
            if (n <= 0) {
                stdin_open = false; /* the guest keeps running without input */
                continue;
            }
            for (ssize_t i = 0; i < n; i++) {
                guint8 c = buf[i];
                if (!tty) {
                    g_byte_array_append(pending, &c, 1);
                } else if (escape) {
                    escape = false;
                    if (c == 'x' || c == 'X') {
                        return LOOP_QUIT;
                    } else if (c == 'h' || c == 'H' || c == '?') {
                        print_escape_help();
                    } else if (c == 'c' || c == 'C') {
                        in->to_hvc = !in->to_hvc;
                        /* The terminal is raw: \r\n starts a line. */
                        g_printerr("\r\n%s\r\n", in->to_hvc ? _("[input: virtio console]")
                                                            : _("[input: serial console]"));
                    } else if (c == ESCAPE_CHAR) {
                        g_byte_array_append(pending, &c, 1);
                    }
                } else if (c == ESCAPE_CHAR) {
                    escape = true;
                } else {
                    g_byte_array_append(pending, &c, 1);
                }
            }
        }
        feed_guest(in, pending);
    }
}

static int exit_status_of(int code)
{
    return code <= 0 ? (code == 0 ? 0 : EXIT_FAULT) : MIN(code, 255);
}

static int write_dtb(const char *path, GBytes *fdt)
{
    g_autoptr(GError) error = NULL;
    gsize size;
    const char *data = g_bytes_get_data(fdt, &size);

    if (!g_file_set_contents(path, data, (gssize)size, &error)) {
        g_printerr(_("vireo-run: cannot write the device tree: %s\n"), error->message);
        return EXIT_FAULT;
    }
    return 0;
}

/* ---- The display window ------------------------------------------------- */

typedef struct {
    Input *in;
    RunState *rs;
    bool tty;
    gint64 deadline;
    LoopResult result;
} ConsoleJob;

static gpointer console_thread(gpointer data)
{
    ConsoleJob *job = data;

    job->result = console_loop(job->in, job->rs, job->tty, job->deadline);
    stop_window();
    return NULL;
}

/* The window's loop on this thread, the console's on another. Closing the
 * window quits as C-a x does. */
static LoopResult display_loop(Input *in, RunState *rs, bool tty, gint64 deadline)
{
    ConsoleJob job = { in, rs, tty, deadline, LOOP_STOPPED };
    GThread *thread = g_thread_new("console-in", console_thread, &job);
    bool closed;

    vireo_sdl_window_run(display.window);
    closed = !atomic_load(&display.stopped);
    if (closed) {
        /* The console loop ends when this pipe has something to read. */
        guint8 b = 1;
        G_GNUC_UNUSED ssize_t n = write(rs->done[1], &b, 1);
    }
    g_thread_join(thread);
    return closed && job.result == LOOP_STOPPED ? LOOP_QUIT : job.result;
}

/* --scanout-dump's presenter, on the device's thread: the picture's copy
 * follows every frame with pixels. */
static void dump_notify(void *opaque)
{
    VireoScanoutFrame f;

    if (display.dump_presenter < 0 ||
        !vireo_scanout_acquire(display.scanout, display.dump_presenter, &f)) {
        return;
    }
    g_mutex_lock(&display.dump_lock);
    if (f.pixels != NULL && f.width > 0 && f.height > 0) {
        size_t row = (size_t)f.width * 4;
        VireoScanoutRect d = f.damage;

        if (f.resized || f.width != display.dump_width || f.height != display.dump_height) {
            g_free(display.dump_pixels);
            display.dump_pixels = g_malloc(row * (size_t)f.height);
            display.dump_width = f.width;
            display.dump_height = f.height;
            d = (VireoScanoutRect){ 0, 0, f.width, f.height };
        }
        display.dump_format = f.format;
        for (int y = d.y; y < d.y + d.height; y++) {
            memcpy(display.dump_pixels + (size_t)y * row + (size_t)d.x * 4,
                   f.pixels + (size_t)y * f.stride + (size_t)d.x * 4, (size_t)d.width * 4);
        }
    }
    g_mutex_unlock(&display.dump_lock);
    vireo_scanout_release(display.scanout, display.dump_presenter);
}

/* --scanout-dump: the last picture the display's output showed. */
static bool write_scanout_dump(void)
{
    g_autoptr(GError) error = NULL;
    VireoScanoutFrame frame = { 0 };
    bool ok;

    g_mutex_lock(&display.dump_lock);
    if (display.dump_pixels == NULL) {
        g_mutex_unlock(&display.dump_lock);
        g_printerr(_("vireo-run: --scanout-dump: no frame to write\n"));
        return false;
    }
    frame.pixels = display.dump_pixels;
    frame.stride = (size_t)display.dump_width * 4;
    frame.width = display.dump_width;
    frame.height = display.dump_height;
    frame.format = display.dump_format;
    ok = vireo_scanout_frame_write(&frame, display.dump_path, &error);
    g_mutex_unlock(&display.dump_lock);
    if (!ok) {
        g_printerr(_("vireo-run: --scanout-dump: %s\n"), error->message);
    }
    return ok;
}

/* Frees what run() made: the machine, the console rings and the pipes that
 * were opened (the others are -1). */
static void run_free(VireoMachine *machine, VireoRing *ring, VireoRing *hvc_ring, RunState *rs,
                     Output *out)
{
    int fds[] = { rs->done[0], rs->done[1], out->wake[0], out->wake[1] };

    /* The monitor sends what it has left, then goes before the machine. */
    if (machine != NULL) {
        vireo_machine_stop(machine);
    }
    g_clear_pointer(&rs->migration, vireo_migration_free);
    g_clear_pointer(&rs->qmp, vireo_qmp_server_free);
    g_clear_pointer(&rs->qmp_machine, vireo_qmp_machine_free);
    vireo_machine_free(machine);
    vireo_ring_free(ring);
    vireo_ring_free(hvc_ring);
    for (guint i = 0; i < G_N_ELEMENTS(fds); i++) {
        if (fds[i] >= 0) {
            close(fds[i]);
        }
    }
}

/* A migration's new status as QEMU's MIGRATION event. */
static void on_migration_status(void *opaque, VireoMigrationStatus status)
{
    RunState *rs = opaque;
    VireoJson *data = vireo_json_new_object();

    vireo_json_object_set(data, "status",
                          vireo_json_new_string(vireo_migration_status_name(status)));
    vireo_qmp_emit_event(vireo_qmp_machine_get_qmp(rs->qmp_machine), "MIGRATION", data);
    if (status == VIREO_MIGRATION_COMPLETED) {
        g_printerr(_("vireo-run: the machine migrated; it runs on the destination now\n"));
    }
}

/* --qmp: the monitor on the machine and on its socket, before the machine
 * starts. Returns false with the exit status when it cannot listen. */
static bool qmp_start(const Options *opt, VireoMachine *machine, VireoBoard *board, RunState *rs,
                      int *status)
{
    g_autoptr(GError) error = NULL;
    VireoQmpMachineConfig config = {
        .scanout = display.gpu != VIREO_BOARD_DISPLAY_NONE ? display.scanout : NULL,
        .input = vireo_board_get_input(board),
        .snapshot_ops = vireo_qmp_board_snapshot_ops(),
        .snapshot_host = board,
    };

    rs->migration = vireo_migration_new(board, on_migration_status, rs);
    config.migration = rs->migration;
    rs->qmp_machine = vireo_qmp_machine_new(machine, &config);
    rs->qmp = vireo_qmp_server_new(vireo_qmp_machine_get_qmp(rs->qmp_machine), opt->qmp, &error);
    if (rs->qmp == NULL) {
        g_printerr("vireo-run: --qmp: %s\n", error->message);
        /* A malformed address is a bad argument; one that cannot be listened
         * on (in use) is this host's, as for --gdb. */
        *status =
            g_error_matches(error, VIREO_ERROR, VIREO_ERROR_CONFIG) ? EXIT_BAD_ARGS : EXIT_FAULT;
        return false;
    }
    g_printerr(_("vireo-run: QMP monitor on %s\n"), vireo_qmp_server_address(rs->qmp));
    return true;
}

/* Closes a refused connection after a short look at what the peer still
 * sends, so that the reply is not lost to a reset (a close with unread
 * bytes resets the connection). */
static void drain_and_close(int c)
{
    struct timeval tv = { .tv_usec = 200000 };
    guint8 buf[4096];

    shutdown(c, SHUT_WR);
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    for (unsigned i = 0; i < 256 && recv(c, buf, sizeof buf, 0) > 0; i++) {}
    close(c);
}

/* --incoming: waits for a source to send a machine whole (RAM gathered in
 * an image, the rest checked for its framing), and for its word that it
 * gave up its disks. A connection that breaks or sends anything else is
 * refused, and the next one awaited with a new image. Returns the final
 * stream, the image and the connection, or NULL with the exit status. */
static GBytes *receive_incoming(const Options *opt, uint64_t ram_size, VireoRamImage **image,
                                int *conn, int *status)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *address = NULL, *unix_path = NULL;
    /* Compressed RAM, never much more than RAM itself, and the rest. */
    gsize max_len = (gsize)(ram_size + ram_size / 16 + (64u << 20));
    GBytes *stream = NULL;
    int fd;

    fd = vireo_listen(opt->incoming, 1, &address, &unix_path, &error);
    if (fd < 0) {
        g_printerr("vireo-run: --incoming: %s\n", error->message);
        *status =
            g_error_matches(error, VIREO_ERROR, VIREO_ERROR_CONFIG) ? EXIT_BAD_ARGS : EXIT_FAULT;
        return NULL;
    }
    g_printerr(_("vireo-run: waiting for a migration on %s\n"), address);
    while (stream == NULL) {
        int c = accept(fd, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }
            g_printerr(_("vireo-run: --incoming: cannot accept a connection: %s\n"),
                       g_strerror(errno));
            *status = EXIT_FAULT;
            break;
        }
        g_clear_error(&error);
        *image = vireo_ram_image_new(ram_size, &error);
        if (*image == NULL) {
            g_printerr("vireo-run: --incoming: %s\n", error->message);
            vireo_migrate_send_reply(c, VIREO_MIGRATE_REPLY_ERROR, error->message, NULL);
            close(c);
            *status = EXIT_FAULT;
            break;
        }
        stream = vireo_migrate_recv_machine(c, *image, max_len, &error);
        if (stream != NULL &&
            (!vireo_migrate_send_reply(c, VIREO_MIGRATE_REPLY_RECEIVED, NULL, &error) ||
             !vireo_migrate_recv_unlocked(c, &error))) {
            g_clear_pointer(&stream, g_bytes_unref);
        }
        if (stream == NULL) {
            /* Tell a source that still listens why, then wait for another. */
            vireo_migrate_send_reply(c, VIREO_MIGRATE_REPLY_ERROR, error->message, NULL);
            g_printerr(_("vireo-run: --incoming: refused a migration: %s\n"), error->message);
            g_clear_pointer(image, vireo_ram_image_free);
            drain_and_close(c);
            continue;
        }
        *conn = c;
    }
    close(fd);
    if (unix_path != NULL) {
        g_unlink(unix_path);
    }
    return stream;
}

/* --incoming, once the board is built: loads the stream and the RAM image
 * and tells the source, which stops then. */
static bool load_incoming(VireoMachine *machine, GBytes *stream, VireoRamImage *image, int conn)
{
    g_autoptr(GError) error = NULL;
    gsize len;
    const guint8 *data = g_bytes_get_data(stream, &len);

    if (!vireo_machine_load_state_with_ram(machine, data, len, image, &error)) {
        vireo_migrate_send_reply(conn, VIREO_MIGRATE_REPLY_ERROR, error->message, NULL);
        g_printerr(_("vireo-run: --incoming: refused the machine: %s\n"), error->message);
        return false;
    }
    /* This machine holds the disks now: the source cannot take them back,
     * so it never runs again even when this word is lost. */
    if (!vireo_migrate_send_reply(conn, VIREO_MIGRATE_REPLY_LOADED, NULL, &error)) {
        g_printerr(_("vireo-run: --incoming: %s\n"), error->message);
    }
    g_printerr(_("vireo-run: the machine arrived\n"));
    return true;
}

static int run(const Options *opt, uint64_t ram_size)
{
    g_autoptr(GError) error = NULL;
    VireoRing *ring = vireo_ring_new(CONSOLE_RING);
    VireoRing *hvc_ring = vireo_ring_new(CONSOLE_RING);
    VireoBoardConfig config = {
        .ram_size = ram_size,
        .n_cpus = (unsigned)opt->cpus,
        .cpu = opt->cpu,
        .firmware = opt->firmware,
        .kernel = opt->kernel,
        .initrd = opt->initrd,
        .cmdline = opt->append,
        .console = ring,
        .test_elf = opt->test,
        .disks = opt->disks,
        .n_disks = opt->n_disks,
        .hvc = hvc_ring,
        .net = opt->net_config,
        .input = display.window != NULL,
        .display = display.gpu,
        .scanout = display.gpu != VIREO_BOARD_DISPLAY_NONE ? display.scanout : NULL,
        .display_width = display.width,
        .display_height = display.height,
        .gl = display.gl,
        .gl_error = display.gl_error,
    };
    RunState rs = { { -1, -1 }, NULL, NULL, NULL };
    Output out = { .rings = { ring, hvc_ring }, .wake = { -1, -1 } };
    Input input = { 0 };
    VireoBoard *board = NULL;
    VireoMachine *machine;
    VireoExitReason reason;
    const char *message = NULL;
    bool tty = isatty(STDIN_FILENO);
    gint64 started, deadline = 0;
    LoopResult result;
    int code = 0, status = 0;
    g_autoptr(GBytes) incoming = NULL;
    g_autoptr(VireoRamImage) incoming_ram = NULL;
    int conn = -1;

    /* The board is built once the machine has arrived, so that the source
     * keeps its disks until then (docs/MIGRATION.md). */
    if (opt->incoming != NULL) {
        incoming = receive_incoming(opt, ram_size, &incoming_ram, &conn, &status);
        config.state_follows = incoming != NULL;
        if (incoming == NULL) {
            vireo_ring_free(ring);
            vireo_ring_free(hvc_ring);
            return status;
        }
    }
    machine = vireo_board_new(vireo_board_find(VIREO_ARCH_RISCV64), &config, &board, &error);
    if (machine == NULL) {
        g_printerr("vireo-run: %s\n", error->message);
        if (conn >= 0) {
            vireo_migrate_send_reply(conn, VIREO_MIGRATE_REPLY_ERROR, error->message, NULL);
            close(conn);
        }
        vireo_ring_free(ring);
        vireo_ring_free(hvc_ring);
        /* Configuration errors (not enough RAM, ...) and images that are not
         * what they should be are argument errors; the rest (a disk in use,
         * a network that cannot start) means the machine cannot run. */
        return g_error_matches(error, VIREO_ERROR, VIREO_ERROR_CONFIG) ||
                       g_error_matches(error, VIREO_ERROR, VIREO_ERROR_FORMAT)
                   ? EXIT_BAD_ARGS
                   : EXIT_FAULT;
    }
    if (display.gpu == VIREO_BOARD_DISPLAY_VIRGL) {
        const char *why = NULL;
        if (vireo_virtio_gpu_get_3d_status(vireo_board_get_gpu(board), &why) !=
            VIREO_VIRTIO_GPU_3D_ACTIVE) {
            g_printerr(_("vireo-run: the display runs in 2D: %s\n"), why);
        }
    }
    if (opt->dtb_out != NULL && write_dtb(opt->dtb_out, vireo_board_get_fdt(board)) != 0) {
        run_free(machine, ring, hvc_ring, &rs, &out);
        return EXIT_FAULT;
    }

    if (pipe(rs.done) != 0 || pipe(out.wake) != 0) {
        g_printerr(_("vireo-run: cannot create a pipe: %s\n"), g_strerror(errno));
        run_free(machine, ring, hvc_ring, &rs, &out);
        return EXIT_FAULT;
    }
    signal(SIGPIPE, SIG_IGN);
    if (opt->gdb != NULL) {
        vireo_machine_set_start_paused(machine, opt->gdb_wait_flag);
        rs.gdb = vireo_gdb_stub_new(machine, vireo_rv_gdb_arch(), opt->gdb, &error);
        if (rs.gdb == NULL) {
            g_printerr("vireo-run: --gdb: %s\n", error->message);
            run_free(machine, ring, hvc_ring, &rs, &out);
            /* A malformed address is a bad argument; one that cannot be
             * listened on (in use) is this host's, like a forwarded port. */
            return g_error_matches(error, VIREO_ERROR, VIREO_ERROR_CONFIG) ? EXIT_BAD_ARGS
                                                                           : EXIT_FAULT;
        }
        if (opt->gdb_wait_flag) {
            g_printerr(_("vireo-run: waiting for a debugger on %s\n"),
                       vireo_gdb_stub_address(rs.gdb));
        } else {
            g_printerr(_("vireo-run: a debugger can connect on %s\n"),
                       vireo_gdb_stub_address(rs.gdb));
        }
    }
    if (opt->loadvm != NULL && !vireo_snapshot_load(board, opt->loadvm, NULL, NULL, &error)) {
        g_printerr("vireo-run: --loadvm: %s\n", error->message);
        run_free(machine, ring, hvc_ring, &rs, &out);
        return g_error_matches(error, VIREO_ERROR, VIREO_ERROR_CONFIG) ? EXIT_BAD_ARGS : EXIT_FAULT;
    }
    if (incoming != NULL) {
        bool loaded = load_incoming(machine, incoming, incoming_ram, conn);
        close(conn);
        g_clear_pointer(&incoming_ram, vireo_ram_image_free);
        if (!loaded) {
            run_free(machine, ring, hvc_ring, &rs, &out);
            return EXIT_FAULT;
        }
    }
    if (opt->qmp != NULL && !qmp_start(opt, machine, board, &rs, &status)) {
        run_free(machine, ring, hvc_ring, &rs, &out);
        return status;
    }
    vireo_machine_set_event_func(machine, on_machine_event, &rs);
    if (rs.qmp != NULL && vireo_qmp_server_get_wait(rs.qmp)) {
        g_printerr(_("vireo-run: waiting for a QMP client on %s\n"),
                   vireo_qmp_server_address(rs.qmp));
        vireo_qmp_server_wait_for_client(rs.qmp);
    }
    out.thread = g_thread_new("console-out", output_thread, &out);
    if (tty) {
        enter_raw_mode();
    }

    started = g_get_monotonic_time();
    if (opt->test != NULL && opt->timeout > 0 && opt->gdb == NULL) {
        deadline = started + (gint64)opt->timeout * G_USEC_PER_SEC;
    }
    if (vireo_board_get_input(board) != NULL) {
        display.input = *vireo_board_get_input(board);
    }
    if (!vireo_machine_start(machine, &error)) {
        if (vireo_machine_state(machine) == VIREO_MACHINE_STOPPED) {
            g_clear_error(&error); /* a QMP client quit before it started */
        }
        result = LOOP_STOPPED;
    } else {
        input.board = board;
        input.hvc = vireo_board_get_virtio_console(board);
        input.to_hvc = cmdline_console_is_hvc(opt->append);
        result = display.window != NULL ? display_loop(&input, &rs, tty, deadline)
                                        : console_loop(&input, &rs, tty, deadline);
    }
    if (result != LOOP_STOPPED || error != NULL) {
        vireo_machine_stop(machine);
    }
    reason = vireo_machine_wait(machine, &code, &message);
    double seconds = (double)(g_get_monotonic_time() - started) / G_USEC_PER_SEC;

    /* Let the console show everything the guest wrote, then give the
     * terminal back. */
    atomic_store(&out.quit, true);
    {
        guint8 b = 1;
        G_GNUC_UNUSED ssize_t n = write(out.wake[1], &b, 1);
    }
    g_thread_join(out.thread);
    restore_terminal();

    if (opt->stats) {
        print_stats(machine, seconds);
    }
    g_clear_pointer(&rs.gdb, vireo_gdb_stub_free);

    if (error != NULL) {
        g_printerr("vireo-run: %s\n", error->message);
        status = EXIT_FAULT;
    } else if (result == LOOP_TIMEOUT) {
        /* Test-harness protocol word, not translated. */
        g_printerr("TIMEOUT\n");
        status = EXIT_TIMEOUT;
    } else if (result == LOOP_QUIT) {
        g_printerr(_("vireo-run: terminated\n"));
        status = 0;
    } else if (reason == VIREO_EXIT_FAULT) {
        g_printerr(_("vireo-run: the virtual machine stopped: %s\n"),
                   message != NULL ? message : _("unknown fault"));
        status = EXIT_FAULT;
    } else if (reason == VIREO_EXIT_POWEROFF) {
        status = exit_status_of(code);
        if (opt->test != NULL && code != 0) {
            /* Test-harness protocol line, not translated. */
            g_printerr("FAIL: test %d\n", code);
        }
    } else {
        status = 0;
    }

    /* The last frame, while the display device still exists; a dump that
     * cannot be written fails a run that would have succeeded. */
    if (display.dump_path != NULL && !write_scanout_dump() && status == 0) {
        status = EXIT_FAULT;
    }
    display.input = (VireoVirtioInputPair){ NULL, NULL };
    run_free(machine, ring, hvc_ring, &rs, &out);
    return status;
}

/* Writes the device tree of the configured board without booting anything. */
static int dump_dtb_only(const Options *opt, uint64_t ram_size)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) fdt = NULL;
    VireoVirtConfig config = {
        .n_disks = opt->n_disks,
        .net = opt->net_config,
        .input = display.spec != NULL && strcmp(display.spec, "none") != 0,
        /* The slots depend only on whether there is a display. */
        .gpu = display.gpu != VIREO_BOARD_DISPLAY_NONE ? VIREO_VIRT_GPU_2D : VIREO_VIRT_GPU_NONE,
    };
    VireoVirtFdtParams params = {
        .n_harts = (unsigned)opt->cpus,
        .cpu = opt->cpu_model,
        .ram_size = ram_size,
        .cmdline = opt->append,
        .virtio_slots = vireo_virt_config_virtio_slots(&config),
        .seeds = true,
    };

    fdt = vireo_virt_build_fdt(&params, &error);
    if (fdt == NULL) {
        g_printerr("vireo-run: %s\n", error->message);
        return EXIT_FAULT;
    }
    return write_dtb(opt->dtb_out, fdt);
}

static int bad_args(const char *format, ...) G_GNUC_PRINTF(1, 2);

static int bad_args(const char *format, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    va_start(ap, format);
    msg = g_strdup_vprintf(format, ap);
    va_end(ap);
    g_printerr("vireo-run: %s\n", msg);
    g_printerr(_("Try “vireo-run --help” for more information.\n"));
    return EXIT_BAD_ARGS;
}

/* --gpu none|2d|virgl: the display device. */
static bool parse_gpu(const char *spec, VireoBoardDisplay *gpu)
{
    if (spec == NULL || strcmp(spec, "none") == 0) {
        *gpu = VIREO_BOARD_DISPLAY_NONE;
    } else if (strcmp(spec, "2d") == 0 || strcmp(spec, "virtio-gpu") == 0) {
        *gpu = VIREO_BOARD_DISPLAY_2D;
    } else if (strcmp(spec, "virgl") == 0 || strcmp(spec, "3d") == 0) {
        *gpu = VIREO_BOARD_DISPLAY_VIRGL;
    } else {
        return false;
    }
    return true;
}

/* --display none|sdl[,OPTION...] and --gpu: opens the window before the
 * machine starts, so that a display that cannot work is an error at once.
 * With a display device the window shows its output; without one, a
 * picture that says there is none. For virgl, the OpenGL contexts come from
 * EGL without a window system; when that fails the device runs in 2D and
 * says why. */
static bool display_open(int *status)
{
    g_autoptr(GError) error = NULL;
    VireoSdlWindowConfig config;
    bool window = display.spec != NULL && strcmp(display.spec, "none") != 0;
    const char *options;

    if (window) {
        if (!g_str_has_prefix(display.spec, "sdl") ||
            (display.spec[3] != '\0' && display.spec[3] != ',')) {
            *status = bad_args(_("--display: “%s” is not a display (sdl or none)"), display.spec);
            return false;
        }
        options = display.spec[3] == ',' ? display.spec + 4 : "";
        vireo_sdl_window_config_init(&config);
        config.name = "Vireo";
        /* Keys and the pointer go to the keyboard and the tablet, once the
         * machine has them. */
        config.input = vireo_virtio_input_pair_get_ops();
        config.input_opaque = &display.input;
        if (!vireo_sdl_window_config_parse(&config, options, &error)) {
            *status = bad_args(_("--display: %s"), error->message);
            return false;
        }
        display.width = config.width > 0 ? config.width : 1024;
        display.height = config.height > 0 ? config.height : 768;
    }
    if (!window && display.gpu == VIREO_BOARD_DISPLAY_NONE) {
        return true;
    }
    display.scanout = vireo_scanout_new();
    if (display.gpu == VIREO_BOARD_DISPLAY_NONE) {
        display.picture = vireo_no_display_new(display.scanout, display.width, display.height);
    } else if (display.gpu == VIREO_BOARD_DISPLAY_VIRGL) {
        g_autoptr(GError) gl_error = NULL;
        display.gl = vireo_egl_provider_new(FALSE, &gl_error);
        if (display.gl == NULL) {
            display.gl_error = g_strdup(gl_error->message);
        }
    }
    if (display.dump_path != NULL) {
        g_mutex_init(&display.dump_lock);
        display.dump_presenter = vireo_scanout_attach(display.scanout, dump_notify, NULL);
    }
    if (window) {
        display.window = vireo_sdl_window_new(display.scanout, &config, &error);
        if (display.window == NULL) {
            g_printerr(_("vireo-run: cannot show the display: %s\n"), error->message);
            *status = EXIT_FAULT;
            return false;
        }
    }
    return true;
}

static void display_close(void)
{
    g_clear_pointer(&display.window, vireo_sdl_window_free);
    g_clear_pointer(&display.picture, vireo_no_display_free);
    if (display.dump_presenter >= 0) {
        vireo_scanout_detach(display.scanout, display.dump_presenter);
        display.dump_presenter = -1;
        g_clear_pointer(&display.dump_pixels, g_free);
        g_mutex_clear(&display.dump_lock);
    }
    g_clear_pointer(&display.scanout, vireo_scanout_free);
    g_clear_pointer(&display.gl, vireo_egl_provider_free);
    g_clear_pointer(&display.gl_error, g_free);
    g_clear_pointer(&display.gpu_spec, g_free);
    g_clear_pointer(&display.dump_path, g_free);
    g_clear_pointer(&display.spec, g_free);
}

static void options_clear(Options *o)
{
    g_free(o->firmware);
    g_free(o->kernel);
    g_free(o->initrd);
    g_free(o->append);
    g_free(o->memory);
    g_free(o->engine);
    g_free(o->dtb_out);
    g_free(o->test);
    g_strfreev(o->disk_args);
    g_free(o->net);
    g_free(o->gdb);
    g_free(o->gdb_wait);
    g_free(o->qmp);
    g_free(o->loadvm);
    g_free(o->cpu);
    g_free(o->incoming);
    vireo_net_config_free(o->net_config);
    for (unsigned i = 0; i < o->n_disks; i++) {
        g_free((char *)o->disks[i].path);
    }
}

int main(int argc, char *argv[])
{
    Options opt = { .cpus = 1, .timeout = 60 };
    g_autoptr(GOptionContext) context = NULL;
    g_autoptr(GError) error = NULL;
    const GOptionEntry entries[] = {
        { "firmware", 0, 0, G_OPTION_ARG_FILENAME, &opt.firmware,
          N_("Firmware to start in M-mode (OpenSBI fw_jump or fw_dynamic), ELF or raw"),
          N_("FILE") },
        { "kernel", 0, 0, G_OPTION_ARG_FILENAME, &opt.kernel,
          N_("Kernel or boot loader for the firmware to start: raw (a Linux Image) or ELF (a Linux "
             "vmlinux too)"),
          N_("FILE") },
        { "initrd", 0, 0, G_OPTION_ARG_FILENAME, &opt.initrd, N_("Initial RAM disk for the kernel"),
          N_("FILE") },
        { "append", 0, 0, G_OPTION_ARG_STRING, &opt.append,
          N_("Kernel command line (needs --kernel)"), N_("STRING") },
        { "memory", 'm', 0, G_OPTION_ARG_STRING, &opt.memory,
          N_("RAM size, such as 256M or 2G (default 256M)"), N_("SIZE") },
        { "cpus", 0, 0, G_OPTION_ARG_INT, &opt.cpus, N_("Number of harts, 1 to 64 (default 1)"),
          N_("N") },
        { "cpu", 0, 0, G_OPTION_ARG_STRING, &opt.cpu,
          N_("What the harts implement: “max”, every extension Vireo has (default); “rva22”, the "
             "RVA22U64 and RVA22S64 profiles; “rv64gc”, RV64GC alone"),
          N_("max|rva22|rv64gc") },
        { "disk", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &opt.disk_args,
          N_("Disk image (raw or qcow2) for a virtio disk, with options “,ro” (read-only), "
             "“,rw” (the default) and “,format=raw” or “,format=qcow2” (else detected); “,,” is "
             "a comma in the name (up to 6 times)"),
          N_("FILE[,OPTION…]") },
        { "net", 0, 0, G_OPTION_ARG_STRING, &opt.net,
          N_("Network card: “user” for user-mode NAT through the host, with "
             "“,hostfwd=tcp:127.0.0.1:2222-:22” forwarding a host port into the guest (several "
             "allowed); “tap=NAME” for a TAP interface; “none” (default)"),
          N_("user[,hostfwd=…]|tap=NAME|none") },
        { "dtb-out", 0, 0, G_OPTION_ARG_FILENAME, &opt.dtb_out,
          N_("Write the generated device tree to FILE"), N_("FILE") },
        { "engine", 0, 0, G_OPTION_ARG_STRING, &opt.engine,
          N_("How the harts run guest code: “jit”, x86-64 code where the JIT compiles a block, "
             "the interpreter elsewhere (default where the JIT is built); “interp”, the threaded "
             "interpreter"),
          N_("interp|jit") },
        { "jit-threshold", 0, 0, G_OPTION_ARG_INT, &opt.jit_threshold,
          N_("The JIT compiles a block at its Nth run (1: at once; default 8), the interpreter "
             "runs it until then"),
          N_("N") },
        { "perf-map", 0, 0, G_OPTION_ARG_NONE, &opt.perf_map,
          N_("Name each block the JIT compiles in /tmp/perf-PID.map, for Linux perf"), NULL },
        { "stats", 0, 0, G_OPTION_ARG_NONE, &opt.stats,
          N_("Print the engine's counters when the machine stops"), NULL },
        { "test", 0, 0, G_OPTION_ARG_FILENAME, &opt.test,
          N_("Run a bare-metal test program that reports through tohost"), N_("FILE") },
        { "timeout", 0, 0, G_OPTION_ARG_INT, &opt.timeout,
          N_("Seconds a test program may run (default 60, 0 for no limit)"), N_("SECONDS") },
        { "display", 0, 0, G_OPTION_ARG_STRING, &display.spec,
          N_("Show the guest's display in a window: “sdl”, optionally with “,scale=fit”, "
             "“,scale=integer” or “,scale=native”, “,fullscreen”, “,size=WxH” and "
             "“,release=Ctrl+Alt+G” (the keys that release the keyboard); “none” (default). "
             "Without a screen it fails, unless SDL_VIDEODRIVER=offscreen asks for none"),
          N_("sdl[,OPTION…]|none") },
        { "gpu", 0, 0, G_OPTION_ARG_STRING, &display.gpu_spec,
          N_("Display device: “2d” for a virtio-gpu display (also “virtio-gpu”), “virgl” for "
             "one with 3D acceleration where OpenGL allows it (else 2D), “none” (default); "
             "--display sdl shows it"),
          N_("2d|virgl|none") },
        { "scanout-dump", 0, 0, G_OPTION_ARG_FILENAME, &display.dump_path,
          N_("When the machine stops, write the display's last frame to FILE: PNG when the "
             "name ends in .png, PPM otherwise (needs --gpu)"),
          N_("FILE") },
        { "gdb", 0, 0, G_OPTION_ARG_STRING, &opt.gdb,
          N_("Wait for a GDB debugger on “tcp:[HOST]:PORT” (127.0.0.1 unless HOST is given) or "
             "“unix:PATH”; the machine starts stopped before its first instruction"),
          N_("tcp:[HOST]:PORT|unix:PATH") },
        { "gdb-wait", 0, 0, G_OPTION_ARG_STRING, &opt.gdb_wait,
          N_("With --gdb: “no” runs the machine at once instead of waiting for the debugger "
             "(default “yes”)"),
          N_("yes|no") },
        { "qmp", 0, 0, G_OPTION_ARG_STRING, &opt.qmp,
          N_("Serve QEMU's machine protocol (QMP) on “unix:PATH” or “tcp:[HOST]:PORT” "
             "(127.0.0.1 unless HOST is given), several clients at once; QEMU's options "
             "“,server”, “,wait=off” and “,nowait” are understood, and “,server” without "
             "“,wait=off” waits for a client before the machine starts"),
          N_("unix:PATH|tcp:[HOST]:PORT[,OPTION…]") },
        { "loadvm", 0, 0, G_OPTION_ARG_STRING, &opt.loadvm,
          N_("Start from the snapshot NAME (its name or id) kept in the qcow2 disks "
             "(docs/SNAPSHOTS.md)"),
          N_("NAME") },
        { "incoming", 0, 0, G_OPTION_ARG_STRING, &opt.incoming,
          N_("Wait for a machine migrating from another vireo-run on “tcp:[HOST]:PORT” or "
             "“unix:PATH”, and run it (the same options as the source's; docs/MIGRATION.md)"),
          N_("tcp:[HOST]:PORT|unix:PATH") },
        { "version", 'V', 0, G_OPTION_ARG_NONE, &opt.version, N_("Print the version and exit"),
          NULL },
        { NULL },
    };
    const char *localedir = g_getenv("VIREO_LOCALEDIR");
    uint64_t ram_size = 256ull << 20;
    int status;

    setlocale(LC_ALL, "");
    bindtextdomain(GETTEXT_PACKAGE, localedir != NULL ? localedir : LOCALEDIR);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    textdomain(GETTEXT_PACKAGE);

    context = g_option_context_new(NULL);
    g_option_context_set_summary(context, _("Run a virtual machine without a window."));
    g_option_context_set_description(
        context, _("The machine is a RISC-V “virt” board. Its serial console is on standard input "
                   "and output; on a terminal, type C-a x to quit and C-a h for help.\n\n"
                   "The exit status is the guest's power-off status (0 after C-a x or QMP's "
                   "quit); 2 for bad arguments, "
                   "among them image and disk files that are missing, unreadable, not regular "
                   "files, malformed or too large for RAM; 1 when the machine cannot run on "
                   "this host (more RAM than it can give, a disk in use, a network or a "
                   "display that cannot start) or the guest faults; 124 when a test program "
                   "times out."));
    g_option_context_add_main_entries(context, entries, GETTEXT_PACKAGE);
    g_option_context_set_translation_domain(context, GETTEXT_PACKAGE);
    if (!g_option_context_parse(context, &argc, &argv, &error)) {
        status = bad_args("%s", error->message);
        goto out;
    }
    if (opt.version) {
        g_print("vireo-run %s\n", PACKAGE_VERSION);
        status = 0;
        goto out;
    }
    if (argc > 1) {
        g_printerr(_("vireo-run: unexpected argument “%s”\n"), argv[1]);
        status = EXIT_BAD_ARGS;
        goto out;
    }
    if (opt.memory != NULL) {
        if (!parse_size(opt.memory, &ram_size)) {
            status = bad_args(_("--memory: “%s” is not a size (try 256M or 2G)"), opt.memory);
            goto out;
        }
        if (ram_size < VIREO_VIRT_MIN_RAM || ram_size > VIREO_VIRT_MAX_RAM) {
            status = bad_args(_("--memory: %s is out of range (2M to 1T)"), opt.memory);
            goto out;
        }
        if (ram_size % 4096 != 0) {
            status = bad_args(_("--memory: %s is not a whole number of 4 KiB pages"), opt.memory);
            goto out;
        }
    }
    if (opt.cpus < 1 || opt.cpus > VIREO_VIRT_MAX_HARTS) {
        status =
            bad_args(_("--cpus: %d is out of range (1 to %d)"), opt.cpus, VIREO_VIRT_MAX_HARTS);
        goto out;
    }
    if (opt.engine != NULL) {
        g_autoptr(GError) engine_error = NULL;
        VireoEngineKind kind;
        if (!vireo_engine_from_name(opt.engine, &kind)) {
            status = bad_args(_("--engine: “%s” is not an engine (interp or jit)"), opt.engine);
            goto out;
        }
        if (!vireo_engine_available(kind, &engine_error)) {
            status = bad_args(_("--engine: %s"), engine_error->message);
            goto out;
        }
        vireo_engine_set_default(kind);
    }
    if (opt.jit_threshold < 0 || opt.jit_threshold > 1000000) {
        status =
            bad_args(_("--jit-threshold: %d is out of range (1 to 1000000)"), opt.jit_threshold);
        goto out;
    }
    if (opt.jit_threshold > 0) {
        vireo_engine_set_jit_threshold((unsigned)opt.jit_threshold);
    }
    if (opt.perf_map) {
        g_autoptr(GError) map_error = NULL;
        if (!vireo_engine_open_perf_map(&map_error)) {
            g_printerr("vireo-run: %s\n", map_error->message);
            status = EXIT_FAULT;
            goto out;
        }
    }
    opt.cpu_model = VIREO_RV_CPU_DEFAULT;
    if (opt.cpu != NULL && !vireo_rv_cpu_model_from_name(opt.cpu, &opt.cpu_model)) {
        status = bad_args(_("--cpu: “%s” is not a CPU model (max, rva22 or rv64gc)"), opt.cpu);
        goto out;
    }
    opt.gdb_wait_flag = true;
    if (opt.gdb_wait != NULL) {
        if (strcmp(opt.gdb_wait, "no") == 0) {
            opt.gdb_wait_flag = false;
        } else if (strcmp(opt.gdb_wait, "yes") != 0) {
            status = bad_args(_("--gdb-wait: “%s” is not yes or no"), opt.gdb_wait);
            goto out;
        }
        if (opt.gdb == NULL) {
            status = bad_args(_("--gdb-wait needs --gdb"));
            goto out;
        }
    }
    if (opt.gdb != NULL && !g_str_has_prefix(opt.gdb, "tcp:") &&
        !g_str_has_prefix(opt.gdb, "unix:")) {
        status = bad_args(_("--gdb: “%s” is not tcp:[HOST]:PORT or unix:PATH"), opt.gdb);
        goto out;
    }
    if (opt.qmp != NULL) {
        g_autoptr(GError) qmp_error = NULL;
        if (!vireo_qmp_server_parse(opt.qmp, NULL, NULL, &qmp_error)) {
            status = bad_args(_("--qmp: %s"), qmp_error->message);
            goto out;
        }
    }
    if (opt.incoming != NULL) {
        g_autoptr(GError) uri_error = NULL;
        if (!vireo_migrate_parse_uri(opt.incoming, false, &uri_error)) {
            status = bad_args(_("--incoming: %s"), uri_error->message);
            goto out;
        }
        if (opt.loadvm != NULL) {
            status = bad_args(_("--incoming and --loadvm both say where the machine comes from"));
            goto out;
        }
    }
    if (opt.timeout < 0) {
        status = bad_args(_("--timeout: %d is not a number of seconds"), opt.timeout);
        goto out;
    }
    if (opt.test != NULL && (opt.firmware != NULL || opt.kernel != NULL || opt.initrd != NULL)) {
        status =
            bad_args(_("--test runs a program alone, without --firmware, --kernel or --initrd"));
        goto out;
    }
    if (opt.initrd != NULL && opt.kernel == NULL) {
        status = bad_args(_("--initrd needs --kernel"));
        goto out;
    }
    /* As in QEMU, a command line is for a kernel; only a device tree written
     * without booting anything may carry one alone. */
    if (opt.append != NULL && opt.kernel == NULL &&
        (opt.dtb_out == NULL || opt.firmware != NULL || opt.test != NULL)) {
        status = bad_args(_("--append needs --kernel"));
        goto out;
    }
    if (opt.append != NULL && strlen(opt.append) > VIREO_VIRT_MAX_CMDLINE) {
        status = bad_args(_("--append: the command line is %zu bytes long; at most %d"),
                          strlen(opt.append), VIREO_VIRT_MAX_CMDLINE);
        goto out;
    }
    if (opt.disk_args != NULL && g_strv_length(opt.disk_args) > VIREO_VIRT_MAX_DISKS) {
        status = bad_args(_("--disk: at most %d disks"), VIREO_VIRT_MAX_DISKS);
        goto out;
    }
    for (unsigned i = 0; opt.disk_args != NULL && opt.disk_args[i] != NULL; i++) {
        VireoBoardDisk *disk = &opt.disks[opt.n_disks++];
        g_autofree char *disk_error = parse_disk(opt.disk_args[i], disk);
        if (disk_error != NULL) {
            status = bad_args("%s", disk_error);
            goto out;
        }
        if (!check_disk(disk)) {
            status = EXIT_BAD_ARGS;
            goto out;
        }
    }
    if (opt.net != NULL) {
        g_autoptr(GError) net_error = NULL;
        opt.net_config = vireo_net_config_parse(opt.net, &net_error);
        if (opt.net_config == NULL) {
            status = bad_args(_("--net: %s"), net_error->message);
            goto out;
        }
        if (opt.net_config->kind == VIREO_NET_NONE) {
            g_clear_pointer(&opt.net_config, vireo_net_config_free);
        }
    }
    if (!parse_gpu(display.gpu_spec, &display.gpu)) {
        status = bad_args(_("--gpu: “%s” is not a display device (2d, virgl or none)"),
                          display.gpu_spec);
        goto out;
    }
    if (display.dump_path != NULL && display.gpu == VIREO_BOARD_DISPLAY_NONE) {
        status = bad_args(_("--scanout-dump needs a display device (--gpu)"));
        goto out;
    }
    if (opt.net_config != NULL && opt.n_disks > VIREO_VIRT_MAX_DISKS_WITH_NET) {
        status = bad_args(_("--disk: at most %d disks with --net"), VIREO_VIRT_MAX_DISKS_WITH_NET);
        goto out;
    }
    if (!check_file("--firmware", opt.firmware) || !check_file("--kernel", opt.kernel) ||
        !check_file("--initrd", opt.initrd) || !check_file("--test", opt.test)) {
        status = EXIT_BAD_ARGS;
        goto out;
    }
    if (opt.firmware == NULL && opt.kernel == NULL && opt.test == NULL) {
        if (opt.dtb_out != NULL) {
            status = dump_dtb_only(&opt, ram_size);
            goto out;
        }
        status = bad_args(_("nothing to run: give --firmware, --kernel or --test"));
        goto out;
    }
    /* RAM the host cannot give stops here, before any image is read. */
    if (!vireo_bus_check_ram_size(ram_size, &error)) {
        g_printerr(_("vireo-run: --memory: %s\n"), error->message);
        status = EXIT_FAULT;
        goto out;
    }
    if (!display_open(&status)) {
        goto out;
    }
    status = run(&opt, ram_size);

out:
    options_clear(&opt);
    display_close();
    return status;
}
