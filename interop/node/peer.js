#!/usr/bin/env node
'use strict';
// peer.js runs one ocpp-rpc peer, an independent OCPP-J implementation that
// validates strictly against the official schemas, for openev's interop tests
// and benchmarks. It is driven by JSON lines on stdin and reports JSON lines on
// stdout; the Go package interop/peer is its driver and documents the protocol.
//
//   node peer.js server --port 0 --host 127.0.0.1 --protocols ocpp1.6,ocpp2.0.1,ocpp2.1
//                       [--strict true] [--heartbeat-interval 300] [--password X]
//                       [--ping-interval-ms 30000] [--quiet]
//   node peer.js client --url ws://127.0.0.1:PORT/ocpp --identity CS1 --protocols ocpp2.0.1
//                       [--password X] [--strict true] [--ping-interval-ms 30000]

const readline = require('readline');
const { emit, setQuiet, counters, errorFields, CommandError } = require('./output');
const { respond } = require('./responder');
const { state } = require('./defaults');
const { startServer } = require('./server-role');
const { startClient } = require('./client-role');

// A crash must reach the driver as a line, not only as stderr noise. Exiting
// (rather than carrying on) keeps Node's default for unhandled errors.
for (const kind of ['uncaughtException', 'unhandledRejection']) {
    process.on(kind, err => {
        emit({ event: 'fatal', kind, ...errorFields(err), stack: err?.stack });
        process.exit(70);
    });
}

// parseArgs turns "--key value" pairs into {key: value}; a flag without a value is true.
function parseArgs(argv) {
    const args = {};
    for (let i = 0; i < argv.length; i++) {
        if (!argv[i].startsWith('--')) throw Error(`unexpected argument ${argv[i]}`);
        const key = argv[i].slice(2);
        const next = argv[i + 1];
        args[key] = next === undefined || next.startsWith('--') ? 'true' : (i++, next);
    }
    return args;
}

function options(role, args) {
    const opts = {
        protocols: (args.protocols ?? 'ocpp1.6,ocpp2.0.1,ocpp2.1').split(',').filter(Boolean),
        strict: args.strict !== 'false',
        password: args.password,
        pingIntervalMs: Number(args['ping-interval-ms'] ?? 30000),
        quiet: args.quiet === 'true',
    };
    if (role === 'server') {
        Object.assign(opts, { port: Number(args.port ?? 0), host: args.host ?? '127.0.0.1' });
        state.heartbeatInterval = Number(args['heartbeat-interval'] ?? 300);
    } else if (role === 'client') {
        if (!args.url || !args.identity) throw Error('client needs --url and --identity');
        Object.assign(opts, { url: args.url, identity: args.identity });
    } else {
        throw Error(`unknown role ${JSON.stringify(role)}: want server or client`);
    }
    return opts;
}

// run executes one command and returns its reply (without the id).
async function run(peer, cmd) {
    switch (cmd.cmd) {
        case 'call':
            if (typeof cmd.action !== 'string') throw new CommandError('call: "action" is required');
            try {
                const payload = await peer.call(cmd, cmd.timeout_ms > 0 ? { callTimeoutMs: cmd.timeout_ms } : {});
                return { event: 'result', payload };
            } catch (err) {
                if (err instanceof CommandError) throw err;
                return { event: 'error', ...errorFields(err) };
            }
        case 'respond':
            respond(cmd);
            return { event: 'ok' };
        case 'raw':
            if (typeof cmd.text !== 'string') throw new CommandError('raw: "text" must be a string');
            peer.raw(cmd); // ocpp-rpc's public sendRaw: the frame bypasses all checks
            return { event: 'ok' };
        case 'close': {
            const { code, reason } = (await peer.close(cmd)) ?? {};
            return { event: 'ok', code, reason };
        }
        case 'stats': {
            const cpu = process.cpuUsage();
            const mem = process.memoryUsage();
            return {
                event: 'stats', connected: peer.connected(), calls: counters.calls,
                bad_messages: counters.badMessages, validation_failures: counters.validationFailures,
                memory_rss: mem.rss, heap_used: mem.heapUsed,
                cpu_user_ms: cpu.user / 1000, cpu_system_ms: cpu.system / 1000,
            };
        }
        case 'exit':
            setImmediate(() => shutdown(peer, 0));
            return { event: 'ok' };
        default:
            throw new CommandError(`unknown cmd ${JSON.stringify(cmd.cmd)}`);
    }
}

async function handleLine(peer, line) {
    if (!line.trim()) return;
    let cmd;
    try {
        cmd = JSON.parse(line);
        if (cmd === null || typeof cmd !== 'object') throw Error('command must be a JSON object');
    } catch (err) {
        emit({ event: 'cmd_error', id: null, message: `bad command line: ${err.message}` });
        return;
    }
    try {
        emit({ ...(await run(peer, cmd)), id: cmd.id });
    } catch (err) {
        emit({ event: 'cmd_error', id: cmd.id, message: err.message });
    }
}

let exiting = false;

// shutdown closes connections politely (bounded: a peer that does not answer
// the close handshake must not keep us alive) and exits.
async function shutdown(peer, code) {
    if (exiting) return;
    exiting = true;
    const timeout = new Promise(resolve => setTimeout(resolve, 2000).unref());
    await Promise.race([peer?.shutdown().catch(() => {}), timeout]);
    process.exit(code);
}

async function main() {
    const [role, ...rest] = process.argv.slice(2);
    let opts;
    try {
        opts = options(role, parseArgs(rest));
    } catch (err) {
        emit({ event: 'fatal', kind: 'usage', message: err.message });
        process.exit(2);
    }
    setQuiet(opts.quiet);
    const peer = role === 'server' ? await startServer(opts) : await startClient(opts);

    const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
    lines.on('line', line => handleLine(peer, line));
    // stdin closing means the driver is gone: do not linger as an orphan.
    lines.on('close', () => shutdown(peer, 0));
}

main();
