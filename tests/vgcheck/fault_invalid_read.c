/*
 * fault_invalid_read.c — a planted fault for `make valgrind`'s self-check: one
 * test reads one byte past a heap block and otherwise passes.  The stage must
 * fail on it.
 */
/* vgcheck-expect: Invalid read of size 1 */
#include <criterion/criterion.h>
#include <stdlib.h>

static volatile size_t past = 16;

Test(planted, passes_cleanly)
{
    cr_assert_eq(1 + 1, 2);
}

Test(planted, reads_past_a_block)
{
    char *p = calloc(16, 1);
    cr_assert_not_null(p);
    volatile char c = p[past]; /* invalid read of size 1 */
    (void)c;
    free(p);
}
