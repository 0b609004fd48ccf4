/* Fuzz target: two OpenAPI documents, as `ingestcheck spec diff OLD NEW`
 * reads them.
 *
 * Input: OLD, a line "---", NEW (split at the first "\n---\n"); without
 * that line the input is both OLD and NEW. Each is read with
 * openapi_load_text; when both load, openapi_changes_compute(OLD, NEW), then
 * NEW against OLD and NEW against itself.
 *
 * Oracle (abort() on failure):
 *  - a refusal returns a status code with err->code set and a one-line
 *    message;
 *  - every change has an id "<where>-...", a message, method and path, an
 *    operationId on each side it exists, and at least one end; each
 *    pointer resolves in its document; the summary counts agree with the
 *    changes; the JSON document has one entry per change;
 *  - NEW against OLD refuses as OLD against NEW does, and adds the
 *    operations it removes (and the other way round), renaming as many;
 *  - a document against itself has no change. */
#include "fuzz_common.h"

#include "openapi/diff.h"
#include "openapi/spec.h"
#include "util/error.h"
#include "json/json.h"

#include <stdlib.h>
#include <string.h>

static void check_end(const struct openapi *sp, const struct openapi_change_loc *l, const char *id)
{
    if (!l->pointer) {
        if (l->line)
            fuzz_fail("%s: an absent end with line %d", id, l->line);
        return;
    }
    if (l->line < 0)
        fuzz_fail("%s: line %d", id, l->line);
    if (!json_pointer_get(openapi_document(sp), l->pointer, false))
        fuzz_fail("%s: pointer %s does not resolve in %s", id, l->pointer, openapi_source_name(sp));
}

static void check_changes(const struct openapi *o, const struct openapi *n,
                          const struct openapi_changes *c)
{
    size_t breaking = 0, added = 0, removed = 0, renamed = 0;
    static const char *const prefixes[] = {"operation-", "parameter-", "request-", "response-"};
    for (size_t i = 0; i < c->count; i++) {
        const struct openapi_change *ch = &c->items[i];
        bool known = false;
        for (size_t k = 0; k < 4; k++)
            known = known || !strncmp(ch->id, prefixes[k], strlen(prefixes[k]));
        if (!known || !ch->message || !ch->message[0] || !ch->method || !ch->path)
            fuzz_fail("change %zu: id '%s', message, method or path missing", i, ch->id);
        if (!ch->old_operation_id && !ch->new_operation_id)
            fuzz_fail("%s: no operationId on either side", ch->id);
        if (!ch->old_loc.pointer && !ch->new_loc.pointer)
            fuzz_fail("%s '%s': neither end", ch->id, ch->message);
        check_end(o, &ch->old_loc, ch->id);
        check_end(n, &ch->new_loc, ch->id);
        breaking += ch->breaking;
        added += !strcmp(ch->id, "operation-added");
        removed += !strcmp(ch->id, "operation-removed");
        renamed += !strcmp(ch->id, "operation-id-changed");
    }
    if (breaking != c->breaking || added != c->operations_added ||
        removed != c->operations_removed || renamed != c->operations_renamed)
        fuzz_fail("summary %zu/%zu/%zu/%zu, changes say %zu/%zu/%zu/%zu", c->breaking,
                  c->operations_added, c->operations_removed, c->operations_renamed, breaking,
                  added, removed, renamed);
    if (added > openapi_operation_count(n) || removed > openapi_operation_count(o))
        fuzz_fail("more operations added or removed than there are");
    cJSON *doc = openapi_changes_to_json(o, n, c);
    if (!doc)
        return; /* out of memory */
    if ((size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "changes")) != c->count)
        fuzz_fail("the JSON document does not list every change");
    cJSON_Delete(doc);
}

/* Diffs a with b into c; returns the status (refusals checked). */
static int diff(const struct openapi *a, const struct openapi *b, struct openapi_changes *c)
{
    struct util_error err;
    util_error_clear(&err);
    openapi_changes_init(c);
    int rc = openapi_changes_compute(a, b, c, &err);
    if (rc)
        fuzz_check_refusal(rc, &err, "openapi_changes_compute");
    else
        check_changes(a, b, c);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    const char *text = (const char *)data;
    size_t olen = size, nstart = 0;
    for (size_t i = 0; i + 5 <= size; i++) {
        if (!memcmp(text + i, "\n---\n", 5)) {
            olen = i + 1;
            nstart = i + 5;
            break;
        }
    }
    size_t nlen = nstart ? size - nstart : size;
    struct util_error err;
    struct openapi *o = NULL, *n = NULL;
    util_error_clear(&err);
    int rc = openapi_load_text(text, olen, "old.yml", &o, &err);
    if (rc) {
        fuzz_check_refusal(rc, &err, "openapi_load_text old");
        return 0;
    }
    util_error_clear(&err);
    rc = openapi_load_text(text + nstart, nlen, "new.yml", &n, &err);
    if (rc) {
        fuzz_check_refusal(rc, &err, "openapi_load_text new");
        openapi_destroy(o);
        return 0;
    }
    struct openapi_changes fwd, back, same;
    int frc = diff(o, n, &fwd);
    int brc = diff(n, o, &back);
    if ((frc == 0) != (brc == 0) && frc != UTIL_ERR_NOMEM && brc != UTIL_ERR_NOMEM &&
        frc != UTIL_ERR_LIMIT && brc != UTIL_ERR_LIMIT)
        fuzz_fail("OLD NEW gives %d, NEW OLD gives %d", frc, brc);
    if (!frc && !brc &&
        (fwd.operations_added != back.operations_removed ||
         fwd.operations_removed != back.operations_added ||
         fwd.operations_renamed != back.operations_renamed))
        fuzz_fail("not symmetric: +%zu -%zu ~%zu, back +%zu -%zu ~%zu", fwd.operations_added,
                  fwd.operations_removed, fwd.operations_renamed, back.operations_added,
                  back.operations_removed, back.operations_renamed);
    if (!diff(n, n, &same) && same.count)
        fuzz_fail("NEW against itself: %zu changes, the first %s '%s'", same.count,
                  same.items[0].id, same.items[0].message);
    openapi_changes_finish(&fwd);
    openapi_changes_finish(&back);
    openapi_changes_finish(&same);
    openapi_destroy(o);
    openapi_destroy(n);
    return 0;
}
