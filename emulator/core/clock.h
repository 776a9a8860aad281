/*
 * clock.h — the emulator's notion of "now": real, or virtual for tests.
 *
 * Every service asks this clock, never time(): token expiry, TTL sweeps, retry
 * waits and Wait states all read core_clock_now_ms. In virtual mode time stands
 * still until something advances it — a test, or a sleeper: core_clock_sleep_ms
 * returns at once having moved the clock forward by the requested amount, so a
 * saga with minutes of retry back-off finishes in microseconds while every
 * recorded timestamp still shows the waits AWS would have done.
 *
 * The clock is thread-safe. Virtual time never goes backwards.
 */
#ifndef CORE_CLOCK_H
#define CORE_CLOCK_H

#include <stdint.h>

typedef struct core_clock core_clock;

typedef enum core_clock_mode {
    CORE_CLOCK_REAL = 0,
    CORE_CLOCK_VIRTUAL,
} core_clock_mode;

/* A new clock. In virtual mode it starts at start_ms (epoch milliseconds), or at
 * the real time now if start_ms is 0. Returns NULL on allocation failure. */
core_clock *core_clock_new(core_clock_mode mode, int64_t start_ms);

/* Free the clock; NULL is a no-op. */
void core_clock_free(core_clock *clock);

core_clock_mode core_clock_get_mode(const core_clock *clock);

/* Parse "real" | "virtual". Returns 0, or -1 if unknown. */
int core_clock_mode_parse(const char *name, core_clock_mode *out);

/* Now, in epoch milliseconds. */
int64_t core_clock_now_ms(core_clock *clock);

/* Virtual mode: move time forward by delta_ms (negative deltas are ignored).
 * Real mode: no effect. Returns the new now. */
int64_t core_clock_advance_ms(core_clock *clock, int64_t delta_ms);

/* Wait delta_ms: real mode sleeps; virtual mode advances the clock and returns. */
void core_clock_sleep_ms(core_clock *clock, int64_t delta_ms);

/* Monotonic milliseconds since an arbitrary point, for durations and deadlines
 * of the emulator itself (never virtual). */
int64_t core_clock_monotonic_ms(void);

/* Monotonic microseconds, same origin as core_clock_monotonic_ms. */
int64_t core_clock_monotonic_us(void);

#endif
