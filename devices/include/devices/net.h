/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

G_BEGIN_DECLS

/*
 * Host network back ends, the bottom layer of Vireo's network stack:
 *
 *   - a device model (virtio-net.h) moves Ethernet frames between the
 *     guest's virtqueues and a back end;
 *   - its transport (virtio-mmio.h) decodes the guest's register accesses;
 *   - a back end (this header) connects frames to the host: user-mode
 *     networking through libslirp (net-slirp.c) or a TAP interface
 *     (net-tap.c).
 *
 * A back end runs its own thread. Frames from the network reach the device
 * through the peer's `receive` callback on that thread; frames from the
 * device go out through vireo_net_backend_send(), which never blocks: it
 * refuses a frame when the back end has no room, and the back end calls the
 * peer's `writable` callback (on its thread) once it has room again.
 *
 * Frames are whole Ethernet frames without the FCS, from VIREO_NET_MIN_FRAME
 * to VIREO_NET_MAX_FRAME bytes. Everything that comes from the network is
 * untrusted input, as is everything from the guest.
 */

#define VIREO_NET_MAC_LEN   6
#define VIREO_NET_MIN_FRAME 14    /* an Ethernet header */
#define VIREO_NET_MAX_FRAME 65550 /* the longest frame passed on in either direction */
#define VIREO_NET_MAX_FWD   16    /* host port forwards of one user network */

/* The default MAC address: locally administered, unicast, the same on every
 * run so that the guest keeps its configuration. */
#define VIREO_NET_DEFAULT_MAC "02:56:49:52:45:4f"

/* libslirp's network as the guest sees it (the addresses QEMU uses, which
 * guests and their documentation expect). */
#define VIREO_NET_USER_NETWORK "10.0.2.0"
#define VIREO_NET_USER_NETMASK "255.255.255.0"
#define VIREO_NET_USER_HOST    "10.0.2.2"  /* the host, and the gateway */
#define VIREO_NET_USER_DNS     "10.0.2.3"  /* forwarded to the host's resolver */
#define VIREO_NET_USER_GUEST   "10.0.2.15" /* the first (and usual) DHCP address */

typedef enum {
    VIREO_NET_NONE,
    VIREO_NET_USER, /* libslirp */
    VIREO_NET_TAP,
} VireoNetKind;

/* A host port forwarded into the guest (user networking). Addresses are
 * IPv4 in network byte order. */
typedef struct {
    bool udp;
    uint32_t host_addr; /* 0: every host address */
    uint16_t host_port;
    uint32_t guest_addr; /* 0: the guest's DHCP address, 10.0.2.15 */
    uint16_t guest_port;
} VireoNetHostFwd;

/* A network configuration, as given to vireo-run's --net. */
typedef struct {
    VireoNetKind kind;
    guint8 mac[VIREO_NET_MAC_LEN]; /* the guest's MAC address */
    VireoNetHostFwd hostfwd[VIREO_NET_MAX_FWD];
    unsigned n_hostfwd;
    char *tap; /* the TAP interface's name */
} VireoNetConfig;

/* Parses "none", "user[,hostfwd=FWD]...[,mac=MAC]" or "tap=NAME[,mac=MAC]",
 * where FWD is [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT. A
 * VIREO_ERROR_CONFIG error explains what is wrong. */
VireoNetConfig *vireo_net_config_parse(const char *spec, GError **error);
void vireo_net_config_free(VireoNetConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VireoNetConfig, vireo_net_config_free)

/* One forward, FWD above. */
bool vireo_net_parse_hostfwd(const char *text, VireoNetHostFwd *fwd, GError **error);
/* "xx:xx:xx:xx:xx:xx", a unicast address other than all zeros. */
bool vireo_net_parse_mac(const char *text, guint8 mac[VIREO_NET_MAC_LEN], GError **error);

/*
 * The back-end interface.
 */
typedef struct VireoNetBackend VireoNetBackend;

/* What a back end delivers to; both callbacks run on the back end's
 * thread. */
typedef struct {
    /* A frame from the network; `frame` is valid during the call only. */
    void (*receive)(void *opaque, const guint8 *frame, gsize len);
    /* vireo_net_backend_send() refused a frame and there is room again. */
    void (*writable)(void *opaque);
} VireoNetPeerOps;

/* What a back end implements. */
typedef struct {
    const char *name;
    /* Starts the back end's thread; the peer is set. */
    void (*start)(VireoNetBackend *backend);
    /* Takes a frame for the network, copying it; never blocks. False when
     * there is no room now: the back end calls the peer's `writable` later.
     * Callable from any thread, one at a time. */
    bool (*send)(VireoNetBackend *backend, const guint8 *frame, gsize len);
    /* Stops the thread (no callback runs after it returns) and frees. */
    void (*free)(VireoNetBackend *backend);
    /* Optional: stop taking frames from the network (they wait where the
     * host keeps them) and calling the peer; no callback runs after it
     * returns, until `resume`. Frames sent meanwhile are kept. */
    void (*pause)(VireoNetBackend *backend);
    void (*resume)(VireoNetBackend *backend);
} VireoNetBackendOps;

/* The common part, first member of every back end. */
struct VireoNetBackend {
    const VireoNetBackendOps *ops;
    const VireoNetPeerOps *peer;
    void *peer_opaque;
};

/* The back end `config` names (not VIREO_NET_NONE). */
VireoNetBackend *vireo_net_backend_new(const VireoNetConfig *config, GError **error);
/* Sets the peer and starts the back end; once only. */
void vireo_net_backend_attach(VireoNetBackend *backend, const VireoNetPeerOps *peer, void *opaque);
bool vireo_net_backend_send(VireoNetBackend *backend, const guint8 *frame, gsize len);
void vireo_net_backend_free(VireoNetBackend *backend);
/* The back end's `pause` and `resume`, where it has them. */
void vireo_net_backend_pause(VireoNetBackend *backend);
void vireo_net_backend_resume(VireoNetBackend *backend);

/* For back ends: call the peer, if attached, from the back end's thread. */
void vireo_net_backend_deliver(VireoNetBackend *backend, const guint8 *frame, gsize len);
void vireo_net_backend_writable(VireoNetBackend *backend);

/* User-mode networking through libslirp: no privileges needed. The guest
 * network is 10.0.2.0/24 (above); connections to 10.0.2.2 reach the host's
 * own addresses, 127.0.0.1 included. The forwards are bound here: a port that
 * cannot be bound is a VIREO_ERROR_IO error. */
VireoNetBackend *vireo_net_slirp_new(const VireoNetConfig *config, GError **error);

/* The TAP interface `name` (created when it does not exist and the process
 * may create it). VIREO_ERROR_IO when /dev/net/tun cannot be opened or the
 * interface cannot be attached. */
VireoNetBackend *vireo_net_tap_new(const char *name, GError **error);

G_END_DECLS
