-- Meter values of transactions are found through the times they carry, not
-- through an index led by the transaction. With a thousand transactions
-- running, an index led by transaction_id has each one's newest entries on
-- a page of its own, so every stored value dirtied one more page (4 KiB of
-- WAL, and again at the checkpoint); led by the timestamp, new entries land
-- together at the end of the index. The duplicate rule is unchanged: the
-- same columns, in another order.
--
-- A transaction's values are those of meter_values with its id and one of
-- its timestamps: the one that each transaction event's values share
-- (transaction_events.meter_ts; NULL when the event has none, or values at
-- several times), and those of transaction_meter_times, which holds the
-- other times (events with values at several times, values sent outside
-- events: OCPP 1.6 MeterValues). Transactions are never deleted; a delete
-- would have to scan meter_values to cascade.
ALTER TABLE transaction_events ADD COLUMN meter_ts INTEGER;

CREATE TABLE transaction_meter_times (
    transaction_id INTEGER NOT NULL REFERENCES transactions (id) ON DELETE CASCADE,
    ts             INTEGER NOT NULL,
    PRIMARY KEY (transaction_id, ts)
) WITHOUT ROWID;

-- The values stored before this migration keep being found.
INSERT INTO transaction_meter_times (transaction_id, ts)
    SELECT DISTINCT transaction_id, ts FROM meter_values WHERE transaction_id IS NOT NULL;

DROP INDEX meter_values_tx_dedup;
CREATE UNIQUE INDEX meter_values_tx_dedup
    ON meter_values (ts, transaction_id, measurand, phase, context, location)
    WHERE transaction_id IS NOT NULL;
