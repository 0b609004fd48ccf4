/* Named caps and defaults of the embedded mock. */
#ifndef INGESTCHECK_MOCK_CAPS_H
#define INGESTCHECK_MOCK_CAPS_H

/* Request body cap (413 past it); --max-body overrides. */
#define MOCK_DEFAULT_MAX_BODY (1024u * 1024u)
/* Concurrent connections the server accepts (MHD_OPTION_CONNECTION_LIMIT). */
#define MOCK_DEFAULT_CONNECTION_LIMIT 256u
/* Idle seconds before a connection is closed (MHD_OPTION_CONNECTION_TIMEOUT). */
#define MOCK_DEFAULT_CONNECTION_TIMEOUT_S 30u
/* Per-connection memory for the request line and headers
 * (MHD_OPTION_CONNECTION_MEMORY_LIMIT): larger headers are refused. */
#define MOCK_DEFAULT_CONNECTION_MEMORY (64u * 1024u)
/* Server threads (an epoll pool): one per CPU within these bounds. */
#define MOCK_MIN_THREADS 2u
#define MOCK_MAX_THREADS 16u
/* Delay of the `slow` fault. */
#define MOCK_DEFAULT_SLOW_MS 3000L
/* Query arguments read per request; more are ignored. */
#define MOCK_CAP_QUERY_ARGS 64
/* Values one array query parameter may carry. */
#define MOCK_CAP_ARRAY_VALUES 1000
/* Size of one serialized response (a page holds at most 100 resources). */
#define MOCK_CAP_RESPONSE (64u * 1024u * 1024u)
/* Resources of one kind the store holds; creation past it answers 400. */
#define MOCK_CAP_RESOURCES 10000000u
/* --preload-tasks upper bound. */
#define MOCK_CAP_PRELOAD 10000000u
/* --latency and its jitter, each. */
#define MOCK_CAP_LATENCY_MS 600000L
/* Events one run may publish (--run-events). */
#define MOCK_CAP_RUN_EVENTS 1000
/* Task runs publish this many events unless --run-events says otherwise
 * (fetch, transform, record, log). */
#define MOCK_DEFAULT_RUN_EVENTS 4
/* --clock-offset, either way. */
#define MOCK_CAP_CLOCK_OFFSET_MS (10LL * 366 * 24 * 3600 * 1000)
/* --violate flags. */
#define MOCK_CAP_VIOLATIONS 32
/* Path segments of a request path that can match an operation. */
#define MOCK_CAP_PATH_SEGMENTS 16
/* Length of an operationId or a path template. */
#define MOCK_CAP_NAME 128
/* Distinct enum values outside the model's tables the API keeps (values the
 * loaded spec allows); creation with more answers 500. */
#define MOCK_CAP_INTERNED 4096
/* IDs generated answers hand out that the API remembers, per property name. */
#define MOCK_CAP_HANDED_OUT 1000000u
/* Depth of a schema the generator and the conformance walk follow. */
#define MOCK_CAP_SCHEMA_DEPTH 24
/* Variants the generator tries (enum value, union branch first) before
 * an operation's answer is given up as not generable. */
#define MOCK_GEN_VARIANTS 8u
/* Length of a credential given to the server. */
#define MOCK_CAP_CREDENTIAL 256

/* Logical clock of --seed: start instant and step per request. */
#define MOCK_SEED_EPOCH_MS 1713312000000LL /* 2024-04-17T00:00:00Z */
#define MOCK_SEED_STEP_MS 1000LL
/* A run advances one stage per this many milliseconds of its clock: with
 * --seed, two requests, so that "created" is seen by the next request. */
#define MOCK_RUN_STAGE_MS_SEEDED 2000LL
#define MOCK_RUN_STAGE_MS_REAL 100LL

#endif
