/* File-set internals of the spec module. */
#ifndef INGESTCHECK_OPENAPI_FILES_H
#define INGESTCHECK_OPENAPI_FILES_H

#include "openapi/spec.h"

/* Appends a file; takes ownership of data (freed on failure). */
int openapi_files_add(struct openapi_files *f, const char *path, char *data, size_t len);

/* Sorts by path (bytewise). */
void openapi_files_sort(struct openapi_files *f);

#endif
