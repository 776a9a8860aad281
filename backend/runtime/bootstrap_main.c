/*
 * bootstrap_main.c — main() of every function's `bootstrap` executable on the
 * provided.al2023 runtime: the handler object (which exports lambda_handler via
 * LAMBDA_HANDLER, and maybe lambda_init via LAMBDA_INIT) + runtime.o + this.
 *
 * lambda_init is a weak reference: a function without an init hook links too.
 * The exit status is lambda_runtime_run's status; Lambda restarts the sandbox
 * when the bootstrap exits.
 */
#include <stddef.h>

#include "runtime/runtime.h"

#pragma weak lambda_init

int main(void)
{
    if (lambda_init) {
        lambda_runtime_opts opts = {.init = lambda_init};
        return lambda_runtime_run(lambda_handler, &opts);
    }
    return lambda_runtime_run(lambda_handler, NULL);
}
