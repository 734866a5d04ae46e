-- ocpi.Peer.RawTokenFixed: the raw-token mode was chosen by the operator
-- (or proven by the peer's API) and the encoding of the peer's requests no
-- longer changes it. Existing peers keep following their requests.
ALTER TABLE ocpi_peers ADD COLUMN raw_token_fixed INTEGER NOT NULL DEFAULT 0;
