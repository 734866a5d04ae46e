'use strict';
// The official OCA JSON schemas bundled with ocpp-rpc: strict-mode validators,
// the actions each protocol defines, and minimal schema-valid responses for
// actions that defaults.js has no hand-written answer for.

const { createValidator } = require('ocpp-rpc');
const standardValidators = require('ocpp-rpc/lib/standard-validators');

const SCHEMAS = {
    'ocpp1.6': require('ocpp-rpc/lib/schemas/ocpp1_6.json'),
    'ocpp2.0.1': require('ocpp-rpc/lib/schemas/ocpp2_0_1.json'),
    'ocpp2.1': require('ocpp-rpc/lib/schemas/ocpp2_1.json'),
};

// ocpp-rpc 2.2.1 looks schemas up as urn:<Action>.req / urn:<Action>.conf, but
// its bundled OCPP 2.1 schemas are named urn:<Action>Request / urn:<Action>Response,
// so its built-in 2.1 validator rejects every message with ProtocolError
// ("Schema 'urn:X.req' is missing"; mikuso/ocpp-rpc PR #94, not in any release).
// We register a replacement 2.1 validator built from the same bundled schemas
// under the names the library looks for; 1.6 and 2.0.1 use the built-ins.
function legacyId(id) {
    return id.replace(/^urn:(\w+)Request$/, 'urn:$1.req').replace(/^urn:(\w+)Response$/, 'urn:$1.conf');
}

// The 2.1 schemas also put additionalProperties:false on string enum types; Ajv
// ignores the keyword for non-objects but logs a strictTypes warning to stderr
// for each one, which would bury a real error in the driver's stderr tail. So
// those no-op keywords are dropped: validation is unchanged.
function quiet21(schema) {
    const definitions = {};
    for (const [name, def] of Object.entries(schema.definitions ?? {})) {
        const { additionalProperties, ...rest } = def;
        definitions[name] = def.type === 'object' ? def : rest;
    }
    return { ...schema, $id: legacyId(schema.$id), definitions };
}

const strictModeValidators = [createValidator('ocpp2.1', SCHEMAS['ocpp2.1'].map(quiet21))];

// byId maps protocol -> schema $id (legacy form) -> schema.
const byId = {};
for (const [protocol, list] of Object.entries(SCHEMAS)) {
    byId[protocol] = new Map(list.map(s => [legacyId(s.$id), s]));
}

// actions returns the names of all actions defined by protocol (empty if unknown).
function actions(protocol) {
    const ids = byId[protocol] ? [...byId[protocol].keys()] : [];
    return ids.filter(id => id.endsWith('.req')).map(id => id.slice(4, -4));
}

// minimal builds the smallest message the schema accepts (kind "req" or "conf"):
// required properties only, the enum value "Accepted" where allowed (else the
// first one), the current time for date-time strings. Undefined for unknown actions.
function minimal(protocol, action, kind) {
    const root = byId[protocol]?.get(`urn:${action}.${kind}`);
    return root && synth(root, root);
}

// validator returns the strict-mode validator peers use for protocol.
function validator(protocol) {
    return [...strictModeValidators, ...standardValidators].find(v => v.subprotocol === protocol);
}

function synth(schema, root) {
    if (schema.$ref) {
        return synth(root.definitions[schema.$ref.replace('#/definitions/', '')], root);
    }
    if (schema.enum) {
        return schema.enum.includes('Accepted') ? 'Accepted' : schema.enum[0];
    }
    switch (schema.type) {
        case 'object': {
            const obj = {};
            for (const key of schema.required ?? []) obj[key] = synth(schema.properties[key], root);
            return obj;
        }
        case 'array':
            return Array.from({ length: schema.minItems ?? 0 }, () => synth(schema.items, root));
        case 'string':
            if (schema.format === 'date-time') return new Date().toISOString();
            if (schema.format === 'uri') return 'http://127.0.0.1/';
            return 'x'.repeat(schema.minLength ?? 0);
        case 'integer':
        case 'number':
            return schema.minimum ?? 0;
        case 'boolean':
            return false;
        default:
            return {};
    }
}

module.exports = { strictModeValidators, actions, minimal, validator };
