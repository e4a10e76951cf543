-- 001: centres, calls and the append-only call-event log.
--
-- Every key starts with the centre, so that a province-wide deployment can
-- partition by centre (and month) without a schema change.

CREATE TABLE centres (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z0-9_-]{1,32}$'),
    name        text NOT NULL,
    province    text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per call. Written when the call is offered and again when it ends
-- (abandoned, or ended after an agent or the IVR handled it); intermediate
-- states live in call_events and are replayed on restart.
CREATE TABLE calls (
    centre        text NOT NULL REFERENCES centres (code),
    call_id       text NOT NULL,
    state         text NOT NULL CHECK (state IN ('queued', 'talking', 'ivr_done', 'ended', 'abandoned')),
    category      text NOT NULL CHECK (category IN ('consultation', 'complaint', 'booking', 'expert_qa',
                                                    'crisis', 'survey', 'ivr_self_service', 'other')),
    queue         text NOT NULL,
    priority      integer NOT NULL,
    rule          text NOT NULL,
    caller_hash   bytea NOT NULL,
    caller_masked text NOT NULL,
    dialled       text NOT NULL,
    ivr_path      text NOT NULL,
    agent         text,
    offered_at    timestamptz NOT NULL,
    answered_at   timestamptz,
    ended_at      timestamptz,
    outcome       text CHECK (outcome IN ('handled', 'self_service', 'abandoned')),
    PRIMARY KEY (centre, call_id)
) WITH (fillfactor = 80);
-- No index covers a column the final update changes, and fillfactor leaves
-- room on the page: the final update of a call is a HOT update.
CREATE INDEX calls_offered_at ON calls (offered_at);
CREATE INDEX calls_caller ON calls (caller_hash, offered_at);

-- Append-only: one row per accepted gateway event. payload_sha256 is the hash
-- of the canonical JSON of the request (keys sorted), used to tell a retry
-- from a conflicting reuse of the event id; result is the answer that was sent.
-- The caller number is not copied here.
CREATE TABLE call_events (
    centre          text NOT NULL,
    event_id        text NOT NULL,
    call_id         text NOT NULL,
    seq             bigserial,
    type            text NOT NULL,
    at              timestamptz NOT NULL,
    payload_sha256  bytea NOT NULL,
    detail          jsonb NOT NULL,
    result          text NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (centre, event_id)
);
-- No foreign key to calls: hotline_ingest writes an event only for a call it
-- has just inserted or that the broker holds in memory, which is rebuilt from
-- this database on every connection; a per-row RI check would cost more than
-- the insert itself. hotline_ingest checks final events against their call.
CREATE INDEX call_events_call ON call_events (centre, call_id, seq);

CREATE FUNCTION call_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'call_events is append-only';
END $$;
CREATE TRIGGER call_events_no_update BEFORE UPDATE OR DELETE ON call_events
    FOR EACH ROW EXECUTE FUNCTION call_events_append_only();
