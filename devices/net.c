/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "devices/net.h"
#include "engine/error.h"

#include <arpa/inet.h>
#include <glib/gi18n-lib.h>
#include <net/if.h>
#include <string.h>

/* ---- Configuration ------------------------------------------------------ */

void vireo_net_config_free(VireoNetConfig *config)
{
    if (config == NULL) {
        return;
    }
    g_free(config->tap);
    g_free(config);
}

bool vireo_net_parse_mac(const char *text, guint8 mac[VIREO_NET_MAC_LEN], GError **error)
{
    guint8 m[VIREO_NET_MAC_LEN];
    const char *p = text;

    for (unsigned i = 0; i < VIREO_NET_MAC_LEN; i++) {
        int hi, lo;

        if (i > 0 && *p++ != ':') {
            goto bad;
        }
        hi = g_ascii_xdigit_value(p[0]);
        lo = hi < 0 ? -1 : g_ascii_xdigit_value(p[1]);
        if (lo < 0) {
            goto bad;
        }
        m[i] = (guint8)(hi << 4 | lo);
        p += 2;
    }
    if (*p != '\0') {
        goto bad;
    }
    if (m[0] & 1) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    _("The MAC address “%s” is a multicast address"), text);
        return false;
    }
    if ((m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) == 0) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    _("The MAC address cannot be all zeros"));
        return false;
    }
    memcpy(mac, m, sizeof m);
    return true;

bad:
    g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                _("“%s” is not a MAC address (six hexadecimal bytes such as 02:00:00:00:00:01)"),
                text);
    return false;
}

/* A port number, 1 to 65535. */
static bool parse_port(const char *text, uint16_t *port)
{
    guint64 value;

    if (!g_ascii_string_to_unsigned(text, 10, 1, 65535, &value, NULL)) {
        return false;
    }
    *port = (uint16_t)value;
    return true;
}

/* A dotted IPv4 address, or "" for 0. */
static bool parse_addr(const char *text, uint32_t *addr)
{
    struct in_addr a;

    if (*text == '\0') {
        *addr = 0;
        return true;
    }
    if (inet_pton(AF_INET, text, &a) != 1) {
        return false;
    }
    *addr = a.s_addr;
    return true;
}

/* "ADDR:PORT" with an optional address. */
static bool parse_endpoint(const char *text, uint32_t *addr, uint16_t *port)
{
    const char *colon = strrchr(text, ':');
    g_autofree char *host = NULL;

    if (colon == NULL) {
        return false;
    }
    host = g_strndup(text, (gsize)(colon - text));
    return parse_addr(host, addr) && parse_port(colon + 1, port);
}

/* Whether `addr` (network order) is a guest address of the user network:
 * inside 10.0.2.0/24, not its network, broadcast, host or DNS address. */
static bool is_guest_addr(uint32_t addr)
{
    uint32_t a = ntohl(addr);
    uint32_t net = 0x0a000200u; /* 10.0.2.0 */
    uint32_t host = a & 0xffu;

    return (a & 0xffffff00u) == net && host != 0 && host != 255 && host != 2 && host != 3;
}

bool vireo_net_parse_hostfwd(const char *text, VireoNetHostFwd *fwd, GError **error)
{
    VireoNetHostFwd f = { 0 };
    const char *rest = text;
    const char *dash;
    g_autofree char *host = NULL;

    if (g_str_has_prefix(rest, "tcp:")) {
        rest += 4;
    } else if (g_str_has_prefix(rest, "udp:")) {
        f.udp = true;
        rest += 4;
    } else if (rest[0] == ':') {
        rest += 1;
    } else {
        goto bad;
    }
    dash = strchr(rest, '-');
    if (dash == NULL) {
        goto bad;
    }
    host = g_strndup(rest, (gsize)(dash - rest));
    if (!parse_endpoint(host, &f.host_addr, &f.host_port) ||
        !parse_endpoint(dash + 1, &f.guest_addr, &f.guest_port)) {
        goto bad;
    }
    if (f.guest_addr != 0 && !is_guest_addr(f.guest_addr)) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    _("hostfwd “%s”: the guest address must be in the guest's network "
                      "10.0.2.0/24, other than 10.0.2.2 and 10.0.2.3"),
                    text);
        return false;
    }
    *fwd = f;
    return true;

bad:
    g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                _("“%s” is not a port forward (try hostfwd=tcp:127.0.0.1:2222-:22; the form is "
                  "[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT)"),
                text);
    return false;
}

/* The characters Linux accepts in an interface name. */
static bool valid_ifname(const char *name)
{
    gsize len = strlen(name);

    if (len == 0 || len >= IFNAMSIZ || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
        return false;
    }
    for (const char *p = name; *p != '\0'; p++) {
        if (*p == '/' || *p == ':' || g_ascii_isspace(*p) || !g_ascii_isprint(*p)) {
            return false;
        }
    }
    return true;
}

VireoNetConfig *vireo_net_config_parse(const char *spec, GError **error)
{
    g_autoptr(VireoNetConfig) config = g_new0(VireoNetConfig, 1);
    g_auto(GStrv) parts = NULL;
    bool ok = vireo_net_parse_mac(VIREO_NET_DEFAULT_MAC, config->mac, NULL);

    g_assert(ok);
    parts = g_strsplit(spec, ",", -1);
    if (parts[0] == NULL) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    _("No network given (try user, tap=NAME or none)"));
        return NULL;
    }
    if (strcmp(parts[0], "none") == 0) {
        config->kind = VIREO_NET_NONE;
    } else if (strcmp(parts[0], "user") == 0) {
        config->kind = VIREO_NET_USER;
    } else if (g_str_has_prefix(parts[0], "tap=")) {
        config->kind = VIREO_NET_TAP;
        config->tap = g_strdup(parts[0] + 4);
        if (!valid_ifname(config->tap)) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                        _("“%s” is not a network interface name (1 to %d characters, no "
                          "“/”, “:” or spaces)"),
                        config->tap, IFNAMSIZ - 1);
            return NULL;
        }
    } else {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    _("Unknown network “%s” (try user, tap=NAME or none)"), parts[0]);
        return NULL;
    }

    for (unsigned i = 1; parts[i] != NULL; i++) {
        const char *opt = parts[i];

        if (config->kind == VIREO_NET_NONE) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                        _("The network “none” takes no options"));
            return NULL;
        }
        if (g_str_has_prefix(opt, "mac=")) {
            if (!vireo_net_parse_mac(opt + 4, config->mac, error)) {
                return NULL;
            }
        } else if (g_str_has_prefix(opt, "hostfwd=") && config->kind == VIREO_NET_USER) {
            if (config->n_hostfwd == VIREO_NET_MAX_FWD) {
                g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG, _("At most %d port forwards"),
                            VIREO_NET_MAX_FWD);
                return NULL;
            }
            if (!vireo_net_parse_hostfwd(opt + 8, &config->hostfwd[config->n_hostfwd], error)) {
                return NULL;
            }
            config->n_hostfwd++;
        } else {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                        config->kind == VIREO_NET_USER
                            ? _("Unknown option “%s” of the user network (it takes hostfwd= and "
                                "mac=)")
                            : _("Unknown option “%s” of a TAP network (it takes mac=)"),
                        opt);
            return NULL;
        }
    }
    return g_steal_pointer(&config);
}

/* ---- Back ends ---------------------------------------------------------- */

VireoNetBackend *vireo_net_backend_new(const VireoNetConfig *config, GError **error)
{
    switch (config->kind) {
    case VIREO_NET_USER: return vireo_net_slirp_new(config, error);
    case VIREO_NET_TAP: return vireo_net_tap_new(config->tap, error);
    case VIREO_NET_NONE: break;
    }
    g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG, _("No network is configured"));
    return NULL;
}

void vireo_net_backend_attach(VireoNetBackend *backend, const VireoNetPeerOps *peer, void *opaque)
{
    g_assert(backend->peer == NULL && peer != NULL);
    backend->peer = peer;
    backend->peer_opaque = opaque;
    if (backend->ops->start != NULL) {
        backend->ops->start(backend);
    }
}

bool vireo_net_backend_send(VireoNetBackend *backend, const guint8 *frame, gsize len)
{
    return backend->ops->send(backend, frame, len);
}

void vireo_net_backend_free(VireoNetBackend *backend)
{
    if (backend != NULL) {
        backend->ops->free(backend);
    }
}

void vireo_net_backend_pause(VireoNetBackend *backend)
{
    if (backend->ops->pause != NULL) {
        backend->ops->pause(backend);
    }
}

void vireo_net_backend_resume(VireoNetBackend *backend)
{
    if (backend->ops->resume != NULL) {
        backend->ops->resume(backend);
    }
}

void vireo_net_backend_deliver(VireoNetBackend *backend, const guint8 *frame, gsize len)
{
    if (backend->peer != NULL && len >= VIREO_NET_MIN_FRAME && len <= VIREO_NET_MAX_FRAME) {
        backend->peer->receive(backend->peer_opaque, frame, len);
    }
}

void vireo_net_backend_writable(VireoNetBackend *backend)
{
    if (backend->peer != NULL && backend->peer->writable != NULL) {
        backend->peer->writable(backend->peer_opaque);
    }
}
