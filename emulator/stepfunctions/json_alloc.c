/*
 * json_alloc.c — a thread-local free-list cache in front of malloc for cJSON's
 * allocations while a Step Functions execution runs.
 *
 * Why. An execution builds and drops hundreds of small cJSON nodes and strings
 * (every state's document, template and result): callgrind showed glibc's
 * malloc slow paths (_int_free, _int_malloc, malloc_consolidate) at a third of
 * an execution's instructions, because a cJSON_Delete of a whole document frees
 * more blocks of one size than glibc's per-thread cache keeps (7 per size), and
 * the rest go the long way. This cache keeps up to CACHE_DEPTH freed blocks per
 * 16-byte size class on the thread that freed them and hands them back to the
 * next allocation of that class.
 *
 * Invariants. Every block it hands out is a block malloc returned, whole: so a
 * plain free() of one (the interpreter's callers free cJSON_Print's text with
 * free, as cJSON's own callers do) is correct, a block may be freed on any
 * thread, and nothing about ownership changes — a block is either owned by the
 * program or sits in exactly one thread's cache. A block's class comes from
 * malloc_usable_size (glibc), so a cached block is always at least as large as
 * the request it serves. The cache is bounded (CACHE_CLASSES x CACHE_DEPTH
 * blocks of at most CACHE_MAX bytes per thread) and drained when its thread
 * ends.
 *
 * Scope. cJSON's hooks are process-wide (cJSON_InitHooks), so they are installed
 * once, before main (a constructor: no thread can be allocating meanwhile), and
 * pass straight to malloc/free on every thread that has not switched the cache
 * on (sfn_json_alloc_thread): only threads running executions use it, from the
 * first execution to the thread's end. It is not
 * installed at all under SHOPLOCAL_NO_ARENA=1, under Valgrind, or in an
 * AddressSanitizer build: a cached block would hide a use after free from them.
 * SHOPLOCAL_ARENA=1 installs it under Valgrind anyway, for callgrind's
 * instruction counts (callgrind runs glibc's own malloc; memcheck does not).
 */
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <valgrind/valgrind.h>

#include "stepfunctions/sfn_impl.h"

#if defined(__SANITIZE_ADDRESS__)
#define ALLOC_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ALLOC_SANITIZED 1
#endif
#endif
#ifndef ALLOC_SANITIZED
#define ALLOC_SANITIZED 0
#endif

#define CACHE_MAX 256 /* larger blocks go straight to malloc and free */
#define CACHE_CLASSES (CACHE_MAX / 16 + 2)
#define CACHE_DEPTH 128

typedef struct block {
    struct block *next;
} block;

typedef struct cache {
    int on;
    block *head[CACHE_CLASSES];
    unsigned short count[CACHE_CLASSES];
} cache;

static _Thread_local cache tl_cache;
static int installed;
static pthread_key_t drain_key;

/* The class of a malloc chunk with usable size u: glibc's chunks are 16-byte
 * multiples with an 8-byte header, so u + 8 is the chunk size. */
static size_t class_of_usable(size_t u)
{
    return (u + 8) / 16;
}

/* The class malloc would serve a request of n bytes from (its chunk size / 16). */
static size_t class_of_request(size_t n)
{
    size_t chunk = n + 8 < 32 ? 32 : (n + 8 + 15) & ~(size_t)15;
    return chunk / 16;
}

static void *cached_malloc(size_t n)
{
    cache *c = &tl_cache;
    if (c->on && n <= CACHE_MAX - 8) {
        size_t k = class_of_request(n);
        block *b = c->head[k];
        if (b) {
            c->head[k] = b->next;
            c->count[k]--;
            return b;
        }
    }
    return malloc(n);
}

static void cached_free(void *p)
{
    cache *c = &tl_cache;
    if (p && c->on) {
        size_t u = malloc_usable_size(p);
        size_t k = class_of_usable(u);
        /* only blocks whose usable size is exactly their class's (not a larger
         * chunk a smaller request got) go back to that class */
        if (u <= CACHE_MAX - 8 && k < CACHE_CLASSES && k * 16 - 8 == u &&
            c->count[k] < CACHE_DEPTH) {
            block *b = p;
            b->next = c->head[k];
            c->head[k] = b;
            c->count[k]++;
            return;
        }
    }
    free(p);
}

/* Give the thread's cached blocks back to malloc. */
static void drain(cache *c)
{
    for (size_t k = 0; k < CACHE_CLASSES; k++) {
        while (c->head[k]) {
            block *b = c->head[k];
            c->head[k] = b->next;
            free(b);
        }
        c->count[k] = 0;
    }
}

static void drain_at_exit(void *arg)
{
    (void)arg;
    tl_cache.on = 0;
    drain(&tl_cache);
}

__attribute__((constructor)) static void install(void)
{
    const char *off = getenv("SHOPLOCAL_NO_ARENA"), *force = getenv("SHOPLOCAL_ARENA");
    int forced = force && !strcmp(force, "1");
    if (ALLOC_SANITIZED || (RUNNING_ON_VALGRIND && !forced) ||
        (off && *off && strcmp(off, "0") != 0))
        return;
    if (pthread_key_create(&drain_key, drain_at_exit) != 0)
        return;
    cJSON_Hooks hooks = {.malloc_fn = cached_malloc, .free_fn = cached_free};
    cJSON_InitHooks(&hooks);
    installed = 1;
}

int sfn_json_alloc_thread(void)
{
    cache *c = &tl_cache;
    if (!installed || c->on)
        return installed;
    pthread_setspecific(drain_key, c); /* non-NULL: the destructor runs at exit */
    c->on = 1;
    return 1;
}

int sfn_json_alloc_installed(void)
{
    return installed;
}
