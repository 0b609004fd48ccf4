/* Component names: their files, and union branches matched to selector
 * values by name (see gen.h). */
#include "openapi/gen.h"

#include "util/caps.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int gen_push(char ***list, size_t *n, const char *s)
{
    char **p = realloc(*list, (*n + 1) * sizeof(*p));
    if (!p)
        return UTIL_ERR_NOMEM;
    *list = p;
    if (!(p[*n] = strdup(s)))
        return UTIL_ERR_NOMEM;
    (*n)++;
    return UTIL_OK;
}

static bool valid_component_name(const char *name)
{
    if (!name || !name[0])
        return false;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.')
            return false;
    return true;
}

const char *gen_component_file(const struct gen *g, const char *name)
{
    for (size_t i = 0; i < g->nrenamed; i++)
        if (!strcmp(g->renamed[i], name))
            return g->renamed_files[i];
    return name;
}

int gen_name_files(struct gen *g, const cJSON *schemas)
{
    const cJSON *s;
    cJSON_ArrayForEach(s, schemas)
    {
        if (!valid_component_name(s->string))
            return util_error_set(g->err, UTIL_ERR_INVALID,
                                  "%s:%d: component schema name \"%s\" is not a valid OpenAPI "
                                  "component name (letters, digits, '.', '-', '_')",
                                  openapi_source_name(g->spec),
                                  openapi_line_of(g->spec, "/components/schemas"), s->string);
        size_t before = 0;
        bool collides = false;
        const cJSON *o;
        cJSON_ArrayForEach(o, schemas)
        {
            if (o == s || strcasecmp(o->string, s->string) != 0)
                continue;
            collides = true;
            before += strcmp(o->string, s->string) < 0;
        }
        if (!collides || before == 0)
            continue;
        char file[600];
        snprintf(file, sizeof(file), "%s~%zu", s->string, before);
        size_t nfiles = g->nrenamed;
        if (gen_push(&g->renamed_files, &nfiles, file))
            return UTIL_ERR_NOMEM;
        if (gen_push(&g->renamed, &g->nrenamed, s->string)) {
            free(g->renamed_files[nfiles - 1]);
            return UTIL_ERR_NOMEM;
        }
    }
    return UTIL_OK;
}

/* ---- union branches and selector values ---- */

struct words {
    char *w[32];
    size_t n;
};

static void words_free(struct words *w)
{
    for (size_t i = 0; i < w->n; i++)
        free(w->w[i]);
    w->n = 0;
}

/* "AuthAPIKeyPartial" -> auth, api, key, partial; "SourceGA4BigQueryExport"
 * -> source, ga4, big, query, export. */
static int split_words(const char *name, struct words *out)
{
    out->n = 0;
    size_t len = strlen(name);
    size_t start = 0;
    for (size_t i = 1; i <= len; i++) {
        bool cut = i == len;
        if (!cut) {
            char p = name[i - 1], c = name[i], nx = name[i + 1];
            bool up = isupper((unsigned char)c);
            cut = (up && (islower((unsigned char)p) || isdigit((unsigned char)p))) ||
                  (up && isupper((unsigned char)p) && islower((unsigned char)nx)) ||
                  !isalnum((unsigned char)c);
            /* digits stay with the word before them */
        }
        if (!cut)
            continue;
        if (i > start && isalnum((unsigned char)name[start])) {
            if (out->n == sizeof(out->w) / sizeof(out->w[0]))
                return UTIL_ERR_LIMIT;
            char *w = malloc(i - start + 1);
            if (!w)
                return UTIL_ERR_NOMEM;
            size_t k = 0;
            for (size_t j = start; j < i; j++)
                if (isalnum((unsigned char)name[j]))
                    w[k++] = (char)tolower((unsigned char)name[j]);
            w[k] = '\0';
            out->w[out->n++] = w;
        }
        start = (i < len && !isalnum((unsigned char)name[i])) ? i + 1 : i;
    }
    return UTIL_OK;
}

/* The most words of w that a run of consecutive words spells key with
 * (0: none). */
static size_t run_cover(const struct words *w, const char *key)
{
    size_t klen = strlen(key), best = 0;
    for (size_t a = 0; a < w->n; a++) {
        size_t off = 0;
        for (size_t b = a; b < w->n; b++) {
            size_t l = strlen(w->w[b]);
            if (off + l > klen || memcmp(key + off, w->w[b], l) != 0)
                break;
            off += l;
            if (off == klen) {
                if (b - a + 1 > best)
                    best = b - a + 1;
                break;
            }
        }
    }
    return best;
}

/* Lower-case alphanumerics of an enum value ("ga4BigqueryExport" ->
 * "ga4bigqueryexport"); heap, caller frees. */
static char *value_key(const char *value)
{
    char *k = malloc(strlen(value) + 1);
    if (!k)
        return NULL;
    size_t j = 0;
    for (const char *p = value; *p; p++)
        if (isalnum((unsigned char)*p))
            k[j++] = (char)tolower((unsigned char)*p);
    k[j] = '\0';
    return k;
}

int gen_match_branches(char *const *names, size_t n, char *const *values, size_t nv, size_t *out)
{
    int rc = UTIL_OK;
    struct words *ws = calloc(n ? n : 1, sizeof(*ws));
    size_t *left = calloc(n ? n : 1, sizeof(*left));
    char **keys = calloc(nv ? nv : 1, sizeof(*keys));
    if (!ws || !left || !keys) {
        rc = UTIL_ERR_NOMEM;
        goto cleanup;
    }
    for (size_t v = 0; v < nv && !rc; v++)
        if (!(keys[v] = value_key(values[v])))
            rc = UTIL_ERR_NOMEM;
    for (size_t j = 0; j < n && !rc; j++) {
        rc = split_words(names[j], &ws[j]);
        if (rc == UTIL_ERR_LIMIT) { /* too many words to be a value's name */
            words_free(&ws[j]);
            rc = UTIL_OK;
        }
    }
    if (rc)
        goto cleanup;
    for (size_t j = 0; j < n; j++) {
        size_t best = 0, pick = nv;
        bool tie = false;
        for (size_t v = 0; v < nv; v++) {
            size_t c = run_cover(&ws[j], keys[v]);
            if (c > best) {
                best = c;
                pick = v;
                tie = false;
            } else if (c && c == best && strcmp(keys[v], keys[pick]) != 0) {
                tie = true;
            }
        }
        out[j] = tie ? nv : pick;
        left[j] = ws[j].n - best;
    }
    /* A value claimed by several branches: the closest name keeps it. */
    for (size_t v = 0; v < nv; v++) {
        size_t min = SIZE_MAX, nmin = 0;
        for (size_t j = 0; j < n; j++) {
            if (out[j] != v)
                continue;
            if (left[j] < min) {
                min = left[j];
                nmin = 1;
            } else if (left[j] == min) {
                nmin++;
            }
        }
        for (size_t j = 0; j < n; j++)
            if (out[j] == v && (left[j] != min || nmin > 1))
                out[j] = nv;
    }
cleanup:
    for (size_t j = 0; ws && j < n; j++)
        words_free(&ws[j]);
    for (size_t v = 0; keys && v < nv; v++)
        free(keys[v]);
    free(ws);
    free(left);
    free(keys);
    return rc;
}
