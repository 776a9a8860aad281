/*
 * xml.h — a small XML writer for the answers of AWS Query-protocol services
 * (<ActionResponse xmlns=...><ActionResult>...</ActionResult>
 * <ResponseMetadata><RequestId>...</RequestId></ResponseMetadata>
 * </ActionResponse>, and <ErrorResponse>).
 *
 * Text and attribute values are escaped so that any bytes a client sent come
 * back as the same characters after an XML 1.0 parser reads them:
 *   & < > " '      -> &amp; &lt; &gt; &quot; &apos;
 *   TAB LF CR      -> &#9; &#10; &#13; (a parser would otherwise normalise
 *                     CR LF to LF and attribute white space to spaces)
 *   other C0 controls (U+0001..U+001F) and malformed UTF-8, which XML 1.0
 *   cannot carry at all, even as character references -> U+FFFD, the
 *   replacement character (services refuse such input before it is stored,
 *   so this only guards against what slipped through).
 * The buffer grows as needed; an allocation failure is remembered and reported
 * by core_xml_take, never a truncated document.
 */
#ifndef CORE_XML_H
#define CORE_XML_H

#include <stddef.h>

typedef struct core_xml {
    char *buf;
    size_t len, cap;
    int failed;
} core_xml;

/* An empty document; no allocation until something is written. */
void core_xml_init(core_xml *x);

/* <?xml version="1.0" encoding="UTF-8"?> and a newline. */
void core_xml_declaration(core_xml *x);

/* <tag> ; with xmlns, <tag xmlns="ns"> (ns escaped). tag is trusted text. */
void core_xml_open(core_xml *x, const char *tag, const char *xmlns);

/* </tag> */
void core_xml_close(core_xml *x, const char *tag);

/* Escaped text[0..len). */
void core_xml_text(core_xml *x, const char *text, size_t len);

/* <tag>escaped text</tag>; text NULL writes nothing at all. */
void core_xml_element(core_xml *x, const char *tag, const char *text);

/* Trusted markup, as is. */
void core_xml_raw(core_xml *x, const char *markup);

/* The document (caller frees) and its length, and reset x. NULL (and x reset)
 * when an allocation failed along the way. */
char *core_xml_take(core_xml *x, size_t *len);

/* Drop the document; x is empty again. */
void core_xml_release(core_xml *x);

/* 1 when text[0..len) is well-formed UTF-8 (no stray continuation byte, cut
 * sequence, overlong form, surrogate, code point over U+10FFFF, U+FFFE or
 * U+FFFF), else 0. The test core_xml_text applies before it writes U+FFFD in
 * place of a bad byte; parsers use it to refuse such text up front. */
int core_xml_utf8_valid(const char *text, size_t len);

#endif
