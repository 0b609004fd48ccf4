/* File-set internals of the spec module. */
#ifndef INGESTCHECK_SPEC_FILES_H
#define INGESTCHECK_SPEC_FILES_H

#include "spec/spec.h"

/* Appends a file; takes ownership of data (freed on failure). */
int spec_files_add(struct spec_files *f, const char *path, char *data, size_t len);

/* Sorts by path (bytewise). */
void spec_files_sort(struct spec_files *f);

#endif
