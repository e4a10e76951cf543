-- 004: what the live ACD needs to survive a restart, and what agents record
-- at wrap-up.
--
-- The broker keeps queues and agent states in memory (the pure ACD core) and
-- writes every change here before it acts on it: an offer is committed before
-- the gateway is told to ring the agent, a callback task before anyone is
-- told it exists. A restarted broker rebuilds the core from these rows:
--   waiting calls   calls in progress (outcome IS NULL) in the state
--                   'queued', in calls.queue, joined at calls.accepted_at;
--   agent states    each agent's last agent_state_log row (with the call it
--                   was offered, talking on or wrapping up);
--   callbacks       callbacks not yet done;
--   sessions        agent_sessions not yet expired.

-- When the broker accepted the offer, by the database's clock: the time the
-- call joined its first queue. Calls keep their offered_at (the gateway's
-- clock, which statistics use); accepted_at orders the queue and starts the
-- max-wait clock, and counts "today" on the wallboard. Added without a
-- default first so that existing rows are not rewritten.
ALTER TABLE calls ADD COLUMN accepted_at timestamptz;
ALTER TABLE calls ALTER COLUMN accepted_at SET DEFAULT now();

-- Wrap-up: the agent's disposition and, when the classifier got it wrong,
-- the category the agent corrected it to. Statistics count
-- coalesce(corrected_category, category).
ALTER TABLE calls ADD COLUMN disposition text
    CHECK (disposition ~ '^[a-z0-9_]{1,32}$');
ALTER TABLE calls ADD COLUMN corrected_category text
    CHECK (corrected_category IN ('consultation', 'complaint', 'booking', 'expert_qa',
                                  'crisis', 'survey', 'ivr_self_service', 'other'));
ALTER TABLE calls ADD COLUMN wrapped_by text;
ALTER TABLE calls ADD COLUMN wrapped_at timestamptz;
-- The queue a call left by overflow (calls.queue is the one it is in now).
ALTER TABLE calls ADD COLUMN overflowed_from text;

-- Callers who were in crisis recently go straight to the crisis queue: the
-- broker reads them back at start from this small index.
CREATE INDEX calls_crisis_callers ON calls (centre, offered_at)
    WHERE category = 'crisis' OR corrected_category = 'crisis';

-- The call an agent was offered, talks on or wraps up, so that a restart
-- restores the pairing of agents and calls, and handle times can be joined
-- to calls.
ALTER TABLE agent_state_log ADD COLUMN call_id text;

-- Callback tasks: the ACD creates one when a crisis caller hangs up before an
-- agent answers (urgent), when a queue's max wait sends a caller to a
-- callback, and when a queue offers callbacks to callers who hang up. One per
-- call: a retried event cannot create a second. The task keeps the time the
-- caller first joined a queue, so that it never jumps ahead of earlier
-- callers.
CREATE TABLE callbacks (
    centre       text NOT NULL REFERENCES centres (code),
    call_id      text NOT NULL,
    queue        text NOT NULL,
    urgent       boolean NOT NULL,
    reason       text NOT NULL CHECK (reason IN ('crisis_abandoned', 'overflow', 'abandoned')),
    joined_at    timestamptz NOT NULL,
    created_at   timestamptz NOT NULL,
    state        text NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'accepted', 'done')),
    agent_id     text,
    accepted_at  timestamptz,
    finished_at  timestamptz,
    outcome      text CHECK (outcome IN ('reached', 'unreachable')),
    CONSTRAINT callbacks_pkey PRIMARY KEY (centre, call_id),
    CONSTRAINT callbacks_done_has_outcome CHECK (state <> 'done' OR outcome IS NOT NULL)
);
-- Supervisors list what is open, urgent first.
CREATE INDEX callbacks_open ON callbacks (centre, urgent DESC, joined_at)
    WHERE state <> 'done';
