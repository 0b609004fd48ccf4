/* Times the mock's store operations at 1k, 10k and 100k tasks, without
 * sockets: a list (default order and a sorted one), a search of 100 IDs and
 * a lookup by ID. Used by tests/bench/serve; prints one line per size. */
#include "mock/mock.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Mean milliseconds of reps requests. */
static double timed(struct mock_api *api, struct mock_request *req, int reps, int *status,
                    char **last)
{
    struct mock_response resp;
    mock_response_init(&resp);
    double t0 = now_ms();
    for (int i = 0; i < reps; i++)
        mock_handle(api, req, &resp);
    double ms = (now_ms() - t0) / reps;
    *status = resp.status;
    if (last) {
        *last = resp.body;
        resp.body = NULL;
    }
    mock_response_finish(&resp);
    return ms;
}

int main(int argc, char **argv)
{
    const char *schemas = argc > 1 ? argv[1] : "schemas";
    const size_t sizes[] = {1000, 10000, 100000};
    int rc = 0;
    printf("%-8s %12s %14s %14s %12s %10s\n", "tasks", "list ms", "list sort ms", "search100 ms",
           "get ms", "load s");
    for (size_t s = 0; s < 3; s++) {
        struct util_error err;
        util_error_clear(&err);
        struct mock_options o = {.schemas_dir = schemas,
                                 .seeded = true,
                                 .seed = 1,
                                 .app_id = "BENCH",
                                 .api_key = "bench",
                                 .preload_tasks = sizes[s]};
        double t0 = now_ms();
        struct mock_api *api = mock_api_create(&o, &err);
        double load = (now_ms() - t0) / 1e3;
        if (!api) {
            fprintf(stderr, "serve_store: %s\n", err.message);
            return 2;
        }
        struct mock_query_arg list_args[] = {{"itemsPerPage", "100"}};
        struct mock_query_arg sort_args[] = {{"itemsPerPage", "100"},
                                             {"sort", "updatedAt"},
                                             {"order", "asc"},
                                             {"action", "save,replace"}};
        struct mock_request req = {.method = "GET",
                                   .path = "/1/tasks",
                                   .args = list_args,
                                   .nargs = 1,
                                   .app_id = "BENCH",
                                   .api_key = "bench"};
        int st1, st2, st3, st4;
        char *page = NULL;
        double list_ms = timed(api, &req, 20, &st1, &page);
        req.args = sort_args;
        req.nargs = 4;
        double sort_ms = timed(api, &req, 5, &st2, NULL);
        /* 100 IDs from the first page, for search and get. */
        cJSON *doc = cJSON_Parse(page);
        free(page);
        char *body = malloc(100 * 40 + 32);
        char first[64] = "";
        size_t len = (size_t)sprintf(body, "{\"taskIDs\":[");
        const cJSON *t;
        int n = 0;
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(doc, "tasks"))
        {
            const char *id = cJSON_GetObjectItemCaseSensitive(t, "taskID")->valuestring;
            if (!n)
                snprintf(first, sizeof(first), "/1/tasks/%s", id);
            len += (size_t)sprintf(body + len, "%s\"%s\"", n++ ? "," : "", id);
        }
        sprintf(body + len, "]}");
        cJSON_Delete(doc);
        struct mock_request search = {.method = "POST",
                                      .path = "/1/tasks/search",
                                      .app_id = "BENCH",
                                      .api_key = "bench",
                                      .content_type = "application/json",
                                      .body = body,
                                      .body_len = strlen(body)};
        double search_ms = timed(api, &search, 20, &st3, NULL);
        struct mock_request get = {
            .method = "GET", .path = first, .app_id = "BENCH", .api_key = "bench"};
        double get_ms = timed(api, &get, 200, &st4, NULL);
        free(body);
        printf("%-8zu %12.3f %14.3f %14.3f %12.4f %10.2f\n", sizes[s], list_ms, sort_ms, search_ms,
               get_ms, load);
        if (st1 != 200 || st2 != 200 || st3 != 200 || st4 != 200 || n != 100) {
            fprintf(stderr, "serve_store: unexpected answer (%d %d %d %d, %d IDs)\n", st1, st2, st3,
                    st4, n);
            rc = 1;
        }
        mock_api_destroy(api);
    }
    return rc;
}
