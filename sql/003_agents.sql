-- 003: agents, their skills, their login sessions and the append-only log of
-- their states.
--
-- As in 001, every key starts with the centre: agent ids and extensions are
-- unique within a centre only, so centres can be partitioned or split across
-- brokers without a schema change, and two centres may both have an "a001".
--
-- Agents are provisioned by `hotline-admin agent ...` and never deleted, only
-- disabled: their state history and the calls they answered keep naming them.

CREATE TABLE agents (
    centre        text NOT NULL,
    -- The alphabet and length of the gateway API's agent field (event.c),
    -- so that any agent here can be named in call.answered.
    agent_id      text NOT NULL CHECK (agent_id ~ '^[A-Za-z0-9._:-]{1,64}$'),
    -- Shown to supervisors and printed tab-separated by the tools: any UTF-8,
    -- but no control characters (tabs, newlines) that would break a line.
    name          text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100
                                       AND name !~ '[[:cntrl:]]'),
    -- The extension the gateway rings when it connects a call to the agent.
    extension     text NOT NULL CHECK (extension ~ '^[0-9]{1,16}$'),
    -- crypto_pwhash_str output (libsodium, Argon2id): the string carries the
    -- algorithm, its cost parameters and the salt. The check keeps anything
    -- that is not such a string (a clear password above all) out of the table.
    password_hash text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    enabled       boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    -- hotline-admin turns violations of these named constraints into advice.
    CONSTRAINT agents_pkey PRIMARY KEY (centre, agent_id),
    CONSTRAINT agents_extension_unique UNIQUE (centre, extension),
    CONSTRAINT agents_centre_fkey FOREIGN KEY (centre) REFERENCES centres (code)
);

-- Skills with levels: categories (booking), languages (mandarin, english, the
-- local dialect). Names follow the queue and skill names of the config and
-- the ACD core (acd.h: 32 characters); level 9 is the most skilled, which is
-- what the skill-level routing strategy prefers.
CREATE TABLE agent_skills (
    centre    text NOT NULL,
    agent_id  text NOT NULL,
    skill     text NOT NULL CHECK (skill ~ '^[a-z0-9_]{1,32}$'),
    level     smallint NOT NULL CHECK (level BETWEEN 1 AND 9),
    CONSTRAINT agent_skills_pkey PRIMARY KEY (centre, agent_id, skill),
    CONSTRAINT agent_skills_agent_fkey FOREIGN KEY (centre, agent_id)
        REFERENCES agents (centre, agent_id) ON DELETE CASCADE
);

-- Login sessions. Only the SHA-256 of a token is kept: someone who reads this
-- table (a replica, a backup) cannot act as an agent with what they read. A
-- token is random and long, so a fast unsalted hash is enough to look it up;
-- the slow salted hash is for passwords, which people choose.
CREATE TABLE agent_sessions (
    token_sha256  bytea PRIMARY KEY CHECK (octet_length(token_sha256) = 32),
    centre        text NOT NULL,
    agent_id      text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    CONSTRAINT agent_sessions_expire_after_creation CHECK (expires_at > created_at),
    CONSTRAINT agent_sessions_agent_fkey FOREIGN KEY (centre, agent_id)
        REFERENCES agents (centre, agent_id) ON DELETE CASCADE
);
-- Disabling an agent or changing its password ends its sessions.
CREATE INDEX agent_sessions_agent ON agent_sessions (centre, agent_id);
-- Expired sessions are purged by time.
CREATE INDEX agent_sessions_expires_at ON agent_sessions (expires_at);

-- Append-only, like call_events: one row per state an agent entered, with the
-- time of the transition. Handle time, occupancy and pause statistics are
-- computed from these rows, and a restarted broker takes each agent's last
-- state from them; a row that changed afterwards would change history.
-- seq orders an agent's rows even when two transitions share a timestamp.
CREATE TABLE agent_state_log (
    centre    text NOT NULL,
    agent_id  text NOT NULL,
    seq       bigserial,
    state     text NOT NULL CHECK (state IN ('logged_out', 'ready', 'offered', 'on_call',
                                             'wrap_up', 'not_ready')),
    -- A reason code from the config (acd.h: 32 characters). not_ready always
    -- has one, since pause statistics are reported by reason; other states
    -- may say why they were entered (an expired session, missed offers).
    reason    text CHECK (reason ~ '^[a-z0-9_]{1,32}$'),
    at        timestamptz NOT NULL,
    CONSTRAINT agent_state_log_not_ready_has_reason
        CHECK (state <> 'not_ready' OR reason IS NOT NULL),
    PRIMARY KEY (centre, agent_id, seq),
    -- Unlike call_events, a foreign key: state changes are a few per agent
    -- per call, not per gateway event, so its check is cheap, and agents are
    -- never deleted, so it never blocks anything but a mistake.
    CONSTRAINT agent_state_log_agent_fkey FOREIGN KEY (centre, agent_id)
        REFERENCES agents (centre, agent_id)
);
-- Statistics read a centre's transitions by time.
CREATE INDEX agent_state_log_at ON agent_state_log (centre, at);

CREATE FUNCTION agent_state_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'agent_state_log is append-only';
END $$;
CREATE TRIGGER agent_state_log_no_update BEFORE UPDATE OR DELETE ON agent_state_log
    FOR EACH ROW EXECUTE FUNCTION agent_state_log_append_only();
-- TRUNCATE fires no row triggers: refuse it as a statement.
CREATE TRIGGER agent_state_log_no_truncate BEFORE TRUNCATE ON agent_state_log
    FOR EACH STATEMENT EXECUTE FUNCTION agent_state_log_append_only();
