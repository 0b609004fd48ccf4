#include "schema/regex.h"
#include "util/text.h"

#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#define RX_MAX_PROG 20000
/* Levels of the compiled node tree (branches of | chain, groups nest). */
#define RX_MAX_COMPILE_DEPTH 1800
#define RX_STR_(x) #x
#define RX_STR(x) RX_STR_(x)
#define RX_MAX_COUNT 1000
#define RX_MAX_NEST 200
#define RX_LOOK_BUDGET 20000000ul
#define RX_STACK_PROG 128

enum rx_node_type {
    N_EMPTY,
    N_CHAR,
    N_ANY,
    N_CLASS,
    N_CAT,
    N_ALT,
    N_REPEAT,
    N_BOL,
    N_EOL,
    N_WORDB,
    N_NWORDB,
    N_LOOK,
};

enum rx_prop {
    PR_ALPHA = 1,
    PR_UPPER = 2,
    PR_LOWER = 4,
    PR_DIGIT = 8,
    PR_SPACE = 16,
    PR_PUNCT = 32,
};

struct rx_range {
    uint32_t lo, hi;
};

struct rx_class {
    struct rx_range *r;
    size_t n, alloc;
    unsigned props;  /* code point has one of these properties */
    unsigned nprops; /* code point lacks one of these properties */
    bool neg;
};

struct rx_node {
    int type;
    uint32_t ch;
    int cls;
    int a, b; /* child node indices, -1 when absent */
    int min, max;
    bool neg;
};

enum rx_op {
    OP_CHAR,
    OP_ANY,
    OP_CLASS,
    OP_SPLIT,
    OP_JMP,
    OP_MATCH,
    OP_BOL,
    OP_EOL,
    OP_WORDB,
    OP_NWORDB,
    OP_LOOK
};

struct rx_inst {
    uint8_t op;
    bool neg;
    uint32_t c;
    int x, y;
};

struct rx_prog {
    struct rx_inst *code;
    size_t len, alloc;
};

struct schema_regex {
    struct rx_class *classes;
    size_t nclasses;
    struct rx_prog main;
    struct rx_prog *subs;
    size_t nsubs;
    locale_t loc;
    bool uses_props;
    bool anchored; /* every match starts at offset 0 */
};

struct rx_parser {
    const char *p;
    struct schema_regex *re;
    struct rx_node *nodes;
    size_t nnodes, anodes;
    int depth;
    char *err;
    size_t errlen;
    bool nomem;
    bool failed;
};

static void rx_fail(struct rx_parser *ps, const char *msg)
{
    if (!ps->failed && ps->err && ps->errlen)
        snprintf(ps->err, ps->errlen, "%s", msg);
    ps->failed = true;
}

static void rx_oom(struct rx_parser *ps)
{
    rx_fail(ps, "out of memory");
    ps->nomem = true;
}

static int rx_node_new(struct rx_parser *ps, int type)
{
    if (ps->failed)
        return -1;
    if (ps->nnodes == ps->anodes) {
        size_t na = ps->anodes ? ps->anodes * 2 : 32;
        struct rx_node *nn = realloc(ps->nodes, na * sizeof(*nn));
        if (!nn) {
            rx_oom(ps);
            return -1;
        }
        ps->nodes = nn;
        ps->anodes = na;
    }
    struct rx_node *n = &ps->nodes[ps->nnodes];
    memset(n, 0, sizeof(*n));
    n->type = type;
    n->a = n->b = -1;
    return (int)ps->nnodes++;
}

/* Decodes one UTF-8 code point at s (len bytes left); invalid bytes decode
 * as themselves. Returns the number of bytes consumed (at least 1). */
static inline size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
    unsigned char c = s[0];
    if (c < 0x80 || len < 2) {
        *cp = c;
        return 1;
    }
    if ((c & 0xE0) == 0xC0 && (s[1] & 0xC0) == 0x80) {
        *cp = ((uint32_t)(c & 0x1F) << 6) | (s[1] & 0x3F);
        return 2;
    }
    if ((c & 0xF0) == 0xE0 && len >= 3 && (s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80) {
        *cp = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
        return 3;
    }
    if ((c & 0xF8) == 0xF0 && len >= 4 && (s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80 &&
        (s[3] & 0xC0) == 0x80) {
        *cp = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
              ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
        return 4;
    }
    *cp = c;
    return 1;
}

static int rx_class_new(struct rx_parser *ps)
{
    struct schema_regex *re = ps->re;
    struct rx_class *nc = realloc(re->classes, (re->nclasses + 1) * sizeof(*nc));
    if (!nc) {
        rx_oom(ps);
        return -1;
    }
    re->classes = nc;
    memset(&nc[re->nclasses], 0, sizeof(nc[0]));
    return (int)re->nclasses++;
}

static void rx_class_add(struct rx_parser *ps, int ci, uint32_t lo, uint32_t hi)
{
    if (ci < 0 || ps->failed)
        return;
    struct rx_class *c = &ps->re->classes[ci];
    if (c->n == c->alloc) {
        size_t na = c->alloc ? c->alloc * 2 : 8;
        struct rx_range *nr = realloc(c->r, na * sizeof(*nr));
        if (!nr) {
            rx_oom(ps);
            return;
        }
        c->r = nr;
        c->alloc = na;
    }
    c->r[c->n].lo = lo;
    c->r[c->n].hi = hi;
    c->n++;
}

static const struct rx_range rx_digit[] = {{'0', '9'}};
static const struct rx_range rx_word[] = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
static const struct rx_range rx_space[] = {
    {0x09, 0x0D},     {0x20, 0x20},     {0xA0, 0xA0},     {0x1680, 0x1680}, {0x2000, 0x200A},
    {0x2028, 0x2029}, {0x202F, 0x202F}, {0x205F, 0x205F}, {0x3000, 0x3000}, {0xFEFF, 0xFEFF},
};

/* Adds a sorted range set, or its complement when neg. */
static void rx_class_add_set(struct rx_parser *ps, int ci, const struct rx_range *r, size_t n,
                             bool neg)
{
    if (!neg) {
        for (size_t i = 0; i < n; i++)
            rx_class_add(ps, ci, r[i].lo, r[i].hi);
        return;
    }
    uint32_t next = 0;
    for (size_t i = 0; i < n; i++) {
        if (r[i].lo > next)
            rx_class_add(ps, ci, next, r[i].lo - 1);
        next = r[i].hi + 1;
    }
    if (next <= 0x10FFFF)
        rx_class_add(ps, ci, next, 0x10FFFF);
}

static bool rx_hex(struct rx_parser *ps, int n, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < n; i++) {
        int h = util_hex_digit(ps->p[i]);
        if (h < 0)
            return false;
        v = v * 16 + (uint32_t)h;
    }
    ps->p += n;
    *out = v;
    return true;
}

static unsigned rx_prop_lookup(const char *name, size_t n)
{
    static const struct {
        const char *name;
        unsigned prop;
    } props[] = {
        {"L", PR_ALPHA},
        {"Letter", PR_ALPHA},
        {"Alphabetic", PR_ALPHA},
        {"Alpha", PR_ALPHA},
        {"Lu", PR_UPPER},
        {"Uppercase_Letter", PR_UPPER},
        {"Uppercase", PR_UPPER},
        {"Ll", PR_LOWER},
        {"Lowercase_Letter", PR_LOWER},
        {"Lowercase", PR_LOWER},
        {"N", PR_DIGIT},
        {"Number", PR_DIGIT},
        {"Nd", PR_DIGIT},
        {"Decimal_Number", PR_DIGIT},
        {"digit", PR_DIGIT},
        {"P", PR_PUNCT},
        {"Punctuation", PR_PUNCT},
        {"White_Space", PR_SPACE},
        {"space", PR_SPACE},
        {"Z", PR_SPACE},
        {"Zs", PR_SPACE},
        {"Separator", PR_SPACE},
        {"Space_Separator", PR_SPACE},
    };
    for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++)
        if (strlen(props[i].name) == n && memcmp(props[i].name, name, n) == 0)
            return props[i].prop;
    return 0;
}

/* Parses "{Name}" after \p or \P; returns the property flag or 0. */
static unsigned rx_parse_prop(struct rx_parser *ps)
{
    if (*ps->p != '{') {
        rx_fail(ps, "\\p must be followed by {Property}");
        return 0;
    }
    const char *start = ps->p + 1;
    const char *end = strchr(start, '}');
    if (!end) {
        rx_fail(ps, "unterminated \\p{...}");
        return 0;
    }
    unsigned prop = rx_prop_lookup(start, (size_t)(end - start));
    if (!prop) {
        rx_fail(ps, "unsupported Unicode property in \\p{...}");
        return 0;
    }
    ps->re->uses_props = true;
    ps->p = end + 1;
    return prop;
}

/* Parses an escape after '\' that denotes a single code point (shared by
 * atoms and classes). Returns false when the escape is not a character. */
static bool rx_char_escape(struct rx_parser *ps, bool in_class, uint32_t *cp)
{
    char c = *ps->p;
    switch (c) {
    case 't':
        ps->p++;
        *cp = '\t';
        return true;
    case 'n':
        ps->p++;
        *cp = '\n';
        return true;
    case 'r':
        ps->p++;
        *cp = '\r';
        return true;
    case 'f':
        ps->p++;
        *cp = '\f';
        return true;
    case 'v':
        ps->p++;
        *cp = '\v';
        return true;
    case '0':
        ps->p++;
        *cp = 0;
        return true;
    case 'b':
        if (!in_class)
            return false;
        ps->p++;
        *cp = '\b';
        return true;
    case 'c':
        if ((ps->p[1] >= 'a' && ps->p[1] <= 'z') || (ps->p[1] >= 'A' && ps->p[1] <= 'Z')) {
            *cp = (uint32_t)(ps->p[1] % 32);
            ps->p += 2;
            return true;
        }
        rx_fail(ps, "invalid \\c escape");
        return false;
    case 'x':
        ps->p++;
        if (!rx_hex(ps, 2, cp)) {
            rx_fail(ps, "invalid \\x escape");
            return false;
        }
        return true;
    case 'u':
        ps->p++;
        if (*ps->p == '{') {
            ps->p++;
            uint32_t v = 0;
            int n = 0;
            while (util_hex_digit(*ps->p) >= 0 && n < 8) {
                v = v * 16 + (uint32_t)util_hex_digit(*ps->p++);
                n++;
            }
            if (*ps->p != '}' || n == 0 || v > 0x10FFFF) {
                rx_fail(ps, "invalid \\u{...} escape");
                return false;
            }
            ps->p++;
            *cp = v;
            return true;
        }
        if (!rx_hex(ps, 4, cp)) {
            rx_fail(ps, "invalid \\u escape");
            return false;
        }
        if (*cp >= 0xD800 && *cp <= 0xDBFF && ps->p[0] == '\\' && ps->p[1] == 'u') {
            const char *save = ps->p;
            uint32_t lo;
            ps->p += 2;
            if (rx_hex(ps, 4, &lo) && lo >= 0xDC00 && lo <= 0xDFFF)
                *cp = 0x10000 + ((*cp - 0xD800) << 10) + (lo - 0xDC00);
            else
                ps->p = save;
        }
        return true;
    default:
        break;
    }
    if (c >= '1' && c <= '9') {
        rx_fail(ps, "backreferences are not supported");
        return false;
    }
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
        rx_fail(ps, "invalid escape sequence");
        return false;
    }
    if (c == '\0') {
        rx_fail(ps, "pattern ends with a backslash");
        return false;
    }
    size_t k = utf8_decode((const unsigned char *)ps->p, strlen(ps->p), cp);
    ps->p += k;
    return true;
}

/* Parses a class escape (\d \w \s \D \W \S \p \P) into ci; false if the
 * escape is not one of them. */
static bool rx_class_escape(struct rx_parser *ps, int ci)
{
    char c = *ps->p;
    switch (c) {
    case 'd':
    case 'D':
        ps->p++;
        rx_class_add_set(ps, ci, rx_digit, 1, c == 'D');
        return true;
    case 'w':
    case 'W':
        ps->p++;
        rx_class_add_set(ps, ci, rx_word, 4, c == 'W');
        return true;
    case 's':
    case 'S':
        ps->p++;
        rx_class_add_set(ps, ci, rx_space, sizeof(rx_space) / sizeof(rx_space[0]), c == 'S');
        return true;
    case 'p':
    case 'P': {
        ps->p++;
        unsigned prop = rx_parse_prop(ps);
        if (ci >= 0 && prop) {
            if (c == 'p')
                ps->re->classes[ci].props |= prop;
            else
                ps->re->classes[ci].nprops |= prop;
        }
        return true;
    }
    default:
        return false;
    }
}

static int rx_parse_class(struct rx_parser *ps)
{
    int ci = rx_class_new(ps);
    if (ci < 0)
        return -1;
    ps->p++; /* '[' */
    if (*ps->p == '^') {
        ps->re->classes[ci].neg = true;
        ps->p++;
    }
    while (!ps->failed && *ps->p != ']') {
        uint32_t lo, hi;
        if (*ps->p == '\0') {
            rx_fail(ps, "unterminated character class");
            break;
        }
        if (*ps->p == '\\') {
            ps->p++;
            if (rx_class_escape(ps, ci))
                continue;
            if (!rx_char_escape(ps, true, &lo))
                break;
        } else {
            ps->p += utf8_decode((const unsigned char *)ps->p, strlen(ps->p), &lo);
        }
        hi = lo;
        if (ps->p[0] == '-' && ps->p[1] != ']' && ps->p[1] != '\0') {
            ps->p++;
            if (*ps->p == '\\') {
                ps->p++;
                const char *save = ps->p;
                if (rx_class_escape(ps, ci)) {
                    (void)save;
                    rx_class_add(ps, ci, lo, lo);
                    rx_class_add(ps, ci, '-', '-');
                    continue;
                }
                if (!rx_char_escape(ps, true, &hi))
                    break;
            } else {
                ps->p += utf8_decode((const unsigned char *)ps->p, strlen(ps->p), &hi);
            }
            if (hi < lo) {
                rx_fail(ps, "character class range out of order");
                break;
            }
        }
        rx_class_add(ps, ci, lo, hi);
    }
    if (!ps->failed)
        ps->p++; /* ']' */
    int n = rx_node_new(ps, N_CLASS);
    if (n >= 0)
        ps->nodes[n].cls = ci;
    return n;
}

static int rx_parse_alt(struct rx_parser *ps);

/* Reads a {n}, {n,} or {n,m} quantifier at ps->p; false (p unchanged) if
 * the brace does not start one. */
static bool rx_read_count(struct rx_parser *ps, int *min, int *max)
{
    const char *q = ps->p + 1;
    long a = 0, b;
    if (*q < '0' || *q > '9')
        return false;
    while (*q >= '0' && *q <= '9') {
        a = a * 10 + (*q++ - '0');
        if (a > 1000000)
            a = 1000000;
    }
    b = a;
    if (*q == ',') {
        q++;
        if (*q == '}') {
            b = -1;
        } else {
            if (*q < '0' || *q > '9')
                return false;
            b = 0;
            while (*q >= '0' && *q <= '9') {
                b = b * 10 + (*q++ - '0');
                if (b > 1000000)
                    b = 1000000;
            }
        }
    }
    if (*q != '}')
        return false;
    ps->p = q + 1;
    *min = (int)a;
    *max = (int)b;
    return true;
}

static int rx_parse_atom(struct rx_parser *ps)
{
    char c = *ps->p;
    int n;
    uint32_t cp;
    switch (c) {
    case '^':
        ps->p++;
        return rx_node_new(ps, N_BOL);
    case '$':
        ps->p++;
        return rx_node_new(ps, N_EOL);
    case '.':
        ps->p++;
        return rx_node_new(ps, N_ANY);
    case '[':
        return rx_parse_class(ps);
    case '(': {
        ps->p++;
        int look = 0;
        bool neg = false;
        if (ps->p[0] == '?') {
            if (ps->p[1] == ':') {
                ps->p += 2;
            } else if (ps->p[1] == '=' || ps->p[1] == '!') {
                look = 1;
                neg = ps->p[1] == '!';
                ps->p += 2;
            } else if (ps->p[1] == '<' && (ps->p[2] == '=' || ps->p[2] == '!')) {
                rx_fail(ps, "lookbehind is not supported");
                return -1;
            } else if (ps->p[1] == '<') {
                const char *e = strchr(ps->p, '>');
                if (!e) {
                    rx_fail(ps, "unterminated group name");
                    return -1;
                }
                ps->p = e + 1;
            } else {
                rx_fail(ps, "invalid group");
                return -1;
            }
        }
        if (++ps->depth > RX_MAX_NEST) {
            rx_fail(ps, "groups nested too deeply");
            return -1;
        }
        int inner = rx_parse_alt(ps);
        ps->depth--;
        if (ps->failed)
            return -1;
        if (*ps->p != ')') {
            rx_fail(ps, "missing )");
            return -1;
        }
        ps->p++;
        if (!look)
            return inner;
        n = rx_node_new(ps, N_LOOK);
        if (n >= 0) {
            ps->nodes[n].a = inner;
            ps->nodes[n].neg = neg;
        }
        return n;
    }
    case '\\':
        ps->p++;
        if (*ps->p == 'b' || *ps->p == 'B') {
            n = rx_node_new(ps, *ps->p == 'b' ? N_WORDB : N_NWORDB);
            ps->p++;
            return n;
        }
        if (strchr("dDwWsSpP", *ps->p) && *ps->p) {
            int ci = rx_class_new(ps);
            if (ci < 0)
                return -1;
            rx_class_escape(ps, ci);
            n = rx_node_new(ps, N_CLASS);
            if (n >= 0)
                ps->nodes[n].cls = ci;
            return n;
        }
        if (!rx_char_escape(ps, false, &cp))
            return -1;
        n = rx_node_new(ps, N_CHAR);
        if (n >= 0)
            ps->nodes[n].ch = cp;
        return n;
    case '*':
    case '+':
    case '?':
        rx_fail(ps, "nothing to repeat");
        return -1;
    case '{': {
        int a, b;
        const char *save = ps->p;
        if (rx_read_count(ps, &a, &b)) {
            ps->p = save;
            rx_fail(ps, "nothing to repeat");
            return -1;
        }
        break;
    }
    default:
        break;
    }
    ps->p += utf8_decode((const unsigned char *)ps->p, strlen(ps->p), &cp);
    n = rx_node_new(ps, N_CHAR);
    if (n >= 0)
        ps->nodes[n].ch = cp;
    return n;
}

static int rx_parse_repeat(struct rx_parser *ps)
{
    int atom = rx_parse_atom(ps);
    while (!ps->failed) {
        int min, max;
        char c = *ps->p;
        if (c == '*') {
            min = 0;
            max = -1;
            ps->p++;
        } else if (c == '+') {
            min = 1;
            max = -1;
            ps->p++;
        } else if (c == '?') {
            min = 0;
            max = 1;
            ps->p++;
        } else if (c == '{' && rx_read_count(ps, &min, &max)) {
            if (max >= 0 && max < min) {
                rx_fail(ps, "numbers out of order in {} quantifier");
                return -1;
            }
            if (min > RX_MAX_COUNT || max > RX_MAX_COUNT) {
                rx_fail(ps, "repetition count too large");
                return -1;
            }
        } else {
            break;
        }
        if (*ps->p == '?')
            ps->p++; /* lazy: irrelevant for a yes/no search */
        if (atom >= 0) {
            int t = ps->nodes[atom].type;
            if (t == N_BOL || t == N_EOL || t == N_WORDB || t == N_NWORDB) {
                rx_fail(ps, "nothing to repeat");
                return -1;
            }
        }
        int n = rx_node_new(ps, N_REPEAT);
        if (n < 0)
            return -1;
        ps->nodes[n].a = atom;
        ps->nodes[n].min = min;
        ps->nodes[n].max = max;
        atom = n;
    }
    return atom;
}

static int rx_parse_cat(struct rx_parser *ps)
{
    int left = -1;
    while (!ps->failed && *ps->p && *ps->p != '|' && *ps->p != ')') {
        int r = rx_parse_repeat(ps);
        if (ps->failed)
            return -1;
        if (left < 0) {
            left = r;
        } else {
            int n = rx_node_new(ps, N_CAT);
            if (n < 0)
                return -1;
            ps->nodes[n].a = left;
            ps->nodes[n].b = r;
            left = n;
        }
    }
    if (left < 0)
        left = rx_node_new(ps, N_EMPTY);
    return left;
}

static int rx_parse_alt(struct rx_parser *ps)
{
    int left = rx_parse_cat(ps);
    while (!ps->failed && *ps->p == '|') {
        ps->p++;
        int right = rx_parse_cat(ps);
        int n = rx_node_new(ps, N_ALT);
        if (n < 0)
            return -1;
        ps->nodes[n].a = left;
        ps->nodes[n].b = right;
        left = n;
    }
    return left;
}

static int rx_emit(struct rx_parser *ps, struct rx_prog *p, uint8_t op)
{
    if (ps->failed)
        return -1;
    if (p->len >= RX_MAX_PROG) {
        rx_fail(ps, "the pattern is too large: it compiles to more than " RX_STR(
                        RX_MAX_PROG) " instructions (each character and alternative takes some)");
        return -1;
    }
    if (p->len == p->alloc) {
        size_t na = p->alloc ? p->alloc * 2 : 16;
        struct rx_inst *nc = realloc(p->code, na * sizeof(*nc));
        if (!nc) {
            rx_oom(ps);
            return -1;
        }
        p->code = nc;
        p->alloc = na;
    }
    memset(&p->code[p->len], 0, sizeof(p->code[0]));
    p->code[p->len].op = op;
    return (int)p->len++;
}

static void rx_compile_node(struct rx_parser *ps, struct rx_prog *p, int ni, int depth);

static void rx_compile_sub(struct rx_parser *ps, int ni, int *out, int depth)
{
    struct schema_regex *re = ps->re;
    struct rx_prog *ns = realloc(re->subs, (re->nsubs + 1) * sizeof(*ns));
    if (!ns) {
        rx_oom(ps);
        return;
    }
    re->subs = ns;
    memset(&ns[re->nsubs], 0, sizeof(ns[0]));
    size_t idx = re->nsubs++;
    struct rx_prog sub = {0};
    rx_compile_node(ps, &sub, ni, depth + 1);
    rx_emit(ps, &sub, OP_MATCH);
    re->subs[idx] = sub;
    *out = (int)idx;
}

static void rx_compile_node(struct rx_parser *ps, struct rx_prog *p, int ni, int depth)
{
    if (ps->failed || ni < 0)
        return;
    if (depth > RX_MAX_COMPILE_DEPTH) {
        rx_fail(ps, "too many alternatives or nested groups: each branch of an alternative "
                    "(a|b|...) and each group is one level, at most " RX_STR(
                        RX_MAX_COMPILE_DEPTH) " levels");
        return;
    }
    const struct rx_node n = ps->nodes[ni];
    int pc, j, k;
    switch (n.type) {
    case N_EMPTY:
        break;
    case N_CHAR:
        pc = rx_emit(ps, p, OP_CHAR);
        if (pc >= 0)
            p->code[pc].c = n.ch;
        break;
    case N_ANY:
        rx_emit(ps, p, OP_ANY);
        break;
    case N_CLASS:
        pc = rx_emit(ps, p, OP_CLASS);
        if (pc >= 0)
            p->code[pc].x = n.cls;
        break;
    case N_BOL:
        rx_emit(ps, p, OP_BOL);
        break;
    case N_EOL:
        rx_emit(ps, p, OP_EOL);
        break;
    case N_WORDB:
        rx_emit(ps, p, OP_WORDB);
        break;
    case N_NWORDB:
        rx_emit(ps, p, OP_NWORDB);
        break;
    case N_CAT:
        rx_compile_node(ps, p, n.a, depth + 1);
        rx_compile_node(ps, p, n.b, depth + 1);
        break;
    case N_ALT:
        pc = rx_emit(ps, p, OP_SPLIT);
        if (pc < 0)
            return;
        p->code[pc].x = pc + 1;
        rx_compile_node(ps, p, n.a, depth + 1);
        j = rx_emit(ps, p, OP_JMP);
        if (j < 0)
            return;
        p->code[pc].y = (int)p->len;
        rx_compile_node(ps, p, n.b, depth + 1);
        p->code[j].x = (int)p->len;
        break;
    case N_LOOK: {
        int sub = -1;
        rx_compile_sub(ps, n.a, &sub, depth);
        pc = rx_emit(ps, p, OP_LOOK);
        if (pc >= 0) {
            p->code[pc].x = sub;
            p->code[pc].neg = n.neg;
        }
        break;
    }
    case N_REPEAT: {
        for (int i = 0; i < n.min && !ps->failed; i++)
            rx_compile_node(ps, p, n.a, depth + 1);
        if (n.max < 0) {
            pc = rx_emit(ps, p, OP_SPLIT);
            if (pc < 0)
                return;
            p->code[pc].x = pc + 1;
            rx_compile_node(ps, p, n.a, depth + 1);
            j = rx_emit(ps, p, OP_JMP);
            if (j < 0)
                return;
            p->code[j].x = pc;
            p->code[pc].y = (int)p->len;
        } else {
            size_t first = p->len;
            for (int i = n.min; i < n.max && !ps->failed; i++) {
                pc = rx_emit(ps, p, OP_SPLIT);
                if (pc < 0)
                    return;
                p->code[pc].x = pc + 1;
                p->code[pc].y = -1;
                rx_compile_node(ps, p, n.a, depth + 1);
            }
            if (ps->failed)
                return;
            for (k = (int)first; k < (int)p->len; k++)
                if (p->code[k].op == OP_SPLIT && p->code[k].y == -1)
                    p->code[k].y = (int)p->len;
        }
        break;
    }
    default:
        break;
    }
}

void schema_regex_destroy(struct schema_regex *re)
{
    if (!re)
        return;
    for (size_t i = 0; i < re->nclasses; i++)
        free(re->classes[i].r);
    free(re->classes);
    free(re->main.code);
    for (size_t i = 0; i < re->nsubs; i++)
        free(re->subs[i].code);
    free(re->subs);
    if (re->loc != (locale_t)0)
        freelocale(re->loc);
    free(re);
}

struct schema_regex *schema_regex_compile(const char *pattern, char *errbuf, size_t errlen,
                                          bool *nomem)
{
    struct rx_parser ps = {0};
    struct schema_regex *re = calloc(1, sizeof(*re));
    if (nomem)
        *nomem = false;
    if (errbuf && errlen)
        errbuf[0] = '\0';
    if (!re) {
        if (nomem)
            *nomem = true;
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    ps.p = pattern;
    ps.re = re;
    ps.err = errbuf;
    ps.errlen = errlen;
    int root = rx_parse_alt(&ps);
    if (!ps.failed && *ps.p == ')')
        rx_fail(&ps, "unmatched )");
    if (!ps.failed)
        rx_compile_node(&ps, &re->main, root, 0);
    rx_emit(&ps, &re->main, OP_MATCH);
    if (!ps.failed) {
        for (size_t i = 0; i < re->main.len; i++)
            if (re->main.code[i].op == OP_SPLIT && re->main.code[i].y < 0)
                re->main.code[i].y = (int)re->main.len - 1;
    }
    if (!ps.failed && root >= 0) {
        int first = root;
        while (first >= 0 && ps.nodes[first].type == N_CAT)
            first = ps.nodes[first].a;
        re->anchored = first >= 0 && ps.nodes[first].type == N_BOL;
    }
    if (!ps.failed && re->uses_props)
        re->loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    free(ps.nodes);
    if (ps.failed) {
        if (nomem)
            *nomem = ps.nomem;
        schema_regex_destroy(re);
        return NULL;
    }
    return re;
}

static bool rx_has_prop(const struct schema_regex *re, uint32_t c, unsigned prop)
{
    wint_t w = (wint_t)c;
    bool ascii = c < 0x80;
    if (re->loc == (locale_t)0 && !ascii)
        return false;
    if ((prop & PR_ALPHA) && (re->loc != (locale_t)0 ? iswalpha_l(w, re->loc) : iswalpha(w)) &&
        !(c >= '0' && c <= '9'))
        return true;
    if ((prop & PR_UPPER) && (re->loc != (locale_t)0 ? iswupper_l(w, re->loc) : iswupper(w)))
        return true;
    if ((prop & PR_LOWER) && (re->loc != (locale_t)0 ? iswlower_l(w, re->loc) : iswlower(w)))
        return true;
    if ((prop & PR_DIGIT) && (re->loc != (locale_t)0 ? iswdigit_l(w, re->loc) : iswdigit(w)))
        return true;
    if ((prop & PR_SPACE) && (re->loc != (locale_t)0 ? iswspace_l(w, re->loc) : iswspace(w)))
        return true;
    if ((prop & PR_PUNCT) && (re->loc != (locale_t)0 ? iswpunct_l(w, re->loc) : iswpunct(w)))
        return true;
    return false;
}

static bool rx_class_match(const struct schema_regex *re, const struct rx_class *cl, uint32_t c)
{
    bool in = false;
    for (size_t i = 0; i < cl->n && !in; i++)
        in = c >= cl->r[i].lo && c <= cl->r[i].hi;
    if (!in && cl->props)
        in = rx_has_prop(re, c, cl->props);
    if (!in && cl->nprops) {
        for (unsigned bit = 1; bit <= PR_PUNCT && !in; bit <<= 1)
            if ((cl->nprops & bit) && !rx_has_prop(re, c, bit))
                in = true;
    }
    return in != cl->neg;
}

static bool rx_is_word(uint32_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static bool rx_is_line_term(uint32_t c)
{
    return c == '\n' || c == '\r' || c == 0x2028 || c == 0x2029;
}

struct rx_run {
    const struct schema_regex *re;
    const char *s;
    size_t len;
    unsigned long *budget;
    bool error;
};

static int rx_vm(struct rx_run *r, const struct rx_prog *p, size_t start, bool anchored);

/* Previous code point before byte offset pos (0 when at the start). */
static uint32_t rx_prev(const char *s, size_t pos)
{
    if (pos == 0)
        return 0;
    size_t k = pos - 1;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80 && pos - k < 4)
        k--;
    uint32_t cp;
    utf8_decode((const unsigned char *)s + k, pos - k, &cp);
    return cp;
}

/* Adds pc and everything reachable through non-consuming instructions at
 * byte offset pos to list; returns true when MATCH is reachable. */
static bool rx_addthread(struct rx_run *r, const struct rx_prog *p, int *list, size_t *nlist,
                         unsigned *mark, unsigned gen, int *stack, int pc0, size_t pos)
{
    size_t sp = 0;
    stack[sp++] = pc0;
    while (sp > 0) {
        int pc = stack[--sp];
        if (mark[pc] == gen)
            continue;
        mark[pc] = gen;
        const struct rx_inst *in = &p->code[pc];
        switch (in->op) {
        case OP_MATCH:
            return true;
        case OP_JMP:
            stack[sp++] = in->x;
            break;
        case OP_SPLIT:
            stack[sp++] = in->y;
            stack[sp++] = in->x;
            break;
        case OP_BOL:
            if (pos == 0)
                stack[sp++] = pc + 1;
            break;
        case OP_EOL:
            if (pos == r->len)
                stack[sp++] = pc + 1;
            break;
        case OP_WORDB:
        case OP_NWORDB: {
            uint32_t cur = 0;
            bool a = pos > 0 && rx_is_word(rx_prev(r->s, pos));
            if (pos < r->len)
                utf8_decode((const unsigned char *)r->s + pos, r->len - pos, &cur);
            bool b = pos < r->len && rx_is_word(cur);
            if ((a != b) == (in->op == OP_WORDB))
                stack[sp++] = pc + 1;
            break;
        }
        case OP_LOOK: {
            int m = rx_vm(r, &r->re->subs[in->x], pos, true);
            if (m < 0)
                return false;
            if ((m == 1) != in->neg)
                stack[sp++] = pc + 1;
            break;
        }
        default:
            list[(*nlist)++] = pc;
            break;
        }
    }
    return false;
}

/* Runs program p from byte offset start; anchored runs only try start. */
static int rx_vm(struct rx_run *r, const struct rx_prog *p, size_t start, bool anchored)
{
    size_t n = p->len;
    int sbuf_c[RX_STACK_PROG], sbuf_n[RX_STACK_PROG], sbuf_st[2 * RX_STACK_PROG + 2];
    unsigned sbuf_m[RX_STACK_PROG];
    int *clist = sbuf_c, *nlist = sbuf_n, *stack = sbuf_st;
    unsigned *mark = sbuf_m;
    int result = 0;
    void *heap = NULL;
    if (n > RX_STACK_PROG) {
        heap = malloc(n * (3 * sizeof(int) + sizeof(unsigned)) + 2 * sizeof(int) * (n + 1));
        if (!heap) {
            r->error = true;
            return -1;
        }
        clist = heap;
        nlist = clist + n;
        stack = nlist + n;
        mark = (unsigned *)(stack + 2 * n + 2);
    }
    memset(mark, 0, n * sizeof(unsigned));
    unsigned gen = 1;
    size_t nc = 0, nn = 0;
    size_t pos = start;
    if (rx_addthread(r, p, clist, &nc, mark, gen, stack, 0, pos)) {
        result = 1;
        goto cleanup;
    }
    if (r->error)
        goto fail;
    for (;;) {
        if (pos >= r->len)
            break;
        if (nc == 0 && anchored)
            break;
        uint32_t c;
        size_t k = utf8_decode((const unsigned char *)r->s + pos, r->len - pos, &c);
        size_t next = pos + k;
        gen++;
        if (gen == 0) {
            memset(mark, 0, n * sizeof(unsigned));
            gen = 1;
        }
        nn = 0;
        if (anchored && r->budget) {
            if (*r->budget < nc + 1) {
                r->error = true;
                goto fail;
            }
            *r->budget -= nc + 1;
        }
        for (size_t i = 0; i < nc; i++) {
            const struct rx_inst *in = &p->code[clist[i]];
            bool ok;
            switch (in->op) {
            case OP_CHAR:
                ok = c == in->c;
                break;
            case OP_ANY:
                ok = !rx_is_line_term(c);
                break;
            case OP_CLASS:
                ok = rx_class_match(r->re, &r->re->classes[in->x], c);
                break;
            default:
                ok = false;
                break;
            }
            if (ok && rx_addthread(r, p, nlist, &nn, mark, gen, stack, clist[i] + 1, next)) {
                result = 1;
                goto cleanup;
            }
            if (r->error)
                goto fail;
        }
        if (!anchored && rx_addthread(r, p, nlist, &nn, mark, gen, stack, 0, next)) {
            result = 1;
            goto cleanup;
        }
        if (r->error)
            goto fail;
        int *t = clist;
        clist = nlist;
        nlist = t;
        nc = nn;
        pos = next;
    }
    goto cleanup;
fail:
    result = -1;
cleanup:
    free(heap);
    return result;
}

int schema_regex_search(const struct schema_regex *re, const char *s, size_t len)
{
    unsigned long budget = RX_LOOK_BUDGET;
    struct rx_run r = {re, s, len, NULL, false};
    if (re->nsubs > 0)
        r.budget = &budget;
    return rx_vm(&r, &re->main, 0, re->anchored);
}
