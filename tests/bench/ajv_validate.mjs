// The ajv half of tests/bench/validate: same schema files, same document,
// same measurements as bench_validate.c.
//
//   node --expose-gc tests/bench/ajv_validate.mjs --ajv PREFIX --schemas DIR
//        --doc FILE [--iterations N] [--operation ID]
//
// PREFIX is an `npm install --prefix PREFIX ajv@8` folder. Every
// DIR/components/*.json is added to Ajv2020 under the $id
// "file://<abs>/components/<Name>.json" (and operations.json under
// "file://<abs>/operations.json"), so the relative "$ref"s resolve as they do
// in ingestcheck; the schema validated is operations[i].responses["200"].schema
// of the operation (default getTasks). Formats are not asserted (ingestcheck's
// default) and strict mode is off (the schemas carry OpenAPI annotations).
//
// Times JSON.parse and validate() N times each after warm-up runs, with a
// garbage collection (when --expose-gc) before each timed run, and prints the
// medians with MB/s (1 MB = 10^6 bytes). The last line, starting with '#',
// is for tests/bench/validate.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

function parseArgs(argv) {
    const o = { iterations: 15, operation: 'getTasks' };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const v = argv[i + 1];
        if (a === '--ajv') o.ajv = v;
        else if (a === '--schemas') o.schemas = v;
        else if (a === '--doc') o.doc = v;
        else if (a === '--iterations' || a === '-n') o.iterations = Number(v);
        else if (a === '--operation') o.operation = v;
        else throw new Error(`unknown argument ${a}`);
        i++;
    }
    if (!o.ajv || !o.schemas || !o.doc || !(o.iterations >= 1))
        throw new Error('usage: ajv_validate.mjs --ajv PREFIX --schemas DIR --doc FILE [--iterations N]');
    return o;
}

const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    const n = s.length;
    return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

const gc = typeof globalThis.gc === 'function' ? globalThis.gc : () => {};
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

function time(iterations, warmup, fn) {
    for (let i = 0; i < warmup; i++)
        fn();
    const t = [];
    for (let i = 0; i < iterations; i++) {
        gc();
        const t0 = nowMs();
        fn();
        t.push(nowMs() - t0);
    }
    return median(t);
}

const opts = parseArgs(process.argv.slice(2));
const require = createRequire(path.join(path.resolve(opts.ajv), 'package.json'));
const Ajv2020 = require('ajv/dist/2020').default;
const ajvVersion = require('ajv/package.json').version;

const schemasDir = fs.realpathSync(opts.schemas);
const uriOf = (file) => pathToFileURL(file).href;

const text = fs.readFileSync(opts.doc, 'utf8');
const bytes = fs.statSync(opts.doc).size;
const mb = bytes / 1e6;

// Parse.
let data;
const parseMs = time(opts.iterations, 3, () => {
    data = JSON.parse(text);
});

// Compile once.
const c0 = nowMs();
const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: false });
const compDir = path.join(schemasDir, 'components');
const files = fs.readdirSync(compDir).filter((f) => f.endsWith('.json') && !f.startsWith('.')).sort();
for (const f of files) {
    const file = path.join(compDir, f);
    ajv.addSchema(JSON.parse(fs.readFileSync(file, 'utf8')), uriOf(file));
}
const opsFile = path.join(schemasDir, 'operations.json');
const ops = JSON.parse(fs.readFileSync(opsFile, 'utf8'));
const index = (ops.operations || []).findIndex((op) =>
    ['operationId', 'operation_id', 'id', 'name'].some((k) => op && op[k] === opts.operation));
if (index < 0)
    throw new Error(`${opsFile}: no operation ${opts.operation} in "operations"`);
if (!ops.operations[index].responses?.['200']?.schema)
    throw new Error(`${opsFile}: operation ${opts.operation} has no responses.200.schema`);
const opsUri = typeof ops.$id === 'string' ? ops.$id : uriOf(opsFile);
ajv.addSchema(ops, opsUri);
const validate = ajv.compile({ $ref: `${opsUri}#/operations/${index}/responses/200/schema` });
const compileMs = nowMs() - c0;

if (!validate(data)) {
    console.error('ajv_validate: the document is not valid for ajv:');
    for (const e of validate.errors.slice(0, 10))
        console.error(`  ${e.instancePath} ${e.message} (${e.schemaPath})`);
    process.exit(1);
}
let ok = true;
const validateMs = time(opts.iterations, 3, () => {
    ok = validate(data) && ok;
});
if (!ok) {
    console.error('ajv_validate: validate() gave false on a later run');
    process.exit(1);
}

const tasks = Array.isArray(data.tasks) ? data.tasks.length : 0;
console.log(`ajv ${ajvVersion} on node ${process.version}: ${tasks} tasks`);
console.log(`ajv parse (JSON.parse): median ${parseMs.toFixed(2)} ms (${(mb / (parseMs / 1e3)).toFixed(1)} MB/s)`);
console.log(`ajv compile (${files.length} component files + operations.json): ${compileMs.toFixed(1)} ms`);
console.log(`ajv validate: median ${validateMs.toFixed(2)} ms (${(mb / (validateMs / 1e3)).toFixed(1)} MB/s)`);
console.log(`# ajv bytes=${bytes} parse_mbps=${(mb / (parseMs / 1e3)).toFixed(3)} ` +
    `validate_mbps=${(mb / (validateMs / 1e3)).toFixed(3)} iterations=${opts.iterations}`);
