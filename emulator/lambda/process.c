/*
 * process.c — the process host: each function's real bootstrap as child processes
 * against the emulator's own Lambda Runtime API. (Being written; until then the
 * process host refuses to start, so --lambda-host process fails clearly.)
 */
#include "lambda/lambda_impl.h"

int lam_process_host_start(lam_service *svc, core_err *err)
{
    (void)svc;
    return core_err_set(err, 2, "InvalidArgument", "--lambda-host process is not available yet");
}

void lam_process_host_stop(lam_service *svc)
{
    (void)svc;
}

void lam_process_run(lam_service *svc, lam_function *f, invocation *inv, const char *payload,
                     size_t len, long long deadline_ms, lam_result *out)
{
    (void)svc;
    (void)f;
    (void)inv;
    (void)payload;
    (void)len;
    (void)deadline_ms;
    lam_set_error(out, "Runtime.Unavailable", "the process host is not available");
}
