'use strict';
// selfcheck.js proves the peer's own answers are schema-valid, so that an
// InternalError seen in an interop test is never the peer's fault: for every
// action of every protocol it builds the answer the peer would give to a
// minimal valid request and validates it with the strict-mode validator.
// Prints one JSON line {"event":"selfcheck","checked":N,"failures":[...]}.
// Run by the Go test TestPeerDefaultsSchemaValid.

const { actions, minimal, validator } = require('./schemas');
const { defaultFor } = require('./defaults');

const failures = [];
let checked = 0;
for (const protocol of ['ocpp1.6', 'ocpp2.0.1', 'ocpp2.1']) {
    const v = validator(protocol);
    for (const action of actions(protocol)) {
        checked++;
        try {
            const params = minimal(protocol, action, 'req');
            v.validate(`urn:${action}.req`, params); // the synthesizer itself must be right
            const answer = defaultFor(protocol, action);
            v.validate(`urn:${action}.conf`, answer ? answer(params) : minimal(protocol, action, 'conf'));
        } catch (err) {
            failures.push({ protocol, action, code: err.rpcErrorCode, message: err.message });
        }
    }
}
process.stdout.write(JSON.stringify({ event: 'selfcheck', checked, failures }) + '\n');
process.exitCode = failures.length ? 1 : 0;
