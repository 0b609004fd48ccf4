/* Caps of the schema validator's evaluation budget and verdict cache. */
#ifndef INGESTCHECK_SCHEMA_CAPS_H
#define INGESTCHECK_SCHEMA_CAPS_H

/* Steps (subschema evaluations) between two budget checks. */
#define SCHEMA_CAP_BUDGET_TICK 4096u
/* The (schema, instance) verdict cache starts once an evaluation has taken
 * this many steps and more than SCHEMA_CAP_MEMO_STEPS_PER_DESCENT steps per
 * child value visited (subschemas applied to the same values again and
 * again: nested anyOf/allOf/oneOf chains), or SCHEMA_CAP_MEMO_ALWAYS_AFTER
 * steps in any case ... */
#define SCHEMA_CAP_MEMO_AFTER_STEPS (1u << 16)
#define SCHEMA_CAP_MEMO_STEPS_PER_DESCENT 16u
#define SCHEMA_CAP_MEMO_ALWAYS_AFTER (1u << 24)
/* ... or once applicators met this many (schema, instance) pairs again. */
#define SCHEMA_CAP_MEMO_REVISITS 1024u
/* Entries of the verdict cache; a full cache is emptied and refilled. */
#define SCHEMA_CAP_MEMO_ENTRIES (1u << 19)
/* Evaluation budget: an evaluation taking more than BASE + PER_DESCENT x
 * (child values visited) steps is refused. */
#define SCHEMA_CAP_EVAL_STEPS_BASE (1u << 23)
#define SCHEMA_CAP_EVAL_STEPS_PER_DESCENT 256u

#endif
