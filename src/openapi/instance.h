/* Candidate instances of OpenAPI schemas (internal to the spec module). */
#ifndef INGESTCHECK_OPENAPI_INSTANCE_H
#define INGESTCHECK_OPENAPI_INSTANCE_H

#include <cjson/cJSON.h>
#include <stdbool.h>

/* Builds a value meant to satisfy the OpenAPI schema (local $refs resolved in
 * doc): the schema's example when it has one, else the first enum value,
 * else a type-correct value; objects get their required properties (every
 * property when full), arrays are empty (one item when full). New tree,
 * caller frees; NULL when nothing sensible can be built. The value is only
 * a candidate: callers validate it. */
cJSON *openapi_instance_build(const cJSON *doc, const cJSON *schema, bool full);

/* Whether the schema (after $ref) describes objects. */
bool openapi_instance_is_object_schema(const cJSON *doc, const cJSON *schema);

#endif
