// Algolia's official JS client, @algolia/ingestion, unchanged, against
// `ingestcheck serve` (issue 14, point 6): every operation the client
// exposes, once, in an order where each finds what it needs (created
// resources, a run, an event), using the *V1 methods for /1/tasks as well.
// The client is pointed at the mock with its `hosts` option; its requester
// is wrapped only to record the HTTP status of each call.
// Prints one line per operation: "<method> called=<yes|no> status=<N|->
// accepted=<yes|no> [<error>]", then a JSON summary line; exits 0 when
// every operation was called and the client accepted every answer, else 1.
// Usage: node ingestion_js.mjs NODE_MODULES_DIR PORT APP_ID API_KEY
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [modules, port, appId, apiKey] = process.argv.slice(2);
const load = (rel) => import(pathToFileURL(path.join(modules, rel)).href);
const { ingestionClient } = await load('@algolia/ingestion/dist/builds/node.js');
const { createHttpRequester } = await load(
  '@algolia/requester-node-http/dist/requester.http.js');

let lastStatus = null;
const inner = createHttpRequester();
const requester = {
  async send(request) {
    const response = await inner.send(request);
    lastStatus = response.status;
    return response;
  },
};
const client = ingestionClient(appId, apiKey, 'us', {
  hosts: [{ url: `127.0.0.1:${port}`, protocol: 'http', accept: 'readWrite' }],
  requester,
});

const results = new Map();
const ids = {};
// Calls client[name](...args) once; records whether a request went out,
// its status and whether the client resolved.
async function call(name, ...args) {
  lastStatus = null;
  let accepted = false;
  let error = '';
  let out;
  try {
    out = await client[name](...args);
    accepted = true;
  } catch (e) {
    error = String((e && e.message) || e).split('\n')[0].slice(0, 200);
  }
  results.set(name, { called: lastStatus !== null, status: lastStatus, accepted, error });
  return out || {};
}

const stamp = Date.now();
const name = (what) => `jsclient-${what}-${stamp}`;
const code = 'async function transform(record) { return record; }';

// authentications
ids.auth = (await call('createAuthentication', {
  type: 'algolia', name: name('auth'), input: { appID: 'APPJS', apiKey: 'secret-js' },
})).authenticationID;
ids.spare = (await call('createAuthentication', {
  type: 'algolia', name: name('spare'), input: { appID: 'APPJS', apiKey: 'secret-js' },
})).authenticationID;
await call('listAuthentications', { itemsPerPage: 10 });
await call('getAuthentication', { authenticationID: ids.auth });
await call('updateAuthentication', {
  authenticationID: ids.auth, authenticationUpdate: { name: name('auth2') },
});
await call('searchAuthentications', { authenticationIDs: [ids.auth] });
// sources
ids.source = (await call('createSource', {
  type: 'json', name: name('source'), input: { url: 'https://example.com/feed.json' },
})).sourceID;
ids.docker = (await call('createSource', {
  type: 'docker', name: name('docker'), input: { image: 'zendesk', configuration: {} },
})).sourceID;
await call('listSources', { itemsPerPage: 10 });
await call('getSource', { sourceID: ids.source });
await call('updateSource', { sourceID: ids.source, sourceUpdate: { name: name('source2') } });
await call('searchSources', { sourceIDs: [ids.source] });
await call('validateSource', {
  type: 'json', name: name('v'), input: { url: 'https://example.com/feed.json' },
});
await call('validateSourceBeforeUpdate', {
  sourceID: ids.source, sourceUpdate: { name: name('source3') },
});
await call('triggerDockerSourceDiscover', { sourceID: ids.docker });
// destinations
ids.dest = (await call('createDestination', {
  type: 'search', name: name('dest'), input: { indexName: name('index') },
  authenticationID: ids.auth,
})).destinationID;
await call('listDestinations', { itemsPerPage: 10 });
await call('getDestination', { destinationID: ids.dest });
await call('updateDestination', {
  destinationID: ids.dest, destinationUpdate: { name: name('dest2') },
});
await call('searchDestinations', { destinationIDs: [ids.dest] });
// tasks (the current shape) and the *V1 methods of /1/tasks
ids.task = (await call('createTask', {
  sourceID: ids.source, destinationID: ids.dest, action: 'replace',
})).taskID;
await call('listTasks', { itemsPerPage: 10 });
await call('getTask', { taskID: ids.task });
await call('updateTask', { taskID: ids.task, taskUpdate: { enabled: true } });
await call('replaceTask', {
  taskID: ids.task, taskReplace: { destinationID: ids.dest, action: 'save' },
});
await call('searchTasks', { taskIDs: [ids.task] });
await call('disableTask', { taskID: ids.task });
await call('enableTask', { taskID: ids.task });
ids.run = (await call('runTask', { taskID: ids.task })).runID;
await call('pushTask', {
  taskID: ids.task, pushTaskPayload: { action: 'addObject', records: [{ objectID: 'o1' }] },
});
ids.taskV1 = (await call('createTaskV1', {
  sourceID: ids.source, destinationID: ids.dest, trigger: { type: 'onDemand' }, action: 'replace',
})).taskID;
await call('listTasksV1', { itemsPerPage: 10 });
await call('getTaskV1', { taskID: ids.taskV1 });
await call('updateTaskV1', { taskID: ids.taskV1, taskUpdate: { enabled: true } });
await call('searchTasksV1', { taskIDs: [ids.taskV1] });
await call('disableTaskV1', { taskID: ids.taskV1 });
await call('enableTaskV1', { taskID: ids.taskV1 });
ids.runV1 = (await call('runTaskV1', { taskID: ids.taskV1 })).runID;
await call('runSource', { sourceID: ids.source });
await call('push', {
  indexName: name('index'), pushTaskPayload: { action: 'addObject', records: [{ objectID: 'o1' }] },
});
// runs and events of the V1 run: the mock models /1/ (a run of the
// generated /2/tasks/{taskID}/run is not one it keeps); wait (bounded) for
// the run's first event
await call('listRuns', { itemsPerPage: 10 });
await call('getRun', { runID: ids.runV1 });
for (let i = 0; i < 100 && !ids.event; i++) {
  const page = await call('listEvents', { runID: ids.runV1, itemsPerPage: 10 });
  ids.event = page.events && page.events.length ? page.events[0].eventID : undefined;
  if (!ids.event) await new Promise((r) => setTimeout(r, 100));
}
await call('getEvent', { runID: ids.runV1, eventID: ids.event || 'none' });
// transformations
ids.transformation = (await call('createTransformation', { name: name('tr'), code })).transformationID;
await call('listTransformations', { itemsPerPage: 10 });
await call('getTransformation', { transformationID: ids.transformation });
await call('updateTransformation', {
  transformationID: ids.transformation, transformationCreate: { name: name('tr2'), code },
});
await call('searchTransformations', { transformationIDs: [ids.transformation] });
await call('tryTransformation', { code, sampleRecord: { objectID: 'o1' } });
await call('tryTransformationBeforeUpdate', {
  transformationID: ids.transformation, transformationTry: { code, sampleRecord: { objectID: 'o1' } },
});
// custom requests
await call('customGet', { path: '1/tasks' });
await call('customPost', { path: '1/tasks/search', body: { taskIDs: [ids.task] } });
await call('customPut', { path: `1/tasks/${ids.task}`, body: { destinationID: ids.dest, action: 'save' } });
// deletions, dependents first
await call('deleteTransformation', { transformationID: ids.transformation });
await call('deleteTaskV1', { taskID: ids.taskV1 });
await call('deleteTask', { taskID: ids.task });
await call('customDelete', { path: `1/authentications/${ids.spare}` });
await call('deleteDestination', { destinationID: ids.dest });
await call('deleteSource', { sourceID: ids.source });
await call('deleteAuthentication', { authenticationID: ids.auth });

// Every operation the client exposes: its methods but the *WithHTTPInfo
// twins and the client's own helpers (no request of their own).
const helpers = new Set(['clearCache', 'addAlgoliaAgent', 'setClientApiKey', 'chunkedPush']);
const exposed = Object.keys(client)
  .filter((k) => typeof client[k] === 'function' && !k.endsWith('WithHTTPInfo') && !helpers.has(k))
  .sort();
let bad = 0;
for (const op of exposed) {
  const r = results.get(op) || { called: false, status: null, accepted: false, error: 'not called' };
  if (!r.called || !r.accepted) bad++;
  console.log(`${op} called=${r.called ? 'yes' : 'no'} status=${r.status ?? '-'} ` +
    `accepted=${r.accepted ? 'yes' : 'no'}${r.error ? ' ' + r.error : ''}`);
}
console.log(JSON.stringify({ operations: exposed.length, failed: bad }));
process.exit(bad ? 1 : 0);
