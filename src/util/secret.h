/* Secrets in text, shared by the reports (check/redact.c) and the
 * cassettes (cassette/redact.c):
 *   - the names of secret JSON members and headers;
 *   - the forms a secret value takes in what ingestcheck writes: raw,
 *     percent-encoded (either case of hex), JSON-escaped, XML-escaped, any
 *     mix of these byte by byte, and base64 (standard or URL alphabet, at
 *     any alignment inside a longer base64 text);
 *   - the members of JSON text (or of a cut or malformed body that only
 *     looks like JSON) named like secrets, whatever the type of their
 *     value. */
#ifndef INGESTCHECK_UTIL_SECRET_H
#define INGESTCHECK_UTIL_SECRET_H

#include "util/buf.h"

#include <stdbool.h>
#include <stddef.h>

/* The value shown in reports and on the console instead of a secret. */
#define UTIL_SECRET_MASK "****"

/* Whether a JSON member named name (n bytes) holds a secret: client_secret,
 * clientSecret, password, key, apiKey, privateKey, secret (any case). */
bool util_secret_field(const char *name, size_t n);

/* Whether a header carries a secret (any case): x-algolia-api-key,
 * x-algolia-application-id, authorization, proxy-authorization, cookie,
 * set-cookie. */
bool util_secret_header(const char *name);

/* One secret value prepared for searching (init/finish). */
struct util_secret {
    char *value;
    size_t len;
    /* Its base64 at the three alignments, cut to the characters that
     * depend on the value alone; NULL when shorter than 8 characters. */
    char *b64[3];
    size_t b64_len[3];
};

/* Copies value (len bytes). UTIL_OK or UTIL_ERR_NOMEM. */
int util_secret_init(struct util_secret *s, const char *value, size_t len);
void util_secret_finish(struct util_secret *s);

/* The first occurrence of s in text[0..n) in any of its forms; its span in
 * *at and *len. */
bool util_secret_find(const struct util_secret *s, const char *text, size_t n, size_t *at,
                      size_t *len);

/* Appends the replacement of secrets[index] to out. */
typedef int (*util_secret_put_fn)(void *user, size_t index, struct util_buf *out);

/* Copies text[0..n) to out with every occurrence of any of the count
 * secrets replaced by what put appends (the earliest first; on a tie, the
 * longest). *changed (may be NULL) tells whether one was replaced. */
int util_secret_replace(const struct util_secret *secrets, size_t count, const char *text, size_t n,
                        util_secret_put_fn put, void *user, struct util_buf *out, bool *changed);

/* Whether the member named name (NUL-terminated, unescaped) is secret. */
typedef bool (*util_secret_name_fn)(void *user, const char *name);
/* Appends the replacement of the value (value[0..n), its JSON text) of the
 * secret member name to out. */
typedef int (*util_secret_value_fn)(void *user, const char *name, const char *value, size_t n,
                                    struct util_buf *out);

/* Copies text[0..n) to out with the value of every member whose name
 * is_secret replaces by what put appends. Strings, objects, arrays and
 * scalars are replaced whole; a value that does not end runs to the end
 * of the text. Members are found at any depth, not inside strings.
 * *changed (may be NULL) tells whether one was replaced. */
int util_secret_members(const char *text, size_t n, util_secret_name_fn is_secret,
                        util_secret_value_fn put, void *user, struct util_buf *out, bool *changed);

/* Splits the userinfo off an absolute URL ("http://user:pass@host/p"):
 * *clean receives the URL without it, *userinfo the percent-decoded
 * "user:pass" ("user:" when there is no password), NULL when the URL has
 * no userinfo. Both heap strings (caller frees). UTIL_OK or
 * UTIL_ERR_NOMEM. */
int util_secret_split_userinfo(const char *url, char **clean, char **userinfo);

#endif
