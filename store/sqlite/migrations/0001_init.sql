-- The CSMS schema. Times are INTEGER Unix nanoseconds (UTC): exact, and
-- ordered and compared as numbers by both backends. Booleans are 0/1.
-- There is no foreign key to stations: deleting a station keeps its history.

CREATE TABLE stations (
    id                 TEXT PRIMARY KEY,
    vendor             TEXT NOT NULL,
    model              TEXT NOT NULL,
    serial_number      TEXT NOT NULL,
    firmware_version   TEXT NOT NULL,
    protocol           TEXT NOT NULL,
    security_profile   INTEGER NOT NULL,
    password_hash      TEXT NOT NULL,
    registration       TEXT NOT NULL,
    online             INTEGER NOT NULL,
    last_seen          INTEGER,
    firmware_status    TEXT NOT NULL,
    diagnostics_status TEXT NOT NULL,
    log_status         TEXT NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);

-- The current status of each connector; status_history keeps them all.
CREATE TABLE connector_status (
    station_id TEXT NOT NULL,
    evse       INTEGER NOT NULL,
    connector  INTEGER NOT NULL,
    status     TEXT NOT NULL,
    raw        TEXT NOT NULL,
    error_code TEXT NOT NULL,
    info       TEXT NOT NULL,
    ts         INTEGER NOT NULL,
    PRIMARY KEY (station_id, evse, connector)
);

CREATE TABLE status_history (
    id         INTEGER PRIMARY KEY,
    station_id TEXT NOT NULL,
    evse       INTEGER NOT NULL,
    connector  INTEGER NOT NULL,
    status     TEXT NOT NULL,
    raw        TEXT NOT NULL,
    error_code TEXT NOT NULL,
    info       TEXT NOT NULL,
    ts         INTEGER NOT NULL
);
CREATE INDEX status_history_station ON status_history (station_id, ts DESC, id DESC);

-- id_key is the lower-cased id: token lookups ignore case.
CREATE TABLE id_tokens (
    id_key     TEXT PRIMARY KEY,
    id         TEXT NOT NULL,
    type       TEXT NOT NULL,
    status     TEXT NOT NULL,
    expires_at INTEGER,
    group_id   TEXT NOT NULL,
    stations   TEXT NOT NULL, -- JSON array of station ids
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- A transaction's fields are derived from its events (store/internal/txfold);
-- the *_seq columns are the SeqNo of the event each field came from (-1:
-- none), which is what makes applying an event independent of arrival order.
CREATE TABLE transactions (
    id                   INTEGER PRIMARY KEY,
    station_id           TEXT NOT NULL,
    station_tx_id        TEXT, -- NULL only inside the write that issues it
    issued_id            INTEGER NOT NULL, -- 1: OCPP 1.6, the CSMS issued the id
    evse                 INTEGER NOT NULL,
    connector            INTEGER NOT NULL,
    id_token             TEXT NOT NULL,
    id_token_key         TEXT NOT NULL, -- lower-cased id_token, for filters
    status               TEXT NOT NULL,
    started_at           INTEGER NOT NULL,
    stopped_at           INTEGER,
    meter_start_wh       REAL NOT NULL,
    meter_stop_wh        REAL,
    energy_wh            REAL NOT NULL,
    stop_reason          TEXT NOT NULL,
    last_seq             INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    started_seq          INTEGER NOT NULL,
    started_by_start     INTEGER NOT NULL,
    meter_start_seq      INTEGER NOT NULL,
    meter_start_by_start INTEGER NOT NULL,
    end_seq              INTEGER NOT NULL,
    evse_seq             INTEGER NOT NULL,
    connector_seq        INTEGER NOT NULL,
    id_token_seq         INTEGER NOT NULL,
    reading_seq          INTEGER NOT NULL,
    reading_wh           REAL NOT NULL
);
CREATE UNIQUE INDEX transactions_station_tx ON transactions (station_id, station_tx_id);
CREATE INDEX transactions_started ON transactions (started_at, id);
CREATE INDEX transactions_station_started ON transactions (station_id, started_at);
CREATE INDEX transactions_token_started ON transactions (id_token_key, started_at);
CREATE INDEX transactions_status_started ON transactions (status, started_at);

-- Every event as it arrived; (transaction_id, seq_no) recognises replays.
CREATE TABLE transaction_events (
    transaction_id INTEGER NOT NULL REFERENCES transactions (id) ON DELETE CASCADE,
    seq_no         INTEGER NOT NULL,
    event_type     TEXT NOT NULL,
    ts             INTEGER NOT NULL,
    trigger_reason TEXT NOT NULL,
    offline        INTEGER NOT NULL,
    raw            BLOB,
    evse           INTEGER NOT NULL,
    connector      INTEGER NOT NULL,
    id_token       TEXT NOT NULL,
    meter_wh       REAL,
    stop_reason    TEXT NOT NULL,
    received_at    INTEGER NOT NULL,
    PRIMARY KEY (transaction_id, seq_no)
);

CREATE TABLE meter_values (
    id             INTEGER PRIMARY KEY,
    station_id     TEXT NOT NULL,
    transaction_id INTEGER REFERENCES transactions (id) ON DELETE CASCADE,
    evse           INTEGER NOT NULL,
    ts             INTEGER NOT NULL,
    measurand      TEXT NOT NULL,
    phase          TEXT NOT NULL,
    context        TEXT NOT NULL,
    location       TEXT NOT NULL,
    value          REAL NOT NULL,
    unit           TEXT NOT NULL,
    raw_value      TEXT NOT NULL,
    raw_unit       TEXT NOT NULL
);
-- The duplicate rule: same timestamp, measurand, phase, context and location
-- within a transaction (or, outside one, on the same station and EVSE).
CREATE UNIQUE INDEX meter_values_tx_dedup
    ON meter_values (transaction_id, ts, measurand, phase, context, location)
    WHERE transaction_id IS NOT NULL;
CREATE UNIQUE INDEX meter_values_station_dedup
    ON meter_values (station_id, evse, ts, measurand, phase, context, location)
    WHERE transaction_id IS NULL;

CREATE TABLE station_events (
    id         INTEGER PRIMARY KEY,
    station_id TEXT NOT NULL,
    kind       TEXT NOT NULL,
    ts         INTEGER NOT NULL,
    payload    BLOB
);
CREATE INDEX station_events_station ON station_events (station_id, ts, id);
CREATE INDEX station_events_station_kind ON station_events (station_id, kind, ts, id);
