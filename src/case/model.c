/* The case model: freeing it, durations, statuses. */
#include "case/internal.h"

#include "openapi/yaml_json.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void expect_finish(struct case_expect *e)
{
    free(e->status);
    memset(e, 0, sizeof(*e));
}

static void match_finish(struct case_match *m)
{
    for (size_t i = 0; i < m->nignore_query; i++)
        free(m->ignore_query[i]);
    free(m->ignore_query);
    for (size_t i = 0; i < m->nignore_body; i++)
        free(m->ignore_body[i]);
    free(m->ignore_body);
    memset(m, 0, sizeof(*m));
}

static void step_finish(struct case_step *s)
{
    free(s->name);
    free(s->operation_id);
    free(s->declared_id);
    free(s->unresolved);
    free(s->method);
    free(s->path_template);
    expect_finish(&s->expect);
    expect_finish(&s->until);
    for (size_t i = 0; i < s->ncaptures; i++) {
        free(s->captures[i].name);
        free(s->captures[i].expr);
    }
    free(s->captures);
    free(s->allow_undocumented);
    match_finish(&s->match);
}

static void case_finish(struct case_case *k)
{
    free(k->name);
    for (size_t i = 0; i < k->ntags; i++)
        free(k->tags[i]);
    free(k->tags);
    for (size_t i = 0; i < k->nsteps; i++)
        step_finish(&k->steps[i]);
    free(k->steps);
    for (size_t i = 0; i < k->nteardown; i++)
        step_finish(&k->teardown[i]);
    free(k->teardown);
    match_finish(&k->match);
}

void case_file_destroy(struct case_file *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->ncases; i++)
        case_finish(&f->cases[i]);
    free(f->cases);
    cJSON_Delete(f->doc);
    openapi_line_table_destroy(f->lines);
    free(f->path);
    free(f);
}

int case_parse_duration(const char *s, long *ms)
{
    char *end = NULL;
    if (!s || !isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    long n = strtol(s, &end, 10);
    if (errno || n < 0 || n > 1000L * 1000L * 1000L)
        return -1;
    long mul;
    if (*end == '\0' || strcmp(end, "ms") == 0)
        mul = 1;
    else if (strcmp(end, "s") == 0)
        mul = 1000;
    else if (strcmp(end, "m") == 0)
        mul = 60000;
    else if (strcmp(end, "h") == 0)
        mul = 3600000;
    else
        return -1;
    if (n > LONG_MAX / mul)
        return -1;
    *ms = n * mul;
    return 0;
}

bool case_expect_status_matches(const struct case_expect *e, int status)
{
    if (!e->nstatus)
        return status >= 200 && status < 300;
    for (size_t i = 0; i < e->nstatus; i++) {
        if (e->status[i].is_class ? status / 100 == e->status[i].code : status == e->status[i].code)
            return true;
    }
    return false;
}

void case_expect_status_text(const struct case_expect *e, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    if (!e->nstatus) {
        snprintf(buf, size, "2xx");
        return;
    }
    for (size_t i = 0; i < e->nstatus && n < size; i++) {
        int w = e->status[i].is_class
                    ? snprintf(buf + n, size - n, "%s%dxx", i ? ", " : "", e->status[i].code)
                    : snprintf(buf + n, size - n, "%s%d", i ? ", " : "", e->status[i].code);
        if (w < 0)
            break;
        n += (size_t)w;
    }
}
