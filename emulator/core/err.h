/*
 * err.h — the error object every fallible function of the emulator fills.
 *
 * A model function returns CORE_OK or CORE_ERROR and, on error, fills a
 * caller-owned core_err with an AWS error type ("ValidationException"), a human
 * message, and the HTTP status the wire layer should answer with. The wire layer
 * alone turns it into the service's envelope ({"__type": ..., "message": ...}).
 * Nothing here allocates: the struct is fixed-size so it can live on the stack.
 */
#ifndef CORE_ERR_H
#define CORE_ERR_H

#define CORE_OK 0
#define CORE_ERROR (-1)

typedef struct core_err {
    int status;          /* HTTP status the wire layer should use (400, 404, 500...) */
    char type[96];       /* AWS error type, e.g. "ResourceNotFoundException" */
    char message[1024];  /* human message, AWS wording where clients show it */
} core_err;

/* Fill err (if not NULL) and return CORE_ERROR, so callers can `return core_err_set(...)`.
 * The message is truncated with "..." if longer than the buffer. */
int core_err_set(core_err *err, int status, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Reset err to "no error". */
void core_err_clear(core_err *err);

#endif
