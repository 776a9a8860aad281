/*
 * test_clock.c — real and virtual time; test_log shares the file: the JSON-lines logger.
 */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"

Test(core_clock, virtual_time_stands_still_until_advanced)
{
    core_clock *c = core_clock_new(CORE_CLOCK_VIRTUAL, 1000000);
    cr_assert_eq(core_clock_now_ms(c), 1000000);
    cr_assert_eq(core_clock_now_ms(c), 1000000);
    cr_assert_eq(core_clock_advance_ms(c, 2500), 1002500);
    cr_assert_eq(core_clock_now_ms(c), 1002500);
    core_clock_free(c);
}

Test(core_clock, virtual_sleep_advances_and_returns_at_once)
{
    core_clock *c = core_clock_new(CORE_CLOCK_VIRTUAL, 5000);
    int64_t before = core_clock_monotonic_ms();
    core_clock_sleep_ms(c, 3600 * 1000);
    cr_assert_eq(core_clock_now_ms(c), 5000 + 3600 * 1000);
    cr_assert_lt(core_clock_monotonic_ms() - before, 1000); /* an hour did not pass */
    core_clock_free(c);
}

Test(core_clock, virtual_time_never_goes_backwards)
{
    core_clock *c = core_clock_new(CORE_CLOCK_VIRTUAL, 7000);
    cr_assert_eq(core_clock_advance_ms(c, -500), 7000);
    core_clock_sleep_ms(c, -1);
    cr_assert_eq(core_clock_now_ms(c), 7000);
    core_clock_free(c);
}

Test(core_clock, real_time_follows_the_wall_clock_and_ignores_advance)
{
    core_clock *c = core_clock_new(CORE_CLOCK_REAL, 0);
    int64_t a = core_clock_now_ms(c);
    core_clock_advance_ms(c, 100000000);
    int64_t b = core_clock_now_ms(c);
    cr_assert_geq(b, a);
    cr_assert_lt(b - a, 100000000);
    cr_assert_gt(a, 1700000000000LL);
    core_clock_free(c);
}

Test(core_clock, parses_modes)
{
    core_clock_mode m;
    cr_assert_eq(core_clock_mode_parse("virtual", &m), 0);
    cr_assert_eq(m, CORE_CLOCK_VIRTUAL);
    cr_assert_eq(core_clock_mode_parse("real", &m), 0);
    cr_assert_eq(m, CORE_CLOCK_REAL);
    cr_assert_eq(core_clock_mode_parse("Real", &m), -1);
    core_clock_free(NULL);
}

static char *capture(core_log_level min, void (*fn)(void))
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    core_log_setup(min, mem);
    fn();
    core_log_setup(CORE_LOG_INFO, NULL);
    fclose(mem);
    return buf;
}

static void log_two(void)
{
    core_log(CORE_LOG_DEBUG, "ddb", NULL, "hidden at info");
    core_log(CORE_LOG_INFO, "ddb", "req-1", "put %d item(s) \"quoted\"\n", 3);
}

Test(core_log, writes_one_json_object_per_line_with_the_fields)
{
    char *out = capture(CORE_LOG_INFO, log_two);
    cr_assert_eq(strchr(out, '\n'), out + strlen(out) - 1, "more than one line: %s", out);
    cJSON *j = cJSON_Parse(out);
    cr_assert_not_null(j, "%s", out);
    cr_assert_str_eq(cJSON_GetObjectItem(j, "level")->valuestring, "info");
    cr_assert_str_eq(cJSON_GetObjectItem(j, "component")->valuestring, "ddb");
    cr_assert_str_eq(cJSON_GetObjectItem(j, "requestId")->valuestring, "req-1");
    cr_assert_str_eq(cJSON_GetObjectItem(j, "message")->valuestring,
                     "put 3 item(s) \"quoted\"\n");
    const char *t = cJSON_GetObjectItem(j, "time")->valuestring;
    cr_assert_eq(strlen(t), 24, "%s", t);
    cr_assert_eq(t[23], 'Z');
    cJSON_Delete(j);
    free(out);
}

static void log_fields(void)
{
    cJSON *f = cJSON_CreateObject();
    cJSON_AddNumberToObject(f, "durationMs", 12.5);
    core_log_fields(CORE_LOG_WARN, "lambda", NULL, f, "slow");
    cJSON_Delete(f);
}

Test(core_log, copies_extra_fields_into_the_line)
{
    char *out = capture(CORE_LOG_DEBUG, log_fields);
    cJSON *j = cJSON_Parse(out);
    cr_assert_not_null(j);
    cr_assert_eq(cJSON_GetObjectItem(j, "durationMs")->valuedouble, 12.5);
    cr_assert_str_eq(cJSON_GetObjectItem(j, "level")->valuestring, "warn");
    cr_assert_null(cJSON_GetObjectItem(j, "requestId"));
    cJSON_Delete(j);
    free(out);
}

Test(core_log, formats_time_in_utc_with_milliseconds)
{
    char buf[40];
    core_log_format_time(1584040438007LL, buf, sizeof buf);
    cr_assert_str_eq(buf, "2020-03-12T19:13:58.007Z");
}

Test(core_log, parses_levels)
{
    core_log_level l;
    cr_assert_eq(core_log_level_parse("warn", &l), 0);
    cr_assert_eq(l, CORE_LOG_WARN);
    cr_assert_eq(core_log_level_parse("WARN", &l), -1);
    cr_assert_str_eq(core_log_level_name(CORE_LOG_ERROR), "error");
}

Test(core_err, truncates_long_messages_with_an_ellipsis)
{
    core_err err;
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    cr_assert_eq(core_err_set(&err, 400, "ValidationException", "%s", big), CORE_ERROR);
    cr_assert_eq(strlen(err.message), sizeof err.message - 1);
    cr_assert_str_eq(err.message + sizeof err.message - 4, "...");
    cr_assert_eq(err.status, 400);
    cr_assert_str_eq(err.type, "ValidationException");
    core_err_clear(&err);
    cr_assert_str_eq(err.message, "");
    cr_assert_eq(core_err_set(NULL, 1, "x", "y"), CORE_ERROR);
}
