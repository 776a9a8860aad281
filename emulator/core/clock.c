/*
 * clock.c — real and virtual time. See clock.h.
 */
#include "core/clock.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct core_clock {
    core_clock_mode mode;
    pthread_mutex_t lock;
    int64_t virtual_ms; /* virtual mode only */
};

static int64_t real_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

core_clock *core_clock_new(core_clock_mode mode, int64_t start_ms)
{
    core_clock *clock = calloc(1, sizeof *clock);
    if (!clock)
        return NULL;
    clock->mode = mode;
    pthread_mutex_init(&clock->lock, NULL);
    clock->virtual_ms = start_ms > 0 ? start_ms : real_now_ms();
    return clock;
}

void core_clock_free(core_clock *clock)
{
    if (!clock)
        return;
    pthread_mutex_destroy(&clock->lock);
    free(clock);
}

core_clock_mode core_clock_get_mode(const core_clock *clock)
{
    return clock->mode;
}

int core_clock_mode_parse(const char *name, core_clock_mode *out)
{
    if (strcmp(name, "real") == 0)
        *out = CORE_CLOCK_REAL;
    else if (strcmp(name, "virtual") == 0)
        *out = CORE_CLOCK_VIRTUAL;
    else
        return -1;
    return 0;
}

int64_t core_clock_now_ms(core_clock *clock)
{
    if (clock->mode == CORE_CLOCK_REAL)
        return real_now_ms();
    pthread_mutex_lock(&clock->lock);
    int64_t now = clock->virtual_ms;
    pthread_mutex_unlock(&clock->lock);
    return now;
}

int64_t core_clock_advance_ms(core_clock *clock, int64_t delta_ms)
{
    if (clock->mode == CORE_CLOCK_REAL)
        return real_now_ms();
    pthread_mutex_lock(&clock->lock);
    if (delta_ms > 0)
        clock->virtual_ms += delta_ms;
    int64_t now = clock->virtual_ms;
    pthread_mutex_unlock(&clock->lock);
    return now;
}

void core_clock_sleep_ms(core_clock *clock, int64_t delta_ms)
{
    if (delta_ms <= 0)
        return;
    if (clock->mode == CORE_CLOCK_VIRTUAL) {
        core_clock_advance_ms(clock, delta_ms);
        return;
    }
    struct timespec ts = {.tv_sec = delta_ms / 1000, .tv_nsec = (delta_ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int64_t core_clock_monotonic_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t core_clock_monotonic_ms(void)
{
    return core_clock_monotonic_us() / 1000;
}
