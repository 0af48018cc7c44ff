/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The choice of execution backend: names, availability and the default for
 * new vCPUs.
 */
#include "engine/backend.h"
#include "engine/error.h"
#include "tb.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const engine_names[] = {
    [VIREO_ENGINE_DEFAULT] = "default",
    [VIREO_ENGINE_INTERP] = "interp",
    [VIREO_ENGINE_JIT] = "jit",
};

#ifdef VIREO_HAVE_JIT
static int default_engine = VIREO_ENGINE_JIT;
#else
static int default_engine = VIREO_ENGINE_INTERP;
#endif

const char *vireo_engine_name(VireoEngineKind kind)
{
    return (unsigned)kind < G_N_ELEMENTS(engine_names) ? engine_names[kind] : "?";
}

bool vireo_engine_from_name(const char *name, VireoEngineKind *kind)
{
    for (unsigned i = VIREO_ENGINE_INTERP; i < G_N_ELEMENTS(engine_names); i++) {
        if (strcmp(name, engine_names[i]) == 0) {
            *kind = (VireoEngineKind)i;
            return true;
        }
    }
    return false;
}

const VireoBackendOps *vireo_engine_backend(VireoEngineKind kind)
{
    switch (kind) {
    case VIREO_ENGINE_DEFAULT: return vireo_engine_backend(vireo_engine_get_default());
    case VIREO_ENGINE_INTERP: return &vireo_interp_backend;
#ifdef VIREO_HAVE_JIT
    case VIREO_ENGINE_JIT: return &vireo_jit_backend;
#endif
    default: return NULL;
    }
}

bool vireo_engine_available(VireoEngineKind kind, GError **error)
{
    if (vireo_engine_backend(kind) == NULL) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_ACCEL_UNAVAILABLE,
                    "the %s engine is not built for this host", vireo_engine_name(kind));
        return false;
    }
    return true;
}

static unsigned jit_threshold = VIREO_JIT_THRESHOLD;

void vireo_engine_set_jit_threshold(unsigned executions)
{
    __atomic_store_n(&jit_threshold, MAX(executions, 1u), __ATOMIC_RELAXED);
}

unsigned vireo_engine_get_jit_threshold(void)
{
    return __atomic_load_n(&jit_threshold, __ATOMIC_RELAXED);
}

static GMutex perf_map_lock;
static FILE *perf_map;

gboolean vireo_engine_open_perf_map(GError **error)
{
    g_autofree char *path = g_strdup_printf("/tmp/perf-%d.map", (int)getpid());
    FILE *f = fopen(path, "w");

    if (f == NULL) {
        int err = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
                    "Cannot write the perf map “%s”: %s", path, g_strerror(err));
        return FALSE;
    }
    g_mutex_lock(&perf_map_lock);
    if (perf_map != NULL) {
        fclose(perf_map);
    }
    perf_map = f;
    g_mutex_unlock(&perf_map_lock);
    return TRUE;
}

void vireo_engine_perf_map_add(const void *code, size_t size, uint64_t pc)
{
    if (__atomic_load_n(&perf_map, __ATOMIC_RELAXED) == NULL) {
        return;
    }
    g_mutex_lock(&perf_map_lock);
    fprintf(perf_map, "%" PRIxPTR " %zx vireo-block-%" PRIx64 "\n", (uintptr_t)code, size, pc);
    fflush(perf_map);
    g_mutex_unlock(&perf_map_lock);
}

void vireo_engine_set_default(VireoEngineKind kind)
{
    g_return_if_fail(kind != VIREO_ENGINE_DEFAULT && vireo_engine_backend(kind) != NULL);
    __atomic_store_n(&default_engine, (int)kind, __ATOMIC_RELAXED);
}

VireoEngineKind vireo_engine_get_default(void)
{
    return (VireoEngineKind)__atomic_load_n(&default_engine, __ATOMIC_RELAXED);
}
