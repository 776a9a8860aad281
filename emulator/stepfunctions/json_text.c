/*
 * json_text.c — the interpreter's JSON text, printed by cJSON itself into a
 * buffer each thread keeps.
 *
 * Why. Every execution prints its output (StartSyncExecution's answer, the
 * stored row) and a Standard one prints every state's input and output into
 * its history. cJSON_PrintUnformatted grows a fresh buffer for each of those
 * by malloc-copy-free (its realloc is off once allocation hooks are set, see
 * json_alloc.c); cJSON_PrintPreallocated into a buffer this thread keeps from
 * one print to the next writes the same bytes without those allocations.
 *
 * Invariants: the text is always cJSON's own (cJSON_PrintPreallocated,
 * unformatted, is cJSON_PrintUnformatted's printer). Where cJSON cannot print
 * an item (no known type, a Raw item without text) the answer is NULL, as
 * cJSON's. A buffer grown for a one-off large document is given back.
 */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "stepfunctions/lang_impl.h"
#include "stepfunctions/sfn_impl.h"

#define BUFFER_START 4096
#define BUFFER_KEEP (1u << 16) /* larger buffers are given back after use */

typedef struct out {
    char *p;
    size_t cap;
} out;

static _Thread_local out tl_out;
static pthread_key_t buffer_key;
static pthread_once_t buffer_once = PTHREAD_ONCE_INIT;

static void buffer_free(void *arg)
{
    (void)arg;
    free(tl_out.p);
    tl_out = (out){0};
}

static void buffer_key_new(void)
{
    if (pthread_key_create(&buffer_key, buffer_free) != 0)
        buffer_key = 0;
}

/* Make this thread's buffer hold at least cap bytes (its old text is lost). */
static int reserve(out *o, size_t cap)
{
    if (o->p && o->cap >= cap)
        return 0;
    if (cap > INT_MAX)
        return -1;
    if (!o->p) {
        pthread_once(&buffer_once, buffer_key_new);
        if (buffer_key)
            pthread_setspecific(buffer_key, o); /* frees it when the thread ends */
    }
    char *p = malloc(cap);
    if (!p)
        return -1;
    free(o->p);
    o->p = p;
    o->cap = cap;
    return 0;
}

const char *sfn_json_print_borrowed(const cJSON *item, size_t *len)
{
    out *o = &tl_out;
    if (!item || reserve(o, BUFFER_START) != 0)
        return NULL;
    if (!cJSON_PrintPreallocated((cJSON *)item, o->p, (int)o->cap, 0)) {
        /* Too small (or unprintable): cJSON's allocating printer says which,
         * and how much room the text needs. cJSON asks for 5 bytes of slack. */
        char *text = cJSON_PrintUnformatted(item);
        if (!text)
            return NULL;
        size_t n = strlen(text);
        if (reserve(o, n + 6) != 0) {
            free(text);
            return NULL;
        }
        memcpy(o->p, text, n + 1);
        free(text);
    }
    size_t n = strlen(o->p);
    if (len)
        *len = n;
    if (o->cap > BUFFER_KEEP && n < BUFFER_KEEP / 2) {
        /* a one-off large document: do not keep its buffer for good */
        char *small = realloc(o->p, BUFFER_KEEP);
        if (small) {
            o->p = small;
            o->cap = BUFFER_KEEP;
        }
    }
    return o->p;
}

char *sfn_json_print(const cJSON *item)
{
    size_t n;
    const char *text = sfn_json_print_borrowed(item, &n);
    if (!text)
        return NULL;
    char *copy = malloc(n + 1);
    if (copy)
        memcpy(copy, text, n + 1);
    return copy;
}
