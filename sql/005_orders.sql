-- 005: 12345 work orders, tickets, the outbox to the platforms, and the
-- audit of every clear read of a citizen's personal data.
--
-- Personal data: a citizen's phone number is kept three ways, none of them
-- clear: a keyed hash (HMAC with privacy.caller_key, the same as calls, so a
-- caller's calls and orders meet), a masked form for display, and a sealed
-- copy (libsodium secretbox with privacy.data_key) that only the broker can
-- open, for supervisors who must call back and say why. A dump of this
-- database alone reveals no number.

CREATE TABLE work_orders (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    centre          text NOT NULL REFERENCES centres (code),
    source          text NOT NULL CHECK (source IN ('city_12345', 'province_12345')),
    external_no     text NOT NULL CHECK (external_no ~ '^[A-Za-z0-9._:-]{1,64}$'),
    -- the request as the platform sent it, for telling a retry from a conflict
    payload_sha256  bytea NOT NULL,
    category        text NOT NULL CHECK (category IN ('consultation', 'complaint', 'booking',
                        'expert_qa', 'crisis', 'survey', 'ivr_self_service', 'other')),
    urgent          boolean NOT NULL,
    title           text NOT NULL,
    content         text NOT NULL,
    citizen_name_sealed   bytea,
    citizen_phone_hash    bytea,
    citizen_phone_masked  text,
    citizen_phone_sealed  bytea,
    stage           text NOT NULL DEFAULT 'received' CHECK (stage IN ('received', 'signed',
                        'in_progress', 'replied', 'revisited', 'closed', 'returned')),
    received_at     timestamptz NOT NULL,
    sign_due        timestamptz NOT NULL,
    reply_due       timestamptz NOT NULL,
    assigned_agent  text,
    returned_count  integer NOT NULL DEFAULT 0,
    extended_count  integer NOT NULL DEFAULT 0,
    version         integer NOT NULL DEFAULT 1,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT work_orders_external UNIQUE (source, external_no)
);
CREATE INDEX work_orders_open ON work_orders (centre, reply_due)
    WHERE stage NOT IN ('closed', 'returned');
CREATE INDEX work_orders_received ON work_orders (centre, received_at);
CREATE INDEX work_orders_phone ON work_orders (citizen_phone_hash);

-- Append-only: who did what to an order, and when.
CREATE TABLE work_order_history (
    order_id    bigint NOT NULL REFERENCES work_orders (id),
    seq         bigint GENERATED ALWAYS AS IDENTITY,
    at          timestamptz NOT NULL,
    actor       text NOT NULL,          -- 'platform:city_12345', 'agent:a001'
    action      text NOT NULL,          -- intake, sign, start, reply, ...
    from_stage  text,
    to_stage    text NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (order_id, seq)
);

-- What the platforms must learn, written in the transaction of the change;
-- the dispatcher delivers each row until the platform answers 2xx, with the
-- key that lets the platform drop a repeat.
CREATE TABLE outbox (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    platform         text NOT NULL,
    idempotency_key  text NOT NULL UNIQUE,
    payload          jsonb NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    last_error       text
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE delivered_at IS NULL;

CREATE TABLE tickets (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    centre          text NOT NULL REFERENCES centres (code),
    kind            text NOT NULL CHECK (kind IN ('complaint', 'consultation_followup',
                        'callback', 'crisis_callback')),
    state           text NOT NULL DEFAULT 'new' CHECK (state IN ('new', 'open', 'pending',
                        'resolved', 'closed')),
    call_id         text,
    caller_hash     bytea,
    caller_masked   text,
    subject         text NOT NULL,
    assigned_agent  text,
    assigned_group  text,
    due_at          timestamptz,
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    version         integer NOT NULL DEFAULT 1
);
CREATE INDEX tickets_open ON tickets (centre, state, due_at);
CREATE INDEX tickets_caller ON tickets (caller_hash);
CREATE UNIQUE INDEX tickets_per_callback ON tickets (centre, call_id)
    WHERE kind IN ('callback', 'crisis_callback');

-- Append-only: notes (internal), replies (to the citizen), and every change
-- of state or assignment.
CREATE TABLE ticket_entries (
    ticket_id   bigint NOT NULL REFERENCES tickets (id),
    seq         bigint GENERATED ALWAYS AS IDENTITY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('note', 'reply', 'state', 'assign', 'created')),
    body        text NOT NULL,
    PRIMARY KEY (ticket_id, seq)
);

-- Append-only: every clear read of personal data, who, when and why.
CREATE TABLE pii_audit (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,
    centre      text NOT NULL,
    subject     text NOT NULL,   -- 'work_order:123'
    field       text NOT NULL,   -- 'citizen_phone'
    reason      text NOT NULL CHECK (char_length(reason) BETWEEN 3 AND 500)
);

CREATE FUNCTION hotline_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;
CREATE TRIGGER work_order_history_append_only BEFORE UPDATE OR DELETE ON work_order_history
    FOR EACH ROW EXECUTE FUNCTION hotline_append_only();
CREATE TRIGGER ticket_entries_append_only BEFORE UPDATE OR DELETE ON ticket_entries
    FOR EACH ROW EXECUTE FUNCTION hotline_append_only();
CREATE TRIGGER pii_audit_append_only BEFORE UPDATE OR DELETE ON pii_audit
    FOR EACH ROW EXECUTE FUNCTION hotline_append_only();
CREATE TRIGGER work_order_history_no_truncate BEFORE TRUNCATE ON work_order_history
    FOR EACH STATEMENT EXECUTE FUNCTION hotline_append_only();
CREATE TRIGGER ticket_entries_no_truncate BEFORE TRUNCATE ON ticket_entries
    FOR EACH STATEMENT EXECUTE FUNCTION hotline_append_only();
CREATE TRIGGER pii_audit_no_truncate BEFORE TRUNCATE ON pii_audit
    FOR EACH STATEMENT EXECUTE FUNCTION hotline_append_only();

-- The ACD's callback tasks become tickets in the transaction that creates
-- them, and are resolved with them.
CREATE FUNCTION hotline_callback_ticket() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    c calls%ROWTYPE;
    t bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT * INTO c FROM calls WHERE centre = NEW.centre AND call_id = NEW.call_id;
        INSERT INTO tickets (centre, kind, call_id, caller_hash, caller_masked, subject,
                             due_at, created_by, created_at, updated_at)
        VALUES (NEW.centre, CASE WHEN NEW.urgent THEN 'crisis_callback' ELSE 'callback' END,
                NEW.call_id, c.caller_hash, c.caller_masked,
                CASE WHEN NEW.urgent THEN '危机来电未接通，紧急回拨' ELSE '回拨' END,
                NEW.created_at + CASE WHEN NEW.urgent THEN interval '15 minutes'
                                      ELSE interval '1 day' END,
                'acd', NEW.created_at, NEW.created_at)
        ON CONFLICT DO NOTHING
        RETURNING id INTO t;
        IF t IS NOT NULL THEN
            INSERT INTO ticket_entries (ticket_id, at, actor, kind, body)
            VALUES (t, NEW.created_at, 'acd', 'created', NEW.reason);
        END IF;
    ELSIF NEW.state = 'done' AND OLD.state <> 'done' THEN
        UPDATE tickets SET state = 'resolved', assigned_agent = NEW.agent_id,
                           updated_at = NEW.finished_at, version = version + 1
         WHERE centre = NEW.centre AND call_id = NEW.call_id
           AND kind IN ('callback', 'crisis_callback')
        RETURNING id INTO t;
        IF t IS NOT NULL THEN
            INSERT INTO ticket_entries (ticket_id, at, actor, kind, body)
            VALUES (t, NEW.finished_at, 'agent:' || NEW.agent_id, 'state',
                    'resolved: ' || NEW.outcome);
        END IF;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER callbacks_become_tickets AFTER INSERT OR UPDATE ON callbacks
    FOR EACH ROW EXECUTE FUNCTION hotline_callback_ticket();

-- Supervisors may read clear personal data (with a reason, audited).
ALTER TABLE agents ADD COLUMN role text NOT NULL DEFAULT 'agent'
    CHECK (role IN ('agent', 'supervisor'));
