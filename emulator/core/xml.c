/*
 * xml.c — the XML writer of Query-protocol answers. See xml.h.
 */
#include "core/xml.h"

#include "core/codec.h"

#include <stdlib.h>
#include <string.h>

void core_xml_init(core_xml *x)
{
    memset(x, 0, sizeof *x);
}

static void put(core_xml *x, const char *s, size_t n)
{
    if (x->failed || !n)
        return;
    if (n > ((size_t)-1) / 2 - x->len) {
        x->failed = 1;
        return;
    }
    if (x->len + n + 1 > x->cap) {
        size_t cap = x->cap ? x->cap : 256;
        while (cap < x->len + n + 1)
            cap *= 2;
        char *b = realloc(x->buf, cap);
        if (!b) {
            x->failed = 1;
            return;
        }
        x->buf = b;
        x->cap = cap;
    }
    memcpy(x->buf + x->len, s, n);
    x->len += n;
    x->buf[x->len] = '\0';
}

static void puts_(core_xml *x, const char *s)
{
    put(x, s, strlen(s));
}

void core_xml_declaration(core_xml *x)
{
    puts_(x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
}

void core_xml_raw(core_xml *x, const char *markup)
{
    puts_(x, markup);
}

/* Length of the well-formed UTF-8 sequence at s (1..4), or 0 when it is not
 * one (overlong forms, surrogates, code points over U+10FFFF included). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    uint32_t cp;
    size_t len = core_utf8_char(s, n, &cp);
    /* U+FFFE and U+FFFF are not XML characters either. */
    return len && (cp == 0xFFFE || cp == 0xFFFF) ? 0 : len;
}

int core_xml_utf8_valid(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; i < len;) {
        size_t step = utf8_len(s + i, len - i);
        if (!step)
            return 0;
        i += step;
    }
    return 1;
}

void core_xml_text(core_xml *x, const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t start = 0, i = 0;
    while (i < len) {
        const char *rep = NULL;
        size_t step = 1;
        switch (s[i]) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&apos;"; break;
        case '\t': rep = "&#9;"; break;
        case '\n': rep = "&#10;"; break;
        case '\r': rep = "&#13;"; break;
        default:
            if (s[i] < 0x20) {
                rep = "\xEF\xBF\xBD";
            } else if (s[i] >= 0x80) {
                step = utf8_len(s + i, len - i);
                if (!step) {
                    rep = "\xEF\xBF\xBD";
                    step = 1;
                }
            }
        }
        if (rep) {
            put(x, text + start, i - start);
            puts_(x, rep);
            i += step;
            start = i;
        } else {
            i += step;
        }
    }
    put(x, text + start, len - start);
}

void core_xml_open(core_xml *x, const char *tag, const char *xmlns)
{
    puts_(x, "<");
    puts_(x, tag);
    if (xmlns) {
        puts_(x, " xmlns=\"");
        core_xml_text(x, xmlns, strlen(xmlns));
        puts_(x, "\"");
    }
    puts_(x, ">");
}

void core_xml_close(core_xml *x, const char *tag)
{
    puts_(x, "</");
    puts_(x, tag);
    puts_(x, ">");
}

void core_xml_element(core_xml *x, const char *tag, const char *text)
{
    if (!text)
        return;
    core_xml_open(x, tag, NULL);
    core_xml_text(x, text, strlen(text));
    core_xml_close(x, tag);
}

char *core_xml_take(core_xml *x, size_t *len)
{
    char *out = NULL;
    if (!x->failed) {
        out = x->buf ? x->buf : calloc(1, 1);
        if (len)
            *len = x->buf ? x->len : 0;
    } else {
        free(x->buf);
    }
    core_xml_init(x);
    return out;
}

void core_xml_release(core_xml *x)
{
    free(x->buf);
    core_xml_init(x);
}
