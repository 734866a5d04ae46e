-- The OCPI node's store (ocpi.Store): its peers and the module objects
-- (locations, sessions, ...) it owns or received. Times are INTEGER Unix
-- nanoseconds (UTC), as in 0001. JSON columns are TEXT, checked by the Go
-- side before writing.

-- A peer platform. Tokens are compared exactly; an empty incoming token
-- belongs to no one, so only the non-empty ones are unique.
CREATE TABLE ocpi_peers (
    id                      TEXT PRIMARY KEY,
    name                    TEXT NOT NULL,
    status                  TEXT NOT NULL,
    incoming_token          TEXT NOT NULL,
    previous_incoming_token TEXT NOT NULL,
    previous_token_expires  INTEGER, -- NULL: the previous token is not accepted
    outgoing_token          TEXT NOT NULL,
    raw_token               INTEGER NOT NULL,
    versions_url            TEXT NOT NULL,
    version                 TEXT NOT NULL,
    endpoints               TEXT NOT NULL, -- JSON array of ocpi.Endpoint
    roles                   TEXT NOT NULL, -- JSON array of ocpi.CredentialsRole
    created                 INTEGER NOT NULL,
    updated                 INTEGER NOT NULL
);
CREATE UNIQUE INDEX ocpi_peers_incoming_token ON ocpi_peers (incoming_token) WHERE incoming_token <> '';
CREATE INDEX ocpi_peers_previous_token ON ocpi_peers (previous_incoming_token) WHERE previous_incoming_token <> '';

-- A module object as its OCPI JSON. The owner is upper-cased and id_key is
-- the lower-cased id, so that lookups ignore case; id is the spelling of
-- the last write.
CREATE TABLE ocpi_objects (
    kind         TEXT NOT NULL, -- owned or received
    module       TEXT NOT NULL,
    owner_cc     TEXT NOT NULL,
    owner_pid    TEXT NOT NULL,
    id_key       TEXT NOT NULL,
    id           TEXT NOT NULL,
    last_updated INTEGER NOT NULL,
    data         TEXT NOT NULL,
    PRIMARY KEY (kind, module, owner_cc, owner_pid, id_key)
);
-- The list order: last_updated, then owner, then id.
CREATE INDEX ocpi_objects_list ON ocpi_objects (kind, module, last_updated, owner_cc, owner_pid, id_key);
