#!/usr/bin/env node
// Regenerates the seed corpora tests/fuzz/corpus/<target>/{jsts,edge}-*.
//
//   node tests/fuzz/make_seeds.mjs [JSON-Schema-Test-Suite dir]
//
// jsts-* seeds are schemas (and, for schema_validate, one valid and one
// invalid test instance) from the JSON Schema Test Suite (MIT licence,
// Copyright (c) 2012 Julian Berman), default ../shared/json-schema-test-suite
// beside the source tree. edge-* seeds are the hand-picked edge cases below.
// Files found by fuzzing (hash names) and regress-* files are left alone.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const jsts = path.resolve(process.argv[2] ||
    process.env.JSTS_DIR || path.join(root, '..', 'shared', 'json-schema-test-suite'));
const corpus = path.join(here, 'corpus');

// file -> number of groups to take, spread evenly over the file.
const picks2020 = {
    'ref.json': 8, 'dynamicRef.json': 5, 'anchor.json': 2, 'defs.json': 1,
    'unevaluatedProperties.json': 4, 'unevaluatedItems.json': 3, 'if-then-else.json': 1,
    'oneOf.json': 1, 'anyOf.json': 1, 'allOf.json': 1, 'not.json': 1,
    'patternProperties.json': 1, 'propertyNames.json': 1, 'prefixItems.json': 1,
    'contains.json': 1, 'minContains.json': 1, 'maxContains.json': 1,
    'dependentSchemas.json': 1, 'dependentRequired.json': 1, 'uniqueItems.json': 2,
    'enum.json': 1, 'const.json': 2, 'multipleOf.json': 2, 'format.json': 2, 'content.json': 1,
    'vocabulary.json': 1, 'infinite-loop-detection.json': 1, 'boolean_schema.json': 2,
    'type.json': 1, 'additionalProperties.json': 1, 'items.json': 2, 'pattern.json': 1,
    'required.json': 1, 'maxLength.json': 1, 'minimum.json': 1, 'exclusiveMaximum.json': 1,
};
// Older drafts: $schema is added so the dialect comes from the document.
const older = [
    ['draft7', 'http://json-schema.org/draft-07/schema#',
     { 'ref.json': 2, 'definitions.json': 1, 'dependencies.json': 1, 'items.json': 1 }],
    ['draft4', 'http://json-schema.org/draft-04/schema#',
     { 'ref.json': 1, 'maximum.json': 1 }],
];

const compact = (v) => JSON.stringify(v);

function clean(dir) {
    fs.mkdirSync(dir, { recursive: true });
    for (const f of fs.readdirSync(dir))
        if (f.startsWith('jsts-') || f.startsWith('edge-'))
            fs.unlinkSync(path.join(dir, f));
}

function spread(n, k) {
    const out = new Set();
    for (let i = 0; i < Math.min(n, k); i++)
        out.add(Math.floor((i * n) / Math.min(n, k)));
    return [...out];
}

function groups(draft, picks, schemaUri) {
    const out = [];
    for (const [file, k] of Object.entries(picks)) {
        const groupsOfFile = JSON.parse(fs.readFileSync(path.join(jsts, 'tests', draft, file)));
        for (const gi of spread(groupsOfFile.length, k)) {
            const g = groupsOfFile[gi];
            let schema = g.schema;
            if (schemaUri && typeof schema === 'object' && !('$schema' in schema))
                schema = { $schema: schemaUri, ...schema };
            const tag = `${draft === 'draft2020-12' ? '' : draft + '-'}${file.replace('.json', '')}-${gi}`;
            out.push({ tag, schema, tests: g.tests });
        }
    }
    return out;
}

const all = [...groups('draft2020-12', picks2020, null)];
for (const [draft, uri, picks] of older)
    all.push(...groups(draft, picks, uri));

// ---- schema_load -------------------------------------------------------
const loadDir = path.join(corpus, 'schema_load');
clean(loadDir);
for (const g of all)
    fs.writeFileSync(path.join(loadDir, `jsts-${g.tag}.json`), JSON.stringify(g.schema, null, 2) + '\n');

const nest = (n, f, leaf) => { let s = leaf; for (let i = 0; i < n; i++) s = f(s); return s; };
const bin = (...parts) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

const loadEdges = {
    'ref-self': '{"$ref": "#"}',
    'ref-cycle-mutual': '{"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}',
    'ref-cycle-guarded': '{"$defs": {"a": {"type": "object", "properties": {"x": {"$ref": "#/$defs/a"}}}}, "$ref": "#/$defs/a"}',
    'ref-cycle-allof': '{"$id": "https://fuzz.example/c.json", "allOf": [{"$ref": "c.json"}]}',
    'ref-dangling': '{"$ref": "#/$defs/missing"}',
    'ref-dangling-remote': '{"properties": {"a": {"$ref": "https://nowhere.example/x.json#/a"}}}',
    'ref-bad-pointer': '{"$ref": "#/properties/~2x/%ZZ/-/01"}',
    'ref-empty-tokens': '{"$defs": {"": {"": {"type": "number"}}}, "$ref": "#/$defs//"}',
    'anchor-duplicate': '{"$defs": {"a": {"$anchor": "foo"}, "b": {"$anchor": "foo"}}, "$ref": "#foo"}',
    'anchor-invalid': '{"$anchor": "1 not valid", "$ref": "#1 not valid"}',
    'dynamicref-no-anchor': '{"$dynamicRef": "#nope"}',
    'dynamicref-self': '{"$dynamicAnchor": "foo", "items": {"$dynamicRef": "#foo"}}',
    'id-weird': '{"$id": "::not a uri::", "$defs": {"a": {"$id": "#frag", "$ref": "%%"}}}',
    'id-relative-chain': '{"$id": "a/b/", "$defs": {"c": {"$id": "../c.json", "$defs": {"d": {"$id": "d.json", "$ref": "../b/"}}}}}',
    'schema-unknown': '{"$schema": "https://example.com/unknown-dialect", "type": "string"}',
    'schema-not-string': '{"$schema": 7, "type": "string"}',
    'draft7-ref-siblings': '{"$schema": "http://json-schema.org/draft-07/schema#", "definitions": {"a": {"type": "integer"}}, "$ref": "#/definitions/a", "maximum": 1}',
    'draft4-exclusive-bool': '{"$schema": "http://json-schema.org/draft-04/schema#", "maximum": 10, "exclusiveMaximum": true, "id": "http://x.example/s"}',
    'oas30-nullable': '{"type": "string", "nullable": true, "readOnly": true, "discriminator": {"propertyName": "type"}, "example": 5}',
    'deep-schema-100': compact(nest(100, (s) => ({ type: 'object', properties: { a: s } }), { type: 'integer' })),
    'deep-schema-250-items': compact(nest(250, (s) => ({ items: s }), true)),
    'deep-allof-250': compact(nest(250, (s) => ({ allOf: [s] }), { type: 'null' })),
    'huge-numbers': '{"minimum": 1e400, "maximum": -1e400, "exclusiveMinimum": 123456789012345678901234567890, "multipleOf": 1e-400, "maxLength": 1e20, "minItems": 18446744073709551616, "maxProperties": -1, "minLength": 1.5, "maxItems": 4294967297}',
    'multipleof-zero': '{"multipleOf": 0}',
    'multipleof-negative': '{"items": {"multipleOf": -2.5}, "minContains": -1, "contains": true}',
    'keyword-wrong-types': '{"type": 5, "required": "a", "properties": [], "items": 1, "enum": {}, "allOf": {}, "pattern": 3, "const": [], "dependentRequired": {"a": "b"}}',
    'type-duplicates': '{"type": ["string", "string", "integer", "bogus"]}',
    'regex-invalid': '{"pattern": "((", "patternProperties": {"[": {}}, "propertyNames": {"pattern": "\\\\"}}',
    'regex-backtracking': '{"pattern": "^(a+)+$", "patternProperties": {"^(x|x)*y$": false}}',
    'regex-ecma': '{"pattern": "^\\\\p{Lu}\\\\w+(?=x)(?!y)\\\\b[\\\\d\\\\s]{2,}$"}',
    'big-enum': compact({ enum: Array.from({ length: 2000 }, (_, i) => (i % 3 ? `v${i}` : i)) }),
    'big-properties': compact({ type: 'object', required: ['k0'], properties: Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${i}`, { type: i % 2 ? 'string' : 'integer' }])) }),
    'nul-in-keys': '{"properties": {"a\\u0000b": {"type": "integer"}}, "const": "x\\u0000y", "$anchor": "a\\u0000"}',
    'unicode-escapes': '{"properties": {"\\ud83d\\ude00": {"maxLength": 1}, "\\ud800": {"enum": ["\\udfff"]}}}',
    'bool-true': 'true',
    'bool-false': 'false',
    'not-an-object': '[{"type": "string"}]',
    'truncated': '{"properties": {"a": {"type": ',
    'format-all': '{"type": "string", "format": "date-time", "anyOf": [{"format": "uuid"}, {"format": "email"}, {"format": "uri"}, {"format": "regex"}, {"format": "duration"}, {"format": "bogus-format"}]}',
    'content': '{"contentMediaType": "application/json", "contentEncoding": "base64", "contentSchema": {"type": "object"}}',
    'vocabulary-custom': '{"$vocabulary": {"https://json-schema.org/draft/2020-12/vocab/core": true, "https://example.com/vocab": true}, "type": "integer"}',
};
for (const [name, text] of Object.entries(loadEdges))
    fs.writeFileSync(path.join(loadDir, `edge-${name}.json`), text + '\n');
// Invalid UTF-8 in patterns, keys and values (raw bytes; cJSON passes them on).
fs.writeFileSync(path.join(loadDir, 'edge-invalid-utf8.json'),
    bin('{"pattern": "^', [0xff, 0xfe], '$", "properties": {"', [0xc0, 0xaf], '": {"const": "',
        [0x80], '"}}, "enum": ["', [0xe2, 0x82], '", "ok"], "$anchor": "', [0xed, 0xa0, 0x80], '"}\n'));

// ---- schema_validate ----------------------------------------------------
const valDir = path.join(corpus, 'schema_validate');
clean(valDir);
const seedLine = (schema, instanceText) => compact(schema) + '\n' + instanceText;
let nval = 0;
for (const g of all) {
    if (nval >= 60)
        break;
    const valid = g.tests.find((t) => t.valid);
    const invalid = g.tests.find((t) => !t.valid);
    for (const [kind, t] of [['valid', valid], ['invalid', invalid]]) {
        if (!t)
            continue;
        fs.writeFileSync(path.join(valDir, `jsts-${g.tag}-${kind}.txt`),
            seedLine(g.schema, JSON.stringify(t.data, null, 2)) + '\n');
        nval++;
    }
}

const task = (i, trigger, input) => ({
    taskID: `6c02aeb1-775e-418e-870b-1faccd4b2c${String(i).padStart(2, '0')}`,
    sourceID: '75eeb306-51d3-4e5e-a279-3c92bd8893ac',
    destinationID: 'ef7f8b5c-3a3e-4a34-a3a4-1f0f0f1e2d3c',
    trigger, ...(input ? { input } : {}),
    enabled: i % 2 === 0, failureThreshold: i * 7 % 101,
    action: ['replace', 'save', 'partial', 'append'][i % 4],
    createdAt: '2024-05-01T12:34:56Z', updatedAt: '2024-06-02T01:02:03Z',
});
const mapping = { format: 'mappingkit/v1', actions: [{ id: 'a1', enabled: true, trigger: 'true', fieldDirectives: [{ fieldKey: 'price', value: { source: 'cost', multiply: 1.2 } }] }] };
const tasksDoc = {
    tasks: [
        task(0, { type: 'onDemand', lastRun: '2024-05-01T00:00:00Z' }, { startDate: '2024-01-01T00:00:00Z', endDate: '2024-02-01T00:00:00Z', mapping }),
        task(1, { type: 'schedule', cron: '0 * * * *', nextRun: '2024-05-01T01:00:00Z' }, { timeframe: 7 }),
        task(2, { type: 'subscription' }, { metafields: [{ namespace: 'ns', key: 'k', value: 'v' }], market: { countries: ['FR'], currencies: ['EUR'], locales: ['fr-FR'] } }),
        task(3, { type: 'streaming' }, { mapping }),
    ],
    pagination: { nbPages: 1, page: 1, nbItems: 4, itemsPerPage: 10 },
};
const badTasks = structuredClone(tasksDoc);
badTasks.tasks[0].action = 'upsert';
badTasks.tasks[1].cursor = 'abc';
badTasks.tasks[2].failureThreshold = 101;
badTasks.tasks[3].trigger = { type: 'streaming', cron: '* * * * *' };
badTasks.tasks[3].input = { timeframe: 31, mapping };
delete badTasks.pagination.page;

const nestArr = (n, leaf) => '['.repeat(n) + leaf + ']'.repeat(n);
const nestObj = (n, leaf) => '{"a": '.repeat(n) + leaf + '}'.repeat(n);
const recursiveAny = { $defs: { n: { type: ['array', 'object', 'integer'], items: { $ref: '#/$defs/n' }, additionalProperties: { $ref: '#/$defs/n' } } }, $ref: '#/$defs/n' };

const valEdges = {
    'builtin-task-valid': '@task\n' + JSON.stringify(tasksDoc, null, 1),
    'builtin-task-invalid': '@task\n' + JSON.stringify(badTasks, null, 1),
    'builtin-task-empty': '@task\n{"tasks": [], "pagination": {"nbPages": 1, "page": 1, "nbItems": 0, "itemsPerPage": 100}}',
    'builtin-recursive': '@recursive\n{"value": 1, "children": [{"value": "a", "children": []}, {"next": {"value": null}}]}',
    'builtin-recursive-bad': '@recursive\n{"value": true, "children": [{"extra": 1}]}',
    'builtin-dynamic': '@dynamic\n{"children": [{"daat": 1}, {"data": 2, "children": []}]}',
    'builtin-unevaluated': '@unevaluated\n{"kind": "a", "alpha": 1, "common": "c", "x-ext": 2}',
    'builtin-unevaluated-else': '@unevaluated\n{"kind": "b", "beta": true, "x-ext": 2}',
    'builtin-formats': '@formats\n{"dt": "2024-02-30T25:00:00Z", "d": "2024-02-29", "t": "23:59:60Z", "u": "6c02aeb1-775e-418e-870b-1faccd4b2c0f", "e": "a@b.c", "uri": "http://x/y?z#w", "ref": "../a", "v4": "256.1.1.1", "v6": "::1", "host": "-bad-.com", "re": "(", "ptr": "/a/~2", "dur": "P1Y2M3DT4H5M6S", "other": "not a date"}',
    'builtin-numbers': '@numbers\n[1.0, 0.3, 1e308, 12345678901234567890, -0, 9007199254740993, 3, 6.0, 7]',
    'builtin-strings': '@strings\n{"s_a": "😀😀", "p_1": "555-1234", "u_x": "abc", "e": "naïve", "Bad": "b", "z": "aab"}',
    'builtin-arrays': '@arrays\n["a", {}, 1, 2, true, [], [1]]',
    'nested-array-100': seedLine(recursiveAny, nestArr(100, '1')),
    'nested-object-100': seedLine(recursiveAny, nestObj(100, '[1, {"b": 2}]')),
    'nested-array-500-depth-cap': seedLine(recursiveAny, nestArr(500, '0')),
    'nested-array-500-empty-schema': '{}\n' + nestArr(500, 'null'),
    'nested-unevaluated-200': seedLine({ $ref: '#/$defs/n', $defs: { n: { anyOf: [{ type: 'null' }, { type: 'array', prefixItems: [{ $ref: '#/$defs/n' }], unevaluatedItems: false }] } } }, nestArr(200, 'null')),
    'ref-self': '{"$ref": "#"}\n{"a": [1, 2, {"b": null}]}',
    'ref-cycle-mutual': '{"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}\n1',
    'ref-dangling': '{"properties": {"a": {"$ref": "#/$defs/missing"}}}\n{"a": 1}',
    'huge-multipleof': '{"multipleOf": 0.1}\n1e308',
    'tiny-multipleof': '{"multipleOf": 1e-308}\n1e308',
    'integer-overflow': '{"type": "integer", "maximum": 1e400}\n1e400',
    'integer-bignum': '{"type": "integer", "const": 12345678901234567890123}\n12345678901234567890124',
    'number-negative-huge': '{"minimum": -1e400, "exclusiveMaximum": 0}\n-1e400',
    'number-precision': '{"enum": [1, 0.1, 100000000000000000001]}\n1.0000000000000000001',
    'maxlength-surrogates': '{"maxLength": 1, "minLength": 1}\n"\\ud83d\\ude00"',
    'lone-surrogate': '{"pattern": "^.$", "maxLength": 1}\n"\\ud800"',
    'nul-in-string': '{"const": "a\\u0000b", "propertyNames": {"maxLength": 2}}\n"a\\u0000c"',
    'nul-in-key': '{"required": ["a\\u0000b"], "properties": {"a": {"type": "string"}}}\n{"a\\u0000b": 1, "a": 2}',
    'duplicate-keys': '{"properties": {"a": {"type": "string"}}, "additionalProperties": false, "maxProperties": 1}\n{"a": 1, "a": "x"}',
    'duplicate-keys-nested': '@task\n{"tasks": [{"input": {"timeframe": 7}, "input": {"mapping": {"format": "mappingkit/v1", "actions": [{"enabled": true, "trigger": "t", "fieldDirectives": [{"fieldK": 1}]}]}}}], "pagination": {}}',
    'unique-items-big': seedLine({ uniqueItems: true }, JSON.stringify(Array.from({ length: 1500 }, (_, i) => (i % 3 === 0 ? { k: i, v: [i, String(i)] } : i % 3 === 1 ? i * 1.0 : `s${i}`)))),
    'unique-items-numeric-eq': '{"uniqueItems": true}\n[1, 1.0, {"a": 1, "b": 2}, {"b": 2, "a": 1.0}]',
    'pattern-backtracking': '{"pattern": "^(a+)+$"}\n"aaaaaaaaaaaaaaaaaaaaaaaaaaaa!"',
    'big-object': seedLine({ type: 'object', propertyNames: { pattern: '^k[0-9]+$' }, additionalProperties: { type: 'integer' } }, JSON.stringify(Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`k${i}`, i])))),
    'false-schema': 'false\n{}',
    'true-schema': 'true\n[null]',
    'format-email-asserted': '{"format": "email", "maxLength": 40}\n"\\"quoted\\"@[127.0.0.1]"',
    'oneof-all-match': '{"oneOf": [{}, true, {"type": ["integer", "number"]}]}\n3',
    'contains-counts': '{"contains": {"const": 1}, "minContains": 2, "maxContains": 2, "unevaluatedItems": false}\n[1, 1, 1, 2]',
};
for (const [name, text] of Object.entries(valEdges))
    fs.writeFileSync(path.join(valDir, `edge-${name}.txt`), text + '\n');
// No newline at all: the whole input is an instance for a built-in schema.
fs.writeFileSync(path.join(valDir, 'edge-no-newline-instance.bin'),
    '{"tasks": [{}], "pagination": {"page": 0}}');
fs.writeFileSync(path.join(valDir, 'edge-invalid-utf8-instance.txt'),
    bin('{"type": "string", "maxLength": 2, "pattern": "^.+$"}\n"', [0xff, 0xfe, 0xfd], '"\n'));
fs.writeFileSync(path.join(valDir, 'edge-invalid-utf8-keys.txt'),
    bin('@strings\n{"s_', [0xc3], '": "', [0xe2, 0x82], '", "', [0x80, 0x80], '": "b", "e": "caf', [0xc3], '"}\n'));
fs.writeFileSync(path.join(valDir, 'edge-invalid-utf8-enum.txt'),
    bin('{"enum": ["', [0xc0, 0xaf], '", 1], "minLength": 1}\n"', [0xc0, 0xaf], '"\n'));

console.log(`schema_load: ${fs.readdirSync(loadDir).length} seeds, schema_validate: ${fs.readdirSync(valDir).length} seeds`);
