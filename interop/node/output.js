'use strict';
// Output side of the JSON-lines protocol: one JSON object per stdout line.
// Per-connection events (connect, call, ...) go through connEvent so --quiet can
// silence them: a benchmark with 10k stations must not flood the pipe.

const counters = {
    calls: 0, // incoming CALLs, counted even when quiet
    badMessages: 0,
    validationFailures: 0,
};

let quiet = false;

function setQuiet(q) {
    quiet = Boolean(q);
}

// emit writes one line. Writes to a pipe are synchronous on Linux, so a line
// is complete on stdout before process.exit can cut it off.
function emit(obj) {
    process.stdout.write(JSON.stringify(obj) + '\n');
}

function connEvent(obj) {
    if (!quiet) emit(obj);
}

// errorFields describes any thrown value; code is the RPC error code exactly as
// ocpp-rpc reports it, absent for non-RPC failures (timeouts, closed socket).
function errorFields(err) {
    const fields = { message: String(err?.message ?? err), name: err?.constructor?.name ?? typeof err };
    if (err?.rpcErrorCode) {
        fields.code = err.rpcErrorCode;
        fields.details = err.details ?? {};
    }
    return fields;
}

// CommandError is a bad command (unknown identity, missing field): reported as
// cmd_error, unlike failures of the RPC call itself.
class CommandError extends Error {}

module.exports = { counters, setQuiet, emit, connEvent, errorFields, CommandError };
