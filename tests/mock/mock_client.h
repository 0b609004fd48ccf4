/* Test helpers shared by the mock tests: a client over the libcurl
 * transport and response validation with the schema engine. */
#ifndef INGESTCHECK_TESTS_MOCK_CLIENT_H
#define INGESTCHECK_TESTS_MOCK_CLIENT_H

#include "http/http.h"
#include "mock/mock.h"
#include "schema/schema.h"

#include <cjson/cJSON.h>
#include <stdbool.h>

struct client {
    struct mock_server *srv;
    struct http_transport *t;
    char base[128];
    char app[256], key[256];
};

struct reply {
    int status;
    char *body;
    size_t len;
    cJSON *json; /* NULL when the body is not JSON */
    char ctype[128];
    enum http_failure failure;
};

/* Starts a server on port 0 with opts (schemas_dir filled in when NULL)
 * and a transport with timeout_ms. */
void client_start(struct client *c, struct mock_options *opts, long timeout_ms);
void client_stop(struct client *c);
/* Sends method path [body]; body NULL means none; content type is
 * application/json unless ctype is given ("" for none). Credentials from c
 * unless app/key are given (NULL: omitted when missing_creds). */
struct reply client_call(struct client *c, const char *method, const char *path, const char *body);
struct reply client_call_ex(struct client *c, const char *method, const char *path,
                            const char *body, size_t body_len, const char *ctype, const char *app,
                            const char *key, bool creds);
void reply_free(struct reply *r);

/* The schemas directory of the source tree. */
const char *schemas_dir(void);

/* Schema of operation op for status (a response) or status 0 (request body). */
struct schema *op_schema(const char *op, int status);
/* Index of op in operations.json, -1 when absent. */
int op_index(const char *op);
/* Whether status is documented for op. */
bool op_documents(const char *op, int status);
/* Validates r->json against op's schema for r->status; prints violations. */
bool reply_valid(const char *op, const struct reply *r);
/* Validates r->json against op's schema for status (whatever r->status). */
bool reply_valid_as(const char *op, int status, const struct reply *r);
/* Whether some violation of r against op/status has a keyword location
 * ending with keyword ("/required", "/type", ...). */
bool reply_violates(const char *op, int status, const struct reply *r, const char *keyword);
void schemas_init(void);
void schemas_finish(void);

#endif
