/* Named caps of the http module. */
#ifndef INGESTCHECK_HTTP_CAPS_H
#define INGESTCHECK_HTTP_CAPS_H

#include "util/caps.h"

/* Response headers kept per response; further headers are dropped. */
#define HTTP_CAP_HEADER_COUNT 512
/* Length of one header line sent or kept (name + value); longer response
 * lines are dropped, a longer request line is not sent. */
#define HTTP_CAP_HEADER_LINE UTIL_CAP_HEADER_LINE
/* Redirects are never followed (credentials must not leak to another host). */
/* Pause between two attempts of a retried request, times the attempt number. */
#define HTTP_RETRY_BACKOFF_MS 200L
/* Most retries of a request (--retries): with the backoff above, 100
 * retries wait about 17 minutes in all. */
#define HTTP_CAP_RETRIES 100
/* Longest --timeout: a day. */
#define HTTP_CAP_TIMEOUT_MS 86400000L
/* Longest a wait (backoff, a request in flight) goes without looking at
 * http_options.cancel. */
#define HTTP_CANCEL_SLICE_MS 50L
/* How long requests sent after http_options.cancel was set (teardowns)
 * may still run. */
#define HTTP_CANCEL_GRACE_MS 300L
/* Defaults of struct http_options. */
#define HTTP_DEFAULT_TIMEOUT_MS 30000L
#define HTTP_DEFAULT_CONNECT_TIMEOUT_MS 10000L

#endif
