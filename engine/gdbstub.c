/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The GDB remote serial protocol server. One thread accepts a debugger at a
 * time and serves its packets. While the guest runs, the thread waits for
 * the debugger's interrupt (0x03), a debugger stop of the machine (a vCPU hit
 * a breakpoint or watchpoint or finished a step: the machine's debug
 * function writes to `wake`), or the end of the machine. Breakpoints,
 * watchpoints and stepping change only while the machine is paused.
 *
 * The protocol itself (framing, acknowledgements, packets) works on the
 * bytes in `in` and answers through send_all(): to the socket, or, for a
 * session without one (vireo_gdb_stub_new_session), into the caller's
 * buffer.
 */
#include "engine/gdbstub.h"
#include "engine/cpu.h"
#include "engine/error.h"
#include "engine/listen.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PACKET_MAX 0x4000 /* what qSupported announces */
#define MEM_MAX    ((PACKET_MAX - 8) / 2)

typedef enum {
    STOP_EVENT,     /* a vCPU's debugger event */
    STOP_INTERRUPT, /* the debugger's Ctrl-C */
} StopKind;

struct VireoGdbStub {
    VireoMachine *machine;
    const VireoGdbArch *arch;
    unsigned n_cpus;
    VireoDebugPoints points;
    VireoCpuDebug *debug; /* one per vCPU */
    bool points_dirty;    /* decoded code predates the points */

    int listen_fd;
    char *address;
    char *unix_path;
    int wake[2];
    atomic_bool quit;
    atomic_bool exited;
    atomic_int exit_code;
    GThread *thread;

    /* the connection */
    int fd;
    GString *capture; /* a session's answers go here instead of to `fd` */
    bool ended;       /* a session ended (D, k) */
    GString *pkt;     /* the packet being served */
    guint8 in[PACKET_MAX + 64];
    size_t in_len, in_pos;
    enum { SKIP_NONE, SKIP_BODY, SKIP_TAIL } skip; /* an oversized packet */
    unsigned skip_tail;
    GString *last_reply; /* resent on '-' */
    bool running;
    unsigned g_cpu, c_cpu; /* Hg and Hc, as vCPU indexes */
    int c_all;             /* Hc -1 */
};

static VireoCpu *cpu_at(VireoGdbStub *s, unsigned i)
{
    /* A software vCPU embeds VireoCpu first (engine/cpu.h). */
    return (VireoCpu *)vireo_machine_vcpu(s->machine, i);
}

static void wake_thread(VireoGdbStub *s)
{
    guint8 b = 1;
    G_GNUC_UNUSED ssize_t n = write(s->wake[1], &b, 1);
}

static void on_debug_stop(VireoMachine *machine, void *user_data)
{
    wake_thread(user_data);
}

/* ---- output ---- */

static bool send_all(VireoGdbStub *s, const char *data, size_t len)
{
    if (s->capture != NULL) {
        g_string_append_len(s->capture, data, (gssize)len);
        return true;
    }
    while (len > 0) {
        ssize_t n = send(s->fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        data += n;
        len -= (size_t)n;
    }
    return true;
}

static void send_packet(VireoGdbStub *s, const char *payload, size_t len)
{
    guint8 sum = 0;
    char tail[4];

    g_string_truncate(s->last_reply, 0);
    g_string_append_c(s->last_reply, '$');
    for (size_t i = 0; i < len; i++) {
        sum = (guint8)(sum + (guint8)payload[i]);
    }
    g_string_append_len(s->last_reply, payload, (gssize)len);
    g_snprintf(tail, sizeof tail, "#%02x", sum);
    g_string_append(s->last_reply, tail);
    send_all(s, s->last_reply->str, s->last_reply->len);
}

static void reply(VireoGdbStub *s, const char *payload)
{
    send_packet(s, payload, strlen(payload));
}

static void reply_gstring(VireoGdbStub *s, GString *r)
{
    send_packet(s, r->str, r->len);
}

static void hex_append(GString *r, const guint8 *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        g_string_append_printf(r, "%02x", data[i]);
    }
}

/* ---- parsing ---- */

static int hexval(char c)
{
    return g_ascii_xdigit_value(c);
}

static bool parse_hex(const char **p, uint64_t *v)
{
    const char *q = *p;
    uint64_t x = 0;
    unsigned n = 0;

    while (hexval(*q) >= 0 && n < 16) {
        x = (x << 4) | (uint64_t)hexval(*q);
        q++;
        n++;
    }
    if (n == 0 || hexval(*q) >= 0) {
        return false;
    }
    *p = q;
    *v = x;
    return true;
}

static size_t unhex(const char *p, guint8 *out, size_t max)
{
    size_t n = 0;

    while (n < max && hexval(p[0]) >= 0 && hexval(p[1]) >= 0) {
        out[n++] = (guint8)(hexval(p[0]) << 4 | hexval(p[1]));
        p += 2;
    }
    return n;
}

/* A thread id: -1 for all, 0 for any, else a vCPU number + 1. Returns the
 * vCPU index, or -1 for all or any, or -2 when invalid. */
static int parse_thread(VireoGdbStub *s, const char *p)
{
    uint64_t v;

    if (strcmp(p, "-1") == 0 || strcmp(p, "0") == 0) {
        return -1;
    }
    if (!parse_hex(&p, &v) || *p != '\0' || v == 0 || v > s->n_cpus) {
        return -2;
    }
    return (int)(v - 1);
}

/* ---- memory ---- */

/* Reads into `rbuf` or writes from `wbuf` (the other is NULL) through the
 * selected hart's translation, page by page; returns the bytes done before
 * the first page that is unmapped or not memory. */
static size_t mem_access(VireoGdbStub *s, uint64_t va, guint8 *rbuf, const guint8 *wbuf, size_t len)
{
    VireoBus *bus = vireo_machine_bus(s->machine);
    void *vcpu = vireo_machine_vcpu(s->machine, s->g_cpu);
    size_t done = 0;

    while (done < len) {
        uint64_t pa, a = va + done;
        size_t chunk = MIN(len - done, VIREO_PAGE_SIZE - (a & (VIREO_PAGE_SIZE - 1)));
        if (!s->arch->translate(vcpu, a, &pa) ||
            !(rbuf != NULL ? vireo_bus_read_block(bus, pa, rbuf + done, chunk, NULL)
                           : vireo_bus_write_block(bus, pa, wbuf + done, chunk, NULL))) {
            break;
        }
        done += chunk;
    }
    return done;
}

static size_t mem_read(VireoGdbStub *s, uint64_t va, guint8 *buf, size_t len)
{
    return mem_access(s, va, buf, NULL, len);
}

static bool mem_write(VireoGdbStub *s, uint64_t va, const guint8 *buf, size_t len)
{
    return mem_access(s, va, NULL, buf, len) == len;
}

/* ---- run control ---- */

static void apply_points(VireoGdbStub *s)
{
    if (s->points_dirty) {
        for (unsigned i = 0; i < s->n_cpus; i++) {
            vireo_cpu_debug_changed(cpu_at(s, i));
        }
        s->points_dirty = false;
    }
}

/* Resume every vCPU; `step` (a vCPU index, or -1) runs one instruction and
 * stops the machine. */
static void resume(VireoGdbStub *s, int step)
{
    for (unsigned i = 0; i < s->n_cpus; i++) {
        s->debug[i].event = VIREO_DEBUG_NONE;
    }
    apply_points(s);
    if (step >= 0) {
        s->debug[step].step = true;
        vireo_cpu_debug_changed(cpu_at(s, (unsigned)step));
    }
    s->running = true;
    vireo_machine_resume(s->machine);
}

/* The machine is paused: turn stepping off and tell the debugger why it
 * stopped. Returns false when no vCPU stopped for the debugger (a stop
 * that came with an interrupt already reported). */
static bool report_stop(VireoGdbStub *s, StopKind kind)
{
    int hit = -1;
    char buf[96];

    for (unsigned i = 0; i < s->n_cpus; i++) {
        if (s->debug[i].step) {
            s->debug[i].step = false;
            vireo_cpu_debug_changed(cpu_at(s, i));
        }
        if (hit < 0 && s->debug[i].event != VIREO_DEBUG_NONE) {
            hit = (int)i;
        }
    }
    if (kind == STOP_EVENT && hit < 0) {
        return false;
    }
    if (hit >= 0) {
        VireoCpuDebug *d = &s->debug[hit];
        s->g_cpu = s->c_cpu = (unsigned)hit;
        if (d->event == VIREO_DEBUG_WATCH) {
            const char *how = d->event_how == VIREO_WATCH_WRITE  ? "watch"
                              : d->event_how == VIREO_WATCH_READ ? "rwatch"
                                                                 : "awatch";
            g_snprintf(buf, sizeof buf, "T05%s:%" G_GINT64_MODIFIER "x;thread:%02x;", how,
                       d->event_addr, hit + 1);
        } else {
            g_snprintf(buf, sizeof buf, "T05thread:%02x;", hit + 1);
        }
    } else {
        g_snprintf(buf, sizeof buf, "T02thread:%02x;", s->c_cpu + 1);
    }
    for (unsigned i = 0; i < s->n_cpus; i++) {
        s->debug[i].event = VIREO_DEBUG_NONE;
    }
    s->running = false;
    reply(s, buf);
    return true;
}

static void clear_points(VireoGdbStub *s)
{
    s->points.n_breakpoints = 0;
    s->points.n_watchpoints = 0;
    s->points_dirty = true;
}

/* ---- packets ---- */

static bool add_point(VireoGdbStub *s, unsigned type, uint64_t addr, uint64_t len)
{
    VireoDebugPoints *p = &s->points;

    if (type <= 1) {
        for (unsigned i = 0; i < p->n_breakpoints; i++) {
            if (p->breakpoints[i] == addr) {
                return true;
            }
        }
        if (p->n_breakpoints == VIREO_DEBUG_MAX_BREAKPOINTS) {
            return false;
        }
        p->breakpoints[p->n_breakpoints++] = addr;
    } else {
        static const VireoWatchKind kinds[] = { VIREO_WATCH_WRITE, VIREO_WATCH_READ,
                                                VIREO_WATCH_ACCESS };
        if (p->n_watchpoints == VIREO_DEBUG_MAX_WATCHPOINTS || len == 0 || len > 4096 ||
            addr + len < addr) {
            return false;
        }
        p->watchpoints[p->n_watchpoints++] = (VireoWatchpoint){ addr, len, kinds[type - 2] };
    }
    s->points_dirty = true;
    return true;
}

static bool remove_point(VireoGdbStub *s, unsigned type, uint64_t addr, uint64_t len)
{
    VireoDebugPoints *p = &s->points;

    if (type <= 1) {
        for (unsigned i = 0; i < p->n_breakpoints; i++) {
            if (p->breakpoints[i] == addr) {
                p->breakpoints[i] = p->breakpoints[--p->n_breakpoints];
                s->points_dirty = true;
                return true;
            }
        }
        return false;
    }
    for (unsigned i = 0; i < p->n_watchpoints; i++) {
        VireoWatchpoint *w = &p->watchpoints[i];
        if (w->addr == addr && w->len == len) {
            *w = p->watchpoints[--p->n_watchpoints];
            s->points_dirty = true;
            return true;
        }
    }
    return false;
}

/* Z and z: type,addr,kind. */
static void handle_point(VireoGdbStub *s, const char *p, bool insert)
{
    uint64_t type = 0, addr, len;

    p++;
    if (!parse_hex(&p, &type) || type > 4) {
        reply(s, ""); /* a kind of point this stub does not have */
        return;
    }
    if (*p++ != ',' || !parse_hex(&p, &addr) || *p++ != ',' || !parse_hex(&p, &len) || *p != '\0') {
        reply(s, "E22");
        return;
    }
    if (insert ? add_point(s, (unsigned)type, addr, len)
               : remove_point(s, (unsigned)type, addr, len)) {
        reply(s, "OK");
    } else {
        reply(s, "E22");
    }
}

static void handle_xfer(VireoGdbStub *s, const char *p)
{
    /* qXfer:features:read:ANNEX:OFFSET,LENGTH */
    const char *annex_start = p + strlen("qXfer:features:read:");
    const char *colon = strchr(annex_start, ':');
    g_autofree char *annex = NULL;
    g_autofree char *doc = NULL;
    uint64_t off, len;
    GString *r;

    if (colon == NULL) {
        reply(s, "E00");
        return;
    }
    annex = g_strndup(annex_start, (gsize)(colon - annex_start));
    p = colon + 1;
    if (!parse_hex(&p, &off) || *p++ != ',' || !parse_hex(&p, &len) || *p != '\0') {
        reply(s, "E00");
        return;
    }
    doc = s->arch->target_xml(vireo_machine_vcpu(s->machine, 0), annex);
    if (doc == NULL) {
        reply(s, "E00");
        return;
    }
    size_t doc_len = strlen(doc);
    if (off >= doc_len) {
        reply(s, "l");
        return;
    }
    len = MIN(len, (uint64_t)(PACKET_MAX / 2));
    r = g_string_new(off + len >= doc_len ? "l" : "m");
    for (size_t i = off; i < doc_len && i < off + len; i++) {
        char c = doc[i];
        if (c == '$' || c == '#' || c == '}' || c == '*') {
            g_string_append_c(r, '}');
            c ^= 0x20;
        }
        g_string_append_c(r, c);
    }
    reply_gstring(s, r);
    g_string_free(r, TRUE);
}

static void monitor_output(VireoGdbStub *s, const char *text)
{
    GString *r = g_string_new("O");
    size_t len = strlen(text);

    /* In pieces that fit a packet. */
    for (size_t i = 0; i < len; i += MEM_MAX / 2) {
        g_string_truncate(r, 1);
        hex_append(r, (const guint8 *)text + i, MIN(MEM_MAX / 2, len - i));
        reply_gstring(s, r);
    }
    g_string_free(r, TRUE);
}

static void handle_monitor(VireoGdbStub *s, const char *hex)
{
    guint8 cmd[256];
    size_t n = unhex(hex, cmd, sizeof cmd - 1);
    g_autofree char *line = NULL;

    cmd[n] = '\0';
    line = g_strstrip(g_strdup((const char *)cmd));
    if (strcmp(line, "info registers") == 0) {
        g_autofree char *text = s->arch->info_registers(vireo_machine_vcpu(s->machine, s->g_cpu));
        monitor_output(s, text);
        reply(s, "OK");
    } else if (strcmp(line, "reset") == 0) {
        if (vireo_machine_reset_paused(s->machine)) {
            monitor_output(s, "The machine was reset.\n");
            reply(s, "OK");
        } else {
            reply(s, "E01");
        }
    } else if (strcmp(line, "help") == 0) {
        monitor_output(s, "info registers -- every register of the current hart\n"
                          "reset -- reset the machine (it stays stopped)\n");
        reply(s, "OK");
    } else {
        g_autofree char *msg = g_strdup_printf("unknown monitor command: %s\n", line);
        monitor_output(s, msg);
        reply(s, "OK");
    }
}

/* vCont;ACTION[:THREAD]...: a step action names the vCPU to step; every
 * other vCPU runs too (the machine resumes as a whole). */
static void handle_vcont(VireoGdbStub *s, const char *p)
{
    g_auto(GStrv) actions = g_strsplit(p + strlen("vCont;"), ";", -1);
    int step = -2; /* -2: no step */

    for (unsigned i = 0; actions[i] != NULL; i++) {
        char *a = actions[i];
        char *colon = strchr(a, ':');
        int cpu = -1;
        if (colon != NULL) {
            cpu = parse_thread(s, colon + 1);
            if (cpu == -2) {
                reply(s, "E22");
                return;
            }
        }
        if (a[0] == 's' || a[0] == 'S') {
            if (step == -2) {
                step = cpu >= 0 ? cpu : (int)s->c_cpu;
            }
        } else if (a[0] != 'c' && a[0] != 'C') {
            reply(s, "E22");
            return;
        }
    }
    resume(s, step >= 0 ? step : -1);
}

static void handle_query(VireoGdbStub *s, const char *p)
{
    if (g_str_has_prefix(p, "qSupported")) {
        char buf[96];
        g_snprintf(buf, sizeof buf, "PacketSize=%x;qXfer:features:read+;vContSupported+",
                   PACKET_MAX);
        reply(s, buf);
    } else if (g_str_has_prefix(p, "qXfer:features:read:")) {
        handle_xfer(s, p);
    } else if (strcmp(p, "qfThreadInfo") == 0) {
        GString *r = g_string_new("m");
        for (unsigned i = 0; i < s->n_cpus; i++) {
            g_string_append_printf(r, i == 0 ? "%x" : ",%x", i + 1);
        }
        reply_gstring(s, r);
        g_string_free(r, TRUE);
    } else if (strcmp(p, "qsThreadInfo") == 0) {
        reply(s, "l");
    } else if (strcmp(p, "qC") == 0) {
        char buf[32];
        g_snprintf(buf, sizeof buf, "QC%x", s->g_cpu + 1);
        reply(s, buf);
    } else if (g_str_has_prefix(p, "qAttached")) {
        reply(s, "1");
    } else if (g_str_has_prefix(p, "qThreadExtraInfo,")) {
        const char *q = p + strlen("qThreadExtraInfo,");
        uint64_t t;
        if (parse_hex(&q, &t) && t >= 1 && t <= s->n_cpus) {
            g_autofree char *text = g_strdup_printf("hart %u", (unsigned)(t - 1));
            GString *r = g_string_new(NULL);
            hex_append(r, (const guint8 *)text, strlen(text));
            reply_gstring(s, r);
            g_string_free(r, TRUE);
        } else {
            reply(s, "E22");
        }
    } else if (g_str_has_prefix(p, "qRcmd,")) {
        handle_monitor(s, p + strlen("qRcmd,"));
    } else {
        reply(s, "");
    }
}

static void handle_regs(VireoGdbStub *s, const char *p)
{
    void *vcpu = vireo_machine_vcpu(s->machine, s->g_cpu);
    guint8 buf[16];

    if (p[0] == 'g') {
        GString *r = g_string_new(NULL);
        for (unsigned i = 0; i < s->arch->g_regs; i++) {
            unsigned n = s->arch->read_reg(vcpu, i, buf);
            hex_append(r, buf, n);
        }
        reply_gstring(s, r);
        g_string_free(r, TRUE);
    } else if (p[0] == 'G') {
        const char *q = p + 1;
        for (unsigned i = 0; i < s->arch->g_regs; i++) {
            unsigned n = s->arch->read_reg(vcpu, i, buf);
            if (strlen(q) < 2 * n || unhex(q, buf, n) != n) {
                reply(s, "E22");
                return;
            }
            s->arch->write_reg(vcpu, i, buf, n);
            q += 2 * n;
        }
        reply(s, "OK");
    } else if (p[0] == 'p') {
        const char *q = p + 1;
        uint64_t reg;
        unsigned n;
        if (!parse_hex(&q, &reg) || *q != '\0' || reg > G_MAXUINT ||
            (n = s->arch->read_reg(vcpu, (unsigned)reg, buf)) == 0) {
            reply(s, "E14");
            return;
        }
        GString *r = g_string_new(NULL);
        hex_append(r, buf, n);
        reply_gstring(s, r);
        g_string_free(r, TRUE);
    } else {
        const char *q = p + 1;
        uint64_t reg;
        size_t n;
        if (!parse_hex(&q, &reg) || *q++ != '=' || reg > G_MAXUINT) {
            reply(s, "E22");
            return;
        }
        n = unhex(q, buf, sizeof buf);
        if (n == 0 || q[2 * n] != '\0' ||
            !s->arch->write_reg(vcpu, (unsigned)reg, buf, (unsigned)n)) {
            reply(s, "E14");
            return;
        }
        reply(s, "OK");
    }
}

static void handle_memory(VireoGdbStub *s, const char *p, size_t len)
{
    const char *q = p + 1;
    uint64_t addr, n;
    g_autofree guint8 *buf = NULL;

    if (!parse_hex(&q, &addr) || *q++ != ',' || !parse_hex(&q, &n)) {
        reply(s, "E22");
        return;
    }
    if (p[0] == 'm') {
        size_t got;
        if (*q != '\0') {
            reply(s, "E22");
            return;
        }
        n = MIN(n, (uint64_t)MEM_MAX);
        buf = g_malloc(n + 1);
        got = mem_read(s, addr, buf, n);
        if (got == 0 && n > 0) {
            reply(s, "E14");
            return;
        }
        GString *r = g_string_sized_new(2 * got + 1);
        hex_append(r, buf, got);
        reply_gstring(s, r);
        g_string_free(r, TRUE);
        return;
    }
    if (*q++ != ':' || n > PACKET_MAX) {
        reply(s, "E22");
        return;
    }
    buf = g_malloc(n + 1);
    if (p[0] == 'M') {
        if (unhex(q, buf, n) != n || q[2 * n] != '\0') {
            reply(s, "E22");
            return;
        }
    } else {
        /* X: binary, with 0x7d escaping the next byte (xor 0x20). */
        const char *end = p + len;
        uint64_t i = 0;
        while (q < end && i < n) {
            guint8 c = (guint8)*q++;
            if (c == 0x7d && q < end) {
                c = (guint8)(*q++ ^ 0x20);
            }
            buf[i++] = c;
        }
        if (i != n || q != end) {
            reply(s, "E22");
            return;
        }
    }
    reply(s, mem_write(s, addr, buf, n) ? "OK" : "E14");
}

/* Returns false when the connection must end (detach, kill). */
static bool handle_packet(VireoGdbStub *s, const char *p, size_t len)
{
    switch (p[0]) {
    case '?': {
        char buf[32];
        g_snprintf(buf, sizeof buf, "T05thread:%02x;", s->g_cpu + 1);
        reply(s, buf);
        return true;
    }
    case 'q': handle_query(s, p); return true;
    case 'g':
    case 'G':
    case 'p':
    case 'P': handle_regs(s, p); return true;
    case 'm':
    case 'M':
    case 'X': handle_memory(s, p, len); return true;
    case 'Z':
    case 'z': handle_point(s, p, p[0] == 'Z'); return true;
    case 'H': {
        /* The thread id starts after the operation, which a packet "H"
         * does not have. */
        int cpu = p[1] == 'g' || p[1] == 'c' ? parse_thread(s, p + 2) : -2;
        if (cpu == -2) {
            reply(s, "E22");
        } else {
            if (cpu >= 0) {
                *(p[1] == 'g' ? &s->g_cpu : &s->c_cpu) = (unsigned)cpu;
            }
            reply(s, "OK");
        }
        return true;
    }
    case 'T': reply(s, parse_thread(s, p + 1) >= 0 ? "OK" : "E22"); return true;
    case 'c':
    case 's': {
        const char *q = p + 1;
        uint64_t addr;
        if (*q != '\0') {
            if (!parse_hex(&q, &addr) || *q != '\0') {
                reply(s, "E22");
                return true;
            }
            cpu_at(s, s->c_cpu)->pc = addr;
        }
        resume(s, p[0] == 's' ? (int)s->c_cpu : -1);
        return true;
    }
    case 'v':
        if (strcmp(p, "vCont?") == 0) {
            reply(s, "vCont;c;C;s;S");
        } else if (g_str_has_prefix(p, "vCont;")) {
            handle_vcont(s, p);
        } else {
            reply(s, "");
        }
        return true;
    case 'D': reply(s, "OK"); return false;
    case 'k': vireo_machine_stop(s->machine); return false;
    default: reply(s, ""); return true;
    }
}

/* ---- the connection ---- */

/* Room for more input after what is still unread. */
static size_t in_room(VireoGdbStub *s)
{
    if (s->in_pos > 0) {
        memmove(s->in, s->in + s->in_pos, s->in_len - s->in_pos);
        s->in_len -= s->in_pos;
        s->in_pos = 0;
    }
    if (s->in_len == sizeof s->in) {
        /* Cannot happen: scan() consumes or skips whatever a packet that
         * long holds. */
        s->in_len = 0;
    }
    return sizeof s->in - s->in_len;
}

/* Reads more input; false at the end of the connection. */
static bool fill(VireoGdbStub *s)
{
    size_t room = in_room(s);
    ssize_t n;

    do {
        n = recv(s->fd, s->in + s->in_len, room, 0);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
        return false;
    }
    s->in_len += (size_t)n;
    return true;
}

typedef enum {
    SCAN_MORE,    /* need more input */
    SCAN_PACKET,  /* a packet with a good checksum in `pkt` */
    SCAN_BAD,     /* a packet with a bad checksum */
    SCAN_TOO_BIG, /* a packet longer than PACKET_MAX */
    SCAN_BREAK,   /* 0x03 */
} ScanResult;

/* Looks for the next thing in the input. A packet longer than PACKET_MAX
 * is skipped as it arrives, up to the end of its checksum. */
static ScanResult scan(VireoGdbStub *s, GString *pkt)
{
    while (s->in_pos < s->in_len) {
        guint8 c = s->in[s->in_pos];
        guint8 *hash;

        if (s->skip == SKIP_BODY) {
            hash = memchr(s->in + s->in_pos, '#', s->in_len - s->in_pos);
            if (hash == NULL) {
                s->in_pos = s->in_len;
                return SCAN_MORE;
            }
            s->in_pos = (size_t)(hash - s->in) + 1;
            s->skip = SKIP_TAIL;
            s->skip_tail = 2;
            continue;
        }
        if (s->skip == SKIP_TAIL) {
            s->in_pos++;
            if (--s->skip_tail == 0) {
                s->skip = SKIP_NONE;
                return SCAN_TOO_BIG;
            }
            continue;
        }
        if (c == 0x03) {
            s->in_pos++;
            return SCAN_BREAK;
        }
        if (c == '-') {
            s->in_pos++;
            if (s->last_reply->len > 0) {
                send_all(s, s->last_reply->str, s->last_reply->len);
            }
            continue;
        }
        if (c != '$') {
            s->in_pos++; /* '+' and noise */
            continue;
        }
        hash = memchr(s->in + s->in_pos, '#', s->in_len - s->in_pos);
        if (hash == NULL) {
            if (s->in_len - s->in_pos > PACKET_MAX + 1) {
                s->skip = SKIP_BODY;
                s->in_pos = s->in_len;
            }
            return SCAN_MORE;
        }
        size_t start = s->in_pos + 1, end = (size_t)(hash - s->in);
        if (end - start > PACKET_MAX) {
            s->in_pos = end + 1;
            s->skip = SKIP_TAIL;
            s->skip_tail = 2;
            continue;
        }
        if (end + 3 > s->in_len) {
            return SCAN_MORE;
        }
        guint8 sum = 0;
        for (size_t i = start; i < end; i++) {
            sum = (guint8)(sum + s->in[i]);
        }
        int hi = hexval((char)s->in[end + 1]), lo = hexval((char)s->in[end + 2]);
        s->in_pos = end + 3;
        if (hi < 0 || lo < 0 || (guint8)(hi << 4 | lo) != sum) {
            return SCAN_BAD;
        }
        g_string_truncate(pkt, 0);
        g_string_append_len(pkt, (const char *)s->in + start, (gssize)(end - start));
        return SCAN_PACKET;
    }
    return SCAN_MORE;
}

static void drain_wake(VireoGdbStub *s)
{
    guint8 buf[64];

    while (read(s->wake[0], buf, sizeof buf) == (ssize_t)sizeof buf) {}
}

/* Serves what the input holds: acknowledgements, interrupts and whole
 * packets. False when the debugger ended the session (detach, kill). */
static bool process(VireoGdbStub *s)
{
    GString *pkt = s->pkt;

    for (;;) {
        ScanResult r = scan(s, pkt);
        if (r == SCAN_MORE) {
            return true;
        }
        if (r == SCAN_BREAK) {
            if (s->running) {
                vireo_machine_pause(s->machine);
                report_stop(s, STOP_INTERRUPT);
            }
            continue;
        }
        if (r == SCAN_BAD) {
            send_all(s, "-", 1);
            continue;
        }
        send_all(s, "+", 1);
        if (r == SCAN_TOO_BIG) {
            reply(s, "E01");
            continue;
        }
        if (pkt->len == 0) {
            reply(s, "");
            continue;
        }
        if (s->running && pkt->str[0] != 'D' && pkt->str[0] != 'k') {
            /* All-stop mode: while the machine runs, a debugger interrupts
             * it or leaves. Registers, memory, breakpoints and stepping
             * change only while every vCPU is stopped. */
            reply(s, "E16");
            continue;
        }
        if (!handle_packet(s, pkt->str, pkt->len)) {
            return false;
        }
    }
}

/* A debugger attaches: the machine stops. */
static void session_begin(VireoGdbStub *s)
{
    s->in_len = s->in_pos = 0;
    s->skip = SKIP_NONE;
    s->running = false;
    s->ended = false;
    s->g_cpu = s->c_cpu = 0;
    g_string_truncate(s->last_reply, 0);
    vireo_machine_pause(s->machine);
}

static void serve(VireoGdbStub *s)
{
    session_begin(s);
    for (;;) {
        struct pollfd fds[2] = {
            { .fd = s->fd, .events = POLLIN },
            { .fd = s->wake[0], .events = POLLIN },
        };
        if (poll(fds, 2, -1) < 0 && errno != EINTR) {
            break;
        }
        if (fds[1].revents != 0) {
            drain_wake(s);
            if (atomic_load(&s->quit)) {
                return;
            }
            if (atomic_load(&s->exited)) {
                char buf[16];
                g_snprintf(buf, sizeof buf, "W%02x", atomic_load(&s->exit_code) & 0xff);
                reply(s, buf);
                return;
            }
            if (s->running && vireo_machine_state(s->machine) == VIREO_MACHINE_PAUSED &&
                !report_stop(s, STOP_EVENT)) {
                /* Paused with no event: a stop that lost a race with resume. */
                vireo_machine_resume(s->machine);
            }
        }
        if (fds[0].revents == 0) {
            continue;
        }
        if (!fill(s)) {
            break; /* the debugger went away: as a detach */
        }
        if (!process(s)) {
            return;
        }
    }
}

/* After a debugger left: the guest runs on without breakpoints. */
static void detach(VireoGdbStub *s)
{
    /* The points change while every vCPU is stopped, also when the
     * debugger left a running machine. */
    vireo_machine_pause(s->machine);
    clear_points(s);
    if (vireo_machine_state(s->machine) == VIREO_MACHINE_PAUSED) {
        for (unsigned i = 0; i < s->n_cpus; i++) {
            s->debug[i].step = false;
        }
        resume(s, -1);
    }
    s->running = false;
}

static gpointer stub_thread(gpointer data)
{
    VireoGdbStub *s = data;

    while (!atomic_load(&s->quit)) {
        struct pollfd fds[2] = {
            { .fd = s->listen_fd, .events = POLLIN },
            { .fd = s->wake[0], .events = POLLIN },
        };
        if (poll(fds, 2, -1) < 0 && errno != EINTR) {
            break;
        }
        if (fds[1].revents != 0) {
            drain_wake(s);
            continue;
        }
        if (fds[0].revents == 0 || atomic_load(&s->exited)) {
            continue;
        }
        s->fd = accept(s->listen_fd, NULL, NULL);
        if (s->fd < 0) {
            continue;
        }
        serve(s);
        close(s->fd);
        s->fd = -1;
        if (!atomic_load(&s->quit) && !atomic_load(&s->exited)) {
            detach(s);
        }
    }
    return NULL;
}

/* ---- setup ---- */

/* What every stub has: its state and the debugger hooks of every vCPU. */
static VireoGdbStub *stub_new(VireoMachine *machine, const VireoGdbArch *arch)
{
    VireoGdbStub *s = g_new0(VireoGdbStub, 1);

    s->machine = machine;
    s->arch = arch;
    s->n_cpus = vireo_machine_n_vcpus(machine);
    s->debug = g_new0(VireoCpuDebug, s->n_cpus);
    s->listen_fd = -1;
    s->fd = -1;
    s->wake[0] = s->wake[1] = -1;
    s->last_reply = g_string_new(NULL);
    s->pkt = g_string_new(NULL);
    atomic_init(&s->quit, false);
    atomic_init(&s->exited, false);
    atomic_init(&s->exit_code, 0);
    for (unsigned i = 0; i < s->n_cpus; i++) {
        s->debug[i].points = &s->points;
        vireo_cpu_set_debug(cpu_at(s, i), &s->debug[i]);
    }
    return s;
}

VireoGdbStub *vireo_gdb_stub_new(VireoMachine *machine, const VireoGdbArch *arch, const char *spec,
                                 GError **error)
{
    VireoGdbStub *s;
    char *address = NULL, *unix_path = NULL;
    int fd = vireo_listen(spec, 1, &address, &unix_path, error);

    if (fd < 0) {
        return NULL;
    }
    s = stub_new(machine, arch);
    s->listen_fd = fd;
    s->address = address;
    s->unix_path = unix_path;
    if (pipe(s->wake) != 0) {
        g_error("cannot create a pipe: %s", g_strerror(errno));
    }
    for (unsigned i = 0; i < 2; i++) {
        fcntl(s->wake[i], F_SETFL, fcntl(s->wake[i], F_GETFL) | O_NONBLOCK);
        fcntl(s->wake[i], F_SETFD, FD_CLOEXEC);
    }
    vireo_machine_set_debug_func(machine, on_debug_stop, s);
    s->thread = g_thread_new("gdb-stub", stub_thread, s);
    return s;
}

VireoGdbStub *vireo_gdb_stub_new_session(VireoMachine *machine, const VireoGdbArch *arch)
{
    VireoGdbStub *s = stub_new(machine, arch);

    session_begin(s);
    return s;
}

bool vireo_gdb_stub_session_input(VireoGdbStub *stub, const void *data, size_t len, GString *reply)
{
    const guint8 *p = data;

    g_return_val_if_fail(stub->thread == NULL, false);
    stub->capture = reply;
    while (len > 0 && !stub->ended) {
        size_t n = MIN(len, in_room(stub));

        memcpy(stub->in + stub->in_len, p, n);
        stub->in_len += n;
        p += n;
        len -= n;
        stub->ended = !process(stub);
    }
    stub->capture = NULL;
    return !stub->ended;
}

const char *vireo_gdb_stub_address(VireoGdbStub *stub)
{
    return stub->address;
}

void vireo_gdb_stub_machine_stopped(VireoGdbStub *stub, int code)
{
    atomic_store(&stub->exit_code, code);
    atomic_store(&stub->exited, true);
    wake_thread(stub);
}

void vireo_gdb_stub_free(VireoGdbStub *stub)
{
    if (stub == NULL) {
        return;
    }
    if (stub->thread != NULL) {
        atomic_store(&stub->quit, true);
        wake_thread(stub);
        g_thread_join(stub->thread);
        vireo_machine_set_debug_func(stub->machine, NULL, NULL);
    } else {
        /* A session ends as a connection does. */
        detach(stub);
    }
    /* No vCPU runs: the machine has stopped, or the session's never ran. */
    for (unsigned i = 0; i < stub->n_cpus; i++) {
        vireo_cpu_set_debug(cpu_at(stub, i), NULL);
    }
    if (stub->listen_fd >= 0) {
        close(stub->listen_fd);
    }
    if (stub->unix_path != NULL) {
        unlink(stub->unix_path);
    }
    for (unsigned i = 0; i < 2; i++) {
        if (stub->wake[i] >= 0) {
            close(stub->wake[i]);
        }
    }
    g_string_free(stub->pkt, TRUE);
    g_string_free(stub->last_reply, TRUE);
    g_free(stub->debug);
    g_free(stub->address);
    g_free(stub->unix_path);
    g_free(stub);
}
