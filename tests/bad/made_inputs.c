/* See made_inputs.h. */
#include "made_inputs.h"

#include "slurp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Rows with these inputs end in well under a second of CPU; 15 s leaves
 * room for a loaded machine. The quadratic YAML reader took over 60 s for
 * 450 000 items and about 25 s for 90 000 keys; a FIFO blocked forever. */
#define FAST_MS 15000
/* 1 GB: the alias bombs expanded to 1.77 GB and 76 GB. */
#define BOMB_KIB (1024ul * 1024ul)

static const struct made_input inputs[] = {
    {"@450k-items", FAST_MS, 0},        {"@90k-keys", FAST_MS, 0},
    {"@alias-400KB-x190k", FAST_MS, BOMB_KIB}, {"@alias-900KB-x1000", FAST_MS, BOMB_KIB},
    {"@fifo", FAST_MS, 0},              {"@spec-300k-items", FAST_MS, 0},
    {"@spec-not-utf8", FAST_MS, 0},
};

const struct made_input *made_input_find(const char *name)
{
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++)
        if (strcmp(inputs[i].name, name) == 0)
            return &inputs[i];
    return NULL;
}

bool made_fifo(const char *path)
{
    unlink(path);
    return mkfifo(path, 0600) == 0;
}

/* getTasks with a body of n items (a flat list, or a mapping of n keys):
 * the case is refused after the whole file is read (getTasks takes no
 * body), so the row times reading it. */
static bool wide_case(FILE *f, long n, bool mapping)
{
    fputs("cases:\n  - name: wide\n    steps:\n      - operation: getTasks\n        body: ", f);
    fputc(mapping ? '{' : '[', f);
    for (long i = 0; i < n; i++) {
        if (mapping)
            fprintf(f, "%s%lx: 1", i ? "," : "", i);
        else
            fputs(i ? ",1" : "1", f);
    }
    fputs(mapping ? "}\n" : "]\n", f);
    return true;
}

/* createTask whose body aliases a string of len bytes n times. */
static bool alias_bomb(FILE *f, long len, long n)
{
    fputs("cases:\n  - name: bomb\n    steps:\n      - operation: createTask\n"
          "        body:\n          s: &s ",
          f);
    for (long i = 0; i < len; i++)
        fputc('x', f);
    fputs("\n          list: [", f);
    for (long i = 0; i < n; i++)
        fputs(i ? ",*s" : "*s", f);
    fputs("]\n", f);
    return true;
}

/* The shipped spec with text inserted after its first "  schemas:\n"
 * line's first schema name line (ErrorBase's "description: "). */
static bool edited_spec(FILE *f, const char *source, const char *after, const char *insert,
                        long items)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/schemas/openapi/ingestion.yml", source);
    size_t n = 0;
    char *text = test_slurp(path, &n);
    const char *at = text ? strstr(text, after) : NULL;
    if (!at) {
        free(text);
        return false;
    }
    size_t pre = (size_t)(at - text) + strlen(after);
    fwrite(text, 1, pre, f);
    fputs(insert, f);
    for (long i = 0; i < items; i++)
        fputs(i ? ",1" : "[1", f);
    if (items)
        fputs("]\n", f);
    fwrite(text + pre, 1, n - pre, f);
    free(text);
    return true;
}

bool made_input_make(const struct made_input *m, const char *path, const char *source)
{
    if (strcmp(m->name, "@fifo") == 0)
        return made_fifo(path);
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    bool ok = false;
    if (strcmp(m->name, "@450k-items") == 0)
        ok = wide_case(f, 450000, false);
    else if (strcmp(m->name, "@90k-keys") == 0)
        ok = wide_case(f, 90000, true);
    else if (strcmp(m->name, "@alias-400KB-x190k") == 0)
        ok = alias_bomb(f, 400000, 190000);
    else if (strcmp(m->name, "@alias-900KB-x1000") == 0)
        ok = alias_bomb(f, 900000, 1000);
    else if (strcmp(m->name, "@spec-300k-items") == 0)
        ok = edited_spec(f, source, "    itemsPerPage:\n      type: integer\n",
                         "      x-many: ", 300000);
    else if (strcmp(m->name, "@spec-not-utf8") == 0)
        ok = edited_spec(f, source, "    ErrorBase:\n      description: Error", "\xff", 0);
    return fclose(f) == 0 && ok;
}
