'use strict';
// Server role: an ocpp-rpc RPCServer (the CSMS side) that charging stations,
// e.g. our Go client, connect to.

const http = require('http');
const { RPCServer } = require('ocpp-rpc');
const { strictModeValidators } = require('./schemas');
const { attach } = require('./responder');
const { emit, connEvent, errorFields, CommandError } = require('./output');

async function startServer(opts) {
    const server = new RPCServer({
        protocols: opts.protocols,
        strictMode: opts.strict,
        strictModeValidators,
        pingIntervalMs: opts.pingIntervalMs,
    });

    if (opts.password !== undefined) {
        // Security profile 1: ocpp-rpc only fills handshake.password when the
        // Basic auth username equals the identity (last URL path segment).
        server.auth((accept, reject, handshake) => {
            if (handshake.password?.toString('utf8') === opts.password) accept();
            else reject(401, 'Unauthorized');
        });
    }

    const clients = new Map(); // identity -> newest connection with that identity
    let connected = 0; // all open connections, duplicates of an identity included
    server.on('client', client => {
        const { identity, endpoint, password, protocols } = client.handshake;
        clients.set(identity, client);
        connected++;
        attach(client, identity, opts.protocols[0]);
        connEvent({
            event: 'connect', identity, protocol: client.protocol ?? '', endpoint,
            offered: [...protocols], password: password?.toString('utf8'),
        });
        client.once('close', ({ code, reason }) => {
            connected--;
            if (clients.get(identity) === client) clients.delete(identity);
            connEvent({ event: 'disconnect', identity, code, reason });
        });
    });
    server.on('upgradeAborted', ({ identity, error }) => {
        connEvent({ event: 'upgrade_aborted', identity, status: error?.code, ...errorFields(error) });
    });
    server.on('error', err => emit({ event: 'server_error', ...errorFields(err) }));

    // Our own HTTP server (the documented handleUpgrade route) instead of
    // server.listen(), only to raise the accept backlog from Node's 511: a
    // 10k-station connect burst must not be slowed by SYN drops.
    const httpServer = http.createServer((req, res) => {
        res.statusCode = 404;
        res.end();
    });
    httpServer.on('upgrade', server.handleUpgrade);
    await new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen({ port: opts.port, host: opts.host, backlog: 65535 }, resolve);
    });
    emit({ event: 'listening', port: httpServer.address().port });

    function connection(identity) {
        const client = clients.get(identity);
        if (!client) throw new CommandError(`no connected client with identity ${JSON.stringify(identity)}`);
        return client;
    }

    return {
        call: (cmd, options) => connection(cmd.identity).call(cmd.action, cmd.payload ?? {}, options),
        raw: cmd => connection(cmd.identity).sendRaw(cmd.text),
        close: cmd => connection(cmd.identity).close({ code: cmd.code, reason: cmd.reason, force: cmd.force }),
        connected: () => connected,
        async shutdown() {
            await server.close({ code: 1001, reason: 'peer exiting' });
            httpServer.closeAllConnections();
            httpServer.close();
        },
    };
}

module.exports = { startServer };
