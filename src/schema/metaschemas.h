/* Embedded metaschemas, so that references to the well-known dialect URIs
 * resolve without a network. Internal to src/schema. */
#ifndef INGESTCHECK_SCHEMA_METASCHEMAS_H
#define INGESTCHECK_SCHEMA_METASCHEMAS_H

#include <stdbool.h>

/* The JSON text of the metaschema with this URI (no fragment), as a new
 * heap string (caller frees), or NULL when unknown or on ENOMEM. */
char *schema_metaschema_text(const char *uri);

/* True when uri names an embedded metaschema. */
bool schema_metaschema_known(const char *uri);

#endif
