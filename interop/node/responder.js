'use strict';
// How a peer answers incoming calls, and what it reports about a connection.
// Handlers are registered per action (never a wildcard) so that ocpp-rpc keeps
// its own behaviour for everything else: an action the negotiated protocol
// does not define has no handler and the library answers NotImplemented; strict
// mode validates params before a handler runs and answers with its own error
// codes; a response that fails the schema is replaced by the library with
// InternalError.

const { setTimeout: sleep } = require('timers/promises');
const { NOREPLY, createRPCError } = require('ocpp-rpc');
const { actions, minimal } = require('./schemas');
const { defaultFor } = require('./defaults');
const { counters, connEvent, errorFields } = require('./output');

// overrides: action -> {payload?, error?, delay_ms?, noreply?} set by "respond".
const overrides = new Map();

// live: every open connection -> its negotiated protocol (for re-registering).
const live = new Map();

function handlerFor(action, protocol) {
    return async ({ params, signal }) => {
        const o = overrides.get(action) ?? {};
        if (o.delay_ms > 0) await sleep(o.delay_ms, undefined, { signal });
        if (o.noreply) return NOREPLY;
        if (o.error) {
            const err = createRPCError(o.error.code, o.error.message, o.error.details);
            // createRPCError maps unknown codes to GenericError; tests may want to
            // send any code (e.g. a misspelt one), which the library then sends as is.
            err.rpcErrorCode = o.error.code ?? 'GenericError';
            throw err;
        }
        if ('payload' in o) return o.payload;
        const answer = defaultFor(protocol, action);
        if (answer) return answer(params ?? {});
        const fallback = minimal(protocol, action, 'conf');
        if (fallback !== undefined) return fallback;
        // only reachable for an override that was reset while a call was in flight
        throw createRPCError('NotImplemented', `Unable to handle '${action}' calls`, {});
    };
}

// attach wires an open connection: event reporting and one handler per action
// of its protocol (plus overridden actions). Both roles answer every action of
// the protocol whatever direction the spec gives it (the schemas do not say),
// so e.g. the server role answers a Reset it receives with Accepted. fallbackProtocol picks the default
// answers when no subprotocol was negotiated (ocpp-rpc servers accept that).
function attach(client, identity, fallbackProtocol) {
    const protocol = client.protocol || fallbackProtocol;
    live.set(client, protocol);
    client.once('close', () => live.delete(client));
    for (const action of new Set([...actions(protocol), ...overrides.keys()])) {
        client.handle(action, handlerFor(action, protocol));
    }

    client.on('call', ({ outbound, payload }) => {
        if (outbound) return;
        counters.calls++;
        connEvent({ event: 'call', identity, message_id: payload[1], action: payload[2], payload: payload[3] });
    });
    client.on('badMessage', ({ buffer, error, response }) => {
        counters.badMessages++;
        connEvent({ event: 'bad_message', identity, text: buffer.toString('utf8'), ...errorFields(error), response });
    });
    client.on('strictValidationFailure', ({ messageId, method, outbound, isCall, error }) => {
        counters.validationFailures++;
        connEvent({
            event: 'validation_failure', identity, message_id: messageId, action: method,
            outbound, is_call: isCall, ...errorFields(error),
        });
    });
}

// respond applies a "respond" command: {action, payload?|error?, delay_ms?, noreply?, reset?}.
function respond(cmd) {
    if (typeof cmd.action !== 'string' || !cmd.action) throw Error('respond: "action" is required');
    if (cmd.error && typeof cmd.error.code !== 'string') throw Error('respond: "error.code" must be a string');
    if (cmd.reset) {
        overrides.delete(cmd.action);
        for (const [client, protocol] of live) {
            if (!actions(protocol).includes(cmd.action)) client.removeHandler(cmd.action);
        }
        return;
    }
    const o = {};
    for (const key of ['payload', 'error', 'delay_ms', 'noreply']) {
        if (key in cmd) o[key] = cmd[key];
    }
    overrides.set(cmd.action, o);
    for (const [client, protocol] of live) client.handle(cmd.action, handlerFor(cmd.action, protocol));
}

module.exports = { attach, respond };
