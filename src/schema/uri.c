#include "schema/uri.h"
#include "util/text.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct uri_parts {
    const char *scheme;
    size_t scheme_len;
    bool has_authority;
    const char *authority;
    size_t authority_len;
    const char *path;
    size_t path_len;
    bool has_query;
    const char *query;
    size_t query_len;
    bool has_fragment;
    const char *fragment;
    size_t fragment_len;
};

struct strb {
    char *data;
    size_t len;
    size_t alloc;
    bool failed;
};

static void sb_add(struct strb *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    /* need = len + n + 1 without wrapping (URIs are far below these bounds;
     * the checks also tell the compiler the copy cannot overflow). */
    if (n > SIZE_MAX / 4 || b->len > SIZE_MAX / 4) {
        b->failed = true;
        return;
    }
    size_t need = b->len + n + 1;
    if (need > b->alloc || !b->data) {
        size_t na = b->alloc ? b->alloc : 64;
        while (na < need)
            na *= 2;
        char *nd = realloc(b->data, na);
        if (!nd) {
            b->failed = true;
            return;
        }
        b->data = nd;
        b->alloc = na;
    }
    char *dst = b->data + b->len;
    if (n)
        memcpy(dst, s, n);
    dst[n] = '\0';
    b->len = need - 1;
}

bool schema_uri_has_scheme(const char *uri)
{
    if (!uri || !isalpha((unsigned char)uri[0]))
        return false;
    for (const char *p = uri + 1; *p; p++) {
        if (*p == ':')
            return true;
        if (!isalnum((unsigned char)*p) && *p != '+' && *p != '-' && *p != '.')
            return false;
    }
    return false;
}

size_t schema_uri_base_len(const char *uri)
{
    const char *h = strchr(uri, '#');
    return h ? (size_t)(h - uri) : strlen(uri);
}

/* Splits s into its five RFC 3986 components (section 3). */
static void uri_parse(const char *s, struct uri_parts *u)
{
    memset(u, 0, sizeof(*u));
    const char *p = s;
    if (schema_uri_has_scheme(s)) {
        const char *c = strchr(s, ':');
        u->scheme = s;
        u->scheme_len = (size_t)(c - s);
        p = c + 1;
    }
    if (p[0] == '/' && p[1] == '/') {
        p += 2;
        u->has_authority = true;
        u->authority = p;
        while (*p && *p != '/' && *p != '?' && *p != '#')
            p++;
        u->authority_len = (size_t)(p - u->authority);
    }
    u->path = p;
    while (*p && *p != '?' && *p != '#')
        p++;
    u->path_len = (size_t)(p - u->path);
    if (*p == '?') {
        p++;
        u->has_query = true;
        u->query = p;
        while (*p && *p != '#')
            p++;
        u->query_len = (size_t)(p - u->query);
    }
    if (*p == '#') {
        p++;
        u->has_fragment = true;
        u->fragment = p;
        u->fragment_len = strlen(p);
    }
}

/* RFC 3986 section 5.2.4 on n bytes of path; appends the result to out. */
static void remove_dot_segments(const char *path, size_t n, struct strb *out)
{
    char *buf = malloc(n + 1);
    char *o = malloc(n + 2);
    if (!buf || !o) {
        free(buf);
        free(o);
        out->failed = true;
        return;
    }
    memcpy(buf, path, n);
    buf[n] = '\0';
    size_t i = 0, olen = 0;
    while (buf[i]) {
        const char *in = buf + i;
        if (strncmp(in, "../", 3) == 0) {
            i += 3;
        } else if (strncmp(in, "./", 2) == 0) {
            i += 2;
        } else if (strncmp(in, "/./", 3) == 0) {
            i += 2;
        } else if (strcmp(in, "/.") == 0) {
            i += 1;
            buf[i] = '/';
        } else if (strncmp(in, "/../", 4) == 0 || strcmp(in, "/..") == 0) {
            if (in[3] == '\0') {
                i += 2;
                buf[i] = '/';
            } else {
                i += 3;
            }
            while (olen > 0 && o[olen - 1] != '/')
                olen--;
            if (olen > 0)
                olen--;
        } else if (strcmp(in, ".") == 0 || strcmp(in, "..") == 0) {
            break;
        } else {
            size_t k = in[0] == '/' ? 1 : 0;
            while (in[k] && in[k] != '/')
                k++;
            memcpy(o + olen, in, k);
            olen += k;
            i += k;
        }
    }
    sb_add(out, o, olen);
    free(buf);
    free(o);
}

static void add_lower(struct strb *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = (char)tolower((unsigned char)s[i]);
        sb_add(b, &c, 1);
    }
}

/* Appends the authority with its host part lower-cased. */
static void add_authority(struct strb *b, const char *a, size_t n)
{
    const char *at = memchr(a, '@', n);
    size_t host_from = at ? (size_t)(at - a) + 1 : 0;
    sb_add(b, a, host_from);
    add_lower(b, a + host_from, n - host_from);
}

char *schema_uri_resolve(const char *base, const char *ref)
{
    struct uri_parts r, bp;
    struct strb out = {0};
    uri_parse(ref, &r);
    const struct uri_parts *t_scheme = &r;
    bool use_ref_auth = false, use_ref_path = false, use_ref_query = false;
    if (!base || !*base || r.scheme) {
        use_ref_auth = use_ref_path = use_ref_query = true;
        memset(&bp, 0, sizeof(bp));
    } else {
        uri_parse(base, &bp);
        t_scheme = &bp;
        if (r.has_authority) {
            use_ref_auth = use_ref_path = use_ref_query = true;
        } else if (r.path_len == 0) {
            use_ref_query = r.has_query;
        } else {
            use_ref_path = true;
            use_ref_query = true;
        }
    }
    if (t_scheme->scheme) {
        add_lower(&out, t_scheme->scheme, t_scheme->scheme_len);
        sb_add(&out, ":", 1);
    }
    const struct uri_parts *ta = use_ref_auth ? &r : &bp;
    if (ta->has_authority) {
        sb_add(&out, "//", 2);
        add_authority(&out, ta->authority, ta->authority_len);
    }
    if (use_ref_auth || (!use_ref_path && r.path_len == 0)) {
        const struct uri_parts *tp = use_ref_auth ? &r : &bp;
        if (tp->path_len > 0 && tp->path[0] == '/')
            remove_dot_segments(tp->path, tp->path_len, &out);
        else
            sb_add(&out, tp->path, tp->path_len);
    } else if (r.path[0] == '/') {
        remove_dot_segments(r.path, r.path_len, &out);
    } else {
        /* merge (section 5.2.3) */
        struct strb m = {0};
        if (bp.has_authority && bp.path_len == 0) {
            sb_add(&m, "/", 1);
        } else {
            size_t k = bp.path_len;
            while (k > 0 && bp.path[k - 1] != '/')
                k--;
            sb_add(&m, bp.path, k);
        }
        sb_add(&m, r.path, r.path_len);
        if (m.failed) {
            out.failed = true;
        } else if (m.data && m.data[0] == '/') {
            remove_dot_segments(m.data, m.len, &out);
        } else if (m.data) {
            sb_add(&out, m.data, m.len);
        }
        free(m.data);
    }
    const struct uri_parts *tq = use_ref_query ? &r : &bp;
    if (tq->has_query) {
        sb_add(&out, "?", 1);
        sb_add(&out, tq->query, tq->query_len);
    }
    if (r.has_fragment && r.fragment_len > 0) {
        sb_add(&out, "#", 1);
        sb_add(&out, r.fragment, r.fragment_len);
    }
    sb_add(&out, "", 0);
    if (out.failed) {
        free(out.data);
        return NULL;
    }
    return out.data;
}

char *schema_uri_decode(const char *s, size_t n)
{
    char *o = malloc(n + 1);
    if (!o)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && util_hex_digit(s[i + 1]) >= 0 &&
            util_hex_digit(s[i + 2]) >= 0) {
            o[k++] = (char)(util_hex_digit(s[i + 1]) * 16 + util_hex_digit(s[i + 2]));
            i += 2;
        } else {
            o[k++] = s[i];
        }
    }
    o[k] = '\0';
    return o;
}
