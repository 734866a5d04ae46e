'use strict';
// Client role: an ocpp-rpc RPCClient (the charging-station side) connecting to
// a CSMS, e.g. our Go server.

const { RPCClient } = require('ocpp-rpc');
const { strictModeValidators } = require('./schemas');
const { attach } = require('./responder');
const { emit, errorFields } = require('./output');

async function startClient(opts) {
    const cli = new RPCClient({
        endpoint: opts.url, // ocpp-rpc appends "/" + encodeURIComponent(identity)
        identity: opts.identity,
        password: opts.password,
        protocols: opts.protocols,
        strictMode: opts.strict,
        strictModeValidators,
        pingIntervalMs: opts.pingIntervalMs,
        // Tests want to see a disconnect, not have it hidden by a reconnect.
        reconnect: false,
    });

    // 'open' is emitted synchronously before ocpp-rpc starts reading frames,
    // so handlers are in place before the first incoming call.
    cli.once('open', () => attach(cli, opts.identity, opts.protocols[0]));
    cli.on('close', ({ code, reason }) => emit({ event: 'close', identity: opts.identity, code, reason }));

    try {
        await cli.connect();
        emit({ event: 'open', identity: opts.identity, protocol: cli.protocol ?? '' });
    } catch (err) {
        // The process stays up so the driver can read this and say exit.
        emit({ event: 'connect_error', identity: opts.identity, status: err.code, ...errorFields(err) });
    }

    return {
        call: (cmd, options) => cli.call(cmd.action, cmd.payload ?? {}, options),
        raw: cmd => cli.sendRaw(cmd.text),
        close: cmd => cli.close({ code: cmd.code, reason: cmd.reason, force: cmd.force }),
        connected: () => (cli.state === RPCClient.OPEN ? 1 : 0),
        async shutdown() {
            await cli.close({ code: 1000, reason: 'peer exiting' });
        },
    };
}

module.exports = { startClient };
