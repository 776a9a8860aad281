/*
 * forkrun.c — a Criterion-compatible runner that forks one child per test
 * instead of exec'ing a fresh worker, for the valgrind stage.
 *
 * Criterion (through BoxFort) runs every test in a worker it starts with
 * execve() of the test binary.  Under `valgrind --trace-children=yes` each
 * exec is a new valgrind: the tool starts again, re-reads the debug info of
 * the forty-odd shared libraries that libcriterion and libcurl pull in, and
 * re-translates the dynamic loader, Criterion's start-up and every line of
 * our code.  That is ~1 s per test on this machine, for tests that run in
 * milliseconds natively.
 *
 * This file is linked instead of libcriterion into a second copy of each unit
 * suite (build/tests/unit-vg/).  Its main() reads the same registry the
 * Test()/TestSuite() macros build (the pointers in the cr_tst and cr_sts
 * sections), and runs each test in a child made with fork().  The child is
 * still a separate process under memcheck with its own log (valgrind follows
 * forks and reopens --log-file=%p per pid), starts from the same state a
 * fresh worker would (no test code has run in the parent), and its leak check
 * at exit covers exactly that test; but valgrind's start-up and translations
 * are paid once per suite instead of once per test.
 *
 * What a test may use is what the macros expand to: the assertion entry
 * points (criterion_send_assert, criterion_abort_test, ...), fixtures (.init,
 * .fini on the suite and the test), .exit_code, .signal, .timeout and
 * .disabled, cr_log and cr_skip_test.  Parameterized tests and theories are
 * not implemented: a suite that uses them fails to link here, naming the
 * missing symbol, rather than being skipped silently.  The native `make unit`
 * stage still runs every suite under Criterion itself.
 *
 * Output: a "[FAIL]" line per failing test and Criterion's closing line
 * ("[====] Synthesis: Tested: N | Passing: N | Failing: N | Crashing: N"),
 * which scripts/run-tests.sh reads; exit status 0 only if every test passed.
 */
#include <criterion/abort.h>
#include <criterion/event.h>
#include <criterion/logging.h>
#include <criterion/options.h>
#include <criterion/stats.h>
#include <criterion/types.h>
#include <criterion/internal/asprintf-compat.h>
#include <criterion/internal/assert.h>
#include <criterion/internal/test.h>

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The registries the macros fill (GNU ld names the bounds of a section whose
 * name is a C identifier; weak, as a file without TestSuite() has no cr_sts). */
extern struct criterion_test *__start_cr_tst[] __attribute__((weak));
extern struct criterion_test *__stop_cr_tst[] __attribute__((weak));
extern struct criterion_suite *__start_cr_sts[] __attribute__((weak));
extern struct criterion_suite *__stop_cr_sts[] __attribute__((weak));

/* Entries between two section bounds (counted as integers: the bounds are
 * distinct symbols to the compiler). */
static size_t section_count(const void *start, const void *stop)
{
    return start ? ((uintptr_t)stop - (uintptr_t)start) / sizeof(void *) : 0;
}

/* Read by cr_assert's expansion; zero is Criterion's default. */
struct criterion_options criterion_options;

/* What the child reports through its pipe just before it exits. */
enum { RESULT_PASSED = 'P', RESULT_FAILED = 'F', RESULT_SKIPPED = 'S' };

/* The test running in this process (children only). */
static const struct criterion_test *current_test;
static const struct criterion_suite *current_suite;
static int result_fd = -1;
static int failed_asserts;
/* Where criterion_abort_test returns to: the test body while it runs, else the
 * runner's frame around the whole test. */
static jmp_buf outer_jump, main_jump;
static jmp_buf *abort_jump;

static void child_finish(char result)
{
    if (write(result_fd, &result, 1) != 1)
        perror("forkrun: result pipe");
    fflush(NULL);
    exit(0);
}

int cr_asprintf(char **strp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(strp, fmt, ap);
    va_end(ap);
    if (n < 0)
        *strp = NULL;
    return n;
}

void cr_asprintf_free(char *buf)
{
    free(buf);
}

char *cr_translate_assert_msg(int msg_index, ...)
{
    static const char *const formats[] = {
        [CRITERION_ASSERT_MSG_FAIL] = "The conditions for this assertion were not met.",
        [CRITERION_ASSERT_MSG_EXPR_FALSE] = "The expression %s is false.",
        [CRITERION_ASSERT_MSG_EXPR_AS_STRINGS_FALSE] = "The expression (as strings) %s is false.",
        [CRITERION_ASSERT_MSG_IS_NULL] = "%s is null.",
        [CRITERION_ASSERT_MSG_IS_NOT_NULL] = "%s is not null.",
        [CRITERION_ASSERT_MSG_IS_EMPTY] = "%s is empty.",
        [CRITERION_ASSERT_MSG_IS_NOT_EMPTY] = "%s is not empty.",
    };
    const char *fmt = "assertion failed (%s)";
    if (msg_index >= 0 && (size_t)msg_index < sizeof formats / sizeof formats[0]
        && formats[msg_index])
        fmt = formats[msg_index];
    char *out = NULL;
    va_list ap;
    va_start(ap, msg_index);
    if (vasprintf(&out, fmt, ap) < 0)
        out = NULL;
    va_end(ap);
    return out;
}

void cri_asserts_passed_incr(void)
{
}

void criterion_send_assert(struct criterion_assert_stats *stats)
{
    if (stats->passed)
        return;
    failed_asserts++;
    fprintf(stderr, "[----] %s:%u: Assertion Failed\n[----]   %s\n", stats->file, stats->line,
            stats->message ? stats->message : "");
}

void criterion_abort_test(void)
{
    longjmp(*abort_jump, 1);
}

void criterion_continue_test(void)
{
}

void criterion_skip_test(const char *format, ...)
{
    if (format) {
        va_list ap;
        va_start(ap, format);
        fprintf(stderr, "[SKIP] ");
        vfprintf(stderr, format, ap);
        fprintf(stderr, "\n");
        va_end(ap);
    }
    child_finish(RESULT_SKIPPED);
    abort(); /* not reached */
}

void criterion_test_die(const char *msg, ...)
{
    va_list ap;
    va_start(ap, msg);
    fprintf(stderr, "[----] ");
    vfprintf(stderr, msg, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    child_finish(RESULT_FAILED);
}

void cr_log(enum criterion_severity severity, const char *msg, ...)
{
    static const char *const tags[] = { "[----] ", "[WARN] ", "[ERR ] " };
    va_list ap;
    va_start(ap, msg);
    fputs(tags[severity <= CR_LOG_ERROR ? severity : CR_LOG_ERROR], stderr);
    vfprintf(stderr, msg, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void criterion_internal_test_setup(void)
{
    if (current_suite && current_suite->data && current_suite->data->init)
        current_suite->data->init();
    if (current_test->data->init)
        current_test->data->init();
}

void criterion_internal_test_main(void (*fn)(void))
{
    abort_jump = &main_jump;
    if (!setjmp(main_jump))
        fn();
    abort_jump = &outer_jump;
}

void criterion_internal_test_teardown(void)
{
    if (current_test->data->fini)
        current_test->data->fini();
    if (current_suite && current_suite->data && current_suite->data->fini)
        current_suite->data->fini();
}

/* A test's setting, or else its suite's (Criterion merges them so). */
static const struct criterion_test_extra_data *suite_data(const struct criterion_suite *s)
{
    return s ? s->data : NULL;
}

static int test_signal(const struct criterion_test *t, const struct criterion_suite *s)
{
    if (t->data->signal)
        return t->data->signal;
    return suite_data(s) ? suite_data(s)->signal : 0;
}

static int test_exit_code(const struct criterion_test *t, const struct criterion_suite *s)
{
    if (t->data->exit_code)
        return t->data->exit_code;
    return suite_data(s) ? suite_data(s)->exit_code : 0;
}

static double test_timeout(const struct criterion_test *t, const struct criterion_suite *s)
{
    if (t->data->timeout > 0)
        return t->data->timeout;
    return suite_data(s) ? suite_data(s)->timeout : 0;
}

static int test_disabled(const struct criterion_test *t, const struct criterion_suite *s)
{
    return t->data->disabled || (suite_data(s) && suite_data(s)->disabled);
}

static const struct criterion_suite *suite_of(const struct criterion_test *t)
{
    size_t n = section_count(__start_cr_sts, __stop_cr_sts);
    for (size_t i = 0; i < n; i++)
        if (__start_cr_sts[i] && strcmp(__start_cr_sts[i]->name, t->category) == 0)
            return __start_cr_sts[i];
    return NULL;
}

/* One running child. */
struct job {
    pid_t pid;
    int fd;
    const struct criterion_test *test;
    const struct criterion_suite *suite;
};

/* Runs in the child: never returns. */
static void child_run(const struct criterion_test *t, const struct criterion_suite *s, int fd)
{
    current_test = t;
    current_suite = s;
    result_fd = fd;
    double timeout = test_timeout(t, s);
    if (timeout > 0)
        alarm((unsigned)ceil(timeout));
    if (t->data->kind_ != CR_TEST_NORMAL) {
        fprintf(stderr, "[----] %s::%s: only plain Test()s run here\n", t->category, t->name);
        child_finish(RESULT_FAILED);
    }
    abort_jump = &outer_jump;
    if (!setjmp(outer_jump))
        t->test();
    child_finish(failed_asserts ? RESULT_FAILED : RESULT_PASSED);
}

static struct {
    size_t tested, passing, failing, crashing, skipped;
} totals;

/* Judges a finished child as Criterion would, and counts it. */
static void job_judge(const struct job *j, int status)
{
    char result = 0;
    if (read(j->fd, &result, 1) != 1)
        result = 0;
    close(j->fd);
    const char *why = NULL;
    int want_signal = test_signal(j->test, j->suite);
    int want_exit = test_exit_code(j->test, j->suite);
    int crashed = 0;
    if (result == RESULT_SKIPPED && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        totals.skipped++;
        return;
    }
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        if (sig != want_signal) {
            crashed = 1;
            why = sig == SIGALRM ? "timed out" : strsignal(sig);
        }
    } else if (want_signal) {
        why = "the expected signal was not raised";
    } else if (result == RESULT_FAILED) {
        why = "assertion failed";
    } else if (result == RESULT_PASSED) {
        if (WEXITSTATUS(status) != 0)
            why = WEXITSTATUS(status) == 99 ? "memcheck reported errors" : "non-zero exit";
        else if (want_exit)
            why = "the expected exit code was not returned";
    } else if (WEXITSTATUS(status) != want_exit) {
        crashed = WEXITSTATUS(status) != 99;
        why = crashed ? "exited in the middle of the test" : "memcheck reported errors";
    }
    totals.tested++;
    if (!why) {
        totals.passing++;
        return;
    }
    if (crashed)
        totals.crashing++;
    else
        totals.failing++;
    fprintf(stderr, "[%s] %s::%s: %s\n", crashed ? "CRASH" : "FAIL", j->test->category,
            j->test->name, why);
}

static int usage(const char *argv0)
{
    fprintf(stderr, "usage: %s [-l|--list] [-jN|--jobs N] [--filter PATTERN]\n", argv0);
    return 2;
}

int main(int argc, char **argv)
{
    int jobs = 1, list = 0;
    const char *pattern = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-l") == 0 || strcmp(a, "--list") == 0)
            list = 1;
        else if (strncmp(a, "-j", 2) == 0 && a[2])
            jobs = atoi(a + 2);
        else if ((strcmp(a, "-j") == 0 || strcmp(a, "--jobs") == 0) && i + 1 < argc)
            jobs = atoi(argv[++i]);
        else if (strcmp(a, "--filter") == 0 && i + 1 < argc)
            pattern = argv[++i];
        else
            return usage(argv[0]);
    }
    if (jobs < 1)
        jobs = 1;

    struct job *running = calloc((size_t)jobs, sizeof *running);
    if (!running)
        return 1;
    int active = 0;
    size_t n_tests = section_count(__start_cr_tst, __stop_cr_tst);
    for (size_t i = 0;; i++) {
        /* Start the next test, or wait for a slot (and after the last test,
         * for every child). */
        const struct criterion_test *t = i < n_tests ? __start_cr_tst[i] : NULL;
        int done = i >= n_tests;
        if (!done && !t)
            continue;
        if (t) {
            char id[512];
            snprintf(id, sizeof id, "%s/%s", t->category, t->name);
            if (pattern && fnmatch(pattern, id, 0) != 0)
                continue;
            if (list) {
                printf("%s::%s\n", t->category, t->name);
                continue;
            }
        }
        const struct criterion_suite *s = t ? suite_of(t) : NULL;
        if (t && test_disabled(t, s)) {
            totals.skipped++;
            continue;
        }
        while (active == jobs || (done && active > 0)) {
            int status;
            pid_t pid = waitpid(-1, &status, 0);
            if (pid < 0) {
                if (errno == EINTR)
                    continue;
                perror("forkrun: waitpid");
                return 1;
            }
            for (int k = 0; k < jobs; k++)
                if (running[k].pid == pid) {
                    job_judge(&running[k], status);
                    running[k].pid = 0;
                    active--;
                }
        }
        if (done)
            break;
        /* Close-on-exec: a process the test starts must not hold the pipe open. */
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0) {
            perror("forkrun: pipe");
            return 1;
        }
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
            perror("forkrun: fork");
            return 1;
        }
        if (pid == 0) {
            close(fds[0]);
            for (int k = 0; k < jobs; k++)
                if (running[k].pid)
                    close(running[k].fd);
            child_run(t, s, fds[1]);
        }
        close(fds[1]);
        for (int k = 0; k < jobs; k++)
            if (!running[k].pid) {
                running[k] = (struct job){ pid, fds[0], t, s };
                active++;
                break;
            }
    }
    free(running);
    if (list)
        return 0;
    printf("[====] Synthesis: Tested: %zu | Passing: %zu | Failing: %zu | Crashing: %zu \n",
           totals.tested, totals.passing, totals.failing, totals.crashing);
    return totals.tested == totals.passing ? 0 : 1;
}
