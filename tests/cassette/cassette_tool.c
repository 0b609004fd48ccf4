/* Test helper for the cassette module (not installed):
 *   cassette_tool compat DIR          writes DIR/compat.yaml and what a
 *                                     reader must find in it, DIR/expected.json
 *   cassette_tool har IN.yaml OUT.json
 *   cassette_tool generate N SEED OUT.yaml
 *   cassette_tool load FILE           loads and prints count, time, peak RSS
 *   cassette_tool replay FILE         loads and replays every request against it */
#include "cassette/caps.h"
#include "cassette/cassette.h"
#include "util/file.h"
#include "json/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

static int die(const struct util_error *e)
{
    fprintf(stderr, "cassette_tool: %s\n", e->message);
    return 1;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static const char b64a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *b64(const char *p, size_t n)
{
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    const unsigned char *s = (const unsigned char *)p;
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        out[o++] = b64a[s[i] >> 2];
        out[o++] = b64a[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
        out[o++] = b64a[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)];
        out[o++] = b64a[s[i + 2] & 63];
    }
    if (n - i == 1) {
        out[o++] = b64a[s[i] >> 2];
        out[o++] = b64a[(s[i] & 3) << 4];
        out[o++] = '=';
        out[o++] = '=';
    } else if (n - i == 2) {
        out[o++] = b64a[s[i] >> 2];
        out[o++] = b64a[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
        out[o++] = b64a[(s[i + 1] & 15) << 2];
        out[o++] = '=';
    }
    out[o] = '\0';
    return out;
}

static cJSON *headers_json(const struct cassette_header *h, size_t n)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; i < n; i++) {
        cJSON *list = cJSON_GetObjectItemCaseSensitive(o, h[i].name);
        if (!list)
            list = cJSON_AddArrayToObject(o, h[i].name);
        cJSON_AddItemToArray(list, cJSON_CreateString(h[i].value));
    }
    return o;
}

static const char *const texts[] = {
    "",
    "yes",
    "No",
    "on",
    "null",
    "~",
    "200",
    "1e3",
    "0x1F",
    "1:20",
    "2024-01-01",
    "true",
    ".inf",
    "- a",
    "a: b",
    "a #b",
    " lead",
    "trail ",
    "'q'",
    "\"dq\"",
    "back\\slash",
    "tab\there",
    "l1\nl2\n\nl4\n",
    "\r\n",
    "é ü 日本 🎉",
    "<REDACTED:x>",
    "&a",
    "*b",
    "!t",
    "%p",
    "@a",
    "{f}",
    "[s]",
    "? q",
    "| l",
    "> f",
    "=",
    "<<",
    "\xc2\x85nel",
    "\xe2\x80\xa8ls",
    "c\x01\x1f",
    "d\x7f",
    "{\"taskID\": \"6c02aeb1\", \"n\": [1, 2.5, null]}",
};

/* Writes what any reader must find in the cassette at path (as our loader
 * reads it) to out as JSON, for vcr_compat.py. */
static int write_expected(const char *path, const char *out)
{
    struct util_error e;
    util_error_clear(&e);
    struct cassette *d = NULL;
    if (cassette_load_file(path, &d, &e))
        return die(&e);
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < cassette_count(d); i++) {
        const struct cassette_interaction *in = cassette_at(d, i);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "method", in->method);
        cJSON_AddStringToObject(o, "uri", in->uri);
        if (in->request_body) {
            char *s = b64(in->request_body, in->request_body_len);
            cJSON_AddStringToObject(o, "body_b64", s);
            free(s);
        } else {
            cJSON_AddNullToObject(o, "body_b64");
        }
        cJSON_AddItemToObject(o, "headers",
                              headers_json(in->request_headers, in->request_header_count));
        cJSON_AddNumberToObject(o, "status", in->status);
        cJSON_AddStringToObject(o, "message", in->status_message);
        cJSON_AddItemToObject(o, "response_headers",
                              headers_json(in->response_headers, in->response_header_count));
        char *s = b64(in->response_body, in->response_body_len);
        cJSON_AddStringToObject(o, "response_body_b64", s);
        free(s);
        cJSON_AddItemToArray(arr, o);
    }
    char *json = cJSON_Print(arr);
    if (util_file_write_atomic(out, json, strlen(json), &e))
        return die(&e);
    free(json);
    cJSON_Delete(arr);
    cassette_destroy(d);
    return 0;
}

static int cmd_compat(const char *dir)
{
    struct util_error e;
    util_error_clear(&e);
    struct cassette *c = cassette_create();
    cassette_set_recorded_at(c, "2024-05-01T10:00:00Z");
    cassette_set_spec_sha256(c, "5d41402abc4b2a76b9719d911017c592");
    size_t n = sizeof(texts) / sizeof(texts[0]);
    for (size_t i = 0; i <= n; i++) {
        struct http_request rq;
        struct http_response rs;
        http_request_init(&rq);
        http_response_init(&rs);
        char url[256];
        snprintf(url, sizeof(url), "https://data.us.algolia.com/1/tasks/%zu?q=%%20%zu&a=b,c", i, i);
        http_request_set(&rq, i % 2 ? "POST" : "GET", url);
        http_headers_add(&rq.headers, "X-Text", i < n ? texts[i] : "x");
        http_headers_add(&rq.headers, "x-algolia-api-key", "not-a-real-key-0123456789");
        rs.status = i == n ? 204 : 200 + (int)(i % 5);
        if (i < n) {
            if (i % 3)
                http_request_set_body(&rq, texts[i], strlen(texts[i]));
            rs.body = strdup(texts[i]);
            rs.body_len = strlen(texts[i]);
            http_headers_add(&rs.headers, "Content-Type", texts[i]);
            http_headers_add(&rs.headers, "Set-Cookie", "a=1");
            http_headers_add(&rs.headers, "Vary", "Accept");
            http_headers_add(&rs.headers, "Vary", texts[i]);
        } else {
            /* Binary bodies: PyYAML reads !!binary as bytes. */
            http_request_set_body(&rq, "\x00\xff\xfe bin", 7);
            rs.body = malloc(5);
            memcpy(rs.body, "\x89PNG\x00", 5);
            rs.body_len = 5;
        }
        if (cassette_append(c, &rq, &rs, "compat", i < n ? texts[i] : "binary", NULL, &e))
            return die(&e);
        http_request_finish(&rq);
        http_response_finish(&rs);
    }
    char *path = util_path_join(dir, "compat.yaml");
    if (cassette_save_file(c, NULL, path, &e))
        return die(&e);
    free(path);
    /* What any reader must find: taken from a reload of the file, so the
     * comparison is between our loader and vcrpy's. */
    path = util_path_join(dir, "compat.yaml");
    char *exp = util_path_join(dir, "expected.json");
    int rc = write_expected(path, exp);
    free(path);
    free(exp);
    cassette_destroy(c);
    return rc;
}

static int cmd_har(const char *in, const char *out)
{
    struct util_error e;
    util_error_clear(&e);
    struct cassette *c = NULL;
    cJSON *har = NULL;
    if (cassette_load_file(in, &c, &e) || cassette_export_har(c, &har, &e))
        return die(&e);
    char *s = json_print(har, true);
    if (util_file_write_atomic(out, s, strlen(s), &e))
        return die(&e);
    free(s);
    cJSON_Delete(har);
    cassette_destroy(c);
    return 0;
}

static int cmd_generate(const char *n, const char *seed, const char *out)
{
    struct util_error e;
    util_error_clear(&e);
    struct cassette *c = NULL;
    if (cassette_generate_synthetic(strtoul(n, NULL, 10), strtoull(seed, NULL, 10), &c, &e) ||
        cassette_save_file(c, NULL, out, &e))
        return die(&e);
    cassette_destroy(c);
    return 0;
}

static long peak_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static int cmd_load(const char *path, bool replay)
{
    struct util_error e;
    util_error_clear(&e);
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        return 1;
    }
    long rss0 = peak_rss_kb();
    double c0 = cpu_ms(), t0 = now_ms();
    struct cassette *c = NULL;
    if (cassette_load_file(path, &c, &e))
        return die(&e);
    double t1 = now_ms(), c1 = cpu_ms();
    long rss1 = peak_rss_kb();
    printf("file_bytes %lld\ninteractions %zu\nload_ms %.1f\nload_cpu_ms %.1f\nload_mb_per_s %.1f\n"
           "peak_rss_kb_before %ld\npeak_rss_kb_after_load %ld\nrss_ratio_to_file %.2f\n",
           (long long)st.st_size, cassette_count(c), t1 - t0, c1 - c0,
           (double)st.st_size / 1048576.0 / ((t1 - t0) / 1000.0), rss0, rss1,
           (double)rss1 * 1024.0 / (double)st.st_size);
    if (replay) {
        struct cassette_matcher *m = cassette_matcher_create(c, NULL, NULL);
        struct http_request rq;
        http_request_init(&rq);
        double c2 = cpu_ms(), t2 = now_ms();
        for (size_t i = 0; i < cassette_count(c); i++) {
            size_t idx;
            struct cassette_miss miss;
            if (cassette_interaction_request(c, i, &rq, &e) ||
                cassette_match(m, &rq, NULL, &idx, &miss, &e))
                return die(&e);
        }
        double t3 = now_ms(), c3 = cpu_ms();
        printf("replay_ms %.1f\nreplay_cpu_ms %.1f\nmatches_per_s %.0f\n"
               "peak_rss_kb_after_replay %ld\n",
               t3 - t2, c3 - c2, (double)cassette_count(c) / ((t3 - t2) / 1000.0), peak_rss_kb());
        http_request_finish(&rq);
        cassette_matcher_destroy(m);
    }
    cassette_destroy(c);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "compat") == 0)
        return cmd_compat(argv[2]);
    if (argc == 4 && strcmp(argv[1], "har") == 0)
        return cmd_har(argv[2], argv[3]);
    if (argc == 5 && strcmp(argv[1], "generate") == 0)
        return cmd_generate(argv[2], argv[3], argv[4]);
    if (argc == 4 && strcmp(argv[1], "expected") == 0)
        return write_expected(argv[2], argv[3]);
    if (argc == 3 && strcmp(argv[1], "load") == 0)
        return cmd_load(argv[2], false);
    if (argc == 3 && strcmp(argv[1], "replay") == 0)
        return cmd_load(argv[2], true);
    fprintf(stderr, "usage: cassette_tool compat DIR | har IN OUT | generate N SEED OUT | "
                    "load FILE | replay FILE | expected CASSETTE OUT.json\n");
    return 2;
}
