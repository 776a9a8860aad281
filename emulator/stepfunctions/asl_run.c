/*
 * asl_run.c — the Amazon States Language interpreter (JSONPath query
 * language): executions on a small pool of worker threads, states, data flow,
 * Retry/Catch, timeouts, per-execution virtual time, and resume after a crash.
 *
 * Threads. Executions never run on the HTTP listener threads: a Task invokes a
 * Lambda whose handler calls back into the aws listener over loopback, and an
 * execution holding a listener thread while it waits for that call could take
 * the listener's last free thread (ARCHITECTURE.md). StartExecution queues the
 * execution's ARN; `workers` threads take ARNs off the queue and run each
 * execution to its end. A Parallel state runs each branch on a thread of its
 * own, a Map state up to MaxConcurrency iterations (10 when unlimited) on
 * threads of its own, so a branch never waits for a pool slot its parent holds.
 *
 * Data flow, in AWS's order (the functions are lang.h's):
 *   InputPath -> Parameters / ItemSelector -> (task, branches, iterations)
 *   -> ResultSelector -> ResultPath (against the state's raw input) -> OutputPath.
 * A Catch puts {"Error", "Cause"} at its ResultPath of the raw input; OutputPath
 * is not applied then (AWS doesn't). InputPath/OutputPath failures and Fail
 * paths that select nothing are States.Runtime, which no Retry or Catch
 * matches; States.TaskFailed matches every error but States.Timeout (and
 * States.Runtime); States.ALL matches every error but States.Runtime.
 *
 * Time. Every timestamp is the execution's "now": core_clock_now_ms plus the
 * execution's own offset. A Wait or a retry interval under --time real sleeps
 * (woken early by StopExecution or shutdown); under --time virtual it adds the
 * delay to the offset of the branch that waits and returns at once — so
 * executions never wait on each other (one execution's 2 s back-off does not
 * move the emulator's clock, nor another execution's timestamps), yet the
 * history shows 2 s, 4 s, 8 s between attempts as AWS's would. Parallel
 * branches and Map iterations start from their parent's offset and the parent
 * continues from the largest offset among them (they waited side by side). The
 * top-level offset is persisted with each write, so a resumed execution's
 * timestamps go on from where they were.
 *
 * Limits. The machine's TimeoutSeconds (exec_deadline) stops an execution as
 * StopExecution does: every wait is cut at the deadline (deadline_clip), every
 * branch sees the execution cancelled at its next check (deadline_hit), and
 * run_loaded closes it TIMED_OUT. Payloads past 256 KiB are the terminal
 * States.DataLimitExceeded (datalimit.c): a state's output, a result before
 * its ResultSelector, a task's input after Parameters. The 25,000th event of
 * a STANDARD execution is its failure (SFN_MAX_EVENTS, in emit).
 *
 * Durability (see model.c). Events are appended in memory and flushed, together
 * with the position, only around side effects: before a step that has one (a
 * task that is not mocked, a real-time wait, a Parallel or Map) the position
 * says "in state X, entered, these retry counters"; after it, the result and
 * the move to the next state are one write. Steps without side effects (Pass,
 * Choice, Succeed, Fail, a virtual-time Wait, a task the mock config answers)
 * are determined by the input of the position already committed, so they are
 * not committed on their own: their events go with the next commit (the next
 * side effect's, or the execution's end, one transaction). After a kill -9,
 * sfn_runtime_resume_all re-queues every RUNNING execution and it continues
 * from its position: committed steps are never redone, uncommitted pure ones
 * are redone identically and recorded once; a task that was running when the
 * process died runs again (at-least-once for that one step, as on AWS). A mocked
 * saga thus costs two transactions (start, end) instead of two per step. A Parallel or Map state at top
 * level is one step: it reruns whole. EXPRESS executions are at-most-once on
 * AWS and keep no resumable state: their history is written in one transaction
 * when they end, and one cut short by a crash is aborted on restart, not rerun.
 */
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "stepfunctions/lang.h"
#include "stepfunctions/lang_impl.h"
#include "stepfunctions/sfn_impl.h"

#define MAP_DEFAULT_THREADS 10
/* AWS's history quota: a STANDARD execution's event 25,000 is its failure. */
#define SFN_MAX_EVENTS 25000

typedef struct job {
    char *arn;
    struct job *next;
} job;

typedef struct exec_ctx exec_ctx;

#define DEF_CACHE 8

/* Parsed definitions, shared read-only by the executions that run them (the
 * interpreter never changes a definition tree). */
/* The states of a parsed definition by (States object, name), built once per
 * cached definition so that each step finds its state, type and Next without
 * cJSON's linear key search (a machine of 30 states: ~30 strcmp per step). */
/* The fields of a state the interpreter reads at every step, resolved once per
 * cached definition (state_slot.f): sf() instead of a search of the state object. */
enum sfield { F_RETRY, F_CATCH, F_INPUT_PATH, F_OUTPUT_PATH, F_RESULT_SELECTOR, F_RESULT_PATH, F_RESULT, F_PARAMETERS, F_RESOURCE, F_TIMEOUT_SECONDS, F_TIMEOUT_SECONDS_PATH, F_HEARTBEAT_SECONDS, F_HEARTBEAT_SECONDS_PATH, F_NEXT, F_N };
static const char *const sfield_names[F_N] = {"Retry", "Catch", "InputPath", "OutputPath", "ResultSelector", "ResultPath", "Result", "Parameters", "Resource", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath", "Next"};

typedef struct state_slot {
    const cJSON *states; /* the States object the state is in (NULL: empty slot) */
    const char *name;
    const cJSON *state;
    const char *type; /* its "Type" string, or NULL */
    const char *next; /* its "Next" string, or NULL */
    int kind;         /* its Type (enum state_kind) */
    const cJSON *f[F_N]; /* its fields, as cJSON_GetObjectItemCaseSensitive finds them */
    /* its Parameters and ResultSelector compiled (NULL: absent, or not compiled) */
    sfn_template *parameters, *result_selector;
    /* a Task's Resource as sfn_task_describe tells it (described: done) */
    char rtype[64], rname[64];
    int bare, described;
    const struct state_slot *next_slot; /* the slot its Next names, or NULL */
} state_slot;

typedef struct state_index {
    size_t cap; /* a power of 2, at least twice the states */
    state_slot *slots;
} state_index;

static const state_slot *index_find(const state_index *idx, const cJSON *states,
                                    const char *name);

/* A parsed definition (sfn_definition to the other files). Reference-counted:
 * the cache's slot holds one reference, each execution running it and each
 * holder of sfn_runtime_definition another; the last release frees it, so an
 * entry evicted from the cache lives on while something still runs it. */
typedef struct sfn_definition {
    char *text;
    size_t len;
    cJSON *tree;
    state_index *index;
    int refs;                /* under def_lock */
    unsigned long long used; /* LRU clock */
    char hash[65];           /* the store's SHA-256 of text, once known ("": not yet) */
} def_entry;

struct sfn_runtime {
    sfn_runtime_opts opts;
    pthread_mutex_t def_lock;
    def_entry *defs[DEF_CACHE];
    unsigned long long def_clock;
    pthread_t *threads;
    int n_threads;
    pthread_mutex_t lock;
    pthread_cond_t cond;      /* queue non-empty, or stopping */
    pthread_cond_t idle_cond; /* queue empty and nothing running */
    job *head, *tail;
    int running;
    int stopping;
    exec_ctx *active; /* executions being run, for StopExecution and shutdown */
};

typedef struct pending_event {
    sfn_event ev;
    char type[48];
} pending_event;

struct exec_ctx {
    sfn_runtime *rt;
    sfn_exec_row row;
    const cJSON *definition; /* def's tree, or own_definition */
    const state_index *index; /* def's index; NULL with own_definition */
    def_entry *def;          /* a reference (def_acquire), released at the end */
    cJSON *own_definition;   /* when the definition could not be cached */
    const char *definition_text; /* ephemeral runs: the caller's (borrowed), not in row */
    cJSON *ctx_base; /* $$ without State / Map */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    atomic_int cancelled; /* aborted, or the runtime is stopping */
    atomic_int timed_out; /* the machine's deadline passed: cancelled, then closed TIMED_OUT */
    atomic_int history_full; /* SFN_MAX_EVENTS reached: cancelled, then closed FAILED */
    int64_t next_id;
    int64_t top_offset;   /* persisted offset: the top-level branch's */
    int64_t deadline_ms;  /* start + TimeoutSeconds (capped: exec_deadline), execution time */
    int64_t wall_deadline_ms; /* EXPRESS: monotonic ms past which it times out; 0: none */
    atomic_uint wall_asks;    /* deadline_hit calls, to read the wall clock every 64th */
    int express;          /* EXPRESS: history written once, at the end; never resumed */
    int ephemeral;        /* StartSyncExecution: nothing stored; the result stays in row */
    /* sfn_runtime_run_value: the input as a tree (borrowed; row.input unused), and
     * the output handed back as a tree instead of text */
    const cJSON *input_value;
    int value_out;
    cJSON *output_value;
    atomic_int forked;    /* a Parallel or Map started threads (set before the first one) */
    pending_event *pending;
    size_t n_pending, cap_pending;
    const sfn_mock_case *mock_case; /* the test case (row.test_case) in the mock config */
    struct mock_count {
        const char *state; /* the definition's (lives as long as the execution) */
        int n;             /* its mocked invocations so far */
    } *mock_counts;
    size_t n_mock_counts, cap_mock_counts;
    atomic_int write_failed; /* a write failed: the execution is no longer ours */
    /* Standard executions commit only around side effects (see Durability):
     * effect: a side effect ran since the last commit, so the next transition
     * commits; deferred: a step's commit was skipped since the last commit, so
     * the pending events belong to steps a resume would redo. Top level only. */
    int effect, deferred;
    exec_ctx *next_active;
};

/* One thread of control: the top level, a Parallel branch or a Map iteration. */
typedef struct branch {
    exec_ctx *ex;
    int top;
    int64_t offset_ms;
    int64_t prev_id;
    atomic_int *stop; /* set when a sibling failed; may be NULL */
    const struct branch *parent; /* the branch that forked this one, or NULL */
    const cJSON *map_item;
    int map_index;
    /* the top branch's output text, printed for its last StateExited event and
     * unchanged since (owned; NULL: not printed), for the ExecutionSucceeded event
     * and the row */
    char *out_text;
} branch;

enum { RUN_OK = 0, RUN_FAIL = 1, RUN_CANCEL = 2, RUN_TIMEOUT = 3 };

/* ---- time and cancellation -------------------------------------------------- */

static int64_t branch_now(const branch *b)
{
    return core_clock_now_ms(b->ex->rt->opts.clock) + b->offset_ms;
}

int64_t sfn_runtime_now_ms(sfn_runtime *rt)
{
    return core_clock_now_ms(rt->opts.clock);
}

/* The machine's TimeoutSeconds ran out: the execution stops as StopExecution
 * stops it (every branch sees it cancelled at its next check or wake-up) and
 * run_loaded closes it TIMED_OUT instead of ABORTED. */
static void mark_timed_out(exec_ctx *ex)
{
    atomic_store(&ex->timed_out, 1);
    atomic_store(&ex->cancelled, 1);
}

/* An EXPRESS execution past its wall-clock limit. Its execution clock is virtual
 * under --time virtual, where one that never waits never reaches its five
 * minutes (a loop without a Wait would hold its thread for good); AWS's limit is
 * wall time. The clock is read every 64th ask: a read per state would cost more
 * than a Pass state. */
static int wall_spent(exec_ctx *ex)
{
    if (!ex->wall_deadline_ms ||
        (atomic_fetch_add_explicit(&ex->wall_asks, 1, memory_order_relaxed) & 63) != 0)
        return 0;
    return core_clock_monotonic_ms() >= ex->wall_deadline_ms;
}

/* 1 (and the execution marked timed out) once this branch's time reached the
 * execution's deadline. Asked where time can have passed: before each state,
 * after a task's call (a wait is cut at the deadline by deadline_clip). */
static int deadline_hit(const branch *b)
{
    exec_ctx *ex = b->ex;
    if (!ex->deadline_ms)
        return 0;
    if (!atomic_load(&ex->timed_out) && branch_now(b) < ex->deadline_ms && !wall_spent(ex))
        return 0;
    mark_timed_out(ex);
    return 1;
}

/* Cut a wait of *delay_ms that would outlast the deadline down to the time left.
 * 1 if cut: when that wait completes, the execution has timed out. */
static int deadline_clip(const branch *b, int64_t *delay_ms)
{
    const exec_ctx *ex = b->ex;
    if (!ex->deadline_ms || *delay_ms <= 0)
        return 0;
    int64_t left = ex->deadline_ms - branch_now(b);
    if (*delay_ms < left)
        return 0;
    *delay_ms = left > 0 ? left : 0;
    return 1;
}

/* The whole execution is cancelled (aborted, lost, or the host stopping). */
static int exec_cancelled(const branch *b)
{
    if (atomic_load(&b->ex->cancelled) || b->ex->write_failed)
        return 1;
    const sfn_runtime_opts *o = &b->ex->rt->opts;
    if (o->alive && !o->alive(o->alive_ctx)) {
        atomic_store(&b->ex->cancelled, 1);
        return 1;
    }
    return 0;
}

/* A sibling branch failed, or this one's forking branch was stopped. */
static int siblings_stopped(const branch *b)
{
    for (; b; b = b->parent)
        if (b->stop && atomic_load(b->stop))
            return 1;
    return 0;
}

/* This branch is cancelled: the execution is, or a sibling branch failed. */
static int is_cancelled(const branch *b)
{
    return exec_cancelled(b) || siblings_stopped(b);
}

/* is_cancelled without asking the host whether it is stopping (the alive hook,
 * which takes a lock and reads a clock): for the checks around a step that
 * waits for nothing (a mocked task), where the next step's check is soon enough. */
static int is_cancelled_here(const branch *b)
{
    return atomic_load(&b->ex->cancelled) || b->ex->write_failed || siblings_stopped(b);
}

/* Wait delay_ms in this branch's time. Returns 0, or -1 if cancelled meanwhile. */
static int branch_sleep(branch *b, int64_t delay_ms)
{
    /* never past the machine's deadline: a wait cut there times the execution out */
    int clipped = deadline_clip(b, &delay_ms);
    if (delay_ms <= 0) {
        if (clipped)
            mark_timed_out(b->ex);
        return is_cancelled(b) ? -1 : 0;
    }
    if (core_clock_get_mode(b->ex->rt->opts.clock) == CORE_CLOCK_VIRTUAL) {
        b->offset_ms += delay_ms;
        if (b->top)
            b->ex->top_offset = b->offset_ms;
        if (clipped)
            mark_timed_out(b->ex);
        return is_cancelled(b) ? -1 : 0;
    }
    int64_t until = core_clock_monotonic_ms() + delay_ms;
    pthread_mutex_lock(&b->ex->lock);
    while (!is_cancelled(b)) {
        int64_t left = until - core_clock_monotonic_ms();
        if (left <= 0)
            break;
        if (left > 200)
            left = 200; /* re-check sibling stop flags, which do not signal */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += left / 1000;
        ts.tv_nsec += (left % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&b->ex->wake, &b->ex->lock, &ts);
    }
    pthread_mutex_unlock(&b->ex->lock);
    if (clipped && core_clock_monotonic_ms() >= until)
        mark_timed_out(b->ex); /* slept to the deadline, not woken early */
    return is_cancelled(b) ? -1 : 0;
}

/* ---- history ------------------------------------------------------------------ */

/* Append an event whose details text (owned, may be NULL) is already printed. */
static void emit_text(branch *b, const char *type, char *text)
{
    exec_ctx *ex = b->ex;
    if (ex->ephemeral) {
        /* An ephemeral execution's events are never read: number them, nothing more
         * (under the lock only once branches may number them at the same time). */
        free(text);
        if (!atomic_load_explicit(&ex->forked, memory_order_relaxed)) {
            b->prev_id = ex->next_id++;
            return;
        }
        pthread_mutex_lock(&ex->lock);
        b->prev_id = ex->next_id++;
        pthread_mutex_unlock(&ex->lock);
        return;
    }
    pthread_mutex_lock(&ex->lock);
    if (ex->next_id >= SFN_MAX_EVENTS && !ex->express && strncmp(type, "Execution", 9) != 0) {
        /* The history is full: this event is not written; the execution stops as
         * StopExecution stops it and run_loaded fails it with event 25,000. */
        atomic_store(&ex->history_full, 1);
        atomic_store(&ex->cancelled, 1);
        pthread_mutex_unlock(&ex->lock);
        free(text);
        return;
    }
    if (ex->n_pending == ex->cap_pending) {
        size_t cap = ex->cap_pending ? ex->cap_pending * 2 : 16;
        pending_event *grown = realloc(ex->pending, cap * sizeof *grown);
        if (!grown) {
            pthread_mutex_unlock(&ex->lock);
            free(text);
            return;
        }
        ex->pending = grown;
        ex->cap_pending = cap;
    }
    pending_event *p = &ex->pending[ex->n_pending++];
    snprintf(p->type, sizeof p->type, "%s", type);
    p->ev.id = ex->next_id++;
    p->ev.prev_id = b->prev_id;
    p->ev.ts_ms = branch_now(b);
    p->ev.type = NULL;
    p->ev.details = text;
    b->prev_id = p->ev.id;
    pthread_mutex_unlock(&ex->lock);
}

/* Append an event: details (owned, may be NULL) is {"<x>EventDetails": {...}}. */
static void emit(branch *b, const char *type, cJSON *details)
{
    char *text = details && !b->ex->ephemeral ? sfn_json_print(details) : NULL;
    cJSON_Delete(details);
    emit_text(b, type, text);
}

/* ---- details text, written directly -------------------------------------------------
 * The frequent events' details ({"<x>EventDetails":{...}}, each state's input and
 * output among them) are written as text, not built as a tree and printed: the tree
 * held each payload as a string item (the payload printed, then copied into the
 * tree), and printing the tree escaped it again into a second buffer. Here each
 * payload is printed once and escaped once, straight into the details. Every
 * value is still cJSON's text: a string is escaped by cJSON's printer (a string
 * reference item printed in place), a number printed by it; only the fixed
 * punctuation and the literal keys are ours. Key order is the tree's, so the
 * bytes are the same (tests/golden/stepfunctions/ pins them). */

typedef struct details_text {
    char *p;
    size_t len, cap;
    int first; /* no member written yet in the open object */
    int failed; /* out of memory: dt_end answers NULL */
} details_text;

static int dt_reserve(details_text *t, size_t more)
{
    if (t->failed)
        return -1;
    if (t->len + more + 1 <= t->cap)
        return 0;
    size_t cap = t->cap ? t->cap : 256;
    while (cap < t->len + more + 1)
        cap *= 2;
    char *grown = realloc(t->p, cap);
    if (!grown) {
        t->failed = 1;
        return -1;
    }
    t->p = grown;
    t->cap = cap;
    return 0;
}

static void dt_raw(details_text *t, const char *s, size_t n)
{
    if (dt_reserve(t, n) != 0)
        return;
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = '\0';
}

/* "<name>": (with the comma before it after the first member); name is a literal key. */
static void dt_key(details_text *t, const char *name)
{
    if (!t->first)
        dt_raw(t, ",", 1);
    t->first = 0;
    dt_raw(t, "\"", 1);
    dt_raw(t, name, strlen(name));
    dt_raw(t, "\":", 2);
}

/* Open {"<details_key>":{ */
static void dt_begin(details_text *t, const char *details_key)
{
    memset(t, 0, sizeof *t);
    dt_raw(t, "{", 1);
    t->first = 1;
    dt_key(t, details_key);
    dt_raw(t, "{", 1);
    t->first = 1;
}

/* cJSON's text of item appended, printed in place (room: what it needs at most). */
static void dt_print(details_text *t, cJSON *item, size_t room)
{
    if (dt_reserve(t, room + 5) != 0) /* cJSON asks for 5 bytes of slack */
        return;
    size_t left = t->cap - t->len;
    if (left > INT_MAX)
        left = INT_MAX;
    if (!cJSON_PrintPreallocated(item, t->p + t->len, (int)left, 0)) {
        t->failed = 1;
        return;
    }
    t->len += strlen(t->p + t->len);
}

/* "<name>":<value as a JSON string, escaped by cJSON's printer>; nothing for a
 * NULL value (as cJSON_AddStringToObject adds nothing then) */
static void dt_string(details_text *t, const char *name, const char *value)
{
    if (!value)
        return;
    dt_key(t, name);
    size_t n = strlen(value);
    if (n > (INT_MAX - 16) / 6) {
        t->failed = 1;
        return;
    }
    cJSON ref;
    memset(&ref, 0, sizeof ref);
    ref.type = cJSON_String | cJSON_IsReference;
    ref.valuestring = (char *)value;
    dt_print(t, &ref, 6 * n + 2); /* every byte \u00XX at worst, and the quotes */
}

/* "<name>":<number, printed by cJSON> */
static void dt_number(details_text *t, const char *name, double v)
{
    dt_key(t, name);
    cJSON num;
    memset(&num, 0, sizeof num);
    num.type = cJSON_Number;
    num.valuedouble = v;
    num.valueint = v >= INT_MAX ? INT_MAX : v <= (double)INT_MIN ? INT_MIN : (int)v;
    dt_print(t, &num, 64);
}

/* add_payload's members: "<key>":"<value's text>","<key>Details":{"truncated":false};
 * text is the value's printed text (NULL: the JSON null's). */
static void dt_payload_text(details_text *t, const char *key, const char *text)
{
    static const char details[] = "Details\":{\"truncated\":false}";
    dt_string(t, key, text ? text : "null");
    dt_raw(t, ",\"", 2);
    dt_raw(t, key, strlen(key));
    dt_raw(t, details, sizeof details - 1);
}

static void dt_payload(details_text *t, const char *key, const cJSON *value)
{
    dt_payload_text(t, key, value ? sfn_json_print_borrowed(value, NULL) : NULL);
}

/* Close the two objects: the text (owned), or NULL when memory ran out. */
static char *dt_end(details_text *t)
{
    dt_raw(t, "}}", 2);
    if (t->failed) {
        free(t->p);
        return NULL;
    }
    return t->p;
}

/* Write pending events with u's position/closing (u may be NULL: events only). */
static int flush(branch *b, sfn_exec_update *u)
{
    exec_ctx *ex = b->ex;
    sfn_exec_update none = {0};
    if (!u)
        u = &none;
    pthread_mutex_lock(&ex->lock);
    if (b->top)
        ex->top_offset = b->offset_ms;
    u->offset_ms = ex->top_offset;
    if (ex->ephemeral) {
        if (u->status) {
            char **dst[] = {&ex->row.status, &ex->row.output, &ex->row.error, &ex->row.cause};
            const char *src[] = {u->status, u->output, u->error, u->cause};
            for (size_t i = 0; i < 4; i++) {
                free(*dst[i]);
                *dst[i] = src[i] ? strdup(src[i]) : NULL;
            }
            ex->row.stop_ms = u->stop_ms;
        }
        for (size_t i = 0; i < ex->n_pending; i++)
            free(ex->pending[i].ev.details);
        ex->n_pending = 0;
        pthread_mutex_unlock(&ex->lock);
        return CORE_OK;
    }
    if (ex->express && !u->status) {
        /* Express executions are at-most-once on AWS: no positions, one write at the end. */
        pthread_mutex_unlock(&ex->lock);
        return ex->write_failed ? CORE_ERROR : CORE_OK;
    }
    sfn_event *evs = calloc(ex->n_pending + 1, sizeof *evs);
    for (size_t i = 0; evs && i < ex->n_pending; i++) {
        evs[i] = ex->pending[i].ev;
        evs[i].type = ex->pending[i].type;
    }
    u->events = evs;
    u->n_events = evs ? ex->n_pending : 0;
    core_err err;
    core_err_clear(&err);
    int rc = ex->write_failed ? CORE_ERROR
                              : sfn_model_exec_update(ex->rt->opts.model, ex->row.arn, u, &err);
    if (rc != CORE_OK && !ex->write_failed) {
        ex->write_failed = 1;
        if (strcmp(err.type, "ExecutionNotRunning") != 0)
            core_log(CORE_LOG_ERROR, "stepfunctions", NULL, "%s: %s", ex->row.arn, err.message);
    }
    for (size_t i = 0; i < ex->n_pending; i++)
        free(ex->pending[i].ev.details);
    ex->n_pending = 0;
    free(evs);
    pthread_mutex_unlock(&ex->lock);
    return rc;
}

static cJSON *details_obj(cJSON *root, const char *key)
{
    return cJSON_AddObjectToObject(root, key);
}

/* A state's Entered or Exited event with its payload. known: payload's text when
 * the caller holds it (NULL: printed here); keep (may be NULL): set to a copy of
 * that text (NULL in an ephemeral run, or out of memory), for the caller to
 * reuse while payload stays unchanged. */
static void emit_state(branch *b, const char *type, const char *suffix, const char *name,
                       const char *key, const cJSON *payload, const char *known, char **keep)
{
    if (keep)
        *keep = NULL;
    if (b->ex->ephemeral) {
        emit(b, type, NULL); /* numbered only: the type is never read */
        return;
    }
    char ev[64];
    snprintf(ev, sizeof ev, "%s%s", type, suffix);
    const char *text = known ? known : payload ? sfn_json_print_borrowed(payload, NULL) : NULL;
    if (keep && text)
        *keep = strdup(text);
    details_text t;
    dt_begin(&t, !strcmp(suffix, "StateEntered") ? "stateEnteredEventDetails"
                                                 : "stateExitedEventDetails");
    dt_string(&t, "name", name);
    dt_payload_text(&t, key, text);
    emit_text(b, ev, dt_end(&t));
}

static void emit_error(branch *b, const char *type, const char *details_key,
                       const char *resource_type, const char *resource, const core_err *err)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *d = details_obj(root, details_key);
    if (resource_type) {
        cJSON_AddStringToObject(d, "resourceType", resource_type);
        cJSON_AddStringToObject(d, "resource", resource);
    }
    cJSON_AddStringToObject(d, "error", err->type);
    if (err->message[0]) /* AWS leaves an empty cause out (a TaskTimedOut has none) */
        cJSON_AddStringToObject(d, "cause", err->message);
    emit(b, type, root);
}

/* ---- helpers -------------------------------------------------------------------- */

static const cJSON *field(const cJSON *state, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(state, name);
}

static const char *str_field(const cJSON *state, const char *name)
{
    const cJSON *f = field(state, name);
    return cJSON_IsString(f) ? f->valuestring : NULL;
}

/* The index of the definition this thread runs (set by run_loaded and child_main
 * for the time of a run), for sf. */
static _Thread_local const state_index *tl_index;
/* The slot of the state this thread is running (set by run_states, NULL between
 * runs): slot_of's answer for that state without the index arithmetic. */
static _Thread_local const state_slot *tl_slot;

/* The slot of state in tl_index when the state is the one indexed there (its
 * valueint >> 2 is its slot + 1: see index_states), else NULL. */
static const state_slot *slot_of(const cJSON *state)
{
    const state_slot *cur = tl_slot;
    if (cur && cur->state == state)
        return cur;
    const state_index *idx = tl_index;
    if (idx && state && (state->type & 0xFF) == cJSON_Object && state->valueint >= 4) {
        size_t i = (size_t)(state->valueint >> 2) - 1;
        if (i < idx->cap && idx->slots[i].state == state)
            return &idx->slots[i];
    }
    return NULL;
}

/* Evaluate the template tmpl, which is field f of state: through its compiled
 * form when the state's slot has one (the same result and errors). */
static int run_template(const cJSON *state, enum sfield f, const cJSON *tmpl, const cJSON *input,
                        const cJSON *ctx, int share, cJSON **out, core_err *err)
{
    const state_slot *slot = slot_of(state);
    const sfn_template *t = !slot ? NULL
                            : f == F_PARAMETERS ? slot->parameters
                            : f == F_RESULT_SELECTOR ? slot->result_selector
                                                     : NULL;
    if (t && tmpl == slot->f[f])
        return sfn_template_eval(t, input, ctx, share, out, err);
    return share ? sfn_payload_template_shared(tmpl, input, ctx, out, err)
                 : sfn_payload_template(tmpl, input, ctx, out, err);
}

/* field(state, sfield_names[f]), from the state's slot in tl_index when the state
 * is the one indexed there (its valueint >> 2 is its slot + 1: see index_states),
 * else by a search. */
static const cJSON *sf(const cJSON *state, enum sfield f)
{
    const state_slot *slot = slot_of(state);
    return slot ? slot->f[f] : field(state, sfield_names[f]);
}

static const char *sstr(const cJSON *state, enum sfield f)
{
    const cJSON *v = sf(state, f);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* 1 if any string of the state's definition mentions the context object. */
static int uses_context(const cJSON *node)
{
    if (cJSON_IsString(node))
        return strstr(node->valuestring, "$$") != NULL;
    for (const cJSON *c = node ? node->child : NULL; c; c = c->next)
        if (uses_context(c))
            return 1;
    return 0;
}

/* uses_context of a state, remembered in the low 2 bits of the state object's
 * valueint (unused by cJSON for objects: never printed or compared): 1 no, 2 yes,
 * 0 not yet known (the bits above: index_states). Set by mark_context once per
 * parsed definition, before it is shared. */
static int state_uses_context(const cJSON *def)
{
    if (cJSON_IsObject(def) && (def->valueint & 3))
        return (def->valueint & 3) == 2;
    return uses_context(def);
}

/* Mark every state of a definition (Parallel branches and Map processors too). */
static void mark_context(cJSON *machine, int depth)
{
    cJSON *st;
    if (depth > 16)
        return;
    cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(machine, "States"))
    {
        if (!cJSON_IsObject(st))
            continue;
        st->valueint = uses_context(st) ? 2 : 1;
        cJSON *br;
        cJSON_ArrayForEach(br, cJSON_GetObjectItemCaseSensitive(st, "Branches"))
        {
            mark_context(br, depth + 1);
        }
        mark_context(cJSON_GetObjectItemCaseSensitive(st, "ItemProcessor"), depth + 1);
        mark_context(cJSON_GetObjectItemCaseSensitive(st, "Iterator"), depth + 1);
    }
}

static cJSON *context_base(const sfn_exec_row *row, const cJSON *input);

/* entered_ms for context_for: the branch's now, read only if $$ is built */
#define CTX_NOW INT64_MIN

/* The context object $$ for a state, or NULL when the state never reads it
 * (building it copies the execution's input: not for nothing). */
static cJSON *context_for(branch *b, const char *state, const cJSON *def, int64_t entered_ms,
                          int retry_count)
{
    if (!state_uses_context(def))
        return NULL;
    if (entered_ms == CTX_NOW)
        entered_ms = branch_now(b);
    exec_ctx *ex = b->ex;
    pthread_mutex_lock(&ex->lock);
    if (!ex->ctx_base) { /* built on first use: most states never read $$ */
        cJSON *exec_input = ex->input_value ? NULL : cJSON_Parse(ex->row.input);
        ex->ctx_base = context_base(&ex->row, ex->input_value ? ex->input_value : exec_input);
        cJSON_Delete(exec_input);
    }
    cJSON *c = cJSON_Duplicate(ex->ctx_base, 1);
    pthread_mutex_unlock(&ex->lock);
    cJSON *s = cJSON_AddObjectToObject(c, "State");
    char ts[40];
    core_log_format_time(entered_ms, ts, sizeof ts);
    cJSON_AddStringToObject(s, "EnteredTime", ts);
    cJSON_AddStringToObject(s, "Name", state);
    cJSON_AddNumberToObject(s, "RetryCount", retry_count);
    if (b->map_item) {
        cJSON *m = cJSON_AddObjectToObject(c, "Map");
        cJSON *item = cJSON_AddObjectToObject(m, "Item");
        cJSON_AddNumberToObject(item, "Index", b->map_index);
        cJSON_AddItemToObject(item, "Value", cJSON_Duplicate(b->map_item, 1));
    }
    return c;
}

/* A Runtime error (no Retry, no Catch). */
static int is_runtime(const core_err *err)
{
    return !strcmp(err->type, "States.Runtime");
}

static int error_matches(const cJSON *equals, const char *error)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, equals)
    {
        if (!cJSON_IsString(e))
            continue;
        if (!strcmp(e->valuestring, error))
            return 1;
        if (!strcmp(e->valuestring, "States.ALL") && strcmp(error, "States.Runtime") != 0 &&
            strcmp(error, "States.DataLimitExceeded") != 0)
            return 1;
        if (!strcmp(e->valuestring, "States.TaskFailed") && strcmp(error, "States.Timeout") != 0 &&
            strcmp(error, "States.Runtime") != 0 && strcmp(error, "States.DataLimitExceeded") != 0)
            return 1;
    }
    return 0;
}

static double num_field(const cJSON *o, const char *name, double dflt)
{
    const cJSON *f = field(o, name);
    return cJSON_IsNumber(f) ? f->valuedouble : dflt;
}

/* Deterministic jitter: the same execution, state and attempt always draw the
 * same number, so a FULL-jitter history replays identically. */
static double jitter_draw(const branch *b, const char *state, int attempt)
{
    return sfn_chaos_draw(0x5f3759dfULL, b->ex->row.name, state, attempt + 7919);
}

typedef enum { ERR_FAIL, ERR_RETRY, ERR_CAUGHT } err_outcome;

/* After a Task/Parallel/Map attempt failed with err: retry (having waited),
 * catch (*output, *next set), or fail. retries: one counter per retrier. */
static err_outcome handle_error(branch *b, const char *name, const cJSON *state,
                                const cJSON *raw_input, int *retries, size_t n_retriers,
                                core_err *err, cJSON **output, const char **next)
{
    if (is_runtime(err) || !strcmp(err->type, "States.DataLimitExceeded"))
        return ERR_FAIL; /* terminal: no Retry or Catch handles these */
    const cJSON *retry = sf(state, F_RETRY);
    size_t i = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, retry)
    {
        if (i >= n_retriers)
            break;
        if (error_matches(field(r, "ErrorEquals"), err->type)) {
            int max = (int)num_field(r, "MaxAttempts", 3);
            if (retries[i] < max) {
                double interval = num_field(r, "IntervalSeconds", 1);
                double rate = num_field(r, "BackoffRate", 2.0);
                double delay = interval * pow(rate, retries[i]);
                const cJSON *cap = field(r, "MaxDelaySeconds");
                if (cJSON_IsNumber(cap) && delay > cap->valuedouble)
                    delay = cap->valuedouble;
                const char *jitter = str_field(r, "JitterStrategy");
                if (jitter && !strcmp(jitter, "FULL"))
                    delay *= jitter_draw(b, name, retries[i]);
                retries[i]++;
                if (branch_sleep(b, (int64_t)llround(delay * 1000.0)) != 0)
                    return ERR_FAIL;
                return ERR_RETRY;
            }
            break; /* the first matching retrier decides; exhausted: on to Catch */
        }
        i++;
    }
    const cJSON *c;
    cJSON_ArrayForEach(c, sf(state, F_CATCH))
    {
        if (!error_matches(field(c, "ErrorEquals"), err->type))
            continue;
        cJSON *eo = cJSON_CreateObject();
        cJSON_AddStringToObject(eo, "Error", err->type);
        cJSON_AddStringToObject(eo, "Cause", err->message);
        core_err inner;
        core_err_clear(&inner);
        cJSON *out = NULL;
        int rc = sfn_result_path(raw_input, field(c, "ResultPath"), eo, &out, &inner);
        cJSON_Delete(eo);
        if (rc != CORE_OK) {
            *err = inner;
            return ERR_FAIL;
        }
        *output = out;
        *next = str_field(c, "Next");
        return ERR_CAUGHT;
    }
    return ERR_FAIL;
}

/* What attempt_end returns when the Retry asks for another attempt. */
#define ATTEMPT_AGAIN (-1)

/* The end of one Task/Parallel/Map attempt whose outcome is rc: success takes
 * the state's Next (RUN_OK); an error goes to Retry/Catch (handle_error).
 * Returns ATTEMPT_AGAIN for a retry, else the state's RUN_* code. */
static int attempt_end(branch *b, const char *name, const cJSON *state, const cJSON *input,
                       int rc, int *retries, size_t n_retriers, core_err *err, cJSON **out,
                       const char **next)
{
    if (rc == CORE_OK) {
        *next = sstr(state, F_NEXT);
        return RUN_OK;
    }
    err_outcome o = handle_error(b, name, state, input, retries, n_retriers, err, out, next);
    if (o == ERR_RETRY)
        return ATTEMPT_AGAIN;
    if (is_cancelled(b))
        return RUN_CANCEL;
    return o == ERR_CAUGHT ? RUN_OK : RUN_FAIL;
}

/* Re-type an error of the data language that happened at stage `what`. */
static void retype(core_err *err, const char *type)
{
    snprintf(err->type, sizeof err->type, "%s", type);
}

/* ---- Wait timestamps -------------------------------------------------------------- */

/* Parse an RFC 3339 timestamp ("2016-03-14T01:59:00Z", fractions and offsets
 * allowed) into epoch ms. 0 on success. */
static int parse_timestamp(const char *s, int64_t *out)
{
    int y, mo, d, h, mi, sec, n = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19)
        return -1;
    const char *p = s + n;
    int64_t frac_ms = 0;
    if (*p == '.') {
        p++;
        int digits = 0;
        int64_t scale = 100;
        while (*p >= '0' && *p <= '9') {
            if (digits < 3)
                frac_ms += (*p - '0') * scale;
            scale /= 10;
            digits++;
            p++;
        }
        if (!digits)
            return -1;
    }
    int64_t offset_min = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2 || strlen(p) != 6)
            return -1;
        offset_min = (int64_t)(oh * 60 + om) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -1;
    }
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
                    .tm_min = mi, .tm_sec = sec};
    time_t t = timegm(&tm);
    *out = (int64_t)t * 1000 + frac_ms - offset_min * 60000;
    return 0;
}

/* ---- states ------------------------------------------------------------------------ */

static int run_states(branch *b, const cJSON *machine, const char *start, cJSON *input,
                      int entered, const char *retries_json, cJSON **out, core_err *err);
static void checkpoint(branch *b, const char *name, const cJSON *input, const int *retries,
                       size_t n, int effectful);

/* InputPath, as a States.Runtime failure when it selects nothing. *eff is the
 * effective input: input itself (borrowed, *owned NULL) when there is no
 * InputPath — AWS's "$", a copy of nothing — else *owned, the selection. */
static int input_path(const cJSON *state, const cJSON *input, const cJSON *ctx, cJSON **owned,
                      const cJSON **eff, core_err *err)
{
    const cJSON *f = sf(state, F_INPUT_PATH);
    *owned = NULL;
    *eff = input;
    if (!f)
        return CORE_OK;
    if (sfn_filter_path(input, ctx, f, owned, err) == CORE_OK) {
        *eff = *owned;
        return CORE_OK;
    }
    {
        retype(err, "States.Runtime");
        return CORE_ERROR;
    }
}

static int output_path(const cJSON *state, const cJSON *doc, const cJSON *ctx, cJSON **out,
                       core_err *err)
{
    if (sfn_filter_path(doc, ctx, sf(state, F_OUTPUT_PATH), out, err) != CORE_OK) {
        retype(err, "States.Runtime");
        return CORE_ERROR;
    }
    return CORE_OK;
}

/* OutputPath of doc (owned, consumed): doc itself when there is none. */
static int output_path_take(const cJSON *state, cJSON *doc, const cJSON *ctx, cJSON **out,
                            core_err *err)
{
    if (!sf(state, F_OUTPUT_PATH)) {
        *out = doc;
        return CORE_OK;
    }
    int rc = output_path(state, doc, ctx, out, err);
    cJSON_Delete(doc);
    return rc;
}

/* The name the data limit's cause gives a task (or Parallel, Map) result: the
 * state this thread runs, set by run_states (child_main restores the parent's). */
static _Thread_local const char *tl_limit_name;

/* A task's, a Parallel's or a Map's result over the payload quota (see datalimit.c);
 * else *bound an upper bound of its size. */
static int result_too_large(const cJSON *result, size_t *bound, core_err *err)
{
    *bound = sfn_json_size_bound(result, SFN_MAX_PAYLOAD);
    if (*bound <= SFN_MAX_PAYLOAD)
        return 0;
    if (sfn_data_limit_check(result, tl_limit_name, err) != CORE_OK)
        return 1;
    *bound = sfn_json_size(result, SFN_MAX_PAYLOAD);
    return 0;
}

/* What finish_result knows of the output it made, so that run_states need not
 * measure every state's output against the quota (output_quota): a bound of its
 * growth over the state's raw input (tl_out_grow), or of the whole output when
 * the result replaced the input (tl_out_whole); SIZE_MAX: nothing known. Reset
 * by run_states for each state; set only when finish_result made the output. */
static _Thread_local size_t tl_out_grow = SIZE_MAX, tl_out_whole = SIZE_MAX;

/* The output is ResultPath(raw input, result), no OutputPath after it: note how
 * big it can be. A placement adds the result and at most the objects the path
 * creates on the way (each segment a quoted key, its colon, braces, a comma). */
static void note_output_bound(const cJSON *result_path, size_t result_bound)
{
    if (cJSON_IsNull(result_path))
        tl_out_grow = 0; /* the input, unchanged */
    else if (!cJSON_IsString(result_path) || !strcmp(result_path->valuestring, "$"))
        tl_out_whole = result_bound;
    else
        tl_out_grow = result_bound + 10 * strlen(result_path->valuestring) + 16;
}

/* A state's output against the payload quota, at no cost when a bound settles
 * it: the one finish_result noted, or the input's own when the state hands its
 * input on (Choice, Wait, Succeed without InputPath/OutputPath); else measured.
 * *bound: in, the input's bound (SIZE_MAX: unknown); out, the output's. */
static int output_quota(const char *type, const cJSON *state, const cJSON *output,
                        const char *name, size_t *bound, core_err *err)
{
    size_t in = *bound, out = SIZE_MAX;
    if (tl_out_whole != SIZE_MAX)
        out = tl_out_whole;
    else if (tl_out_grow != SIZE_MAX && in != SIZE_MAX)
        out = in + tl_out_grow;
    else if (in != SIZE_MAX && !sf(state, F_INPUT_PATH) && !sf(state, F_OUTPUT_PATH) &&
             (!strcmp(type, "Choice") || !strcmp(type, "Wait") || !strcmp(type, "Succeed")))
        out = in;
    if (out > SFN_MAX_PAYLOAD) {
        out = sfn_json_size_bound(output, SFN_MAX_PAYLOAD);
        if (out > SFN_MAX_PAYLOAD)
            out = sfn_json_size(output, SFN_MAX_PAYLOAD);
        if (out > SFN_MAX_PAYLOAD)
            return sfn_data_limit_check(output, name, err);
    }
    *bound = out;
    return CORE_OK;
}

/* ResultSelector -> ResultPath -> OutputPath of a result (owned, consumed).
 * movable (may be NULL): the caller's owned raw input, which the result may be
 * put into in place (then set NULL) when nothing can fail afterwards (no
 * OutputPath): the document is not copied. */
static int finish_result(const cJSON *state, const cJSON *raw_input, cJSON **movable,
                         cJSON *result, const cJSON *ctx, cJSON **out, core_err *err)
{
    size_t result_bound;
    if (result_too_large(result, &result_bound, err)) {
        cJSON_Delete(result);
        return CORE_ERROR;
    }
    const cJSON *sel = sf(state, F_RESULT_SELECTOR);
    if (sel) {
        cJSON *selected = NULL;
        int src = run_template(state, F_RESULT_SELECTOR, sel, result, ctx, 0, &selected, err);
        cJSON_Delete(result);
        if (src != CORE_OK)
            return CORE_ERROR;
        result = selected;
    }
    cJSON *placed = NULL;
    int no_output_path = !sf(state, F_OUTPUT_PATH);
    if (sel && no_output_path) /* what is placed is the selection, not the task's result */
        result_bound = sfn_json_size_bound(result, SFN_MAX_PAYLOAD);
    int rc;
    if (movable && *movable == raw_input && no_output_path) {
        rc = sfn_result_path_into(movable, sf(state, F_RESULT_PATH), result, out, err);
    } else {
        if (sfn_result_path_take(raw_input, sf(state, F_RESULT_PATH), result, &placed, err) !=
            CORE_OK)
            return CORE_ERROR;
        rc = output_path_take(state, placed, ctx, out, err);
    }
    if (rc == CORE_OK && no_output_path)
        note_output_bound(sf(state, F_RESULT_PATH), result_bound);
    return rc;
}

/* Parameters (or ItemSelector) against the effective input: *params is the
 * template's result (*owned), or the effective input itself when absent. */
static int parameters(const cJSON *state, const cJSON *tmpl, const cJSON *effective,
                      const cJSON *ctx, int share, cJSON **owned, const cJSON **params,
                      core_err *err)
{
    *owned = NULL;
    *params = effective;
    if (!tmpl)
        return CORE_OK;
    int rc = run_template(state, F_PARAMETERS, tmpl, effective, ctx, share, owned, err);
    *params = *owned;
    return rc;
}

static int run_pass(branch *b, const char *name, const cJSON *state, const cJSON *input,
                    cJSON **out, core_err *err)
{
    cJSON *ctx = context_for(b, name, state, CTX_NOW, 0);
    cJSON *eff_own = NULL, *result = NULL;
    const cJSON *effective = NULL;
    int rc = input_path(state, input, ctx, &eff_own, &effective, err);
    if (rc == CORE_OK) {
        const cJSON *fixed = sf(state, F_RESULT);
        const cJSON *tmpl = sf(state, F_PARAMETERS);
        if (fixed)
            result = cJSON_Duplicate(fixed, 1);
        else if (tmpl)
            rc = run_template(state, F_PARAMETERS, tmpl, effective, ctx, 0, &result, err);
        else
            result = cJSON_Duplicate(effective, 1);
    }
    if (rc == CORE_OK) {
        cJSON *placed = NULL;
        rc = sfn_result_path_take(input, sf(state, F_RESULT_PATH), result, &placed, err);
        result = NULL;
        if (rc == CORE_OK)
            rc = output_path_take(state, placed, ctx, out, err);
    }
    cJSON_Delete(result);
    cJSON_Delete(eff_own);
    cJSON_Delete(ctx);
    return rc;
}

static int run_choice(branch *b, const char *name, const cJSON *state, const cJSON *input,
                      cJSON **out, const char **next, core_err *err)
{
    cJSON *ctx = context_for(b, name, state, CTX_NOW, 0);
    cJSON *eff_own = NULL;
    const cJSON *effective = NULL;
    int rc = input_path(state, input, ctx, &eff_own, &effective, err);
    *next = NULL;
    const cJSON *rule;
    cJSON_ArrayForEach(rule, field(state, "Choices"))
    {
        if (rc != CORE_OK)
            break;
        int matched = 0;
        rc = sfn_choice_match(rule, effective, ctx, &matched, err);
        if (rc == CORE_OK && matched) {
            *next = str_field(rule, "Next");
            break;
        }
    }
    if (rc == CORE_OK && !*next) {
        *next = str_field(state, "Default");
        if (!*next) {
            core_err_set(err, 400, "States.NoChoiceMatched",
                         "No Choice Rules matched and no Default: %s", name);
            rc = CORE_ERROR;
        }
    }
    if (rc == CORE_OK)
        rc = output_path(state, effective, ctx, out, err);
    cJSON_Delete(eff_own);
    cJSON_Delete(ctx);
    return rc;
}

static int run_wait(branch *b, const char *name, const cJSON *state, const cJSON *input,
                    cJSON **out, core_err *err)
{
    cJSON *ctx = context_for(b, name, state, CTX_NOW, 0);
    cJSON *eff_own = NULL;
    const cJSON *effective = NULL;
    int rc = input_path(state, input, ctx, &eff_own, &effective, err);
    int64_t delay = 0;
    if (rc == CORE_OK) {
        const cJSON *secs = field(state, "Seconds");
        const char *secs_path = str_field(state, "SecondsPath");
        const cJSON *stamp = field(state, "Timestamp");
        const char *stamp_path = str_field(state, "TimestampPath");
        cJSON *v = NULL;
        if (secs_path || stamp_path) {
            const char *path = secs_path ? secs_path : stamp_path;
            if (sfn_path_get(effective, ctx, path, &v, err) != CORE_OK) {
                retype(err, "States.Runtime");
                rc = CORE_ERROR;
            }
        }
        if (rc == CORE_OK && (cJSON_IsNumber(secs) || secs_path)) {
            const cJSON *n = secs_path ? v : secs;
            if (!cJSON_IsNumber(n) || n->valuedouble < 0) {
                core_err_set(err, 400, "States.Runtime",
                             "Invalid value for SecondsPath in state '%s'", name);
                rc = CORE_ERROR;
            } else {
                delay = (int64_t)llround(n->valuedouble * 1000.0);
            }
        } else if (rc == CORE_OK && (cJSON_IsString(stamp) || stamp_path)) {
            const cJSON *s = stamp_path ? v : stamp;
            int64_t when;
            if (!cJSON_IsString(s) || parse_timestamp(s->valuestring, &when) != 0) {
                core_err_set(err, 400, "States.Runtime", "Invalid timestamp in state '%s'", name);
                rc = CORE_ERROR;
            } else {
                delay = when - branch_now(b);
            }
        }
        cJSON_Delete(v);
    }
    if (rc == CORE_OK) {
        /* A virtual-time wait takes no wall time: no side effect, no commit. */
        checkpoint(b, name, input, NULL, 0,
                   delay > 0 && core_clock_get_mode(b->ex->rt->opts.clock) != CORE_CLOCK_VIRTUAL);
        if (branch_sleep(b, delay) != 0) {
            cJSON_Delete(eff_own);
            cJSON_Delete(ctx);
            return RUN_CANCEL;
        }
        rc = output_path(state, effective, ctx, out, err);
    }
    cJSON_Delete(eff_own);
    cJSON_Delete(ctx);
    return rc == CORE_OK ? RUN_OK : RUN_FAIL;
}

static int run_fail(branch *b, const char *name, const cJSON *state, const cJSON *input,
                    core_err *err)
{
    cJSON *ctx = context_for(b, name, state, CTX_NOW, 0);
    const char *error = str_field(state, "Error");
    const char *cause = str_field(state, "Cause");
    cJSON *ev = NULL, *cv = NULL;
    int rc = CORE_OK;
    const char *ep = str_field(state, "ErrorPath"), *cp = str_field(state, "CausePath");
    if (ep) {
        if (sfn_is_intrinsic(ep) ? sfn_intrinsic_eval(ep, input, ctx, &ev, err)
                                 : sfn_path_get(input, ctx, ep, &ev, err)) {
            rc = CORE_ERROR;
        } else if (!cJSON_IsString(ev)) {
            rc = core_err_set(err, 400, "States.Runtime",
                              "The ErrorPath in state '%s' did not resolve to a string", name);
        } else {
            error = ev->valuestring;
        }
    }
    if (rc == CORE_OK && cp) {
        if (sfn_is_intrinsic(cp) ? sfn_intrinsic_eval(cp, input, ctx, &cv, err)
                                 : sfn_path_get(input, ctx, cp, &cv, err)) {
            rc = CORE_ERROR;
        } else if (!cJSON_IsString(cv)) {
            rc = core_err_set(err, 400, "States.Runtime",
                              "The CausePath in state '%s' did not resolve to a string", name);
        } else {
            cause = cv->valuestring;
        }
    }
    if (rc == CORE_OK) {
        core_err_set(err, 400, error ? error : "", "%s", cause ? cause : "");
    } else {
        retype(err, "States.Runtime");
    }
    cJSON_Delete(ev);
    cJSON_Delete(cv);
    cJSON_Delete(ctx);
    return RUN_FAIL;
}

/* A field given as a number (value) or as a path into the effective input
 * (path, the field named path_key): *set 1 and *out the number, or *set 0 when
 * neither is given. A path that selects no number, or one below min, is
 * States.Runtime "The <path_key> '<path>' did not resolve to <want>". */
static int number_or_path(const cJSON *value, const char *path, const char *path_key,
                          const cJSON *effective, double min, const char *want, double *out,
                          int *set, core_err *err)
{
    *set = 0;
    *out = 0;
    if (cJSON_IsNumber(value)) {
        *set = 1;
        *out = value->valuedouble;
        return CORE_OK;
    }
    if (!path)
        return CORE_OK;
    cJSON *v = NULL;
    if (sfn_path_get(effective, NULL, path, &v, err) != CORE_OK || !cJSON_IsNumber(v) ||
        v->valuedouble < min) {
        cJSON_Delete(v);
        return core_err_set(err, 400, "States.Runtime", "The %s '%s' did not resolve to %s",
                            path_key, path, want);
    }
    *set = 1;
    *out = v->valuedouble;
    cJSON_Delete(v);
    return CORE_OK;
}

/* Timeout of a task in ms (0: none): TimeoutSeconds or TimeoutSecondsPath. */
static int task_timeout(const cJSON *state, const cJSON *effective, int64_t *out, core_err *err)
{
    double seconds;
    int set;
    int rc = number_or_path(sf(state, F_TIMEOUT_SECONDS), sstr(state, F_TIMEOUT_SECONDS_PATH),
                            "TimeoutSecondsPath", effective, 1, "a positive integer", &seconds,
                            &set, err);
    *out = (int64_t)(seconds * 1000);
    return rc;
}

/* HeartbeatSeconds or HeartbeatSecondsPath in seconds (0: none), for TaskScheduled:
 * heartbeats come only from callback and activity tasks, which are not emulated. */
static int task_heartbeat(const cJSON *state, const cJSON *effective, double *out,
                          core_err *err)
{
    int set;
    return number_or_path(sf(state, F_HEARTBEAT_SECONDS), sstr(state, F_HEARTBEAT_SECONDS_PATH),
                          "HeartbeatSecondsPath", effective, 1, "a positive integer", out, &set,
                          err);
}

/* Chaos, then the mock config, then the real integration: chaos comes first so a
 * seeded fault matrix can run over mocked sagas. */
/* Run a task: *result its (owned) result. With share, a mocked result may share
 * the mock config's members (sfn_mocks_answer_shared): for a caller that only reads
 * it (a ResultSelector's input) before deleting it. */
/* The number of earlier mocked invocations of state `name` in this execution
 * (Step Functions Local counts by state name, across branches), counting this one. */
static int mock_invocation(exec_ctx *ex, const char *name)
{
    int n = 0;
    int shared = atomic_load_explicit(&ex->forked, memory_order_relaxed);
    if (shared) /* branches may count at the same time */
        pthread_mutex_lock(&ex->lock);
    size_t i = 0;
    while (i < ex->n_mock_counts && strcmp(ex->mock_counts[i].state, name) != 0)
        i++;
    if (i == ex->n_mock_counts && ex->n_mock_counts == ex->cap_mock_counts) {
        size_t cap = ex->cap_mock_counts ? ex->cap_mock_counts * 2 : 8;
        struct mock_count *grown = realloc(ex->mock_counts, cap * sizeof *grown);
        if (grown) {
            ex->mock_counts = grown;
            ex->cap_mock_counts = cap;
        }
    }
    if (i < ex->n_mock_counts) {
        n = ex->mock_counts[i].n++;
    } else if (i < ex->cap_mock_counts) {
        ex->mock_counts[i] = (struct mock_count){.state = name, .n = 1};
        ex->n_mock_counts++;
    }
    if (shared)
        pthread_mutex_unlock(&ex->lock);
    return n;
}

static int invoke_task(branch *b, const char *name, const char *resource, const cJSON *params,
                       const sfn_mock_state *mock, int attempt, int share, cJSON **result,
                       core_err *err)
{
    exec_ctx *ex = b->ex;
    const sfn_runtime_opts *o = &ex->rt->opts;
    if (o->chaos) {
        const char *fn = str_field(params, "FunctionName");
        if (sfn_chaos_decide(o->chaos, ex->row.name, name, fn ? fn : resource, attempt, err))
            return CORE_ERROR;
    }
    if (mock) {
        int m = sfn_mock_state_answer(mock, mock_invocation(ex, name), share, result, err);
        if (m == 1)
            return CORE_OK;
        if (m == 2)
            return CORE_ERROR;
    }
    sfn_task_call call = {.resource = resource, .params = params, .region = o->region};
    return sfn_task_invoke(&o->hooks, &call, result, err);
}

static char *retries_text(const int *retries, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(retries[i]));
    char *t = sfn_json_print(a);
    cJSON_Delete(a);
    return t;
}

/* Before a step with a side effect (effectful): flush events and, at top level,
 * the "in this state, entered, these counters" position. Before a step without
 * one (a mocked task, a virtual-time wait): nothing — the step is determined by
 * the position already committed, and a resume redoes it identically. */
static void checkpoint(branch *b, const char *name, const cJSON *input, const int *retries,
                       size_t n, int effectful)
{
    if (!effectful) {
        if (b->top)
            b->ex->deferred = 1;
        return;
    }
    if (b->top)
        b->ex->effect = 1; /* the step's outcome commits with the next transition */
    if (!b->top || b->ex->ephemeral || b->ex->express) {
        flush(b, NULL); /* no position: nothing resumes these */
        return;
    }
    char *in = sfn_json_print(input);
    char *rt = retries_text(retries, n);
    sfn_exec_update u = {.pos_state = name, .pos_input = in, .pos_entered = 1,
                         .pos_retries = rt};
    flush(b, &u);
    b->ex->deferred = 0;
    free(in);
    free(rt);
}

/* A state's retry counters: in the caller's retry_counters (RETRY_STACK) when
 * they fit, else allocated; release with free_retries. */
#define RETRY_STACK 8
typedef int retry_counters[RETRY_STACK];

static size_t load_retries(const cJSON *state, const char *json, retry_counters stack, int **out)
{
    size_t n = (size_t)cJSON_GetArraySize(sf(state, F_RETRY));
    if (n < RETRY_STACK) {
        memset(stack, 0, sizeof(retry_counters));
        *out = stack;
    } else {
        *out = calloc(n + 1, sizeof **out);
    }
    if (!json)
        return *out ? n : 0;
    cJSON *saved = cJSON_Parse(json);
    for (size_t i = 0; i < n && *out; i++) {
        const cJSON *v = cJSON_GetArrayItem(saved, (int)i);
        (*out)[i] = cJSON_IsNumber(v) ? v->valueint : 0;
    }
    cJSON_Delete(saved);
    return *out ? n : 0;
}

static void free_retries(int *retries, const retry_counters stack)
{
    if (retries != stack)
        free(retries);
}

static int total_retries(const int *r, size_t n)
{
    int t = 0;
    for (size_t i = 0; i < n; i++)
        t += r[i];
    return t;
}

static int run_task(branch *b, const char *name, const cJSON *state, const cJSON *input,
                    cJSON **movable,
                    const char *retries_json, cJSON **out, const char **next, core_err *err)
{
    const char *resource = sstr(state, F_RESOURCE);
    char rtype[64] = "", rname[64] = "";
    int bare = 0;
    const state_slot *slot = slot_of(state);
    if (slot && slot->described && resource == slot->f[F_RESOURCE]->valuestring) {
        memcpy(rtype, slot->rtype, sizeof rtype); /* described once per cached definition */
        memcpy(rname, slot->rname, sizeof rname);
        bare = slot->bare;
    } else {
        sfn_task_describe(resource ? resource : "", rtype, sizeof rtype, rname, sizeof rname,
                          &bare);
    }
    int *retries;
    retry_counters stack_retries;
    size_t n_retriers = load_retries(state, retries_json, stack_retries, &retries);
    int result_rc = RUN_FAIL;
    /* its answers come from the mock config alone (no side effect), or NULL */
    const sfn_mock_state *mock = sfn_mock_case_state(b->ex->mock_case, name);
    for (;;) {
        int attempt = total_retries(retries, n_retriers);
        cJSON *ctx = context_for(b, name, state, CTX_NOW, attempt);
        cJSON *eff_own = NULL, *par_own = NULL, *result = NULL;
        const cJSON *effective = NULL, *params = NULL;
        int64_t timeout_ms = 0;
        double heartbeat_s = 0;
        int rc = input_path(state, input, ctx, &eff_own, &effective, err);
        if (rc == CORE_OK && mock && b->ex->ephemeral && !b->ex->rt->opts.chaos &&
            sf(state, F_PARAMETERS))
            /* Nothing reads a mocked task's parameters here (no history, no call, no
             * chaos rule naming its function): whether they evaluate, not their value. */
            rc = slot_of(state) && slot_of(state)->parameters
                     ? sfn_template_check(slot_of(state)->parameters, effective, ctx, err)
                     : sfn_payload_template_check(sf(state, F_PARAMETERS), effective, ctx, err);
        else if (rc == CORE_OK)
            /* Task parameters are only read (printed, sent) while the input lives: shared. */
            rc = parameters(state, sf(state, F_PARAMETERS), effective, ctx, 1, &par_own, &params,
                            err);
        if (rc == CORE_OK && params != effective) /* the input after Parameters: the quota */
            rc = sfn_data_limit_check(params, name, err);
        if (rc == CORE_OK)
            rc = task_timeout(state, effective, &timeout_ms, err);
        if (rc == CORE_OK)
            rc = task_heartbeat(state, effective, &heartbeat_s, err);
        if (rc == CORE_OK && b->ex->ephemeral) {
            /* Nobody reads these events: their ids, not their details. */
            emit(b, bare ? "LambdaFunctionScheduled" : "TaskScheduled", NULL);
            emit(b, bare ? "LambdaFunctionStarted" : "TaskStarted", NULL);
        } else if (rc == CORE_OK) {
            details_text t;
            if (bare) {
                dt_begin(&t, "lambdaFunctionScheduledEventDetails");
                dt_string(&t, "resource", resource);
                dt_payload(&t, "input", params);
                if (timeout_ms)
                    dt_number(&t, "timeoutInSeconds", (double)(timeout_ms / 1000));
                emit_text(b, "LambdaFunctionScheduled", dt_end(&t));
                emit(b, "LambdaFunctionStarted", NULL);
            } else {
                dt_begin(&t, "taskScheduledEventDetails");
                dt_string(&t, "resourceType", rtype);
                dt_string(&t, "resource", rname);
                dt_string(&t, "region", b->ex->rt->opts.region);
                const char *p = sfn_json_print_borrowed(params, NULL);
                dt_string(&t, "parameters", p ? p : "{}");
                if (timeout_ms)
                    dt_number(&t, "timeoutInSeconds", (double)(timeout_ms / 1000));
                if (heartbeat_s > 0)
                    dt_number(&t, "heartbeatInSeconds", heartbeat_s);
                emit_text(b, "TaskScheduled", dt_end(&t));
                dt_begin(&t, "taskStartedEventDetails");
                dt_string(&t, "resourceType", rtype);
                dt_string(&t, "resource", rname);
                emit_text(b, "TaskStarted", dt_end(&t));
            }
        }
        if (rc == CORE_OK) {
            checkpoint(b, name, input, retries, n_retriers, !mock);
            if (mock ? is_cancelled_here(b) : is_cancelled(b)) {
                cJSON_Delete(par_own);
                cJSON_Delete(eff_own);
                cJSON_Delete(ctx);
                result_rc = RUN_CANCEL;
                break;
            }
            int64_t t0 = timeout_ms ? core_clock_monotonic_ms() : 0; /* read only with one */
            /* with a ResultSelector the result is only read (the selector's input, the
             * TaskSucceeded event), then deleted: a mocked one may share the config */
            rc = invoke_task(b, name, resource ? resource : "", params, mock, attempt,
                             sf(state, F_RESULT_SELECTOR) != NULL, &result, err);
            int64_t took = timeout_ms ? core_clock_monotonic_ms() - t0 : 0;
            if ((!mock && deadline_hit(b)) || (mock ? is_cancelled_here(b) : is_cancelled(b))) {
                /* Stopped or shutting down while it ran (a failure may only be the listener
                 * going away): record nothing; a resumed execution runs it again. */
                cJSON_Delete(result);
                cJSON_Delete(par_own);
                cJSON_Delete(eff_own);
                cJSON_Delete(ctx);
                result_rc = RUN_CANCEL;
                break;
            }
            int timed_out = rc == CORE_OK && timeout_ms && took > timeout_ms;
            if (timed_out || (rc != CORE_OK && !strcmp(err->type, "States.Timeout"))) {
                cJSON_Delete(result);
                result = NULL;
                char why[sizeof err->message];
                snprintf(why, sizeof why, "%s", rc != CORE_OK ? err->message : "");
                core_err_set(err, 400, "States.Timeout", "%s", why);
                rc = CORE_ERROR;
                emit_error(b, bare ? "LambdaFunctionTimedOut" : "TaskTimedOut",
                           bare ? "lambdaFunctionTimedOutEventDetails"
                                : "taskTimedOutEventDetails",
                           bare ? NULL : rtype, rname, err);
            } else if (rc == CORE_OK && b->ex->ephemeral) {
                emit(b, bare ? "LambdaFunctionSucceeded" : "TaskSucceeded", NULL);
                cJSON_Delete(par_own); /* it may share the input, which may now change */
                par_own = NULL;
                rc = finish_result(state, input, movable, result, ctx, out, err);
                result = NULL;
            } else if (rc == CORE_OK) {
                details_text t;
                dt_begin(&t, bare ? "lambdaFunctionSucceededEventDetails"
                                  : "taskSucceededEventDetails");
                if (!bare) {
                    dt_string(&t, "resourceType", rtype);
                    dt_string(&t, "resource", rname);
                }
                dt_payload(&t, "output", result);
                emit_text(b, bare ? "LambdaFunctionSucceeded" : "TaskSucceeded", dt_end(&t));
                cJSON_Delete(par_own); /* it may share the input, which may now change */
                par_own = NULL;
                rc = finish_result(state, input, movable, result, ctx, out, err);
                result = NULL;
            } else {
                emit_error(b, bare ? "LambdaFunctionFailed" : "TaskFailed",
                           bare ? "lambdaFunctionFailedEventDetails" : "taskFailedEventDetails",
                           bare ? NULL : rtype, rname, err);
            }
        }
        cJSON_Delete(result);
        cJSON_Delete(par_own);
        cJSON_Delete(eff_own);
        cJSON_Delete(ctx);
        int end = attempt_end(b, name, state, input, rc, retries, n_retriers, err, out, next);
        if (end == ATTEMPT_AGAIN)
            continue;
        result_rc = end;
        break;
    }
    free_retries(retries, stack_retries);
    return result_rc;
}

/* ---- Parallel and Map ----------------------------------------------------------------- */

typedef struct child {
    branch b;
    const cJSON *machine;
    cJSON *input; /* owned until run */
    cJSON *output;
    core_err err;
    int rc;
    pthread_t thread;
    int started;
    /* Map: the iteration's place */
    const char *map_name;
    int index;
    atomic_int *fail_count;
    int tolerant; /* Map with a tolerated failure threshold: failures do not stop siblings */
} child;

static void *child_main(void *arg)
{
    child *c = arg;
    tl_index = c->b.ex->index;
    sfn_json_alloc_thread();
    const char *start = str_field(c->machine, "StartAt");
    cJSON *in = c->input;
    c->input = NULL;
    /* the parent's, when it runs the child on its own thread */
    const char *outer_name = tl_limit_name;
    size_t outer_grow = tl_out_grow, outer_whole = tl_out_whole;
    const state_slot *outer_slot = tl_slot; /* the parent's, when run inline */
    c->rc = run_states(&c->b, c->machine, start ? start : "", in, 0, NULL, &c->output, &c->err);
    tl_slot = outer_slot;
    tl_limit_name = outer_name;
    tl_out_grow = outer_grow;
    tl_out_whole = outer_whole;
    if (c->rc == RUN_FAIL && !c->tolerant && c->b.stop)
        atomic_store(c->b.stop, 1);
    return NULL;
}

static void child_init(child *c, branch *parent, atomic_int *stop, const cJSON *machine,
                       cJSON *input)
{
    memset(c, 0, sizeof *c);
    c->b.ex = parent->ex;
    c->b.top = 0;
    c->b.offset_ms = parent->offset_ms;
    c->b.prev_id = parent->prev_id;
    c->b.stop = stop;
    c->b.parent = parent;
    c->machine = machine;
    c->input = input;
    core_err_clear(&c->err);
}

static int run_parallel(branch *b, const char *name, const cJSON *state, const cJSON *input,
                        cJSON **out, const char **next, core_err *err)
{
    int *retries;
    retry_counters stack_retries;
    size_t n_retriers = load_retries(state, NULL, stack_retries, &retries);
    const cJSON *branches = field(state, "Branches");
    int n = cJSON_GetArraySize(branches);
    int result_rc = RUN_FAIL;
    for (;;) {
        cJSON *ctx = context_for(b, name, state, CTX_NOW, total_retries(retries, n_retriers));
        cJSON *eff_own = NULL, *par_own = NULL;
        const cJSON *effective = NULL, *params = NULL;
        int rc = input_path(state, input, ctx, &eff_own, &effective, err);
        if (rc == CORE_OK)
            rc = parameters(state, sf(state, F_PARAMETERS), effective, ctx, 0, &par_own, &params,
                            err);
        if (rc == CORE_OK) {
            emit(b, "ParallelStateStarted", NULL);
            checkpoint(b, name, input, retries, n_retriers, 1);
            atomic_int stop = 0;
            child *kids = calloc((size_t)n + 1, sizeof *kids);
            atomic_store(&b->ex->forked, 1);
            for (int i = 0; i < n; i++) {
                child_init(&kids[i], b, &stop, cJSON_GetArrayItem(branches, i),
                           cJSON_Duplicate(params, 1));
                kids[i].started = pthread_create(&kids[i].thread, NULL, child_main,
                                                 &kids[i]) == 0;
                if (!kids[i].started)
                    child_main(&kids[i]);
            }
            cJSON *results = cJSON_CreateArray();
            int failed = -1, cancelled = 0;
            for (int i = 0; i < n; i++) {
                if (kids[i].started)
                    pthread_join(kids[i].thread, NULL);
                if (kids[i].b.offset_ms > b->offset_ms)
                    b->offset_ms = kids[i].b.offset_ms;
                if (kids[i].rc == RUN_FAIL && failed < 0)
                    failed = i;
                if (kids[i].rc == RUN_CANCEL)
                    cancelled = 1;
                cJSON_AddItemToArray(results, kids[i].output ? kids[i].output : cJSON_CreateNull());
                kids[i].output = NULL;
            }
            if (failed >= 0) {
                *err = kids[failed].err;
                emit(b, "ParallelStateFailed", NULL);
                rc = CORE_ERROR;
            } else if (cancelled || is_cancelled(b)) {
                free(kids);
                cJSON_Delete(results);
                cJSON_Delete(par_own);
                cJSON_Delete(eff_own);
                cJSON_Delete(ctx);
                result_rc = RUN_CANCEL;
                break;
            } else {
                emit(b, "ParallelStateSucceeded", NULL);
                rc = finish_result(state, input, NULL, results, ctx, out, err);
                results = NULL;
            }
            free(kids);
            cJSON_Delete(results);
        }
        cJSON_Delete(par_own);
        cJSON_Delete(eff_own);
        cJSON_Delete(ctx);
        int end = attempt_end(b, name, state, input, rc, retries, n_retriers, err, out, next);
        if (end == ATTEMPT_AGAIN)
            continue;
        result_rc = end;
        break;
    }
    free_retries(retries, stack_retries);
    return result_rc;
}

typedef struct map_run {
    child *kids;
    int n;
    atomic_int next_slot; /* the slot the next map_worker takes */
    int slots;
    atomic_int *stop;
    branch *parent;
    const char *name;
} map_run;

static void emit_iteration(branch *b, const char *type, const char *name, int index)
{
    cJSON *root = cJSON_CreateObject();
    char key[64];
    snprintf(key, sizeof key, "%c%sEventDetails", type[0] + 32, type + 1);
    cJSON *d = details_obj(root, key);
    cJSON_AddStringToObject(d, "name", name);
    cJSON_AddNumberToObject(d, "index", index);
    emit(b, type, root);
}

/* One of MaxConcurrency slots: iterations slot, slot + slots, ... one after
 * the other, each starting when the one before it in the slot ended — in the
 * execution's time too, so under --time virtual a Map with MaxConcurrency 1
 * takes the sum of its iterations' waits, as on AWS, and the timestamps do not
 * depend on which thread the scheduler ran first. */
static void *map_worker(void *arg)
{
    map_run *mr = arg;
    int slot = atomic_fetch_add(&mr->next_slot, 1);
    int64_t slot_offset = mr->parent->offset_ms;
    for (int i = slot; slot < mr->slots && i < mr->n; i += mr->slots) {
        child *c = &mr->kids[i];
        if (c->b.offset_ms < slot_offset)
            c->b.offset_ms = slot_offset;
        if (atomic_load(mr->stop) || is_cancelled(mr->parent)) {
            c->rc = RUN_CANCEL;
            cJSON_Delete(c->input);
            c->input = NULL;
            continue;
        }
        emit_iteration(&c->b, "MapIterationStarted", mr->name, i);
        child_main(c);
        slot_offset = c->b.offset_ms;
        if (c->rc == RUN_OK)
            emit_iteration(&c->b, "MapIterationSucceeded", mr->name, i);
        else if (c->rc == RUN_FAIL)
            emit_iteration(&c->b, "MapIterationFailed", mr->name, i);
        else
            emit_iteration(&c->b, "MapIterationAborted", mr->name, i);
    }
    return NULL;
}

/* A Map limit (MaxConcurrency, ToleratedFailureCount, ToleratedFailurePercentage):
 * the field's number, or the number its ...Path field selects in the effective
 * input. *set is 0 when neither is given. A path that selects nothing, or not a
 * non-negative number, is States.Runtime. */
static int map_limit(const cJSON *state, const char *key, const cJSON *effective, double *out,
                     int *set, core_err *err)
{
    char path_key[48];
    snprintf(path_key, sizeof path_key, "%sPath", key);
    return number_or_path(field(state, key), str_field(state, path_key), path_key, effective, 0,
                          "a non-negative number", out, set, err);
}

static int run_map(branch *b, const char *name, const cJSON *state, const cJSON *input,
                   cJSON **out, const char **next, core_err *err)
{
    int *retries;
    retry_counters stack_retries;
    size_t n_retriers = load_retries(state, NULL, stack_retries, &retries);
    const cJSON *proc = field(state, "ItemProcessor");
    if (!proc)
        proc = field(state, "Iterator");
    const cJSON *selector = field(state, "ItemSelector");
    if (!selector)
        selector = sf(state, F_PARAMETERS);
    int result_rc = RUN_FAIL;
    for (;;) {
        cJSON *ctx = context_for(b, name, state, CTX_NOW, total_retries(retries, n_retriers));
        cJSON *eff_own = NULL, *items = NULL;
        const cJSON *effective = NULL;
        int rc = input_path(state, input, ctx, &eff_own, &effective, err);
        if (rc == CORE_OK) {
            const char *ip = str_field(state, "ItemsPath");
            if (sfn_path_get(effective, ctx, ip ? ip : "$", &items, err) != CORE_OK) {
                retype(err, "States.Runtime");
                rc = CORE_ERROR;
            } else if (!cJSON_IsArray(items)) {
                rc = core_err_set(err, 400, "States.Runtime",
                                  "Map state '%s': ItemsPath did not resolve to a JSON array",
                                  name);
            }
        }
        double mc_v = 0, tc_v = 0, tp_v = 0;
        int mc_set = 0, tc_set = 0, tp_set = 0;
        if (rc == CORE_OK)
            rc = map_limit(state, "MaxConcurrency", effective, &mc_v, &mc_set, err);
        if (rc == CORE_OK)
            rc = map_limit(state, "ToleratedFailureCount", effective, &tc_v, &tc_set, err);
        if (rc == CORE_OK)
            rc = map_limit(state, "ToleratedFailurePercentage", effective, &tp_v, &tp_set, err);
        if (rc == CORE_OK) {
            int n = cJSON_GetArraySize(items);
            cJSON *root = cJSON_CreateObject();
            cJSON_AddNumberToObject(details_obj(root, "mapStateStartedEventDetails"), "length", n);
            emit(b, "MapStateStarted", root);
            checkpoint(b, name, input, retries, n_retriers, 1);
            int tolerant = tc_set || tp_set;
            double tolerated = 0;
            if (tc_set)
                tolerated = tc_v;
            if (tp_set) {
                double byp = tp_v * n / 100.0;
                tolerated = tc_set && tc_v < byp ? tc_v : byp;
            }
            atomic_int stop = 0;
            child *kids = calloc((size_t)n + 1, sizeof *kids);
            int i = 0;
            const cJSON *item;
            cJSON_ArrayForEach(item, items)
            {
                child_init(&kids[i], b, &stop, proc, NULL);
                kids[i].b.map_item = item;
                kids[i].b.map_index = i;
                kids[i].tolerant = tolerant;
                cJSON *ictx = context_for(&kids[i].b, name, state, branch_now(b), 0);
                if (selector) {
                    if (sfn_payload_template(selector, effective, ictx, &kids[i].input, err) !=
                        CORE_OK)
                        rc = CORE_ERROR;
                } else {
                    kids[i].input = cJSON_Duplicate(item, 1);
                }
                cJSON_Delete(ictx);
                kids[i].b.map_item = NULL;
                i++;
            }
            if (rc == CORE_OK) {
                int mc = mc_set && mc_v < INT_MAX ? (int)mc_v : 0;
                int threads = mc > 0 ? mc : MAP_DEFAULT_THREADS;
                if (threads > n)
                    threads = n;
                map_run mr = {.kids = kids, .n = n, .stop = &stop, .parent = b, .name = name,
                              .slots = threads};
                atomic_init(&mr.next_slot, 0);
                pthread_t *th = calloc((size_t)threads + 1, sizeof *th);
                int started = 0;
                atomic_store(&b->ex->forked, 1);
                for (int t = 0; t < threads; t++)
                    if (pthread_create(&th[t], NULL, map_worker, &mr) == 0)
                        started++;
                for (int t = 0; t < started; t++)
                    pthread_join(th[t], NULL);
                while (atomic_load(&mr.next_slot) < threads) /* slots no thread could take */
                    map_worker(&mr);
                free(th);
                cJSON *results = cJSON_CreateArray();
                int failures = 0, first_fail = -1, cancelled = 0;
                for (int k = 0; k < n; k++) {
                    if (kids[k].b.offset_ms > b->offset_ms)
                        b->offset_ms = kids[k].b.offset_ms;
                    if (kids[k].rc == RUN_FAIL) {
                        failures++;
                        if (first_fail < 0)
                            first_fail = k;
                    } else if (kids[k].rc == RUN_CANCEL && !atomic_load(&stop)) {
                        cancelled = 1;
                    }
                    cJSON_AddItemToArray(results,
                                         kids[k].output ? kids[k].output : cJSON_CreateNull());
                    kids[k].output = NULL;
                }
                if (cancelled || is_cancelled(b)) {
                    rc = CORE_ERROR;
                    result_rc = RUN_CANCEL;
                } else if (failures && (!tolerant || failures > tolerated)) {
                    if (tolerant)
                        core_err_set(err, 400, "States.ExceedToleratedFailureThreshold",
                                     "The specified tolerated failure threshold was exceeded");
                    else
                        *err = kids[first_fail].err;
                    emit(b, "MapStateFailed", NULL);
                    rc = CORE_ERROR;
                } else {
                    emit(b, "MapStateSucceeded", NULL);
                    rc = finish_result(state, input, NULL, results, ctx, out, err);
                results = NULL;
                }
                cJSON_Delete(results);
            }
            for (int k = 0; k < n; k++) {
                cJSON_Delete(kids[k].input);
                cJSON_Delete(kids[k].output);
            }
            free(kids);
        }
        cJSON_Delete(items);
        cJSON_Delete(eff_own);
        cJSON_Delete(ctx);
        if (result_rc == RUN_CANCEL)
            break;
        int end = attempt_end(b, name, state, input, rc, retries, n_retriers, err, out, next);
        if (end == ATTEMPT_AGAIN)
            continue;
        result_rc = end;
        break;
    }
    free_retries(retries, stack_retries);
    return result_rc;
}

/* ---- the state loop ---------------------------------------------------------------------- */

enum state_kind { K_OTHER, K_PASS, K_TASK, K_CHOICE, K_WAIT, K_SUCCEED, K_FAIL, K_PARALLEL, K_MAP };

/* A state's Type as a number (the slot's, computed once per cached definition). */
static int kind_of(const char *type)
{
    static const char *const names[] = {"", "Pass", "Task", "Choice", "Wait", "Succeed", "Fail",
                                        "Parallel", "Map"};
    for (int k = K_PASS; k <= K_MAP; k++)
        if (!strcmp(type, names[k]))
            return k;
    return K_OTHER;
}

static int run_states(branch *b, const cJSON *machine, const char *start, cJSON *input,
                      int entered, const char *retries_json, cJSON **out, core_err *err)
{
    const cJSON *states = field(machine, "States");
    const char *name = start;
    *out = NULL;
    /* A branch enters its first state even when a sibling failed before its thread
     * ran (it then records <Type>StateAborted): branches start together on AWS, and
     * the history does not depend on which thread the scheduler ran first. */
    int first = !b->top;
    size_t in_bound = SIZE_MAX; /* of the input's size, for output_quota; unknown yet */
    const state_slot *hint = NULL; /* the next state's slot, when its Next chose it */
    /* input's text, printed for the state that output it (its StateExited event)
     * and reused, unchanged since, for the position and the next StateEntered */
    char *carried = NULL;
    for (;;) {
        if (deadline_hit(b) || (first ? exec_cancelled(b) : is_cancelled(b))) {
            free(carried);
            cJSON_Delete(input);
            return RUN_CANCEL;
        }
        const state_slot *slot = hint ? hint : index_find(b->ex->index, states, name);
        tl_slot = slot;
        const cJSON *state = slot ? slot->state : field(states, name);
        const char *type = slot ? slot->type : str_field(state, "Type");
        if (!state || !type) {
            free(carried);
            cJSON_Delete(input);
            core_err_set(err, 400, "States.Runtime", "State '%s' does not exist", name);
            return RUN_FAIL;
        }
        const int kind = slot ? slot->kind : kind_of(type);
        int64_t entered_id = 0; /* unknown when resumed inside the state */
        if (!entered) {
            emit_state(b, kind == K_FAIL ? "Fail" : type, "StateEntered", name, "input",
                       input, carried, NULL);
            entered_id = b->prev_id;
        }
        free(carried); /* the state may change its input from here on */
        carried = NULL;
        cJSON *output = NULL;
        const char *next = NULL;
        int rc;
        core_err_clear(err);
        tl_limit_name = name;
        tl_out_grow = tl_out_whole = SIZE_MAX;
        if (kind == K_PASS) {
            rc = run_pass(b, name, state, input, &output, err) == CORE_OK ? RUN_OK : RUN_FAIL;
            next = slot ? slot->next : sstr(state, F_NEXT);
        } else if (kind == K_TASK) {
            rc = run_task(b, name, state, input, &input, entered ? retries_json : NULL, &output,
                          &next,
                          err);
        } else if (kind == K_CHOICE) {
            rc = run_choice(b, name, state, input, &output, &next, err) == CORE_OK ? RUN_OK
                                                                                    : RUN_FAIL;
        } else if (kind == K_WAIT) {
            rc = run_wait(b, name, state, input, &output, err);
            next = slot ? slot->next : sstr(state, F_NEXT);
        } else if (kind == K_SUCCEED && !sf(state, F_INPUT_PATH) &&
                   !sf(state, F_OUTPUT_PATH)) {
            output = input; /* "$" and "$": the input itself, not a copy of it */
            input = NULL;
            rc = RUN_OK;
        } else if (kind == K_SUCCEED) {
            cJSON *ctx = context_for(b, name, state, CTX_NOW, 0);
            cJSON *eff_own = NULL;
            const cJSON *eff = NULL;
            rc = input_path(state, input, ctx, &eff_own, &eff, err) == CORE_OK &&
                         output_path(state, eff, ctx, &output, err) == CORE_OK
                     ? RUN_OK
                     : RUN_FAIL;
            cJSON_Delete(eff_own);
            cJSON_Delete(ctx);
        } else if (kind == K_FAIL) {
            rc = run_fail(b, name, state, input, err);
        } else if (kind == K_PARALLEL) {
            rc = run_parallel(b, name, state, input, &output, &next, err);
        } else if (kind == K_MAP) {
            rc = run_map(b, name, state, input, &output, &next, err);
        } else {
            core_err_set(err, 400, "States.Runtime", "Unknown state type '%s'", type);
            rc = RUN_FAIL;
        }
        entered = 0;
        first = 0;
        if (rc == RUN_OK && output_quota(type, state, output, name, &in_bound, err) != CORE_OK)
            rc = RUN_FAIL; /* the state's output, and so the execution's, over the quota */
        if (rc == RUN_FAIL && is_runtime(err) && entered_id && kind != K_FAIL &&
            strncmp(err->message, "An error occurred", 17) != 0) {
            /* AWS's wording for a runtime error inside a state. */
            char why[sizeof err->message];
            snprintf(why, sizeof why, "%s", err->message);
            core_err_set(err, 400, "States.Runtime",
                         "An error occurred while executing the state '%.200s' (entered at the "
                         "event id #%lld). %s", name, (long long)entered_id, why);
        }
        if (rc == RUN_CANCEL && !atomic_load(&b->ex->cancelled) && !b->ex->write_failed) {
            /* A sibling branch failed: AWS records the state cut short as <Type>StateAborted. */
            char ev[64];
            snprintf(ev, sizeof ev, "%sStateAborted", type);
            cJSON *root = cJSON_CreateObject();
            cJSON_AddStringToObject(details_obj(root, "stateExitedEventDetails"), "name", name);
            emit(b, ev, root);
        }
        if (rc != RUN_OK) {
            cJSON_Delete(input);
            cJSON_Delete(output);
            return rc;
        }
        int last = kind == K_SUCCEED || !next;
        if (kind != K_FAIL)
            emit_state(b, type, "StateExited", name, "output", output, NULL,
                       !last || b->top ? &carried : NULL);
        cJSON_Delete(input);
        input = output;
        if (last) {
            if (b->top) {
                free(b->out_text);
                b->out_text = carried;
            } else {
                free(carried);
            }
            *out = input;
            return RUN_OK;
        }
        if (b->top && !b->ex->ephemeral && !b->ex->express && b->ex->effect) {
            /* The side effect's result and the move to the next state: one commit. */
            const char *in = carried ? carried : sfn_json_print_borrowed(input, NULL);
            sfn_exec_update u = {.pos_state = next, .pos_input = in, .pos_entered = 0};
            flush(b, &u);
            b->ex->effect = b->ex->deferred = 0;
        } else if (b->top) {
            b->ex->deferred = 1; /* a pure step: commits with the next one that matters */
        }
        hint = slot && next == slot->next ? slot->next_slot : NULL;
        name = next;
    }
}

/* ---- definitions ---------------------------------------------------------------- */

static size_t slot_hash(const cJSON *states, const char *name)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)(uintptr_t)states;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return (size_t)(h ^ (h >> 29));
}

static size_t count_states(const cJSON *machine, int depth)
{
    size_t n = 0;
    const cJSON *st;
    if (depth > 16)
        return 0;
    cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(machine, "States"))
    {
        const cJSON *br;
        n++;
        cJSON_ArrayForEach(br, cJSON_GetObjectItemCaseSensitive(st, "Branches"))
        {
            n += count_states(br, depth + 1);
        }
        n += count_states(cJSON_GetObjectItemCaseSensitive(st, "ItemProcessor"), depth + 1);
        n += count_states(cJSON_GetObjectItemCaseSensitive(st, "Iterator"), depth + 1);
    }
    return n;
}

/* Index the states of machine (and of its Parallel branches and Map processors,
 * to the depth mark_context goes) into idx. A repeated name keeps the first, as
 * cJSON_GetObjectItemCaseSensitive finds. */
static void index_states(state_index *idx, cJSON *machine, int depth)
{
    cJSON *states = cJSON_GetObjectItemCaseSensitive(machine, "States"), *st;
    if (depth > 16 || !cJSON_IsObject(states))
        return;
    cJSON_ArrayForEach(st, states)
    {
        cJSON *br;
        if (st->string) {
            size_t i = slot_hash(states, st->string) & (idx->cap - 1);
            while (idx->slots[i].states &&
                   !(idx->slots[i].states == states && !strcmp(idx->slots[i].name, st->string)))
                i = (i + 1) & (idx->cap - 1);
            if (!idx->slots[i].states) {
                idx->slots[i] = (state_slot){.states = states, .name = st->string, .state = st,
                                             .type = str_field(st, "Type"),
                                             .next = str_field(st, "Next")};
                if (idx->slots[i].type)
                    idx->slots[i].kind = kind_of(idx->slots[i].type);
                for (int f = 0; f < F_N; f++)
                    idx->slots[i].f[f] = field(st, sfield_names[f]);
                idx->slots[i].parameters = sfn_template_compile(idx->slots[i].f[F_PARAMETERS]);
                idx->slots[i].result_selector =
                    sfn_template_compile(idx->slots[i].f[F_RESULT_SELECTOR]);
                const cJSON *res = idx->slots[i].f[F_RESOURCE];
                if (cJSON_IsString(res)) {
                    state_slot *sl = &idx->slots[i];
                    sfn_task_describe(res->valuestring, sl->rtype, sizeof sl->rtype, sl->rname,
                                      sizeof sl->rname, &sl->bare);
                    sl->described = 1;
                }
                if (cJSON_IsObject(st) && i < (size_t)(INT_MAX >> 2))
                    st->valueint = (st->valueint & 3) | (int)((i + 1) << 2);
            }
        }
        cJSON_ArrayForEach(br, cJSON_GetObjectItemCaseSensitive(st, "Branches"))
        {
            index_states(idx, br, depth + 1);
        }
        index_states(idx, cJSON_GetObjectItemCaseSensitive(st, "ItemProcessor"), depth + 1);
        index_states(idx, cJSON_GetObjectItemCaseSensitive(st, "Iterator"), depth + 1);
    }
}

/* The index of a parsed definition, or NULL (out of memory: lookups fall back). */
static state_index *index_new(cJSON *tree)
{
    size_t n = count_states(tree, 0), cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    state_index *idx = malloc(sizeof *idx);
    if (idx && !(idx->slots = calloc(cap, sizeof *idx->slots))) {
        free(idx);
        idx = NULL;
    }
    if (idx) {
        idx->cap = cap;
        index_states(idx, tree, 0);
        for (size_t i = 0; i < cap; i++) {
            state_slot *sl = &idx->slots[i];
            if (sl->states && sl->next)
                sl->next_slot = index_find(idx, sl->states, sl->next);
        }
    }
    return idx;
}

static void index_free(state_index *idx)
{
    for (size_t i = 0; idx && i < idx->cap; i++) {
        sfn_template_free(idx->slots[i].parameters);
        sfn_template_free(idx->slots[i].result_selector);
    }
    if (idx)
        free(idx->slots);
    free(idx);
}

/* The slot of state name in the States object states, or NULL when the index does
 * not hold that States object (then the caller searches the tree) or the name. */
static const state_slot *index_find(const state_index *idx, const cJSON *states, const char *name)
{
    if (!idx)
        return NULL;
    size_t i = slot_hash(states, name) & (idx->cap - 1);
    for (; idx->slots[i].states; i = (i + 1) & (idx->cap - 1))
        if (idx->slots[i].states == states && !strcmp(idx->slots[i].name, name))
            return &idx->slots[i];
    return NULL;
}

static void def_free(def_entry *e)
{
    if (!e)
        return;
    free(e->text);
    cJSON_Delete(e->tree);
    index_free(e->index);
    free(e);
}

/* Drop a reference (under def_lock). */
static void def_unref(def_entry *e)
{
    if (e && --e->refs == 0)
        def_free(e);
}

/* The cached definition of text, a reference the caller releases with
 * def_release; NULL if the text is not JSON (or out of memory). */
static def_entry *def_acquire(sfn_runtime *rt, const char *text)
{
    size_t len = strlen(text);
    pthread_mutex_lock(&rt->def_lock);
    def_entry *hit = NULL;
    int victim = 0;
    for (int i = 0; i < DEF_CACHE; i++) {
        def_entry *e = rt->defs[i];
        if (e && e->len == len && !memcmp(e->text, text, len)) {
            hit = e;
            break;
        }
        if (!e || (rt->defs[victim] && e->used < rt->defs[victim]->used))
            victim = i;
    }
    if (!hit) {
        /* parsed under the lock: rare (a new definition), and it keeps two threads
         * from parsing the same one at once */
        def_entry *e = calloc(1, sizeof *e);
        if (e && (e->tree = cJSON_Parse(text)) && (e->text = malloc(len + 1))) {
            memcpy(e->text, text, len + 1);
            e->len = len;
            mark_context(e->tree, 0);
            e->index = index_new(e->tree);
            e->refs = 1; /* the slot's */
            def_unref(rt->defs[victim]);
            rt->defs[victim] = hit = e;
        } else {
            def_free(e);
        }
    }
    if (hit) {
        hit->refs++;
        hit->used = ++rt->def_clock;
    }
    pthread_mutex_unlock(&rt->def_lock);
    return hit;
}

/* The cached definition stored under hash (a reference, as def_acquire's), or
 * NULL when no entry knows that hash yet. */
static def_entry *def_acquire_hash(sfn_runtime *rt, const char *hash)
{
    def_entry *hit = NULL;
    if (!hash[0])
        return NULL;
    pthread_mutex_lock(&rt->def_lock);
    for (int i = 0; i < DEF_CACHE; i++) {
        def_entry *e = rt->defs[i];
        if (e && !strcmp(e->hash, hash)) {
            hit = e;
            hit->refs++;
            hit->used = ++rt->def_clock;
            break;
        }
    }
    pthread_mutex_unlock(&rt->def_lock);
    return hit;
}

static void def_release(sfn_runtime *rt, def_entry *e)
{
    if (!e)
        return;
    pthread_mutex_lock(&rt->def_lock);
    def_unref(e);
    pthread_mutex_unlock(&rt->def_lock);
}

const sfn_definition *sfn_runtime_definition(sfn_runtime *rt, const char *text)
{
    return text ? def_acquire(rt, text) : NULL;
}

void sfn_runtime_definition_release(sfn_runtime *rt, const sfn_definition *d)
{
    def_release(rt, (def_entry *)d);
}

const char *sfn_definition_start_at(const sfn_definition *d)
{
    const cJSON *s = d ? cJSON_GetObjectItemCaseSensitive(d->tree, "StartAt") : NULL;
    return cJSON_IsString(s) ? s->valuestring : NULL;
}

int sfn_runtime_start_at(sfn_runtime *rt, const char *definition, char *out, size_t len)
{
    def_entry *d = definition ? def_acquire(rt, definition) : NULL;
    cJSON *own = NULL;
    const cJSON *tree = d ? d->tree : NULL;
    if (!tree && definition)
        tree = own = cJSON_Parse(definition);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(tree, "StartAt");
    int rc = cJSON_IsString(s) && strlen(s->valuestring) < len ? 0 : -1;
    if (!rc)
        memcpy(out, s->valuestring, strlen(s->valuestring) + 1);
    cJSON_Delete(own);
    def_release(rt, d);
    return rc;
}

/* ---- executions ----------------------------------------------------------------------- */

static cJSON *context_base(const sfn_exec_row *row, const cJSON *input)
{
    cJSON *c = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(c, "Execution");
    cJSON_AddStringToObject(e, "Id", row->arn);
    cJSON_AddItemToObject(e, "Input", cJSON_Duplicate(input, 1));
    cJSON_AddStringToObject(e, "Name", row->name);
    cJSON_AddStringToObject(e, "RoleArn", row->role_arn ? row->role_arn : "");
    char ts[40];
    core_log_format_time(row->start_ms, ts, sizeof ts);
    cJSON_AddStringToObject(e, "StartTime", ts);
    cJSON_AddNumberToObject(e, "RedriveCount", 0);
    cJSON *sm = cJSON_AddObjectToObject(c, "StateMachine");
    cJSON_AddStringToObject(sm, "Id", row->machine_arn);
    cJSON_AddStringToObject(sm, "Name", row->machine_name);
    return c;
}

static void active_add(sfn_runtime *rt, exec_ctx *ex)
{
    pthread_mutex_lock(&rt->lock);
    ex->next_active = rt->active;
    rt->active = ex;
    if (rt->stopping)
        atomic_store(&ex->cancelled, 1);
    pthread_mutex_unlock(&rt->lock);
}

static void active_remove(sfn_runtime *rt, exec_ctx *ex)
{
    pthread_mutex_lock(&rt->lock);
    for (exec_ctx **p = &rt->active; *p; p = &(*p)->next_active)
        if (*p == ex) {
            *p = ex->next_active;
            break;
        }
    pthread_mutex_unlock(&rt->lock);
}

/* The machine's deadline passed (root: an empty details object, consumed). As
 * AWS records it: one ExecutionTimedOut event with error States.Timeout and no
 * cause, previousEventId 0 (the service writes it, not a state), stamped with
 * the deadline itself; the execution TIMED_OUT (DescribeExecution shows no
 * error or cause: wire.c) and stopDate = startDate + TimeoutSeconds. */
static void close_timed_out(branch *b, cJSON *root)
{
    exec_ctx *ex = b->ex;
    cJSON_AddStringToObject(details_obj(root, "executionTimedOutEventDetails"), "error",
                            "States.Timeout");
    b->prev_id = 0;
    emit(b, "ExecutionTimedOut", root);
    /* a real-time task that returned late: the event is the deadline's, not now's */
    int64_t stop = ex->deadline_ms;
    pthread_mutex_lock(&ex->lock);
    if (ex->n_pending > 1 && ex->pending[ex->n_pending - 2].ev.ts_ms > stop)
        stop = ex->pending[ex->n_pending - 2].ev.ts_ms;
    if (ex->n_pending)
        ex->pending[ex->n_pending - 1].ev.ts_ms = stop;
    pthread_mutex_unlock(&ex->lock);
    /* the row keeps the error for the record; the wire leaves it out as AWS does */
    sfn_exec_update u = {.status = "TIMED_OUT", .error = "States.Timeout", .stop_ms = stop};
    flush(b, &u);
}

static void close_execution(branch *b, int rc, cJSON *output, const core_err *err)
{
    sfn_exec_update u = {0};
    if (rc == RUN_OK) {
        u.status = "SUCCEEDED";
        /* printed once, for the event and the row: the last StateExited's text, or
         * the thread's print buffer, which holds it until flush copies it (nothing
         * prints in between) */
        const char *text = b->ex->ephemeral && b->ex->value_out ? NULL
                           : b->out_text                         ? b->out_text
                                                 : sfn_json_print_borrowed(output, NULL);
        if (b->ex->ephemeral) {
            emit(b, "ExecutionSucceeded", NULL);
        } else {
            details_text t;
            dt_begin(&t, "executionSucceededEventDetails");
            dt_payload_text(&t, "output", text);
            emit_text(b, "ExecutionSucceeded", dt_end(&t));
        }
        u.output = b->ex->value_out ? NULL : text;
    } else if (rc == RUN_TIMEOUT) {
        close_timed_out(b, cJSON_CreateObject());
        return;
    } else {
        /* AWS leaves out what is empty: a States.Timeout of a task has no cause, a
         * Fail state may name neither error nor cause. */
        cJSON *root = cJSON_CreateObject();
        cJSON *d = details_obj(root, "executionFailedEventDetails");
        if (err->type[0])
            cJSON_AddStringToObject(d, "error", err->type);
        if (err->message[0])
            cJSON_AddStringToObject(d, "cause", err->message);
        emit(b, "ExecutionFailed", root);
        u.status = "FAILED";
        u.error = err->type[0] ? err->type : NULL;
        u.cause = err->message[0] ? err->message : NULL;
    }
    u.stop_ms = branch_now(b);
    flush(b, &u);
}

/* When the execution times out, in execution time: its start plus the machine's
 * TimeoutSeconds, within AWS's longest execution (a year for STANDARD, five
 * minutes for EXPRESS: past it AWS times the execution out whatever the
 * definition says). From the persisted start date, so a resumed execution keeps
 * its deadline rather than restarting the count. */
static int64_t exec_deadline(const exec_ctx *ex)
{
    int64_t cap_s = ex->express ? 300 : 365LL * 24 * 3600;
    const cJSON *tmo = cJSON_GetObjectItemCaseSensitive(ex->definition, "TimeoutSeconds");
    int64_t secs = cap_s;
    if (cJSON_IsNumber(tmo) && tmo->valuedouble >= 1 && tmo->valuedouble < (double)cap_s)
        secs = (int64_t)tmo->valuedouble;
    return ex->row.start_ms + secs * 1000;
}

/* Run the execution whose row ex holds (owned by ex) to its end. */
static void run_loaded(sfn_runtime *rt, exec_ctx *ex)
{
    ex->rt = rt;
    sfn_json_alloc_thread();
    pthread_mutex_init(&ex->lock, NULL);
    pthread_cond_init(&ex->wake, NULL);
    ex->next_id = ex->row.last_event_id + 1;
    ex->top_offset = ex->row.offset_ms;
    if (rt->opts.mocks && ex->row.test_case && ex->row.machine_name)
        ex->mock_case = sfn_mocks_case(rt->opts.mocks, ex->row.machine_name, ex->row.test_case);
    ex->express = ex->row.type && !strcmp(ex->row.type, "EXPRESS");
    const char *def_text = ex->definition_text ? ex->definition_text : ex->row.definition;
    if (!ex->def && def_text)
        ex->def = def_acquire(rt, def_text);
    ex->definition = ex->def ? ex->def->tree : NULL;
    ex->index = ex->def ? ex->def->index : NULL;
    if (!ex->definition && def_text)
        ex->definition = ex->own_definition = cJSON_Parse(def_text);
    ex->deadline_ms = exec_deadline(ex);
    if (ex->express)
        ex->wall_deadline_ms = core_clock_monotonic_ms() +
                               (rt->opts.express_wall_ms > 0 ? rt->opts.express_wall_ms : 300000);
    active_add(rt, ex);

    /* AWS's first state entered after ExecutionStarted has previousEventId 0. */
    branch top = {.ex = ex, .top = 1, .offset_ms = ex->row.offset_ms,
                  .prev_id = ex->row.last_event_id > 1 ? ex->row.last_event_id : 0};
    cJSON *input = ex->input_value ? cJSON_Duplicate(ex->input_value, 1)
                                   : cJSON_Parse(ex->row.pos_input ? ex->row.pos_input : "{}");
    cJSON *output = NULL;
    core_err run_err;
    core_err_clear(&run_err);
    const state_index *outer = tl_index;
    const state_slot *outer_slot = tl_slot;
    tl_index = ex->index;
    int rc = run_states(&top, ex->definition, ex->row.pos_state, input, ex->row.pos_entered,
                        ex->row.pos_retries, &output, &run_err);
    if (rc != RUN_CANCEL && !deadline_hit(&top) && !is_cancelled(&top)) {
        close_execution(&top, rc, output, &run_err);
        if (ex->value_out && rc == RUN_OK) {
            ex->output_value = output;
            output = NULL;
        }
    } else if (atomic_load(&ex->timed_out) && !ex->write_failed)
        close_execution(&top, RUN_TIMEOUT, NULL, &run_err); /* with the pending events */
    else if (atomic_load(&ex->history_full) && !ex->write_failed) {
        core_err_set(&run_err, 400, "States.Runtime",
                     "The execution reached the maximum number of history events (%d).",
                     SFN_MAX_EVENTS);
        close_execution(&top, RUN_FAIL, NULL, &run_err);
    }
    else if (!ex->deferred || ex->express || ex->ephemeral)
        flush(&top, NULL); /* what happened so far, for the record */
    /* else the pending events are of pure steps a resume redoes from the committed
     * position: writing them would record those steps twice */
    cJSON_Delete(output);
    free(top.out_text);
    tl_index = outer;
    tl_slot = outer_slot;

    active_remove(rt, ex);
    for (size_t i = 0; i < ex->n_pending; i++)
        free(ex->pending[i].ev.details);
    free(ex->pending);
    free(ex->mock_counts);
    cJSON_Delete(ex->own_definition);
    def_release(rt, ex->def);
    cJSON_Delete(ex->ctx_base);
    pthread_cond_destroy(&ex->wake);
    pthread_mutex_destroy(&ex->lock);
}

int sfn_runtime_run(sfn_runtime *rt, const char *arn, core_err *err)
{
    exec_ctx *ex = calloc(1, sizeof *ex);
    if (!ex)
        return core_err_set(err, 500, "InternalFailure", "out of memory");
    /* The definition by its hash: the parsed one this runtime holds, or the text
     * read (and parsed, and remembered under its hash) once. */
    char hash[65];
    if (sfn_model_exec_get_for_run(rt->opts.model, arn, &ex->row, hash, err) != CORE_OK) {
        free(ex);
        return CORE_ERROR;
    }
    if (!strcmp(ex->row.status, "RUNNING") && ex->row.pos_state) {
        ex->def = def_acquire_hash(rt, hash);
        if (!ex->def &&
            sfn_model_definition(rt->opts.model, hash, &ex->row.definition, err) != CORE_OK) {
            sfn_exec_row_release(&ex->row);
            free(ex);
            return CORE_ERROR;
        }
        if (!ex->def && ex->row.definition && (ex->def = def_acquire(rt, ex->row.definition))) {
            pthread_mutex_lock(&rt->def_lock);
            snprintf(ex->def->hash, sizeof ex->def->hash, "%s", hash);
            pthread_mutex_unlock(&rt->def_lock);
        }
        run_loaded(rt, ex);
    }
    sfn_exec_row_release(&ex->row);
    free(ex);
    return CORE_OK;
}

static int run_ephemeral(sfn_runtime *rt, def_entry *def, const sfn_exec_row *in,
                         const cJSON *input, const char *start_at, sfn_exec_row *out,
                         cJSON **output, core_err *err)
{
    memset(out, 0, sizeof *out);
    exec_ctx *ex = calloc(1, sizeof *ex);
    if (!ex) {
        def_release(rt, def);
        return core_err_set(err, 500, "InternalFailure", "out of memory");
    }
    /* The caller's strings, borrowed for the run (it holds them until we return):
     * only what the run produces is allocated, and handed back. */
    sfn_exec_row *r = &ex->row;
    r->arn = in->arn;
    r->machine_arn = in->machine_arn;
    r->machine_name = in->machine_name;
    r->name = in->name;
    r->input = in->input;
    r->role_arn = in->role_arn;
    r->type = in->type;
    r->test_case = in->test_case;
    r->start_ms = in->start_ms;
    r->pos_state = (char *)start_at;
    r->pos_input = in->input;
    r->last_event_id = 1;
    ex->def = def;
    ex->definition_text = def ? NULL : in->definition; /* 15 KB not copied */
    ex->ephemeral = 1;
    ex->input_value = input;
    ex->value_out = output != NULL;
    run_loaded(rt, ex);
    if (output)
        *output = ex->output_value;
    out->status = r->status; /* NULL if the runtime stopped it first */
    out->output = r->output;
    out->error = r->error;
    out->cause = r->cause;
    out->start_ms = r->start_ms;
    out->stop_ms = r->stop_ms;
    free(ex);
    return CORE_OK;
}

int sfn_runtime_run_ephemeral(sfn_runtime *rt, const sfn_exec_row *in, const char *start_at,
                              sfn_exec_row *out, core_err *err)
{
    return run_ephemeral(rt, NULL, in, NULL, start_at, out, NULL, err);
}

static def_entry *def_hold(sfn_runtime *rt, const sfn_definition *def)
{
    def_entry *d = (def_entry *)def;
    if (d) { /* the run's own reference, released when it ends */
        pthread_mutex_lock(&rt->def_lock);
        d->refs++;
        pthread_mutex_unlock(&rt->def_lock);
    }
    return d;
}

int sfn_runtime_run_ephemeral_def(sfn_runtime *rt, const sfn_definition *def,
                                  const sfn_exec_row *in, const char *start_at, sfn_exec_row *out,
                                  core_err *err)
{
    return run_ephemeral(rt, def_hold(rt, def), in, NULL, start_at, out, NULL, err);
}

int sfn_runtime_run_value(sfn_runtime *rt, const sfn_definition *def, const sfn_exec_row *in,
                          const cJSON *input, const char *start_at, sfn_exec_row *out,
                          cJSON **output, core_err *err)
{
    static const cJSON empty = {.type = cJSON_Object};
    *output = NULL;
    return run_ephemeral(rt, def_hold(rt, def), in, input ? input : &empty, start_at, out, output,
                         err);
}

/* ---- the pool ------------------------------------------------------------------------------ */

static void *worker_main(void *arg)
{
    sfn_runtime *rt = arg;
    pthread_mutex_lock(&rt->lock);
    for (;;) {
        while (!rt->head && !rt->stopping)
            pthread_cond_wait(&rt->cond, &rt->lock);
        if (rt->stopping)
            break;
        job *j = rt->head;
        rt->head = j->next;
        if (!rt->head)
            rt->tail = NULL;
        rt->running++;
        pthread_mutex_unlock(&rt->lock);
        core_err err;
        core_err_clear(&err);
        if (sfn_runtime_run(rt, j->arn, &err) != CORE_OK)
            core_log(CORE_LOG_ERROR, "stepfunctions", NULL, "%s: %s", j->arn, err.message);
        free(j->arn);
        free(j);
        pthread_mutex_lock(&rt->lock);
        rt->running--;
        if (!rt->head && !rt->running)
            pthread_cond_broadcast(&rt->idle_cond);
    }
    pthread_mutex_unlock(&rt->lock);
    return NULL;
}

sfn_runtime *sfn_runtime_new(const sfn_runtime_opts *opts)
{
    sfn_runtime *rt = calloc(1, sizeof *rt);
    if (!rt)
        return NULL;
    rt->opts = *opts;
    if (!rt->opts.region)
        rt->opts.region = "us-east-1";
    int n = opts->workers > 0 ? opts->workers : 4;
    pthread_mutex_init(&rt->lock, NULL);
    pthread_mutex_init(&rt->def_lock, NULL);
    pthread_cond_init(&rt->cond, NULL);
    pthread_cond_init(&rt->idle_cond, NULL);
    rt->threads = calloc((size_t)n, sizeof *rt->threads);
    for (int i = 0; rt->threads && i < n; i++)
        if (pthread_create(&rt->threads[rt->n_threads], NULL, worker_main, rt) == 0)
            rt->n_threads++;
    return rt;
}

void sfn_runtime_free(sfn_runtime *rt)
{
    if (!rt)
        return;
    pthread_mutex_lock(&rt->lock);
    rt->stopping = 1;
    for (exec_ctx *ex = rt->active; ex; ex = ex->next_active) {
        atomic_store(&ex->cancelled, 1);
        pthread_mutex_lock(&ex->lock);
        pthread_cond_broadcast(&ex->wake);
        pthread_mutex_unlock(&ex->lock);
    }
    pthread_cond_broadcast(&rt->cond);
    pthread_mutex_unlock(&rt->lock);
    for (int i = 0; i < rt->n_threads; i++)
        pthread_join(rt->threads[i], NULL);
    while (rt->head) {
        job *j = rt->head;
        rt->head = j->next;
        free(j->arn);
        free(j);
    }
    free(rt->threads);
    for (int i = 0; i < DEF_CACHE; i++)
        def_unref(rt->defs[i]); /* nothing runs now: the last reference */
    pthread_mutex_destroy(&rt->def_lock);
    pthread_cond_destroy(&rt->idle_cond);
    pthread_cond_destroy(&rt->cond);
    pthread_mutex_destroy(&rt->lock);
    free(rt);
}

int sfn_runtime_submit(sfn_runtime *rt, const char *arn, core_err *err)
{
    job *j = calloc(1, sizeof *j);
    if (!j || !(j->arn = strdup(arn))) {
        free(j);
        return core_err_set(err, 500, "InternalFailure", "out of memory");
    }
    pthread_mutex_lock(&rt->lock);
    if (rt->tail)
        rt->tail->next = j;
    else
        rt->head = j;
    rt->tail = j;
    pthread_cond_signal(&rt->cond);
    pthread_mutex_unlock(&rt->lock);
    return CORE_OK;
}

int sfn_runtime_resume_all(sfn_runtime *rt, core_err *err)
{
    char **arns;
    size_t n;
    if (sfn_model_exec_running(rt->opts.model, &arns, &n, err) != CORE_OK)
        return CORE_ERROR;
    int queued = 0;
    for (size_t i = 0; i < n; i++) {
        if (arns[i] && strstr(arns[i], ":express:")) {
            /* At-most-once: an Express execution cut short is not run again. */
            core_err e2;
            sfn_model_exec_abort(rt->opts.model, arns[i], "States.Runtime",
                                 "The emulator stopped while this Express execution ran; Express "
                                 "executions are at-most-once and are not resumed",
                                 core_clock_now_ms(rt->opts.clock), &e2);
        } else if (arns[i] && sfn_runtime_submit(rt, arns[i], err) == CORE_OK) {
            queued++;
        }
        free(arns[i]);
    }
    free(arns);
    return queued;
}

int sfn_runtime_stop(sfn_runtime *rt, const char *arn, const char *error, const char *cause,
                     int64_t *stop_ms, core_err *err)
{
    int64_t now = core_clock_now_ms(rt->opts.clock);
    pthread_mutex_lock(&rt->lock);
    for (exec_ctx *ex = rt->active; ex; ex = ex->next_active)
        if (!strcmp(ex->row.arn, arn)) {
            now += ex->top_offset; /* the execution's own time */
            break;
        }
    pthread_mutex_unlock(&rt->lock);
    int rc = sfn_model_exec_abort(rt->opts.model, arn, error, cause, now, err);
    if (rc < 0)
        return CORE_ERROR;
    *stop_ms = now;
    pthread_mutex_lock(&rt->lock);
    for (exec_ctx *ex = rt->active; ex; ex = ex->next_active)
        if (!strcmp(ex->row.arn, arn)) {
            atomic_store(&ex->cancelled, 1);
            pthread_mutex_lock(&ex->lock);
            pthread_cond_broadcast(&ex->wake);
            pthread_mutex_unlock(&ex->lock);
        }
    pthread_mutex_unlock(&rt->lock);
    return CORE_OK;
}

int sfn_runtime_wait_idle(sfn_runtime *rt, int64_t timeout_ms)
{
    int64_t deadline = core_clock_monotonic_ms() + timeout_ms;
    pthread_mutex_lock(&rt->lock);
    while ((rt->head || rt->running) && core_clock_monotonic_ms() < deadline) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&rt->idle_cond, &rt->lock, &ts);
    }
    int busy = rt->head || rt->running;
    pthread_mutex_unlock(&rt->lock);
    return busy ? -1 : 0;
}
