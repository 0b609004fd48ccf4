/* See secrets.h. */
#include "secrets.h"

#include "proc.h"

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The secret values of the answer, each under a secret member. */
static const char *const answer_secrets[] = {
    "SECRET-PW-6d1b", "SECRET-CS-6d1b", "SECRET-AK-6d1b",
    "SECRET-PK-6d1b", "SECRET-KA-6d1b", "SECRET-XT-6d1b",
};

/* Appends the JSON-escaped s to out (cap bytes, NUL-terminated); with
 * html, as encoders that keep JSON safe in HTML do: \u003c for '<', '>'
 * and '&', and \/ for '/'. */
static void json_escape_as(const char *s, bool html, char *out, size_t cap)
{
    size_t n = strlen(out);
    for (; *s && n + 8 < cap; s++) {
        if (*s == '"' || *s == '\\' || (html && *s == '/'))
            n += (size_t)snprintf(out + n, cap - n, "\\%c", *s);
        else if ((unsigned char)*s < 0x20 || (html && strchr("<>&", *s)))
            n += (size_t)snprintf(out + n, cap - n, "\\u%04x", (unsigned char)*s);
        else
            out[n++] = *s;
    }
    out[n] = '\0';
}

static void json_escape(const char *s, char *out, size_t cap)
{
    json_escape_as(s, false, out, cap);
}

/* The value of header name (any case) in head, copied into out. */
static void header_of(const char *head, const char *name, char *out, size_t cap)
{
    out[0] = '\0';
    size_t n = strlen(name);
    for (const char *p = head; p && *p; p = strstr(p, "\r\n"), p = p ? p + 2 : NULL) {
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1;
            while (*v == ' ')
                v++;
            size_t len = strcspn(v, "\r\n");
            snprintf(out, cap, "%.*s", (int)(len < cap ? len : cap - 1), v);
            return;
        }
    }
}

bool bad_secrets_basic_auth(const char *head)
{
    char v[256];
    header_of(head, "authorization", v, sizeof(v));
    return strcmp(v, BAD_SECRET_BASIC) == 0;
}

char *bad_secrets_body(const char *head)
{
    char key[1024], echo[4096] = "", html[4096] = "";
    header_of(head, "x-algolia-api-key", key, sizeof(key));
    json_escape(key, echo, sizeof(echo));
    json_escape_as(key, true, html, sizeof(html));
    size_t cap = 16384; /* the text, the secrets, and both escaped keys at their longest */
    char *b = malloc(cap);
    if (!b)
        return NULL;
    snprintf(b, cap,
             "{\"authentications\":[{\"authenticationID\":\"6c02aeb1-775e-418e-870b-1faccd4b2c0f\","
             "\"type\":\"basic\",\"name\":\"n\",\"input\":{\"username\":\"u\",\"password\":\"%s\","
             "\"client_secret\":\"%s\",\"apiKey\":\"%s\",\"privateKey\":{\"nested\":\"%s\"},"
             "\"key\":[\"%s\"],\"extraToken\":\"%s\",\"undocumented\":\"x\"},"
             "\"createdAt\":\"2024-01-01T00:00:00Z\"}],\"pagination\":{\"nbPages\":1,\"page\":1,"
             "\"nbItems\":1,\"itemsPerPage\":10},\"echo\":\"%s\",\"echoed\":\"%s\"}",
             answer_secrets[0], answer_secrets[1], answer_secrets[2], answer_secrets[3],
             answer_secrets[4], answer_secrets[5], echo, html);
    return b;
}

bool bad_secrets_export_har(const char *dir, char *why, size_t cap)
{
    char casdir[PROC_PATH_MAX], har[PROC_PATH_MAX], out[PROC_PATH_MAX], err[PROC_PATH_MAX];
    static char paths[16][PROC_PATH_MAX + 256];
    snprintf(casdir, sizeof(casdir), "%s/cassettes", dir);
    snprintf(har, sizeof(har), "%s/export.har", dir);
    snprintf(out, sizeof(out), "%s/export.out", dir);
    snprintf(err, sizeof(err), "%s/export.err", dir);
    const char *args[24] = {"cassette", "export", "--har", har};
    size_t n = 4;
    DIR *d = opendir(casdir);
    for (struct dirent *e = d ? readdir(d) : NULL; e && n < 4 + 16; e = readdir(d)) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0)
            continue;
        snprintf(paths[n - 4], sizeof(paths[0]), "%s/%s", casdir, e->d_name);
        args[n] = paths[n - 4];
        n++;
    }
    if (d)
        closedir(d);
    if (n == 4)
        return true; /* nothing recorded: nothing to export */
    args[n] = NULL;
    bool hung = false;
    int code = proc_run(args, out, err, NULL, proc_deadline(60000), &hung);
    if (code != 0 || hung) {
        char *e = test_slurp(err, NULL);
        snprintf(why, cap, "cassette export --har exited %d: %s", code, e ? e : "");
        free(e);
        return false;
    }
    return true;
}

/* ---- the scan ---- */

#define FORMS 7

/* The forms of s, each NUL-terminated. */
static void forms_of(const char *s, char forms[FORMS][1024])
{
    static const char hex[] = "0123456789ABCDEF", lower[] = "0123456789abcdef";
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t u = 0, l = 0, x = 0;
    snprintf(forms[0], 1024, "%s", s);
    forms[3][0] = forms[6][0] = '\0';
    json_escape(s, forms[3], 1024);
    json_escape_as(s, true, forms[6], 1024);
    for (const unsigned char *p = (const unsigned char *)s; *p && u + 8 < 1024; p++) {
        bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                     (*p >= '0' && *p <= '9') || strchr("-._~", *p);
        if (plain) {
            forms[1][u++] = (char)*p;
            forms[2][l++] = (char)*p;
        } else {
            forms[1][u++] = '%';
            forms[1][u++] = hex[*p >> 4];
            forms[1][u++] = hex[*p & 15];
            forms[2][l++] = '%';
            forms[2][l++] = lower[*p >> 4];
            forms[2][l++] = lower[*p & 15];
        }
        const char *ent = *p == '"'   ? "&quot;"
                          : *p == '&' ? "&amp;"
                          : *p == '<' ? "&lt;"
                          : *p == '>' ? "&gt;"
                                      : NULL;
        if (ent)
            x += (size_t)snprintf(forms[4] + x, 1024 - x, "%s", ent);
        else
            forms[4][x++] = (char)*p;
    }
    forms[1][u] = forms[2][l] = forms[4][x] = '\0';
    /* base64, cut to the characters the value alone decides. */
    size_t n = strlen(s), b = 0;
    for (size_t i = 0; i < n && b + 4 < 1024; i += 3) {
        unsigned v = (unsigned)(unsigned char)s[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)(unsigned char)s[i + 1] << 8;
        if (i + 2 < n)
            v |= (unsigned char)s[i + 2];
        for (int k = 0; k < 4; k++)
            forms[5][b++] = b64[(v >> (18 - 6 * k)) & 63];
    }
    forms[5][n * 8 / 6] = '\0';
}

static const char *const form_names[FORMS] = {
    "raw",         "percent-encoded", "percent (lower)",         "JSON-escaped",
    "XML-escaped", "base64",          "JSON-escaped (HTML-safe)"};

/* The state of one scan (nftw has no user pointer). */
static struct {
    char (*forms)[FORMS][1024];
    size_t nsecrets;
    char *why;
    size_t cap;
    bool found;
} scan;

static bool contains(const char *hay, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = 0; m && i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0)
            return true;
    return false;
}

static int scan_file(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag != FTW_F)
        return 0;
    size_t n = 0;
    char *text = test_slurp(path, &n);
    for (size_t i = 0; text && i < scan.nsecrets && !scan.found; i++)
        for (size_t f = 0; f < FORMS && !scan.found; f++)
            if (contains(text, n, scan.forms[i][f])) {
                scan.found = true;
                snprintf(scan.why, scan.cap, "%s holds %s %s (%s)", path, form_names[f],
                         scan.forms[i][0], scan.forms[i][f]);
            }
    free(text);
    return scan.found ? 1 : 0;
}

bool bad_secrets_scan(const char *dir, char *why, size_t cap)
{
    const char *secrets[] = {BAD_SECRET_KEY,      BAD_SECRET_APP,    "hunter2PASS",
                             BAD_SECRET_USERINFO, answer_secrets[0], answer_secrets[1],
                             answer_secrets[2],   answer_secrets[3], answer_secrets[4],
                             answer_secrets[5]};
    static char forms[sizeof(secrets) / sizeof(secrets[0])][FORMS][1024];
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
        forms_of(secrets[i], forms[i]);
    scan.forms = forms;
    scan.nsecrets = sizeof(secrets) / sizeof(secrets[0]);
    scan.why = why;
    scan.cap = cap;
    scan.found = false;
    nftw(dir, scan_file, 16, FTW_PHYS);
    return !scan.found;
}
