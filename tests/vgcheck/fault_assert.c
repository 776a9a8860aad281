/*
 * fault_assert.c — a planted fault for `make valgrind`'s self-check: memory
 * clean, but one assertion fails.  The stage must fail on it too.
 */
/* vgcheck-expect: planted::fails_an_assertion: assertion failed */
#include <criterion/criterion.h>

Test(planted, passes_cleanly)
{
    cr_assert_eq(1 + 1, 2);
}

Test(planted, fails_an_assertion)
{
    cr_assert_eq(1 + 1, 3, "planted failure");
}
