/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The human monitor's commands that QMP's human-monitor-command runs: a line
 * in, the text the monitor prints out. Lines are parsed as QEMU's human
 * monitor parses them (a command name, then its arguments: a word, or a
 * "quoted string" with \\ \" \' \n \r escapes), and what goes wrong is
 * printed, not returned as a QMP error, as in QEMU.
 */
#include "config.h"

#include "vireo-qmp-private.h"

#include <string.h>
#include <time.h>

typedef struct {
    VireoQmp *qmp;
    GString *out;
    bool quit;
} Hmp;

typedef struct HmpCommand HmpCommand;

struct HmpCommand {
    const char *names;  /* "stop|s": the name and its short forms */
    const char *args;   /* "": none; "s": a string; "s?": an optional string */
    const char *params; /* for help */
    const char *help;
    /* `arg` is the string argument, or NULL. NULL for info. */
    void (*run)(Hmp *h, const char *arg);
};

static void print_error(Hmp *h, const GError *error)
{
    g_string_append_printf(h->out, "Error: %s\n", error->message);
}

static void hmp_stop(Hmp *h, const char *arg)
{
    g_autoptr(GError) error = NULL;

    if (!_vireo_qmp_stop(h->qmp, &error)) {
        print_error(h, error);
    }
}

static void hmp_cont(Hmp *h, const char *arg)
{
    g_autoptr(GError) error = NULL;

    if (!_vireo_qmp_cont(h->qmp, &error)) {
        print_error(h, error);
    }
}

static void hmp_system_reset(Hmp *h, const char *arg)
{
    g_autoptr(GError) error = NULL;

    if (!_vireo_qmp_system_reset(h->qmp, &error)) {
        print_error(h, error);
    }
}

static void hmp_system_powerdown(Hmp *h, const char *arg)
{
    g_autoptr(GError) error = NULL;

    if (!_vireo_qmp_system_powerdown(h->qmp, &error)) {
        print_error(h, error);
    }
}

static void hmp_quit(Hmp *h, const char *arg)
{
    h->quit = true;
    _vireo_qmp_quit(h->qmp);
}

static void hmp_savevm(Hmp *h, const char *arg)
{
    g_autoptr(GError) error = NULL;

    if (!_vireo_qmp_savevm(h->qmp, arg, &error)) {
        print_error(h, error);
    }
}

static void hmp_loadvm(Hmp *h, const char *arg)
{
    g_autoptr(GError) error = NULL;

    if (!_vireo_qmp_loadvm(h->qmp, arg, &error)) {
        print_error(h, error);
    }
}

static void hmp_delvm(Hmp *h, const char *arg)
{
    g_autoptr(GError) error = NULL;

    if (!_vireo_qmp_delvm(h->qmp, arg, &error)) {
        print_error(h, error);
    }
}

static void info_status(Hmp *h, const char *arg)
{
    VireoQmpStatus status = h->qmp->ops->get_status(h->qmp->host);

    g_string_append_printf(h->out, "VM status: %s",
                           status == VIREO_QMP_STATUS_RUNNING ? "running" : "paused");
    if (status != VIREO_QMP_STATUS_RUNNING && status != VIREO_QMP_STATUS_PAUSED) {
        g_string_append_printf(h->out, " (%s)", vireo_qmp_status_name(status));
    }
    g_string_append_c(h->out, '\n');
}

static void info_name(Hmp *h, const char *arg)
{
    if (h->qmp->name != NULL) {
        g_string_append_printf(h->out, "%s\n", h->qmp->name);
    }
}

/* A size as QEMU prints it: three significant digits in the largest binary
 * unit in which the number is below 1000 ("459 KiB", "0.977 KiB", "1.5 GiB"). */
static char *format_size(guint64 bytes)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    unsigned u = 0;

    /* The unit goes up once the value reaches 1000 of the one below. */
    while (u + 1 < G_N_ELEMENTS(units) && (double)bytes >= 1000.0 * (double)(1ull << (10 * u))) {
        u++;
    }
    g_ascii_formatd(buf, sizeof buf, "%.3g", (double)bytes / (double)(1ull << (10 * u)));
    return g_strdup_printf("%s %s", buf, units[u]);
}

static void info_snapshots(Hmp *h, const char *arg)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) list = _vireo_qmp_list_snapshots(h->qmp, &error);

    if (list == NULL) {
        g_string_append_printf(h->out, "%s\n", error->message);
        return;
    }
    if (list->len == 0) {
        g_string_append(h->out, "There is no snapshot available.\n");
        return;
    }
    /* QEMU's table, whose ID column says "--" for snapshots that every disk
     * holds (each disk numbers its own). */
    g_string_append(h->out, "List of snapshots present on all disks:\n");
    g_string_append_printf(h->out, "%-10s%-17s%8s%20s%13s%11s\n", "ID", "TAG", "VM SIZE", "DATE",
                           "VM CLOCK", "ICOUNT");
    for (guint i = 0; i < list->len; i++) {
        const VireoQmpSnapshot *s = g_ptr_array_index(list, i);
        g_autofree char *size = format_size(s->vm_state_size);
        guint64 secs = s->vm_clock_ns / 1000000000u;
        char date[32] = "";
        char clock[48];
        time_t t = (time_t)s->date;
        struct tm tm;

        if (localtime_r(&t, &tm) != NULL) {
            strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm);
        }
        g_snprintf(clock, sizeof clock, "%02u:%02u:%02u.%03u", (unsigned)(secs / 3600),
                   (unsigned)((secs / 60) % 60), (unsigned)(secs % 60),
                   (unsigned)((s->vm_clock_ns / 1000000) % 1000));
        g_string_append_printf(h->out, "%-9s %-16s %8s%20s%13s%11s\n", "--",
                               s->name != NULL ? s->name : "", size, date, clock, "");
    }
}

static void hmp_help(Hmp *h, const char *arg);

static const HmpCommand info_commands[] = {
    { "name", "", "", "the machine's name", info_name },
    { "snapshots", "", "", "the machine's snapshots", info_snapshots },
    { "status", "", "", "whether the machine runs or is paused", info_status },
};

static const HmpCommand commands[] = {
    { "cont|c", "", "", "let the paused machine run again", hmp_cont },
    { "delvm", "s", "tag", "delete the snapshot named tag", hmp_delvm },
    { "help|?", "s?", "[cmd]", "list the commands, or describe cmd", hmp_help },
    /* run_line() runs info's subcommands. */
    { "info", "s?", "[subcommand]", "show something about the machine", NULL },
    { "loadvm", "s", "tag", "return the machine to the snapshot named tag", hmp_loadvm },
    { "quit|q", "", "", "end the machine and Vireo", hmp_quit },
    { "savevm", "s?", "[tag]",
      "save the machine's state as the snapshot tag (one named after the date and time without "
      "tag)",
      hmp_savevm },
    { "stop|s", "", "", "pause the machine", hmp_stop },
    { "system_powerdown", "", "", "ask the guest to power down", hmp_system_powerdown },
    { "system_reset", "", "", "reset the machine", hmp_system_reset },
};

static bool name_matches(const char *names, const char *word)
{
    g_auto(GStrv) alts = g_strsplit(names, "|", -1);

    for (unsigned i = 0; alts[i] != NULL; i++) {
        if (strcmp(alts[i], word) == 0) {
            return true;
        }
    }
    return false;
}

static const HmpCommand *find(const HmpCommand *table, size_t n, const char *word)
{
    for (size_t i = 0; i < n; i++) {
        if (name_matches(table[i].names, word)) {
            return &table[i];
        }
    }
    return NULL;
}

static void print_help_line(Hmp *h, const char *prefix, const HmpCommand *c)
{
    g_autofree char *name = g_strdup(c->names);

    *strchrnul(name, '|') = '\0';
    g_string_append_printf(h->out, "%s%s%s%s -- %s\n", prefix, name, c->params[0] ? " " : "",
                           c->params, c->help);
}

static void hmp_help(Hmp *h, const char *arg)
{
    const HmpCommand *c;

    if (arg == NULL) {
        for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
            print_help_line(h, "", &commands[i]);
        }
        return;
    }
    if (g_str_has_prefix(arg, "info ") || strcmp(arg, "info") == 0) {
        const char *sub = arg + 4;
        while (*sub == ' ') {
            sub++;
        }
        for (size_t i = 0; i < G_N_ELEMENTS(info_commands); i++) {
            if (*sub == '\0' || name_matches(info_commands[i].names, sub)) {
                print_help_line(h, "info ", &info_commands[i]);
            }
        }
        return;
    }
    c = find(commands, G_N_ELEMENTS(commands), arg);
    if (c == NULL) {
        g_string_append_printf(h->out, "unknown command: '%s'\n", arg);
        return;
    }
    print_help_line(h, "", c);
}

/* ---- parsing ---- */

typedef struct {
    const char *p, *end;
} Line;

static void skip_blanks(Line *l)
{
    while (l->p < l->end && g_ascii_isspace(*l->p)) {
        l->p++;
    }
}

/* The next word (up to white space); NULL at the end of the line. */
static char *next_word(Line *l)
{
    const char *start;

    skip_blanks(l);
    if (l->p >= l->end) {
        return NULL;
    }
    start = l->p;
    while (l->p < l->end && !g_ascii_isspace(*l->p)) {
        l->p++;
    }
    return g_strndup(start, (gsize)(l->p - start));
}

/* A string argument: a word, or a quoted string. Sets `*arg` (NULL at the
 * end of the line); false when a quoted string does not end. */
static bool next_string(Line *l, char **arg)
{
    g_autoptr(GString) s = NULL;

    skip_blanks(l);
    *arg = NULL;
    if (l->p >= l->end) {
        return true;
    }
    if (*l->p != '"') {
        *arg = next_word(l);
        return true;
    }
    s = g_string_new(NULL);
    for (l->p++; l->p < l->end && *l->p != '"'; l->p++) {
        char c = *l->p;
        if (c == '\\' && l->p + 1 < l->end) {
            c = *++l->p;
            c = c == 'n' ? '\n' : c == 'r' ? '\r' : c;
        }
        g_string_append_c(s, c);
    }
    if (l->p >= l->end) {
        return false;
    }
    l->p++;
    *arg = g_string_free(g_steal_pointer(&s), FALSE);
    return true;
}

static void usage_error(Hmp *h, const char *names, const char *help_name, const char *what)
{
    g_string_append_printf(h->out, "%s: %s\nTry \"help %s\" for more information\n", names, what,
                           help_name);
}

/* Parses the arguments of `c` from `l` and runs it. */
static void run_command(Hmp *h, const HmpCommand *c, const char *help_name, Line *l)
{
    g_autofree char *arg = NULL;

    if (c->args[0] == 's') {
        if (!next_string(l, &arg)) {
            usage_error(h, c->names, help_name, "unterminated string literal");
            return;
        }
        if (arg == NULL && c->args[1] != '?') {
            usage_error(h, c->names, help_name, "string expected");
            return;
        }
    }
    skip_blanks(l);
    if (l->p < l->end && c->run != hmp_help) {
        usage_error(h, c->names, help_name, "extraneous characters at the end of line");
        return;
    }
    if (c->run == hmp_help && arg != NULL) {
        /* help takes the rest of the line: "help info status". */
        g_autofree char *rest = g_strndup(l->p, (gsize)(l->end - l->p));
        g_autofree char *all = g_strstrip(g_strconcat(arg, " ", rest, NULL));
        hmp_help(h, all);
        return;
    }
    c->run(h, arg);
}

static void run_line(Hmp *h, Line *l)
{
    g_autofree char *word = next_word(l);
    const HmpCommand *c;

    if (word == NULL) {
        return;
    }
    c = find(commands, G_N_ELEMENTS(commands), word);
    if (c == NULL) {
        g_string_append_printf(h->out, "unknown command: '%s'\n", word);
        return;
    }
    if (c->run == NULL) {
        g_autofree char *sub = next_word(l);
        g_autofree char *help_name = NULL;
        const HmpCommand *i;

        if (sub == NULL) {
            hmp_help(h, "info");
            return;
        }
        i = find(info_commands, G_N_ELEMENTS(info_commands), sub);
        if (i == NULL) {
            g_string_append_printf(h->out, "unknown command: 'info %s'\n", sub);
            return;
        }
        help_name = g_strdup_printf("info %s", i->names);
        run_command(h, i, help_name, l);
        return;
    }
    {
        g_autofree char *help_name = g_strdup(c->names);
        *strchrnul(help_name, '|') = '\0';
        run_command(h, c, help_name, l);
    }
}

char *_vireo_qmp_hmp_run(VireoQmp *qmp, const char *line, size_t len, bool *quit)
{
    Hmp h = { qmp, g_string_new(NULL), false };
    Line l = { line, line + len };
    GString *crlf = g_string_new(NULL);

    /* A NUL ends the line, as it ends a C string in QEMU's monitor. */
    l.end = line + strnlen(line, len);
    run_line(&h, &l);
    /* The human monitor ends its lines with CRLF. */
    for (gsize i = 0; i < h.out->len; i++) {
        if (h.out->str[i] == '\n') {
            g_string_append_c(crlf, '\r');
        }
        g_string_append_c(crlf, h.out->str[i]);
    }
    g_string_free(h.out, TRUE);
    *quit = h.quit;
    return g_string_free(crlf, FALSE);
}
