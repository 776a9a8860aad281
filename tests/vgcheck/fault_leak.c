/*
 * fault_leak.c — a planted fault for `make valgrind`'s self-check: one test
 * leaks a block (definitely lost) and otherwise passes.  The stage must fail
 * on it.  Not a unit suite: tests/unit/ is what the stages run.
 */
/* vgcheck-expect: definitely lost */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

Test(planted, passes_cleanly)
{
    cr_assert_eq(1 + 1, 2);
}

Test(planted, leaks_a_block)
{
    char *p = malloc(64);
    cr_assert_not_null(p);
    memset(p, 'x', 64);
    p = NULL; /* the only pointer is gone: definitely lost */
    cr_assert_null(p);
}
